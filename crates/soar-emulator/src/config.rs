//! Registrations and behaviour switches. [`EmulatorConfig::default`] is the built-in test set
//! (printed by `soar-emulator --print-config` and listed in `/work/notes/contracts.md`); a JSON
//! file with the same shape replaces it (`--config FILE`, or `DIR/config.json` with `--data DIR`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

/// The built-in tenant id.
pub const DEFAULT_TENANT_ID: &str = "11111111-1111-4111-8111-111111111111";
/// The built-in tenant's verified domain.
pub const DEFAULT_TENANT_DOMAIN: &str = "soaremulator.onmicrosoft.com";
/// Client id of the built-in confidential app with a secret.
pub const SECRET_APP_ID: &str = "22222222-2222-4222-8222-000000000001";
/// Its secret.
pub const SECRET_APP_SECRET: &str = "emulator-secret-value-1";
/// Client id of the built-in certificate app (cert + key written to the data dir).
pub const CERT_APP_ID: &str = "22222222-2222-4222-8222-000000000002";
/// Client id of the built-in public client (device code, auth code with PKCE).
pub const PUBLIC_APP_ID: &str = "22222222-2222-4222-8222-000000000003";
/// Client id of the built-in app that has a secret but no permissions (403 tests).
pub const LIMITED_APP_ID: &str = "22222222-2222-4222-8222-000000000004";
/// Its secret.
pub const LIMITED_APP_SECRET: &str = "emulator-secret-value-4";
/// Client id of the built-in app whose only secret has expired (AADSTS7000222).
pub const EXPIRED_SECRET_APP_ID: &str = "22222222-2222-4222-8222-000000000005";
/// Its (expired) secret.
pub const EXPIRED_SECRET_APP_SECRET: &str = "emulator-secret-value-5";
/// The built-in test user.
pub const TEST_USER_UPN: &str = "alice@soaremulator.onmicrosoft.com";
/// The test user's object id.
pub const TEST_USER_OID: &str = "33333333-3333-4333-8333-000000000001";
/// System-assigned managed identity: client id.
pub const SYSTEM_MI_CLIENT_ID: &str = "44444444-4444-4444-8444-000000000001";
/// User-assigned managed identity: client id.
pub const USER_MI_CLIENT_ID: &str = "44444444-4444-4444-8444-000000000002";
/// User-assigned managed identity: object (principal) id.
pub const USER_MI_OBJECT_ID: &str = "44444444-4444-4444-8444-0000000000a2";
/// User-assigned managed identity: ARM resource id (`msi_res_id`).
pub const USER_MI_RESOURCE_ID: &str = "/subscriptions/55555555-5555-4555-8555-000000000001/resourcegroups/soar-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/soar-uami";
/// The App Service `X-IDENTITY-HEADER` value.
pub const APP_SERVICE_IDENTITY_HEADER: &str = "emulator-identity-header";
/// OAuth proxy registration id (the "ID" a person gets from the Cortex app).
pub const PROXY_REGISTRATION_ID: &str = "66666666-6666-4666-8666-000000000001";
/// OAuth proxy "Token".
pub const PROXY_TOKEN: &str = "emulator-oproxy-token-1";
/// OAuth proxy "Key": base64 of a 32-byte AES key.
pub const PROXY_KEY_B64: &str = "c29hci1lbXVsYXRvci1vcHJveHkta2V5LTMyYnl0ZSE=";
/// The Cortex XSOAR application's public client for Azure Storage (device code), registered in
/// its publisher's tenant and usable from any tenant, as Palo Alto's app is.
pub const CORTEX_STORAGE_APP_ID: &str = "55f9764e-300a-474a-a2bb-549cece85439";
/// Microsoft's MFA connector application ("Azure Multi-Factor Auth Client", the same id in every
/// tenant). Its secrets are the ones Graph's `servicePrincipals/{id}/addPassword` created.
pub const MFA_APP_ID: &str = "981f26a1-7f43-403b-a875-f8b09b8cd720";
/// The MFA connector's resource (the audience of its tokens).
pub const MFA_RESOURCE: &str =
    "https://adnotifications.windowsazure.com/StrongAuthenticationService.svc/Connector";
