//! Token minting: access tokens (v1 format for Microsoft's own APIs, as Entra issues them),
//! id_tokens, `client_info`, refresh tokens, and the scope/resource resolution they depend on.

use serde_json::{Map, Value, json};

use crate::aad::{AadError, msg};
use crate::clouds::{self, ApiKind, LoginCloud};
use crate::config::UserConfig;
use crate::keys::{b64url, random_bytes};
use crate::state::EmulatorState;

/// The OpenID Connect scopes that never name a resource.
pub const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];

/// The resource a token is for.
#[derive(Debug, Clone)]
pub struct Target {
    /// API kind.
    pub kind: ApiKind,
    /// The `aud` claim: the identifier as requested, minus `/.default`.
    pub aud: String,
    /// Delegated permission names asked for (empty for `.default`).
    pub permissions: Vec<String>,
    /// True when the scope was `{resource}/.default`.
    pub dot_default: bool,
}

/// Splits a v2 `scope` into OIDC scopes and the resource the others name. `None` target when
/// only OIDC scopes were asked for. Scopes of a second resource are an error when `strict`
/// (app-only requests), else ignored: user flows may consent to several resources at once and
/// get a token for the first one.
pub fn parse_scopes(
    st: &EmulatorState,
    cloud: LoginCloud,
    tenant_name: &str,
    scope: &str,
    strict: bool,
) -> Result<(Vec<String>, Option<Target>), AadError> {
    let mut oidc = Vec::new();
    let mut target: Option<Target> = None;
    for s in scope.split_whitespace() {
        if OIDC_SCOPES.iter().any(|o| o.eq_ignore_ascii_case(s)) {
            oidc.push(s.to_ascii_lowercase());
            continue;
        }
        let Some((resource, perm)) = split_scope(s, cloud) else { return Err(msg::invalid_scope(s)) };
        if perm.is_empty() {
            return Err(msg::invalid_scope(s));
        }
        let (kind, aud) = resolve_resource(st, cloud, tenant_name, &resource)?;
        let dot_default = perm == ".default";
        match &mut target {
            None => {
                target = Some(Target {
                    kind,
                    aud,
                    permissions: if dot_default { Vec::new() } else { vec![perm] },
                    dot_default,
                })
            }
            Some(t) if clouds::norm_aud(&t.aud) == clouds::norm_aud(&aud) => {
                if dot_default {
                    t.dot_default = true;
                } else if !t.permissions.contains(&perm) {
                    t.permissions.push(perm);
                }
            }
            // Entra refuses scopes for two resources in one app-only request.
            Some(_) if strict => return Err(msg::invalid_scope(s)),
            Some(_) => {}
        }
    }
    Ok((oidc, target))
}

/// Splits `{resource}/{permission}`; a bare permission is Graph's.
fn split_scope(s: &str, cloud: LoginCloud) -> Option<(String, String)> {
    if let Some(pos) = s.find("://") {
        let i = pos + 3 + s[pos + 3..].rfind('/')?;
        Some((s[..i].to_string(), s[i + 1..].to_string()))
    } else if let Some(i) = s.rfind('/') {
        Some((s[..i].to_string(), s[i + 1..].to_string()))
    } else {
        Some((format!("https://{}", cloud.graph_host()), s.to_string()))
    }
}

/// Finds the resource a `resource` value or scope prefix names in `cloud`; unknown or
/// other-cloud resources are AADSTS500011.
pub fn resolve_resource(
    st: &EmulatorState,
    cloud: LoginCloud,
    tenant_name: &str,
    resource: &str,
) -> Result<(ApiKind, String), AadError> {
    let aud = resource.trim().to_string();
    if aud.is_empty() {
        return Err(msg::no_resource());
    }
    if let Some(r) = clouds::resource_for(cloud, &aud) {
        return Ok((r.kind, aud));
    }
    let want = clouds::norm_aud(&aud);
    if st.config().custom_resources.iter().any(|c| {
        c.app_id.eq_ignore_ascii_case(&want) || c.audiences.iter().any(|a| clouds::norm_aud(a) == want)
    }) {
        return Ok((ApiKind::Custom, aud));
    }
    Err(msg::unknown_resource(&aud, tenant_name))
}

