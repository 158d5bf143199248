//! The current reference's commands on what surrounds a user: group memberships, owned
//! devices, every registered authentication method and the sign-in preferences, plus the
//! forced password reset.

use serde_json::{Map, Value, json};
use soar_integration_kit::{
    Args, CommandContext, Error, Handler, Outcome, OutputSpec, Request, Results, Table, async_trait, out,
};

use crate::commands::{Graph, as_object, drop_key, note, take_values, user_path, values};
use crate::methods::suppress_404;
use crate::transform::parse_list;

/// The one argument of the commands on one user.
#[derive(Args)]
pub struct OneUser {
    /// User ID or userPrincipalName.
    user: String,
}

/// Retrieves the groups (and directory roles) a user is a direct member of. Permission:
/// GroupMember.Read.All or Directory.Read.All (delegated or application).
#[derive(Args)]
pub struct GetGroups {
    #[arg(flatten)]
    user: OneUser,
}

#[async_trait]
impl Handler<Graph> for GetGroups {
    const NAME: &'static str = "msgraph-user-get-groups";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-get-groups user=alice@soar.example"];

    fn outputs() -> Vec<OutputSpec> {
        GROUPS.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            let mut data = graph.json(ctx, Request::get(format!("{}/memberOf", user_path(&user)))).await?;
            drop_key(&mut data, "@odata.context");
            let (readable, outputs) = parse_list(&values(&data));
            let md =
                Table::new(format!("{user} group data"), Value::Array(readable)).remove_null().render()?;
            Results {
                readable: Some(md),
                prefix: Some("MSGraphUserGroups"),
                key_field: Some("ID"),
                outputs: Some(json!({"ID": user, "Groups": outputs})),
                raw: Some(data),
            }
            .outcome()
        }
        .await;
        suppress_404(graph, ctx, result)
    }
}

/// Retrieves the authentication methods registered to a user. Permission:
/// UserAuthenticationMethod.Read.All (delegated or application).
#[derive(Args)]
pub struct GetAuthMethods {
    #[arg(flatten)]
    user: OneUser,
}

#[async_trait]
impl Handler<Graph> for GetAuthMethods {
    const NAME: &'static str = "msgraph-user-get-auth-methods";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-get-auth-methods user=alice@soar.example"];

    fn outputs() -> Vec<OutputSpec> {
        AUTH_METHODS.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            let path = format!("{}/authentication/methods", user_path(&user));
            let mut reply = graph.json(ctx, Request::get(path)).await?;
            let methods = take_values(&mut reply);
            let (readable, outputs) = parse_list(&methods);
            let md = Table::new(format!("{user} - auth methods"), Value::Array(readable))
                .remove_null()
                .render()?;
            Results {
                readable: Some(md),
                prefix: Some("MSGraphUserAuthMethods"),
                key_field: Some("ID"),
                outputs: Some(json!({"ID": user, "Methods": outputs})),
                raw: Some(Value::Array(methods)),
            }
            .outcome()
        }
        .await;
        suppress_404(graph, ctx, result)
    }
}

/// Lists the devices a user owns. Permission: User.Read.All and Directory.Read.All (delegated).
/// Under the Cortex XSOAR application the data is partial; use a self-deployed application for
/// all of it.
#[derive(Args)]
pub struct OwnedDevicesList {
    #[arg(flatten)]
    user: OneUser,
    /// The most devices to return (1 to 999; Graph's $top).
    #[arg(default = "50")]
    limit: u32,
    /// The next-page link a previous run returned.
    next_page: Option<String>,
    /// An OData $filter passed to Graph as it is, e.g. operatingSystem eq 'Windows'.
    filter: Option<String>,
}

/// How the reference titles the owned-device columns it shows.
const DEVICE_COLUMNS: [(&str, &str); 3] = [
    ("id", "Device Id"),
    ("deviceId", "Azure Device Registration Id"),
    ("displayName", "Device Display Name"),
];

#[async_trait]
impl Handler<Graph> for OwnedDevicesList {
    const NAME: &'static str = "msgraph-user-owned-devices-list";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-owned-devices-list user=alice@soar.example"];