/// The tenant that owns the Cortex public clients (a stand-in for Palo Alto's).
pub const CORTEX_PUBLISHER_TENANT_ID: &str = "99999999-9999-4999-8999-000000000001";
/// The built-in subscription the managed identities and apps have ARM access to.
pub const DEFAULT_SUBSCRIPTION_ID: &str = "55555555-5555-4555-8555-000000000001";

/// Everything the emulator knows: registrations and behaviour switches.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Tenants (directories).
    pub tenants: Vec<TenantConfig>,
    /// App registrations (with their service principals in their home tenant).
    pub apps: Vec<AppConfig>,
    /// Users that /authorize and the device flow sign in.
    pub users: Vec<UserConfig>,
    /// Managed identities IMDS and the App Service endpoint hand out tokens for.
    pub managed_identities: Vec<ManagedIdentityConfig>,
    /// The secret App Service clients must send as `X-IDENTITY-HEADER`.
    pub app_service_identity_header: String,
    /// Cortex OAuth proxy registrations.
    pub proxy_registrations: Vec<ProxyRegistration>,
    /// The resource each Cortex app (proxy `app_name`) is for, used when a request names none;
    /// apps not listed use the registration's `default_resource`.
    pub proxy_app_resources: BTreeMap<String, String>,
    /// Extra (non-Microsoft) resources tokens may be issued for, e.g. `api://test-api`.
    pub custom_resources: Vec<CustomResource>,
    /// Behaviour switches (lifetimes, wire variants marked unconfirmed in the fact sheet).
    pub behaviour: Behaviour,
    /// Where generated certificates and keys are written (a temporary folder when unset).
    pub data_dir: Option<PathBuf>,
    /// Folders of `*.json` seed files for the resource-API store.
    pub seed_dirs: Vec<PathBuf>,
    /// Emulator seeds served as generic collections on top of the built-in
    /// `test-data/*/emulator-seed.json` ones: `(name, JSON text)`, the name used in errors.
    /// The format is in [`crate::apis::seeded`]. Tests use it so as not to depend on `test-data/`.
    pub extra_seeds: Vec<(String, String)>,
    /// Use this certificate chain (PEM) for HTTPS instead of the generated one.
    pub tls_cert: Option<PathBuf>,
    /// The key (PEM, PKCS#8) for `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

/// A tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant id (GUID).
    pub id: String,
    /// Verified domain, usable in place of the id in URLs.
    pub domain: String,
    /// Display name.
    pub display_name: String,
}

/// An app registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Application (client) id.
    pub client_id: String,
    /// Display name.
    pub display_name: String,
    /// Home tenant id.
    pub tenant: String,
    /// Object id of its service principal (the `oid`/`sub` of app-only tokens).
    pub object_id: String,
    /// Client secrets.
    pub secrets: Vec<SecretConfig>,
    /// Certificates (public part) registered for client assertions.
    pub certificates: Vec<CertConfig>,
    /// A public client (no credential allowed).
    pub public_client: bool,
    /// Usable from other tenants and from /common and /organizations.
    pub multi_tenant: bool,
    /// Refused with AADSTS7000112 when set.
    pub disabled: bool,
    /// Registered redirect URIs (exact match; `http://localhost` matches any port, as Entra does).
    pub redirect_uris: Vec<String>,
    /// Application permissions granted (admin-consented), by API: `graph`, `defender`, `security`,
    /// `loganalytics`, `keyvault`, `storage`, `manageoffice`, `kusto`, `devops`, `cloudapps`,
    /// `botframework`, `custom`. They become `roles`.
    pub roles: BTreeMap<String, Vec<String>>,
    /// ARM scopes (prefixes such as `/subscriptions/{id}`; `/` = everything) the service principal
    /// holds a role assignment on; `reader:<scope>` is a Reader assignment (read actions only,
    /// ARM's 403 `AuthorizationFailed` on writes).
    pub arm_scopes: Vec<String>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            client_id: String::new(),
            display_name: String::new(),
            tenant: DEFAULT_TENANT_ID.into(),
            object_id: String::new(),
            secrets: Vec::new(),
            certificates: Vec::new(),
            public_client: false,
            multi_tenant: true,
            disabled: false,
            redirect_uris: Vec::new(),
            roles: BTreeMap::new(),
            arm_scopes: Vec::new(),
        }
    }
}

