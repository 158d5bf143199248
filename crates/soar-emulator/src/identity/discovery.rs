//! OpenID discovery (v2 and v1 documents), JWKS and instance discovery.
//!
//! Endpoint URLs in the documents use the scheme and host the request came to, so a client on
//! `https://127.0.0.1:PORT` and one on `https://login.microsoftonline.us` (mapped to the
//! emulator) both get URLs they can reach. Tenant-specific documents carry the tenant GUID in
//! every path even when asked by domain; alias documents carry `{tenant}` in paths and a
//! literal `{tenantid}` in `issuer`, as Entra's do.

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use super::{TenantRef, resolve_tenant};
use crate::aad::AadError;
use crate::clouds::{self, LoginCloud};
use crate::meta::RequestMeta;
use crate::state::EmulatorState;

fn discovery_json(body: &Value) -> Response {
    let mut resp = (StatusCode::OK, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=86400, private"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}

/// An OpenID discovery document for `tenant`: `doc` gets the path segment, the issuer's tenant
/// (a tenant's own id for both; for an alias, the alias and the literal `{tenantid}`), the cloud
/// of the request's host and the base URL. Entra answers an unknown tenant with 400
/// `invalid_tenant`.
fn openid_document(
    st: &EmulatorState,
    meta: &RequestMeta,
    tenant: &str,
    doc: impl FnOnce(&str, &str, LoginCloud, &str) -> Value,
) -> Response {
    let (seg, issuer_tid) = match resolve_tenant(st, tenant) {
        Ok(TenantRef::Tenant(t)) => (t.id.clone(), t.id.clone()),
        Ok(TenantRef::Alias(a)) => (a.to_string(), "{tenantid}".to_string()),
        Err(mut e) => {
            e.error = "invalid_tenant";
            return e.respond(st, meta);
        }
    };
    let cloud = clouds::login_cloud_for_host(&meta.host);
    discovery_json(&doc(&seg, &issuer_tid, cloud, &meta.base_url()))
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn openid_v2(
    State(st): State<EmulatorState>,
    Extension(meta): Extension<RequestMeta>,
    Path(tenant): Path<String>,
) -> Response {
    openid_document(&st, &meta, &tenant, |seg, issuer_tid, cloud, base| {
        let seg = if seg.len() == 36 { seg } else { "{tenant}" };
        json!({
            "token_endpoint": format!("{base}/{seg}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/{seg}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/{issuer_tid}/v2.0"),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": format!("https://{}/oidc/userinfo", cloud.graph_host()),
            "authorization_endpoint": format!("{base}/{seg}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/{seg}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/{seg}/oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": format!("{base}/{seg}/kerberos"),
            "tenant_region_scope": "WW",
            "cloud_instance_name": cloud.instance_name(),
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": cloud.graph_host(),
            "rbac_url": "https://pas.windows.net",
        })
    })
}

/// `GET /{tenant}/.well-known/openid-configuration` (v1).
pub async fn openid_v1(
    State(st): State<EmulatorState>,
    Extension(meta): Extension<RequestMeta>,
    Path(tenant): Path<String>,
) -> Response {
    openid_document(&st, &meta, &tenant, |seg, issuer_tid, cloud, base| {
        json!({
            "token_endpoint": format!("{base}/{seg}/oauth2/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/common/discovery/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
            "scopes_supported": ["openid"],
            "issuer": format!("https://{}/{issuer_tid}/", cloud.sts_host()),
            "authorization_endpoint": format!("{base}/{seg}/oauth2/authorize"),
            "device_authorization_endpoint": format!("{base}/{seg}/oauth2/devicecode"),
            "end_session_endpoint": format!("{base}/{seg}/oauth2/logout"),
            "cloud_instance_name": cloud.instance_name(),
            "msgraph_host": cloud.graph_host(),
        })
    })
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub async fn jwks(State(st): State<EmulatorState>, Extension(meta): Extension<RequestMeta>) -> Response {
    let cloud = clouds::login_cloud_for_host(&meta.host);
    discovery_json(&jwks_body(&st, &meta, cloud))
}

fn jwks_body(st: &EmulatorState, meta: &RequestMeta, cloud: LoginCloud) -> Value {
    let mut jwk = st.signing_key().jwk();
    if let Some(o) = jwk.as_object_mut() {
        o.insert("cloud_instance_name".into(), json!(cloud.instance_name()));
        o.insert("issuer".into(), json!(format!("{}/{{tenantid}}/v2.0", meta.base_url())));
    }
    json!({"keys": [jwk]})
}

/// `GET /{tenant}/discovery/{keys|instance}`: v1 keys, and instance discovery on `common`.
pub async fn discovery_misc(
    State(st): State<EmulatorState>,
    Extension(meta): Extension<RequestMeta>,
    Path((tenant, what)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let cloud = clouds::login_cloud_for_host(&meta.host);
    match what.as_str() {
        "keys" => discovery_json(&jwks_body(&st, &meta, cloud)),
        "instance" if tenant.eq_ignore_ascii_case("common") => instance_discovery(&st, &meta, &q),
        _ => (StatusCode::NOT_FOUND, "").into_response(),
    }
}

/// Instance discovery: answers for every host in the emulator's alias table and for the
/// request's own host (so a loopback authority validates), `invalid_instance` otherwise.
fn instance_discovery(st: &EmulatorState, meta: &RequestMeta, q: &[(String, String)]) -> Response {
    let endpoint =
        q.iter().find(|(k, _)| k == "authorization_endpoint").map(|(_, v)| v.as_str()).unwrap_or("");
    let api_version = q.iter().find(|(k, _)| k == "api-version").map(|(_, v)| v.as_str()).unwrap_or("1.1");
    let parsed = url::Url::parse(endpoint).ok();
    let host = parsed.as_ref().and_then(|u| u.host_str()).map(str::to_ascii_lowercase).unwrap_or_default();
    let own = clouds::bare_host(&meta.host) == host || clouds::is_loopback(&host);
    let known = clouds::LOGIN_HOSTS.iter().any(|(h, _)| *h == host);
    if endpoint.is_empty() || !(own || known) {
        let mut e = AadError::new("invalid_instance", 50049, "Unknown or invalid instance.");
        e.status = StatusCode::BAD_REQUEST;
        return e.respond(st, meta);
    }
    let tenant = parsed
        .as_ref()
        .and_then(|u| u.path_segments().and_then(|mut s| s.next().map(str::to_string)))
        .unwrap_or_else(|| "common".into());
    let mut metadata = vec![
        json!({"preferred_network":"login.microsoftonline.com","preferred_cache":"login.windows.net","aliases":["login.microsoftonline.com","login.windows.net","login.microsoft.com","sts.windows.net"]}),
        json!({"preferred_network":"login.partner.microsoftonline.cn","preferred_cache":"login.partner.microsoftonline.cn","aliases":["login.partner.microsoftonline.cn","login.chinacloudapi.cn"]}),
        json!({"preferred_network":"login.microsoftonline.de","preferred_cache":"login.microsoftonline.de","aliases":["login.microsoftonline.de"]}),
        json!({"preferred_network":"login.microsoftonline.us","preferred_cache":"login.microsoftonline.us","aliases":["login.microsoftonline.us","login.usgovcloudapi.net"]}),
        json!({"preferred_network":"login-us.microsoftonline.com","preferred_cache":"login-us.microsoftonline.com","aliases":["login-us.microsoftonline.com"]}),
    ];
    // MSAL Python drops the port from the authorization_endpoint it sends, so for the emulator's
    // own host answer with the address the request came to (port included).
    let same_host = clouds::bare_host(&meta.host) == host;
    let scheme_host = if same_host || !known { meta.base_url() } else { format!("https://{host}") };
    if !known {
        let alias = meta.host.to_ascii_lowercase();
        let mut aliases = vec![alias.clone()];
        if alias != host {
            aliases.push(host.clone());
        }
        metadata.push(json!({"preferred_network": alias, "preferred_cache": alias, "aliases": aliases}));
    }
    discovery_json(&json!({
        "tenant_discovery_endpoint": format!("{scheme_host}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": api_version,
        "metadata": metadata,
    }))
}
