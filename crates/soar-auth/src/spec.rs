//! What an integration declares: its prefix, flows, primary API, delegated scopes and the names
//! of the instance parameters it reads.

use soar_protocol::{AuthFlow, ParamValue, Params, Secret};

/// The Microsoft APIs a token can be for. The cloud decides the host of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKind {
    /// Microsoft Graph (`https://graph.microsoft.com`).
    Graph,
    /// Azure Resource Manager (`https://management.azure.com`).
    Arm,
    /// Microsoft Defender for Endpoint (`https://api.securitycenter.microsoft.com`).
    Defender,
    /// Azure Monitor Log Analytics (`https://api.loganalytics.io`).
    LogAnalytics,
    /// Azure Storage data plane (`https://<account>.blob.core.windows.net`; audience `https://storage.azure.com`).
    Storage,
    /// Any other resource, named the way Entra ID knows it: an identifier URI
    /// (`https://manage.office.com`, a Kusto cluster URL) or an application id GUID (Azure
    /// DevOps `499b84ac-1321-427f-aa17-267ca6975798`). The same in every cloud: app flows ask for
    /// `<resource>/.default`, managed identities for the resource itself, and the token is
    /// cached under the reference's `<scope>_access_token` key unless it is the primary API.
    Resource(&'static str),
}

impl ApiKind {
    /// A short name for messages and cache keys.
    pub fn name(self) -> &'static str {
        match self {
            ApiKind::Graph => "graph",
            ApiKind::Arm => "arm",
            ApiKind::Defender => "defender",
            ApiKind::LogAnalytics => "log-analytics",
            ApiKind::Storage => "storage",
            ApiKind::Resource(r) => r,
        }
    }
}

/// Where one logical value is read from. A field lists several places; the first non-empty
/// one wins (the reference prefers the newer credentials params over the hidden legacy ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamRef {
    /// A plain (or secret) string param.
    Str(&'static str),
    /// The `password` half of a credentials param.
    Password(&'static str),
    /// The `identifier` half of a credentials param.
    Identifier(&'static str),
}

impl ParamRef {
    /// The param key.
    pub fn key(self) -> &'static str {
        match self {
            ParamRef::Str(k) | ParamRef::Password(k) | ParamRef::Identifier(k) => k,
        }
    }

    /// The value, as a secret (empty and absent are `None`).
    pub fn read(self, params: &Params) -> Option<Secret> {
        match self {
            ParamRef::Str(k) => params.secret(k).or_else(|| params.str(k).map(Secret::new)),
            ParamRef::Password(k) => match params.get(k)? {
                ParamValue::Credentials(c) if !c.password.is_empty() => Some(c.password.clone()),
                _ => params.secret(k),
            },
            ParamRef::Identifier(k) => match params.get(k)? {
                ParamValue::Credentials(c) if !c.identifier.trim().is_empty() => {
                    Some(Secret::new(c.identifier.trim()))
                }
                _ => None,
            },
        }
    }
}

/// Reads the first non-empty value of `refs`.
pub(crate) fn first(params: &Params, refs: &[ParamRef]) -> Option<Secret> {
    refs.iter().find_map(|r| r.read(params))
}

/// The param keys an integration reads, per logical value, in priority order.
/// [`ParamNames::DEFAULT`] holds the names the reference integrations use; an integration
/// overrides only what differs: `ParamNames { client_id: &[..], ..ParamNames::DEFAULT }`.
#[derive(Debug, Clone, Copy)]
pub struct ParamNames {
    /// Tenant id (self-deployed) or the "Token" of the Cortex application.
    pub tenant_id: &'static [ParamRef],
    /// Client (application) id, or the "ID" of the Cortex application (optionally `id@url`).
    pub client_id: &'static [ParamRef],
    /// Client secret, or the "Key" of the Cortex application.
    pub client_secret: &'static [ParamRef],
    /// Certificate thumbprint (hex SHA-1).
    pub certificate_thumbprint: &'static [ParamRef],
    /// PEM private key of the certificate.
    pub private_key: &'static [ParamRef],
    /// Optional PEM certificate (adds `x5t#S256` to the client assertion).
    pub certificate: &'static [ParamRef],
    /// Authorization code pasted by a person (or `refresh_token:<rt>`).
    pub auth_code: &'static [ParamRef],
    /// Redirect URI of the authorization-code flow.
    pub redirect_uri: &'static [ParamRef],
    /// User-assigned managed identity client id (empty = system-assigned).
    pub managed_identities_client_id: &'static [ParamRef],
    /// Checkbox: use managed identities.
    pub use_managed_identities: &'static str,
    /// Select: the authentication type (`Client Credentials`, `Device Code`, ... or a kebab-case
    /// [`AuthFlow`] name such as `client-certificate`).
    pub auth_type: &'static [&'static str],
    /// Checkbox: a self-deployed application (otherwise the Cortex application via the OAuth proxy).
    pub self_deployed: &'static str,
    /// Select: the Azure cloud (`Worldwide`, `US GCC`, ..., `Custom`).
    pub azure_cloud: &'static str,
    /// Custom cloud: ARM server URL.
    pub server_url: &'static str,
    /// Custom cloud: Azure AD (login) endpoint.
    pub azure_ad_endpoint: &'static str,
    /// Custom cloud: Graph URL (`url`, then `host`).
    pub graph_url: &'static [&'static str],
    /// Select: Defender for Endpoint endpoint type (`Worldwide`, `EU Geo Proximity`, ..., `Custom`).
    pub endpoint_type: &'static str,
    /// Defender custom URL.
    pub defender_url: &'static str,
    /// Checkbox: legacy "Using Microsoft GCC?" switch of Defender.
    pub is_gcc: &'static str,
    /// Checkbox: trust any certificate.
    pub insecure: &'static str,
    /// Checkbox: use the system proxy.
    pub proxy: &'static str,
    /// Request timeout in seconds (optional).
    pub timeout: &'static str,
}