/// A client secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretConfig {
    /// The secret value.
    pub value: String,
    /// An expired secret answers AADSTS7000222.
    #[serde(default)]
    pub expired: bool,
}

/// A certificate credential: generated at start (`generate`, a file stem in the data dir), or a
/// PEM file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertConfig {
    /// Generate a key and certificate, written as `{data}/{generate}.key.pem`, `.cert.pem` and
    /// `.pem` (key + certificate, for azure-identity).
    #[serde(default)]
    pub generate: Option<String>,
    /// A certificate PEM file.
    #[serde(default)]
    pub pem_path: Option<PathBuf>,
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UserConfig {
    /// User principal name.
    pub upn: String,
    /// Object id.
    pub object_id: String,
    /// Display name.
    pub display_name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Home tenant id.
    pub tenant: String,
    /// ARM scopes the user holds a role assignment on.
    pub arm_scopes: Vec<String>,
}

impl Default for UserConfig {
    fn default() -> Self {
        UserConfig {
            upn: String::new(),
            object_id: String::new(),
            display_name: String::new(),
            given_name: String::new(),
            family_name: String::new(),
            tenant: DEFAULT_TENANT_ID.into(),
            arm_scopes: Vec::new(),
        }
    }
}

/// A managed identity.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ManagedIdentityConfig {
    /// System-assigned (chosen when the request names no identity).
    pub system_assigned: bool,
    /// Client id.
    pub client_id: String,
    /// Object (principal) id.
    pub object_id: String,
    /// ARM resource id (`msi_res_id` / `mi_res_id`).
    pub resource_id: String,
    /// Tenant.
    pub tenant: String,
    /// Application permissions, as for apps.
    pub roles: BTreeMap<String, Vec<String>>,
    /// ARM scopes, as for apps.
    pub arm_scopes: Vec<String>,
}

impl Default for ManagedIdentityConfig {
    fn default() -> Self {
        ManagedIdentityConfig {
            system_assigned: false,
            client_id: String::new(),
            object_id: String::new(),
            resource_id: String::new(),
            tenant: DEFAULT_TENANT_ID.into(),
            roles: BTreeMap::new(),
            arm_scopes: Vec::new(),
        }
    }
}

/// A Cortex OAuth proxy registration (what the Cortex app hands a person: ID, Token, Key).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyRegistration {
    /// The registration id ("ID").
    pub registration_id: String,
    /// The "Token" the integration encrypts (until the proxy hands out a refresh token).
    pub token: String,
    /// The "Key": base64 of an AES-128/192/256 key.
    pub key_b64: String,
    /// App names this registration serves (empty = any).
    #[serde(default)]
    pub app_names: Vec<String>,
    /// The app registration whose permissions the issued tokens carry.
    pub client_id: String,
    /// Resource used when the request names none (`resource` = "" and `scope` = null).
    #[serde(default = "default_proxy_resource")]
    pub default_resource: String,
}

fn default_proxy_resource() -> String {
    "https://graph.microsoft.com".into()
}

/// A non-Microsoft resource (API) tokens may be issued for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomResource {
    /// The resource's app id.
    pub app_id: String,
    /// Identifier URIs.
    pub audiences: Vec<String>,
}