    fn outputs() -> Vec<OutputSpec> {
        OWNED_DEVICES.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if !(1..=999).contains(&self.limit) {
            return Err(Error::InvalidArg {
                name: "limit".to_owned(),
                reason: format!("{} is not a number of devices from 1 to 999.", self.limit),
            });
        }
        let user = self.user.user;
        let result = async {
            let req = match self.next_page {
                Some(url) => Request::get(url),
                None => {
                    let mut req = Request::get(format!("{}/ownedDevices", user_path(&user)))
                        .header("ConsistencyLevel", "eventual");
                    if let Some(f) = self.filter {
                        req = req.query("$filter", f);
                    }
                    req.query("$count", "true").query("$top", self.limit.to_string())
                }
            };
            let mut reply = graph.json(ctx, req).await?;
            let next = reply.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned);
            let devices = take_values(&mut reply);
            if devices.is_empty() {
                return note(format!("No owned devices found for user {user}."));
            }
            let (_, mut outputs) = parse_list(&devices);
            let rows: Vec<Value> = devices
                .iter()
                .map(|d| {
                    let row: Map<String, Value> = as_object(d)
                        .into_iter()
                        .map(|(k, v)| {
                            let title = DEVICE_COLUMNS
                                .iter()
                                .find(|(raw, _)| *raw == k)
                                .map_or(k, |(_, t)| (*t).to_owned());
                            (title, v)
                        })
                        .collect();
                    Value::Object(row)
                })
                .collect();
            let mut table = Table::new(format!("Owned Devices for User {user}:"), Value::Array(rows))
                .headers(DEVICE_COLUMNS.iter().map(|(_, t)| *t))
                .remove_null();
            if let Some(url) = &next {
                table = table.metadata(format!(
                    "To get further results, enter this to the next_page argument:\n{url}"
                ));
                outputs.insert(0, json!({"NextPage": url}));
            }
            Results {
                readable: Some(table.render()?),
                prefix: Some("MSGraphUser"),
                key_field: Some("ID"),
                outputs: Some(json!({"OwnedDevice": outputs, "Id": user})),
                raw: Some(Value::Array(devices)),
            }
            .outcome()
        }
        .await;
        suppress_404(graph, ctx, result)
    }
}

/// Retrieves a user's authentication preferences, with the default method. Permission:
/// UserAuthenticationMethod.Read.All (delegated or application); Graph serves it on /beta only.
#[derive(Args)]
pub struct GetUserDefaultAuthMethod {
    #[arg(flatten)]
    user: OneUser,
}

#[async_trait]
impl Handler<Graph> for GetUserDefaultAuthMethod {
    const NAME: &'static str = "msgraph-user-get-user-default-auth-method";
    const EXAMPLES: &'static [&'static str] =
        &["!msgraph-user-get-user-default-auth-method user=alice@soar.example"];

    fn outputs() -> Vec<OutputSpec> {
        DEFAULT_AUTH_METHOD.to_vec()
    }

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let result = async {
            // signInPreferences exists on Graph's beta version only: the same origin, another segment.
            let beta = graph.api.base_url()?.replacen("/v1.0/", "/beta/", 1);
            let url = format!("{beta}{}/authentication/signInPreferences", user_path(&user));
            let prefs = graph.json(ctx, Request::get(url)).await?;
            let get = |k: &str| prefs.get(k).cloned().unwrap_or(Value::Null);
            let text = |v: Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
            let default = text(get("userPreferredMethodForSecondaryAuthentication"))
                .or_else(|| text(get("systemPreferredAuthenticationMethod")))
                .unwrap_or_else(|| "Unknown".to_owned());
            let row = json!({
                "User": user,
                "DefaultMethod": default,
                "IsSystemPreferredAuthenticationMethodEnabled": get("isSystemPreferredAuthenticationMethodEnabled"),
                "UserPreferredMethodForSecondaryAuthentication": get("userPreferredMethodForSecondaryAuthentication"),
                "SystemPreferredAuthenticationMethod": get("systemPreferredAuthenticationMethod"),
            });
            let md = Table::new(format!("Authentication Preferences for {user}"), row.clone()).remove_null().render()?;
            Results {
                readable: Some(format!("{md}\n**Default Auth Method:** {default}")),
                outputs: Some(json!({"MSGraphUser.AuthMethod(val.User === obj.User)": row})),
                raw: Some(prefs),
                ..Results::default()
            }
            .outcome()
        }
        .await;
        suppress_404(graph, ctx, result)
    }
}

/// Forces a user to change the password at the next sign-in (the session goes on; see
/// msgraph-user-session-revoke). Needs the authorization code flow with the delegated
/// Directory.AccessAsUser.All and User-PasswordProfile.ReadWrite.All permissions, and a signed-in
/// administrator with a higher role than the user's.
#[derive(Args)]
pub struct ForceResetPassword {
    #[arg(flatten)]
    user: OneUser,
}