/// The key of an API kind in the configuration's `roles` maps.
pub fn kind_key(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Graph => "graph",
        ApiKind::Arm => "arm",
        ApiKind::Defender => "defender",
        ApiKind::Security => "security",
        ApiKind::LogAnalytics => "loganalytics",
        ApiKind::KeyVault => "keyvault",
        ApiKind::Storage => "storage",
        ApiKind::ManageOffice => "manageoffice",
        ApiKind::Kusto => "kusto",
        ApiKind::DevOps => "devops",
        ApiKind::CloudApps => "cloudapps",
        ApiKind::BotFramework => "botframework",
        ApiKind::Custom => "custom",
    }
}

/// The `scp` a delegated `.default` request gets per API.
pub fn default_delegated_scp(kind: ApiKind) -> &'static str {
    match kind {
        ApiKind::Graph => "User.Read User.ReadWrite.All Directory.AccessAsUser.All Mail.Read",
        _ => "user_impersonation",
    }
}

/// Who a token is about.
#[derive(Debug, Clone)]
pub enum Subject<'a> {
    /// An app's service principal (client credentials, OAuth proxy).
    App { client_id: &'a str, name: &'a str, sp_oid: &'a str, acr: &'static str, roles: Vec<String> },
    /// A user through an app (delegated).
    User { client_id: &'a str, name: &'a str, acr: &'static str, user: &'a UserConfig, scp: String },
    /// A managed identity.
    Managed { client_id: &'a str, oid: &'a str, resource_id: &'a str, roles: Vec<String> },
}

/// A minted access token.
#[derive(Debug, Clone)]
pub struct Minted {
    pub token: String,
    pub iat: i64,
    pub exp: i64,
}

/// Signs an access token (v1 format) for `target` in tenant `tid` of `cloud`.
pub fn access_token(
    st: &EmulatorState,
    cloud: LoginCloud,
    tid: &str,
    kind: ApiKind,
    aud: &str,
    subject: &Subject<'_>,
    lifetime_secs: u64,
) -> Result<Minted, AadError> {
    let lifetime = st.faults().token_lifetime_override().unwrap_or(lifetime_secs) as i64;
    let now = st.now_secs();
    let b = &st.config().behaviour;
    let cache_key = match subject {
        Subject::App { client_id, acr, .. } if b.reuse_app_tokens_within_second => {
            Some(format!("{tid}|{client_id}|{aud}|{acr}|{lifetime}|{cloud:?}"))
        }
        _ => None,
    };
    if let Some(key) = &cache_key {
        let cache = st.0.token_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((iat, token)) = cache.get(key)
            && *iat == now
        {
            return Ok(Minted { token: token.clone(), iat: now, exp: now + lifetime });
        }
    }
    let iss = format!("https://{}/{tid}/", cloud.sts_host());
    let mut c = Map::new();
    c.insert("aud".into(), json!(aud));
    c.insert("iss".into(), json!(iss));
    c.insert("iat".into(), json!(now));
    c.insert("nbf".into(), json!(now));
    c.insert("exp".into(), json!(now + lifetime));
    c.insert("aio".into(), json!(b64url(&random_bytes::<24>())));
    match subject {
        Subject::App { client_id, name, sp_oid, acr, roles } => {
            c.insert("app_displayname".into(), json!(name));
            c.insert("appid".into(), json!(client_id));
            c.insert("appidacr".into(), json!(acr));
            c.insert("idp".into(), json!(iss));
            c.insert("idtyp".into(), json!("app"));
            c.insert("oid".into(), json!(sp_oid));
            c.insert("rh".into(), json!(format!("0.{}.", b64url(&random_bytes::<12>()))));
            if !roles.is_empty() {
                c.insert("roles".into(), json!(roles));
            }
            c.insert("sub".into(), json!(sp_oid));
        }
        Subject::User { client_id, name, acr, user, scp } => {
            c.insert("acr".into(), json!("1"));
            c.insert("amr".into(), json!(["pwd"]));
            c.insert("app_displayname".into(), json!(name));
            c.insert("appid".into(), json!(client_id));
            c.insert("appidacr".into(), json!(acr));
            c.insert("family_name".into(), json!(user.family_name));
            c.insert("given_name".into(), json!(user.given_name));
            c.insert("idtyp".into(), json!("user"));
            c.insert("ipaddr".into(), json!("127.0.0.1"));
            c.insert("name".into(), json!(user.display_name));
            c.insert("oid".into(), json!(user.object_id));
            c.insert("rh".into(), json!(format!("0.{}.", b64url(&random_bytes::<12>()))));
            c.insert("scp".into(), json!(scp));
            c.insert("sub".into(), json!(pairwise_sub(&user.object_id, client_id)));
            c.insert("unique_name".into(), json!(user.upn));
            c.insert("upn".into(), json!(user.upn));
        }
        Subject::Managed { client_id, oid, resource_id, roles } => {
            c.insert("appid".into(), json!(client_id));
            c.insert("appidacr".into(), json!("2"));
            c.insert("idp".into(), json!(iss));
            c.insert("idtyp".into(), json!("app"));
            c.insert("oid".into(), json!(oid));
            c.insert("rh".into(), json!(format!("0.{}.", b64url(&random_bytes::<12>()))));
            if !roles.is_empty() {
                c.insert("roles".into(), json!(roles));
            }
            c.insert("sub".into(), json!(oid));
            c.insert("xms_mirid".into(), json!(resource_id));
        }
    }
    c.insert("tid".into(), json!(tid));
    c.insert("uti".into(), json!(b64url(&random_bytes::<16>())));
    c.insert("ver".into(), json!("1.0"));
    let key = st.signing_key();
    let header = if kind == ApiKind::Graph && b.graph_nonce_header {
        json!({"typ":"JWT","nonce":b64url(&random_bytes::<32>()),"alg":"RS256","x5t":key.x5t,"kid":key.x5t})
    } else {
        json!({"typ":"JWT","alg":"RS256","x5t":key.x5t,"kid":key.x5t})
    };
    let token = key
        .sign_jwt(&header, &Value::Object(c))
        .map_err(|e| AadError::new("server_error", 500, e.to_string()))?;
    if let Some(key) = cache_key {
        let mut cache = st.0.token_cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(key, (now, token.clone()));
    }
    Ok(Minted { token, iat: now, exp: now + lifetime })
}