/// Behaviour switches. Wire facts marked unconfirmed in the fact sheet are switchable here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// Access token lifetime (`expires_in`).
    pub token_lifetime_secs: u64,
    /// Managed identity token lifetime.
    pub managed_identity_token_lifetime_secs: u64,
    /// Refresh tokens expire after this much inactivity (AADSTS700082).
    pub refresh_token_max_inactive_secs: u64,
    /// Issue a new refresh token on every refresh_token grant.
    pub rotate_refresh_tokens: bool,
    /// Refuse a refresh token once it has been rotated (Entra does not; off by default).
    pub refresh_token_single_use: bool,
    /// Authorization code lifetime.
    pub auth_code_lifetime_secs: u64,
    /// Device code lifetime (`expires_in`).
    pub device_code_lifetime_secs: u64,
    /// Device code polling `interval`.
    pub device_poll_interval_secs: u64,
    /// Answer `slow_down` when a device code is polled faster than `interval`.
    pub device_enforce_slow_down: bool,
    /// The `error` for a denied device code: `authorization_declined` (Entra's documented value)
    /// or `access_denied` (RFC 8628).
    pub device_denied_error: String,
    /// The AADSTS code of an expired device code: 70020 (observed) or 70019 (errcodes table).
    pub device_expired_code: u32,
    /// `verification_uri` of the device flow.
    pub device_verification_uri: String,
    /// What joins the Trace ID / Correlation ID / Timestamp trailers: "\r\n" (documented) or " "
    /// (some 2024-25 captures).
    pub error_trailer_separator: String,
    /// Put a `nonce` JOSE header on Graph tokens as real Graph tokens have (still signed normally).
    pub graph_nonce_header: bool,
    /// Hand out the same signed app-only token for identical client-credential (and OAuth-proxy)
    /// requests within the same second. On by default: an RS256 signature costs about 1 ms, which
    /// caps fresh tokens near 2,000/s on 2 cores, and the emulator must not be the bottleneck of
    /// other benchmarks. Turn it off when a test needs every token to differ.
    pub reuse_app_tokens_within_second: bool,
    /// Clock skew allowed on client assertions and bearer tokens.
    pub clock_skew_secs: u64,
    /// OAuth proxy: largest allowed difference between the encrypted timestamp and now.
    pub oproxy_max_clock_skew_secs: u64,
    /// Simulate the user declining consent at /authorize and in the device flow.
    pub user_denies: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            token_lifetime_secs: 3599,
            managed_identity_token_lifetime_secs: 86399,
            refresh_token_max_inactive_secs: 90 * 24 * 3600,
            rotate_refresh_tokens: true,
            refresh_token_single_use: false,
            auth_code_lifetime_secs: 600,
            device_code_lifetime_secs: 900,
            device_poll_interval_secs: 5,
            device_enforce_slow_down: true,
            device_denied_error: "authorization_declined".into(),
            device_expired_code: 70020,
            device_verification_uri: "https://microsoft.com/devicelogin".into(),
            error_trailer_separator: "\r\n".into(),
            graph_nonce_header: true,
            reuse_app_tokens_within_second: true,
            clock_skew_secs: 300,
            oproxy_max_clock_skew_secs: 300,
            user_denies: false,
        }
    }
}

fn roles(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
}

const GRAPH_ROLES: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Group.Read.All",
    "Mail.Read",
    "SecurityEvents.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "Application.ReadWrite.All",
];
const DEFENDER_ROLES: &[&str] = &[
    "Machine.Read.All",
    "Machine.ReadWrite.All",
    "Machine.Isolate",
    "Machine.Scan",
    "Alert.Read.All",
    "Alert.ReadWrite.All",
    "AdvancedQuery.Read.All",
    "Ti.ReadWrite.All",
];

