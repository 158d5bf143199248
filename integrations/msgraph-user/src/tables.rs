//! Declaration data: the context outputs of the commands, the reference YAML's paths and types
//! in its order (the user fields repeat under each prefix because the paths are literals).

use soar_integration_kit::{OutputSpec, out};

/// The standard user fields under `MSGraphUser`.
pub const USER: &[OutputSpec] = &[
    out("MSGraphUser.ID", "String", "The user's ID."),
    out("MSGraphUser.DisplayName", "String", "The user's display name."),
    out("MSGraphUser.GivenName", "String", "The user's given name."),
    out("MSGraphUser.BusinessPhones", "String", "The user's business phone numbers."),
    out("MSGraphUser.JobTitle", "String", "The user's job title."),
    out("MSGraphUser.Mail", "String", "The user's mail address."),
    out("MSGraphUser.MobilePhone", "String", "The user's mobile phone number."),
    out("MSGraphUser.OfficeLocation", "String", "The user's office location."),
    out("MSGraphUser.PreferredLanguage", "String", "The user's preferred language."),
    out("MSGraphUser.Surname", "String", "The user's surname."),
    out("MSGraphUser.UserPrincipalName", "String", "The user's principal name."),
];

/// The `Account` fields of a user.
pub const ACCOUNT: &[OutputSpec] = &[
    out("Account.ID", "String", "The user's ID."),
    out("Account.DisplayName", "String", "The user's display name."),
    out("Account.Username", "String", "The user's principal name."),
    out("Account.JobTitle", "String", "The user's job title."),
    out("Account.Email.Address", "String", "The user's mail address."),
    out("Account.TelephoneNumber", "String", "The user's mobile phone number."),
    out("Account.Office", "String", "The user's office location."),
    out("Account.Type", "String", "The account type (Azure AD)."),
];

/// The link to the next page of `msgraph-user-list`.
pub const NEXT_PAGE: &[OutputSpec] =
    &[out("MSGraphUser.NextPage", "String", "The URL of the next page of users.")];

/// The outputs of `msgraph-direct-reports` (every user field but BusinessPhones, as the reference).
pub const DIRECT_REPORTS: &[OutputSpec] = &[
    out("MSGraphUserDirectReports.Manager", "String", "The user whose reports these are."),
    out("MSGraphUserDirectReports.Reports.@Odata.Type", "String", "The type of the report object."),
    out("MSGraphUserDirectReports.Reports.ID", "String", "The user's ID."),
    out("MSGraphUserDirectReports.Reports.DisplayName", "String", "The user's display name."),
    out("MSGraphUserDirectReports.Reports.GivenName", "String", "The user's given name."),
    out("MSGraphUserDirectReports.Reports.JobTitle", "String", "The user's job title."),
    out("MSGraphUserDirectReports.Reports.Mail", "String", "The user's mail address."),
    out("MSGraphUserDirectReports.Reports.MobilePhone", "String", "The user's mobile phone number."),
    out("MSGraphUserDirectReports.Reports.OfficeLocation", "String", "The user's office location."),
    out("MSGraphUserDirectReports.Reports.PreferredLanguage", "String", "The user's preferred language."),
    out("MSGraphUserDirectReports.Reports.Surname", "String", "The user's surname."),
    out("MSGraphUserDirectReports.Reports.UserPrincipalName", "String", "The user's principal name."),
];

/// The outputs of `msgraph-user-get-manager`.
pub const MANAGER: &[OutputSpec] = &[
    out("MSGraphUserManager.User", "String", "The user whose manager this is."),
    out("MSGraphUserManager.Manager.ID", "String", "The user's ID."),
    out("MSGraphUserManager.Manager.DisplayName", "String", "The user's display name."),
    out("MSGraphUserManager.Manager.GivenName", "String", "The user's given name."),
    out("MSGraphUserManager.Manager.BusinessPhones", "String", "The user's business phone numbers."),
    out("MSGraphUserManager.Manager.JobTitle", "String", "The user's job title."),
    out("MSGraphUserManager.Manager.Mail", "String", "The user's mail address."),
    out("MSGraphUserManager.Manager.MobilePhone", "String", "The user's mobile phone number."),
    out("MSGraphUserManager.Manager.OfficeLocation", "String", "The user's office location."),
    out("MSGraphUserManager.Manager.PreferredLanguage", "String", "The user's preferred language."),
    out("MSGraphUserManager.Manager.Surname", "String", "The user's surname."),
    out("MSGraphUserManager.Manager.UserPrincipalName", "String", "The user's principal name."),
];

/// The outputs of the Temporary Access Pass commands.
pub const TAP_POLICY: &[OutputSpec] = &[
    out("MSGraphUser.TAPPolicy.ID", "String", "The ID of the Temporary Access Pass policy."),
    out("MSGraphUser.TAPPolicy.IsUsable", "Bool", "Whether the pass can be used now."),
    out("MSGraphUser.TAPPolicy.IsUsableOnce", "Bool", "Whether the pass can be used only once."),
    out("MSGraphUser.TAPPolicy.CreatedDateTime", "String", "When the pass was created."),
    out("MSGraphUser.TAPPolicy.MethodUsabilityReason", "String", "Why the pass can or cannot be used."),
    out("MSGraphUser.TAPPolicy.LifetimeInMinutes", "Int", "How long the pass is valid, in minutes."),
    out("MSGraphUser.TAPPolicy.StartDateTime", "String", "When the pass becomes valid."),
];