#[async_trait]
impl Handler<Graph> for ForceResetPassword {
    const NAME: &'static str = "msgraph-user-force-reset-password";
    const EXAMPLES: &'static [&'static str] = &["!msgraph-user-force-reset-password user=alice@soar.example"];

    async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let user = self.user.user;
        let body = json!({"passwordProfile": {"forceChangePasswordNextSignIn": true}});
        // Graph refuses this to application-only tokens (403); the kit's hint then names the
        // delegated permission and the authorization code flow (permissions.rs).
        graph.json(ctx, Request::patch(user_path(&user)).json(&body)).await?;
        note(format!("User {user} will be required to change his password."))
    }
}

/// The outputs of `msgraph-user-get-groups` (the reference YAML's paths).
const GROUPS: &[OutputSpec] = &[
    out("MSGraphUserGroups.ID", "String", "The user as given."),
    out("MSGraphUserGroups.Groups.Classification", "String", "How the group's data is classified."),
    out(
        "MSGraphUserGroups.Groups.@Odata.Type",
        "String",
        "The type of the directory object (group or directory role).",
    ),
    out("MSGraphUserGroups.Groups.CreatedDateTime", "String", "When the group was created."),
    out("MSGraphUserGroups.Groups.CreationOptions", "String", "The group's creation options."),
    out("MSGraphUserGroups.Groups.DeletedDateTime", "String", "When the group was deleted."),
    out("MSGraphUserGroups.Groups.Description", "String", "The group's description."),
    out("MSGraphUserGroups.Groups.DisplayName", "String", "The group's display name."),
    out("MSGraphUserGroups.Groups.ExpirationDateTime", "String", "When the group expires."),
    out("MSGraphUserGroups.Groups.GroupTypes", "String", "The group's types (Unified, DynamicMembership)."),
    out("MSGraphUserGroups.Groups.ID", "String", "The group's ID."),
    out("MSGraphUserGroups.Groups.IsAssignableToRole", "Bool", "Whether the group can be assigned to roles."),
    out("MSGraphUserGroups.Groups.Mail", "String", "The group's mail address."),
    out("MSGraphUserGroups.Groups.MailEnabled", "Bool", "Whether the group is mail-enabled."),
    out("MSGraphUserGroups.Groups.MailNickname", "String", "The group's mail alias."),
    out("MSGraphUserGroups.Groups.MembershipRule", "String", "The rule of a dynamic group."),
    out(
        "MSGraphUserGroups.Groups.MembershipRuleProcessingState",
        "String",
        "Whether the membership rule is being processed.",
    ),
    out(
        "MSGraphUserGroups.Groups.OnPremisesDomainName",
        "String",
        "The on-premises domain of a synced group.",
    ),
    out(
        "MSGraphUserGroups.Groups.OnPremisesLastSyncDateTime",
        "String",
        "When the group was last synced from on-premises.",
    ),
    out("MSGraphUserGroups.Groups.OnPremisesNetBiosName", "String", "The on-premises NetBIOS name."),
    out(
        "MSGraphUserGroups.Groups.OnPremisesProvisioningErrors",
        "String",
        "Errors of on-premises provisioning.",
    ),
    out("MSGraphUserGroups.Groups.OnPremisesSamAccountName", "String", "The on-premises SAM account name."),
    out(
        "MSGraphUserGroups.Groups.OnPremisesSecurityIdentifier",
        "String",
        "The on-premises security identifier (SID).",
    ),
    out(
        "MSGraphUserGroups.Groups.OnPremisesSyncEnabled",
        "String",
        "Whether the group is synced from on-premises.",
    ),
    out("MSGraphUserGroups.Groups.PreferredDataLocation", "String", "The preferred data location."),
    out("MSGraphUserGroups.Groups.PreferredLanguage", "String", "The preferred language."),
    out("MSGraphUserGroups.Groups.ProxyAddresses", "String", "The group's mail addresses."),
    out("MSGraphUserGroups.Groups.RenewedDateTime", "String", "When the group was last renewed."),
    out(
        "MSGraphUserGroups.Groups.ResourceBehaviorOptions",
        "String",
        "The group's resource behaviour options.",
    ),
    out(
        "MSGraphUserGroups.Groups.ResourceProvisioningOptions",
        "String",
        "The group's resource provisioning options.",
    ),
    out("MSGraphUserGroups.Groups.SecurityEnabled", "Bool", "Whether the group is a security group."),
    out("MSGraphUserGroups.Groups.SecurityIdentifier", "String", "The group's security identifier."),
    out("MSGraphUserGroups.Groups.ServiceProvisioningErrors", "String", "Errors of service provisioning."),
    out("MSGraphUserGroups.Groups.Theme", "String", "The group's theme."),
    out("MSGraphUserGroups.Groups.UniqueName", "String", "The group's unique name."),
    out("MSGraphUserGroups.Groups.Visibility", "String", "The group's visibility."),
    out(
        "MSGraphUserGroups.Groups.WellKnownObject",
        "String",
        "Whether the group is a well-known system object.",
    ),
];