/// A stable per-app subject for a user, as Entra's pairwise `sub`.
pub fn pairwise_sub(user_oid: &str, client_id: &str) -> String {
    use sha2::Digest as _;
    b64url(&sha2::Sha256::digest(format!("{user_oid}|{client_id}").as_bytes())[..32])
}

/// A v2 id_token for `user`, issued by `issuer` to `client_id`.
pub fn id_token(
    st: &EmulatorState,
    issuer: &str,
    tid: &str,
    client_id: &str,
    user: &UserConfig,
    nonce: Option<&str>,
) -> Result<String, AadError> {
    let now = st.now_secs();
    let mut c = Map::new();
    c.insert("aud".into(), json!(client_id));
    c.insert("iss".into(), json!(issuer));
    c.insert("iat".into(), json!(now));
    c.insert("nbf".into(), json!(now));
    c.insert("exp".into(), json!(now + 3600));
    c.insert("name".into(), json!(user.display_name));
    if let Some(n) = nonce {
        c.insert("nonce".into(), json!(n));
    }
    c.insert("oid".into(), json!(user.object_id));
    c.insert("preferred_username".into(), json!(user.upn));
    c.insert("rh".into(), json!(format!("0.{}.", b64url(&random_bytes::<12>()))));
    c.insert("sub".into(), json!(pairwise_sub(&user.object_id, client_id)));
    c.insert("tid".into(), json!(tid));
    c.insert("uti".into(), json!(b64url(&random_bytes::<16>())));
    c.insert("ver".into(), json!("2.0"));
    let key = st.signing_key();
    key.sign_jwt(&json!({"typ":"JWT","alg":"RS256","kid":key.x5t}), &Value::Object(c))
        .map_err(|e| AadError::new("server_error", 500, e.to_string()))
}

/// `client_info`: base64url of `{"uid":..,"utid":..}`.
pub fn client_info(user_oid: &str, tid: &str) -> String {
    b64url(json!({"uid": user_oid, "utid": tid}).to_string().as_bytes())
}

/// A fresh opaque grant value (codes, refresh tokens, device codes).
pub fn opaque(prefix: &str) -> String {
    format!("{prefix}{}", b64url(&random_bytes::<48>()))
}
