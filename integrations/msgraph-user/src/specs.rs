//! What each command takes and writes: names, arguments, defaults, outputs (the manifest).

use soar_core::{ArgSpec, OutputSpec};
use soar_integration_kit::spec::{BOOL, CommandKind, opt, out, req};

/// The standard user fields under a prefix (the paths must be `&'static str` literals).
macro_rules! user_fields {
    ($p:literal) => {
        vec![
            out(concat!($p, "ID"), "String", "The user's ID."),
            out(concat!($p, "DisplayName"), "String", "The user's display name."),
            out(concat!($p, "GivenName"), "String", "The user's given name."),
            out(concat!($p, "BusinessPhones"), "String", "The user's business phone numbers."),
            out(concat!($p, "JobTitle"), "String", "The user's job title."),
            out(concat!($p, "Mail"), "String", "The user's mail address."),
            out(concat!($p, "MobilePhone"), "String", "The user's mobile phone number."),
            out(concat!($p, "OfficeLocation"), "String", "The user's office location."),
            out(concat!($p, "PreferredLanguage"), "String", "The user's preferred language."),
            out(concat!($p, "Surname"), "String", "The user's surname."),
            out(concat!($p, "UserPrincipalName"), "String", "The user's principal name."),
        ]
    };
}

/// Every command this crate implements (the generic auth commands come from
/// `soar-auth-commands`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `test-module`
    TestModule,
    /// `msgraph-user-test`
    Test,
    /// `msgraph-user-terminate-session` (deprecated alias of account-disable)
    TerminateSession,
    /// `msgraph-user-account-disable`
    AccountDisable,
    /// `msgraph-user-unblock`
    Unblock,
    /// `msgraph-user-update`
    Update,
    /// `msgraph-user-delete`
    Delete,
    /// `msgraph-user-create`
    Create,
    /// `msgraph-user-get-delta` (deprecated)
    GetDelta,
    /// `msgraph-user-get`
    Get,
    /// `msgraph-user-list`
    List,
    /// `msgraph-direct-reports`
    DirectReports,
    /// `msgraph-user-get-manager`
    GetManager,
    /// `msgraph-user-assign-manager`
    AssignManager,
    /// `msgraph-user-change-password`
    ChangePassword,
    /// `msgraph-user-change-password-on-premise`
    ChangePasswordOnPremise,
    /// `msgraph-user-session-revoke`
    SessionRevoke,
    /// `msgraph-user-tap-policy-list`
    TapList,
    /// `msgraph-user-tap-policy-create`
    TapCreate,
    /// `msgraph-user-tap-policy-delete`
    TapDelete,
}

impl Kind {
    /// All of them, in the reference's YAML order.
    pub const ALL: [Kind; 20] = [
        Kind::TestModule,
        Kind::TerminateSession,
        Kind::Unblock,
        Kind::Update,
        Kind::Delete,
        Kind::Create,
        Kind::GetDelta,
        Kind::Get,
        Kind::List,
        Kind::DirectReports,
        Kind::GetManager,
        Kind::AssignManager,
        Kind::AccountDisable,
        Kind::ChangePassword,
        Kind::ChangePasswordOnPremise,
        Kind::Test,
        Kind::SessionRevoke,
        Kind::TapList,
        Kind::TapCreate,
        Kind::TapDelete,
    ];
}