impl Default for EmulatorConfig {
    fn default() -> Self {
        let full_roles = roles(&[
            ("graph", GRAPH_ROLES),
            ("defender", DEFENDER_ROLES),
            ("security", &["AdvancedHunting.Read.All", "Incident.ReadWrite.All"]),
            ("loganalytics", &["Data.Read"]),
            ("custom", &["Test.Read"]),
        ]);
        let redirects: Vec<String> =
            ["https://localhost/myapp", "http://localhost", "https://localhost"].map(String::from).to_vec();
        EmulatorConfig {
            tenants: vec![
                TenantConfig {
                    id: DEFAULT_TENANT_ID.into(),
                    domain: DEFAULT_TENANT_DOMAIN.into(),
                    display_name: "SOAR Emulator".into(),
                },
                TenantConfig {
                    id: CORTEX_PUBLISHER_TENANT_ID.into(),
                    domain: "cortexpublisher.onmicrosoft.com".into(),
                    display_name: "Cortex XSOAR publisher".into(),
                },
            ],
            apps: vec![
                AppConfig {
                    client_id: SECRET_APP_ID.into(),
                    display_name: "soar-secret-app".into(),
                    object_id: "22222222-2222-4222-8222-0000000000a1".into(),
                    secrets: vec![SecretConfig { value: SECRET_APP_SECRET.into(), expired: false }],
                    redirect_uris: redirects.clone(),
                    roles: full_roles.clone(),
                    arm_scopes: vec!["/".into()],
                    ..AppConfig::default()
                },
                AppConfig {
                    client_id: CERT_APP_ID.into(),
                    display_name: "soar-cert-app".into(),
                    object_id: "22222222-2222-4222-8222-0000000000a2".into(),
                    certificates: vec![CertConfig { generate: Some("cert-app".into()), pem_path: None }],
                    redirect_uris: redirects.clone(),
                    roles: full_roles.clone(),
                    arm_scopes: vec!["/".into()],
                    ..AppConfig::default()
                },
                AppConfig {
                    client_id: PUBLIC_APP_ID.into(),
                    display_name: "soar-public-app".into(),
                    object_id: "22222222-2222-4222-8222-0000000000a3".into(),
                    public_client: true,
                    redirect_uris: redirects.clone(),
                    ..AppConfig::default()
                },
                AppConfig {
                    client_id: LIMITED_APP_ID.into(),
                    display_name: "soar-limited-app".into(),
                    object_id: "22222222-2222-4222-8222-0000000000a4".into(),
                    secrets: vec![SecretConfig { value: LIMITED_APP_SECRET.into(), expired: false }],
                    redirect_uris: redirects,
                    ..AppConfig::default()
                },
                AppConfig {
                    client_id: CORTEX_STORAGE_APP_ID.into(),
                    display_name: "Cortex XSOAR - Azure Storage".into(),
                    tenant: CORTEX_PUBLISHER_TENANT_ID.into(),
                    object_id: "99999999-9999-4999-8999-0000000000a1".into(),
                    public_client: true,
                    ..AppConfig::default()
                },
                AppConfig {
                    client_id: MFA_APP_ID.into(),
                    display_name: "Azure Multi-Factor Auth Client".into(),
                    object_id: "88888888-8888-4888-8888-000000000001".into(),
                    ..AppConfig::default()
                },
                AppConfig {
                    client_id: EXPIRED_SECRET_APP_ID.into(),
                    display_name: "soar-expired-secret-app".into(),
                    object_id: "22222222-2222-4222-8222-0000000000a5".into(),
                    secrets: vec![SecretConfig { value: EXPIRED_SECRET_APP_SECRET.into(), expired: true }],
                    ..AppConfig::default()
                },
            ],
            users: vec![UserConfig {
                upn: TEST_USER_UPN.into(),
                object_id: TEST_USER_OID.into(),
                display_name: "Alice Emulator".into(),
                given_name: "Alice".into(),
                family_name: "Emulator".into(),
                arm_scopes: vec!["/".into()],
                ..UserConfig::default()
            }],
            managed_identities: vec![
                ManagedIdentityConfig {
                    system_assigned: true,
                    client_id: SYSTEM_MI_CLIENT_ID.into(),
                    object_id: "44444444-4444-4444-8444-0000000000a1".into(),
                    resource_id: "/subscriptions/55555555-5555-4555-8555-000000000001/resourcegroups/soar-rg/providers/Microsoft.Compute/virtualMachines/soar-vm".into(),
                    roles: full_roles.clone(),
                    arm_scopes: vec!["/".into()],
                    ..ManagedIdentityConfig::default()
                },
                ManagedIdentityConfig {
                    system_assigned: false,
                    client_id: USER_MI_CLIENT_ID.into(),
                    object_id: USER_MI_OBJECT_ID.into(),
                    resource_id: USER_MI_RESOURCE_ID.into(),
                    roles: full_roles,
                    arm_scopes: vec![format!("/subscriptions/{DEFAULT_SUBSCRIPTION_ID}")],
                    ..ManagedIdentityConfig::default()
                },
            ],
            app_service_identity_header: APP_SERVICE_IDENTITY_HEADER.into(),
            proxy_registrations: vec![ProxyRegistration {
                registration_id: PROXY_REGISTRATION_ID.into(),
                token: PROXY_TOKEN.into(),
                key_b64: PROXY_KEY_B64.into(),
                app_names: Vec::new(),
                client_id: SECRET_APP_ID.into(),
                default_resource: default_proxy_resource(),
            }],
            // The Cortex apps of the flow table whose resource is not Graph.
            proxy_app_resources: [
                ("ms-azure-compute", "https://management.azure.com"),
                ("ms-azure-log-analytics", "https://management.azure.com"),
                ("ms-azure-sc", "https://management.azure.com"),
                ("ms-defender-atp", "https://securitycenter.onmicrosoft.com/windowsatpservice"),
                ("ms-management-api", "https://manage.office.com"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            custom_resources: vec![
                CustomResource {
                    app_id: "77777777-7777-4777-8777-000000000001".into(),
                    audiences: vec!["api://test-api".into()],
                },
                CustomResource { app_id: MFA_APP_ID.into(), audiences: vec![MFA_RESOURCE.into()] },
            ],
            behaviour: Behaviour::default(),
            data_dir: None,
            seed_dirs: default_seed_dirs(),
            extra_seeds: Vec::new(),
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// `test-data/emulator` of this repository, when it exists (the binary run from a checkout).
fn default_seed_dirs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-data/emulator");
    if dir.is_dir() { vec![dir] } else { Vec::new() }
}

impl EmulatorConfig {
    /// Reads a JSON configuration file; unknown fields are an error naming the field.
    pub fn from_file(path: &Path) -> Result<EmulatorConfig, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("cannot read config file {}: {e}", path.display())))?;
        let config: EmulatorConfig = serde_json::from_str(&text)
            .map_err(|e| Error::Config(format!("config file {} is not valid: {e}", path.display())))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks cross references (app tenants exist, ids unique, keys decode).
    pub fn validate(&self) -> Result<(), Error> {
        if self.tenants.is_empty() {
            return Err(Error::Config("the configuration needs at least one tenant".into()));
        }
        let known = |t: &str| self.tenants.iter().any(|x| x.id == t);
        for app in &self.apps {
            if app.client_id.is_empty() {
                return Err(Error::Config("an app has an empty client_id".into()));
            }
            if !known(&app.tenant) {
                return Err(Error::Config(format!(
                    "app {} names tenant {} which is not in `tenants`",
                    app.client_id, app.tenant
                )));
            }
            if self.apps.iter().filter(|a| a.client_id == app.client_id).count() > 1 {
                return Err(Error::Config(format!("client_id {} is registered twice", app.client_id)));
            }
        }
        for reg in &self.proxy_registrations {
            use base64::Engine as _;
            let key = base64::engine::general_purpose::STANDARD.decode(&reg.key_b64).map_err(|e| {
                Error::Config(format!(
                    "proxy registration {}: key_b64 is not base64: {e}",
                    reg.registration_id
                ))
            })?;
            if ![16, 24, 32].contains(&key.len()) {
                return Err(Error::Config(format!(
                    "proxy registration {}: the key must be 16, 24 or 32 bytes, not {}",
                    reg.registration_id,
                    key.len()
                )));
            }
        }
        Ok(())
    }

    /// Finds a tenant by id or verified domain (case-insensitive).
    pub fn tenant(&self, id_or_domain: &str) -> Option<&TenantConfig> {
        self.tenants
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(id_or_domain) || t.domain.eq_ignore_ascii_case(id_or_domain))
    }

    /// Finds an app by client id.
    pub fn app(&self, client_id: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|a| a.client_id.eq_ignore_ascii_case(client_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_round_trip_through_json() {
        let config = EmulatorConfig::default();
        config.validate().unwrap();
        let text = serde_json::to_string(&config).unwrap();
        let back: EmulatorConfig = serde_json::from_str(&text).unwrap();
        assert_eq!(back.apps.len(), config.apps.len());
        assert!(config.tenant(DEFAULT_TENANT_DOMAIN).is_some());
    }

    #[test]
    fn bad_files_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        std::fs::write(&path, r#"{"tenants":[],"bogus":1}"#).unwrap();
        let err = EmulatorConfig::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
        std::fs::write(&path, r#"{"apps":[{"client_id":"x","tenant":"nope"}]}"#).unwrap();
        let err = EmulatorConfig::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("tenant nope"), "{err}");
    }
}