impl ParamNames {
    /// The reference's names (MS Graph User, Defender, Sentinel, Azure Storage share most).
    pub const DEFAULT: ParamNames = ParamNames {
        tenant_id: &[
            ParamRef::Password("creds_tenant_id"),
            ParamRef::Str("_tenant_id"),
            ParamRef::Str("tenant_id"),
        ],
        client_id: &[
            ParamRef::Password("creds_auth_id"),
            ParamRef::Str("_auth_id"),
            ParamRef::Identifier("credentials"),
            ParamRef::Str("auth_id"),
            ParamRef::Str("app_id"),
        ],
        client_secret: &[
            ParamRef::Password("creds_enc_key"),
            ParamRef::Password("credentials"),
            ParamRef::Str("enc_key"),
        ],
        certificate_thumbprint: &[
            ParamRef::Identifier("creds_certificate"),
            ParamRef::Str("certificate_thumbprint"),
        ],
        private_key: &[ParamRef::Password("creds_certificate"), ParamRef::Str("private_key")],
        certificate: &[ParamRef::Str("certificate")],
        auth_code: &[ParamRef::Password("creds_auth_code"), ParamRef::Password("auth_code")],
        redirect_uri: &[ParamRef::Str("redirect_uri")],
        managed_identities_client_id: &[ParamRef::Password("managed_identities_client_id")],
        use_managed_identities: "use_managed_identities",
        auth_type: &["auth_type", "authentication_type"],
        self_deployed: "self_deployed",
        azure_cloud: "azure_cloud",
        server_url: "server_url",
        azure_ad_endpoint: "azure_ad_endpoint",
        graph_url: &["url", "host"],
        endpoint_type: "endpoint_type",
        defender_url: "url",
        is_gcc: "is_gcc",
        insecure: "insecure",
        proxy: "proxy",
        timeout: "timeout",
    };
}

impl ParamNames {
    /// The newer references' single-spelling form (Azure Storage and the ARM family): `app_id`,
    /// `tenant_id`, the secret as the password of `credentials`, the certificate as
    /// `creds_certificate` (thumbprint / private key), the code as the password of `auth_code`.
    pub const APP_CREDENTIALS: ParamNames = ParamNames {
        tenant_id: &[ParamRef::Str("tenant_id")],
        client_id: &[ParamRef::Str("app_id")],
        client_secret: &[ParamRef::Password("credentials")],
        certificate_thumbprint: &[ParamRef::Identifier("creds_certificate")],
        private_key: &[ParamRef::Password("creds_certificate")],
        auth_code: &[ParamRef::Password("auth_code")],
        ..ParamNames::DEFAULT
    };
}

/// What an integration declares, once, as a `static`.
///
/// Build it with `..AuthSpec::DEFAULT` so fields added later do not break the integration.
#[derive(Debug, Clone, Copy)]
pub struct AuthSpec {
    /// The command prefix, e.g. `msgraph-user` (commands are `<prefix>-auth-start`, ...).
    pub prefix: &'static str,
    /// The flows this integration supports.
    pub flows: &'static [AuthFlow],
    /// The Cortex application name sent to the OAuth proxy, e.g. `ms-graph-user`.
    pub oproxy_app_name: &'static str,
    /// The primary API; its token is cached under the reference's plain keys
    /// (`access_token`, `valid_until`).
    pub resource: ApiKind,
    /// Delegated scopes for authorization code and device code, e.g. `["User.Read", "offline_access"]`.
    /// A scope without `/` is qualified with the primary API's resource for the cloud
    /// (`User.Read` -> `https://graph.microsoft.com/User.Read`). Empty: `<resource>/.default`.
    pub scopes: &'static [&'static str],
    /// The param keys the integration reads.
    pub param_names: ParamNames,
    /// The tenant segment of the token and device-code URLs for user flows when it is not the
    /// configured tenant (Azure Storage and AKS use `organizations`). `None`: the tenant param.
    pub user_flow_tenant: Option<&'static str>,
}

impl AuthSpec {
    /// Defaults for every field (prefix `command_prefix` as in the reference, all flows, Graph).
    pub const DEFAULT: AuthSpec = AuthSpec {
        prefix: "command_prefix",
        flows: &AuthFlow::ALL,
        oproxy_app_name: "",
        resource: ApiKind::Graph,
        scopes: &[],
        param_names: ParamNames::DEFAULT,
        user_flow_tenant: None,
    };

    /// True when the integration declares `flow`.
    pub fn supports(&self, flow: AuthFlow) -> bool {
        self.flows.contains(&flow)
    }

    /// The declared flows' names joined for messages: `Client credentials (secret), Device code`;
    /// `none` for an integration that takes no Entra ID token (SAS keys only).
    pub fn supported_names(&self) -> String {
        if self.flows.is_empty() {
            return "none".to_owned();
        }
        self.flows.iter().map(|f| f.display_name()).collect::<Vec<_>>().join(", ")
    }
}