impl CommandKind for Kind {
    /// The command name.
    fn name(self) -> &'static str {
        match self {
            Kind::TestModule => "test-module",
            Kind::Test => "msgraph-user-test",
            Kind::TerminateSession => "msgraph-user-terminate-session",
            Kind::AccountDisable => "msgraph-user-account-disable",
            Kind::Unblock => "msgraph-user-unblock",
            Kind::Update => "msgraph-user-update",
            Kind::Delete => "msgraph-user-delete",
            Kind::Create => "msgraph-user-create",
            Kind::GetDelta => "msgraph-user-get-delta",
            Kind::Get => "msgraph-user-get",
            Kind::List => "msgraph-user-list",
            Kind::DirectReports => "msgraph-direct-reports",
            Kind::GetManager => "msgraph-user-get-manager",
            Kind::AssignManager => "msgraph-user-assign-manager",
            Kind::ChangePassword => "msgraph-user-change-password",
            Kind::ChangePasswordOnPremise => "msgraph-user-change-password-on-premise",
            Kind::SessionRevoke => "msgraph-user-session-revoke",
            Kind::TapList => "msgraph-user-tap-policy-list",
            Kind::TapCreate => "msgraph-user-tap-policy-create",
            Kind::TapDelete => "msgraph-user-tap-policy-delete",
        }
    }

    /// One sentence on what it does.
    fn description(self) -> &'static str {
        match self {
            Kind::TestModule => "Checks the configuration: gets a token and lists users.",
            Kind::Test => "Tests connectivity to Microsoft Graph (use it for the authorization code flow).",
            Kind::TerminateSession => {
                "Deprecated: use msgraph-user-account-disable. Disables a user's account."
            }
            Kind::AccountDisable => "Disables a user's account, so the user cannot sign in.",
            Kind::Unblock => "Re-enables a disabled user account.",
            Kind::Update => "Updates the properties of a user.",
            Kind::Delete => "Deletes a user.",
            Kind::Create => "Creates a user.",
            Kind::GetDelta => {
                "Deprecated: use msgraph-user-list. Gets the users changed since the last delta query."
            }
            Kind::Get => "Gets the properties of one user.",
            Kind::List => "Lists users, one page at a time.",
            Kind::DirectReports => "Lists the direct reports of a user.",
            Kind::GetManager => "Gets the manager of a user.",
            Kind::AssignManager => "Assigns a manager to a user.",
            Kind::ChangePassword => "Changes the password of a cloud-only user.",
            Kind::ChangePasswordOnPremise => "Resets the password of a user synchronised from on-premises.",
            Kind::SessionRevoke => "Revokes all the refresh tokens and session cookies of a user.",
            Kind::TapList => "Gets the Temporary Access Pass policy of a user.",
            Kind::TapCreate => {
                "Creates a Temporary Access Pass for a user; the pass comes in a password-protected zip."
            }
            Kind::TapDelete => "Deletes a Temporary Access Pass policy of a user.",
        }
    }

    /// The arguments.
    fn args(self) -> Vec<ArgSpec> {
        let user = || req("user", "The user's ID or user principal name.");
        match self {
            Kind::TestModule | Kind::Test => vec![],
            Kind::TerminateSession
            | Kind::AccountDisable
            | Kind::Unblock
            | Kind::Delete
            | Kind::SessionRevoke => {
                vec![user()]
            }
            Kind::DirectReports | Kind::GetManager => vec![user()],
            Kind::Update => vec![
                user(),
                req(
                    "updated_fields",
                    "The fields to update, as key=value pairs, e.g. jobTitle=CISO,city=Oslo.",
                ),
                ArgSpec {
                    default: Some(","),
                    ..opt("updated_fields_delimiter", "The delimiter between the key=value pairs.")
                },
            ],
            Kind::Create => vec![
                ArgSpec {
                    default: Some("true"),
                    options: BOOL,
                    ..opt("account_enabled", "Whether the account is enabled.")
                },
                req("display_name", "The name shown for the user."),
                opt("on_premises_immutable_id", "The on-premises immutable ID (federated domains only)."),
                req("mail_nickname", "The mail alias of the user."),
                ArgSpec {
                    secret: true,
                    ..req("password", "The initial password; the user must change it at next sign-in.")
                },
                req("user_principal_name", "The user principal name, e.g. someuser@contoso.com."),
                opt(
                    "other_properties",
                    "More properties as key=value pairs separated by commas, e.g. jobTitle=CISO.",
                ),
            ],
            Kind::GetDelta => vec![opt(
                "properties",
                "A comma-separated list of properties to return, e.g. displayName,jobTitle.",
            )],
            Kind::Get => vec![
                user(),
                ArgSpec {
                    default: Some("*"),
                    ..opt("properties", "A comma-separated list of properties to return; * for all.")
                },
            ],
            Kind::List => vec![
                ArgSpec {
                    default: Some("id,displayName,jobTitle,mobilePhone,mail"),
                    ..opt("properties", "A comma-separated list of properties to return.")
                },
                opt(
                    "next_page",
                    "The URL of the next page, as returned by a previous run (MSGraphUser.NextPage).",
                ),
                opt("filter", "An OData $filter, e.g. startswith(displayName,'a')."),
            ],
            Kind::AssignManager => vec![user(), req("manager", "The manager's ID or user principal name.")],
            Kind::ChangePassword => vec![
                user(),
                ArgSpec { secret: true, ..req("password", "The new password.") },
                ArgSpec {
                    default: Some("true"),
                    options: BOOL,
                    ..opt(
                        "force_change_password_next_sign_in",
                        "Whether the user must change the password at next sign-in.",
                    )
                },
                ArgSpec {
                    default: Some("false"),
                    options: BOOL,
                    ..opt(
                        "force_change_password_with_mfa",
                        "Whether the user must do multi-factor authentication before changing the password.",
                    )
                },
            ],
            Kind::ChangePasswordOnPremise => vec![
                user(),
                ArgSpec {
                    secret: true,
                    ..opt("password", "The new password (hidden). Give this or nonsensitive_password.")
                },
                opt(
                    "nonsensitive_password",
                    "The new password, shown in the War Room. Give this or password; if both, they must match.",
                ),
            ],
            Kind::TapList => vec![req("user_id", "The user's ID or user principal name.")],
            Kind::TapCreate => vec![
                req("user_id", "The user's ID or user principal name."),
                ArgSpec {
                    secret: true,
                    ..req("zip_password", "The password of the zip that holds the pass.")
                },
                ArgSpec {
                    default: Some("60"),
                    ..opt("lifetime_in_minutes", "How long the pass is valid, in minutes (10 to 43200).")
                },
                ArgSpec {
                    default: Some("false"),
                    options: BOOL,
                    ..opt("is_usable_once", "Whether the pass can be used only once.")
                },
                ArgSpec {
                    default: Some("now"),
                    ..opt(
                        "start_time",
                        "When the pass becomes valid: now, an ISO 8601 time, or e.g. \"in 2 hours\".",
                    )
                },
            ],
            Kind::TapDelete => vec![
                req("user_id", "The user's ID or user principal name."),
                req("policy_id", "The ID of the Temporary Access Pass policy."),
            ],
        }
    }

    /// The context outputs.
    fn outputs(self) -> Vec<OutputSpec> {
        match self {
            Kind::Update | Kind::GetDelta => user_outputs(),
            Kind::Create | Kind::Get => [user_outputs(), account_outputs()].concat(),
            Kind::List => {
                let mut v = [user_outputs(), account_outputs()].concat();
                v.push(out("MSGraphUser.NextPage", "String", "The URL of the next page of users."));
                v
            }
            Kind::DirectReports => {
                let mut v = vec![
                    out("MSGraphUserDirectReports.Manager", "String", "The user whose reports these are."),
                    out(
                        "MSGraphUserDirectReports.Reports.@Odata.Type",
                        "String",
                        "The type of the report object.",
                    ),
                ];
                // The reference lists every user field but BusinessPhones here.
                v.extend(
                    user_fields!("MSGraphUserDirectReports.Reports.")
                        .into_iter()
                        .filter(|o| !o.path.ends_with(".BusinessPhones")),
                );
                v
            }
            Kind::GetManager => {
                let mut v = vec![out("MSGraphUserManager.User", "String", "The user whose manager this is.")];
                v.extend(user_fields!("MSGraphUserManager.Manager."));
                v
            }
            Kind::TapList | Kind::TapCreate => vec![
                out("MSGraphUser.TAPPolicy.ID", "String", "The ID of the Temporary Access Pass policy."),
                out("MSGraphUser.TAPPolicy.IsUsable", "Bool", "Whether the pass can be used now."),
                out("MSGraphUser.TAPPolicy.IsUsableOnce", "Bool", "Whether the pass can be used only once."),
                out("MSGraphUser.TAPPolicy.CreatedDateTime", "String", "When the pass was created."),
                out(
                    "MSGraphUser.TAPPolicy.MethodUsabilityReason",
                    "String",
                    "Why the pass can or cannot be used.",
                ),
                out(
                    "MSGraphUser.TAPPolicy.LifetimeInMinutes",
                    "Int",
                    "How long the pass is valid, in minutes.",
                ),
                out("MSGraphUser.TAPPolicy.StartDateTime", "String", "When the pass becomes valid."),
            ],
            _ => vec![],
        }
    }
}

fn user_outputs() -> Vec<OutputSpec> {
    user_fields!("MSGraphUser.")
}

fn account_outputs() -> Vec<OutputSpec> {
    vec![
        out("Account.ID", "String", "The user's ID."),
        out("Account.DisplayName", "String", "The user's display name."),
        out("Account.Username", "String", "The user's principal name."),
        out("Account.JobTitle", "String", "The user's job title."),
        out("Account.Email.Address", "String", "The user's mail address."),
        out("Account.TelephoneNumber", "String", "The user's mobile phone number."),
        out("Account.Office", "String", "The user's office location."),
        out("Account.Type", "String", "The account type (Azure AD)."),
    ]
}