/// The outputs of `msgraph-user-get-auth-methods`.
const AUTH_METHODS: &[OutputSpec] = &[
    out("MSGraphUserAuthMethods.ID", "String", "The user as given."),
    out("MSGraphUserAuthMethods.Methods.CreatedDateTime", "String", "When the method was registered."),
    out("MSGraphUserAuthMethods.Methods.ID", "String", "The method's ID."),
    out(
        "MSGraphUserAuthMethods.Methods.@Odata.Type",
        "String",
        "The method's type, e.g. #microsoft.graph.phoneAuthenticationMethod.",
    ),
    out("MSGraphUserAuthMethods.Methods.Password", "String", "Always empty: Graph never returns a password."),
    out("MSGraphUserAuthMethods.Methods.DisplayName", "String", "The method's display name."),
    out("MSGraphUserAuthMethods.Methods.DeviceTag", "String", "The device tag of the method."),
    out("MSGraphUserAuthMethods.Methods.IsUsable", "String", "Whether the method can be used now."),
    out("MSGraphUserAuthMethods.Methods.IsUsableOnce", "String", "Whether the method can be used only once."),
    out(
        "MSGraphUserAuthMethods.Methods.MethodUsabilityReason",
        "String",
        "Why the method can or cannot be used.",
    ),
];

/// The outputs of `msgraph-user-owned-devices-list` (the reference writes the user under `Id`).
const OWNED_DEVICES: &[OutputSpec] = &[
    out("MSGraphUser.Id", "String", "The user as given."),
    out("MSGraphUser.OwnedDevice.ID", "String", "The device's object ID."),
    out("MSGraphUser.OwnedDevice.PhysicalIds", "String", "The device's physical IDs."),
    out("MSGraphUser.OwnedDevice.DeviceVersion", "String", "The device's version."),
    out("MSGraphUser.OwnedDevice.ProfileType", "String", "The device's profile type."),
    out("MSGraphUser.OwnedDevice.CreatedDateTime", "String", "When the device was created."),
    out(
        "MSGraphUser.OwnedDevice.ApproximateLastSignInDateTime",
        "String",
        "When the device last signed in, approximately.",
    ),
    out("MSGraphUser.OwnedDevice.OperatingSystemVersion", "String", "The operating system's version."),
    out("MSGraphUser.OwnedDevice.AlternativeSecurityIds", "String", "The device's alternative security IDs."),
    out("MSGraphUser.OwnedDevice.DisplayName", "String", "The device's display name."),
    out("MSGraphUser.OwnedDevice.OperatingSystem", "String", "The device's operating system."),
    out("MSGraphUser.OwnedDevice.DeviceId", "String", "The device's Azure device registration ID."),
    out(
        "MSGraphUser.OwnedDevice.TrustType",
        "String",
        "How the device is joined (AzureAd, ServerAd, Workplace).",
    ),
    out("MSGraphUser.OwnedDevice.RegistrationDateTime", "String", "When the device was registered."),
    out(
        "MSGraphUser.OwnedDevice.NextPage",
        "String",
        "The link to the next page, for the next_page argument.",
    ),
];

/// The outputs of `msgraph-user-get-user-default-auth-method`.
const DEFAULT_AUTH_METHOD: &[OutputSpec] = &[
    out("MSGraphUser.AuthMethod.User", "String", "The user as given."),
    out(
        "MSGraphUser.AuthMethod.DefaultMethod",
        "String",
        "The default method: the user's preferred one, else the system's, else Unknown.",
    ),
    out(
        "MSGraphUser.AuthMethod.IsSystemPreferredAuthenticationMethodEnabled",
        "Boolean",
        "Whether system-preferred authentication is on.",
    ),
    out(
        "MSGraphUser.AuthMethod.UserPreferredMethodForSecondaryAuthentication",
        "String",
        "The user's preferred method for secondary authentication.",
    ),
    out(
        "MSGraphUser.AuthMethod.SystemPreferredAuthenticationMethod",
        "String",
        "The system-preferred method.",
    ),
];
