//! The token endpoint: `POST /{tenant}/oauth2/v2.0/token` and the v1 `POST /{tenant}/oauth2/token`.
//!
//! Grants: `client_credentials` (secret in the body or HTTP Basic, or an RS256/PS256 client
//! assertion), `authorization_code`, `refresh_token` (rotating), and the device code grant under
//! both spellings (`urn:ietf:params:oauth:grant-type:device_code` and `device_code`, with the code
//! in `device_code` or the legacy `code`). Unknown body and query parameters are ignored.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::issue::{self, Subject, Target};
use super::{Form, TenantRef, resolve_tenant};
use crate::aad::{AadError, json_response, msg};
use crate::clouds::{self, ApiKind, LoginCloud};
use crate::config::{AppConfig, UserConfig};
use crate::keys::Jwt;
use crate::meta::{Call, RequestMeta};
use crate::state::{DeviceStatus, EmulatorState, LogNote, RefreshGrant};

/// Which token endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `/oauth2/token` (`resource`, numbers as strings).
    V1,
    /// `/oauth2/v2.0/token` (`scope`, numbers as integers).
    V2,
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token_v2(call: Call, Path(tenant): Path<String>, body: Bytes) -> Response {
    token(&call, &tenant, &body, Version::V2)
}

/// `POST /{tenant}/oauth2/token`.
pub async fn token_v1(call: Call, Path(tenant): Path<String>, body: Bytes) -> Response {
    token(&call, &tenant, &body, Version::V1)
}

/// What the request resolved to, for the handlers below.
struct Ctx<'a> {
    st: &'a EmulatorState,
    meta: &'a RequestMeta,
    form: Form,
    version: Version,
    cloud: LoginCloud,
    tenant_seg: &'a str,
    tenant: TenantRef<'a>,
    app: &'a AppConfig,
    basic_secret: Option<String>,
}

fn token(call: &Call, tenant_seg: &str, body: &[u8], version: Version) -> Response {
    let Call { st, meta, headers } = call;
    let form = Form::parse(body);
    let grant = form.get("grant_type").map(str::to_string);
    let mut note = LogNote { grant_type: Some(grant.clone().unwrap_or_default()), client_id: None };
    let result = (|| {
        let tenant = resolve_tenant(st, tenant_seg)?;
        let Some(grant) = grant.as_deref() else { return Err(msg::missing_param("grant_type")) };
        let basic = basic_auth(headers);
        let client_id = match (form.get("client_id"), &basic) {
            (Some(id), _) => id.to_string(),
            (None, Some((id, _))) => id.clone(),
            (None, None) => return Err(msg::missing_param("client_id")),
        };
        note.client_id = Some(client_id.clone());
        let app = find_app(st, &client_id, tenant_seg, tenant)?;
        let ctx = Ctx {
            st,
            meta,
            cloud: clouds::login_cloud_for_host(&meta.host),
            form: form.clone(),
            version,
            tenant_seg,
            tenant,
            app,
            basic_secret: basic.map(|(_, s)| s),
        };
        match grant {
            "client_credentials" => client_credentials(&ctx),
            "authorization_code" => authorization_code(&ctx),
            "refresh_token" => refresh_token(&ctx),
            "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => device_code(&ctx),
            other => Err(msg::unsupported_grant(other)),
        }
    })();
    let mut resp = match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => e.respond(st, meta),
    };
    resp.extensions_mut().insert(note);
    resp
}

/// Finds the app and checks it may be used in this tenant.
fn find_app<'a>(
    st: &'a EmulatorState,
    client_id: &str,
    tenant_seg: &str,
    tenant: TenantRef<'_>,
) -> Result<&'a AppConfig, AadError> {
    let app = st.config().app(client_id).ok_or_else(|| msg::unknown_client(client_id, tenant_seg))?;
    if app.disabled {
        return Err(msg::disabled_app(&app.client_id, &app.display_name));
    }
    match tenant {
        TenantRef::Tenant(t) if !app.multi_tenant && t.id != app.tenant => {
            Err(msg::unknown_client(client_id, tenant_seg))
        }
        TenantRef::Alias(_) if !app.multi_tenant => {
            Err(msg::not_multi_tenant(&app.client_id, &app.display_name))
        }
        _ => Ok(app),
    }
}

/// `Authorization: Basic` with form-encoded id and secret.
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unform = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned())
    };
    Some((unform(id)?, unform(secret)?))
}

/// Client authentication; returns `appidacr` ("0" public, "1" secret, "2" certificate).
/// `allow_none` lets confidential apps skip credentials (public client flows allowed).
fn authenticate(ctx: &Ctx<'_>, allow_none: bool) -> Result<&'static str, AadError> {
    let secret = ctx.form.get("client_secret").map(str::to_string).or_else(|| ctx.basic_secret.clone());
    let assertion = ctx.form.get("client_assertion");
    if ctx.app.public_client {
        if secret.is_some() || assertion.is_some() {
            return Err(msg::public_with_credential());
        }
        return Ok("0");
    }
    if let Some(assertion) = assertion {
        let kind = ctx.form.get("client_assertion_type").unwrap_or("");
        if kind != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
            return Err(AadError::new(
                "invalid_request",
                700023,
                format!(
                    "Invalid client assertion type '{kind}'. Expected 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."
                ),
            ));
        }
        verify_assertion(ctx, assertion)?;
        return Ok("2");
    }
    if let Some(secret) = secret {
        let found = ctx.app.secrets.iter().find(|s| constant_time_eq(s.value.as_bytes(), secret.as_bytes()));
        if found.is_none() && crate::apis::graph::added_password_ok(ctx.st, &ctx.app.client_id, &secret) {
            return Ok("1");
        }
        return match found {
            Some(s) if s.expired => Err(msg::expired_secret(&ctx.app.client_id)),
            Some(_) => Ok("1"),
            None => Err(msg::bad_secret(&ctx.app.client_id)),
        };
    }
    if allow_none { Ok("0") } else { Err(msg::no_credential()) }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a client assertion the way Entra does (see the fact sheet §6): key by `x5t#S256` or
/// `x5t`, RS256/PS256 signature, `iss` = `sub` = client id, `aud` = this tenant's token URL,
/// `exp` required, `nbf` optional, float times accepted, `jti` reuse tolerated.
fn verify_assertion(ctx: &Ctx<'_>, assertion: &str) -> Result<(), AadError> {
    let client_id = &ctx.app.client_id;
    let jwt = Jwt::parse(assertion)
        .ok_or_else(|| msg::assertion_invalid("The client assertion is not a well-formed JWT."))?;
    let certs = ctx.st.0.app_certs.get(&client_id.to_ascii_lowercase()).map(Vec::as_slice).unwrap_or(&[]);
    let s256 = jwt.header.get("x5t#S256").and_then(Value::as_str);
    let x5t = jwt
        .header
        .get("x5t")
        .and_then(Value::as_str)
        .or_else(|| jwt.header.get("kid").and_then(Value::as_str));
    let strip = |s: &str| s.trim_end_matches('=').to_string();
    let (cert, thumb_shown) = if let Some(t) = s256 {
        (certs.iter().find(|c| c.x5t_s256 == strip(t)), hex_of_b64(t))
    } else if let Some(t) = x5t {
        (certs.iter().find(|c| c.x5t == strip(t)), hex_of_b64(t))
    } else {
        return Err(msg::assertion_invalid(
            "The client assertion has neither 'x5t' nor 'x5t#S256' in its header.",
        ));
    };
    let Some(cert) = cert else { return Err(msg::assertion_key_not_found(&thumb_shown, client_id)) };
    if !matches!(jwt.alg(), "RS256" | "PS256") {
        return Err(msg::assertion_invalid(&format!(
            "The signing algorithm '{}' is not supported.",
            jwt.alg()
        )));
    }
    if !jwt.verify_rsa(&cert.public_pkcs1) {
        return Err(msg::assertion_bad_signature(&thumb_shown, client_id));
    }
    let iss = jwt.str_claim("iss").unwrap_or("");
    let sub = jwt.str_claim("sub").unwrap_or("");
    if !iss.eq_ignore_ascii_case(client_id) {
        return Err(AadError::new(
            "invalid_client",
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
        ));
    }
    if sub != iss {
        return Err(msg::assertion_sub_mismatch());
    }
    let aud = jwt.str_claim("aud").unwrap_or("");
    if !audience_is_token_url(ctx, aud) {
        return Err(msg::assertion_audience(aud));
    }
    let now_ms = ctx.st.now_ms();
    let skew_ms = ctx.st.config().behaviour.clock_skew_secs as i64 * 1000;
    let exp_ms = jwt.time_claim("exp").map(|e| (e * 1000.0) as i64);
    let nbf_ms = jwt.time_claim("nbf").map(|e| (e * 1000.0) as i64);
    let Some(exp_ms) = exp_ms else {
        return Err(msg::assertion_invalid("The client assertion has no 'exp' claim."));
    };
    if exp_ms + skew_ms < now_ms || nbf_ms.is_some_and(|n| n - skew_ms > now_ms) {
        return Err(msg::assertion_time(
            &crate::aad::iso7(now_ms),
            &crate::aad::iso7(nbf_ms.unwrap_or(0)),
            &crate::aad::iso7(exp_ms),
        ));
    }
    Ok(())
}

fn hex_of_b64(t: &str) -> String {
    crate::keys::b64url_decode(t).map(|b| b.iter().map(|x| format!("{x:02X}")).collect()).unwrap_or_default()
}

/// `aud` must be a token URL of this tenant (v2 or v1 path; id, domain or the alias used) on a
/// login host of this cloud or the host the request came to.
fn audience_is_token_url(ctx: &Ctx<'_>, aud: &str) -> bool {
    let Ok(url) = url::Url::parse(aud) else { return false };
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let host_port = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let host_ok = clouds::bare_host(&ctx.meta.host) == host
        || ctx.meta.host.eq_ignore_ascii_case(&host_port)
        || clouds::LOGIN_HOSTS.iter().any(|(h, c)| *h == host && *c == ctx.cloud);
    let mut segs = url.path().trim_start_matches('/').splitn(2, '/');
    let (tenant, rest) = (segs.next().unwrap_or(""), segs.next().unwrap_or(""));
    let tenant_ok = tenant.eq_ignore_ascii_case(ctx.tenant_seg)
        || match ctx.tenant {
            TenantRef::Tenant(t) => {
                t.id.eq_ignore_ascii_case(tenant) || t.domain.eq_ignore_ascii_case(tenant)
            }
            TenantRef::Alias(_) => false,
        };
    host_ok && tenant_ok && matches!(rest.trim_end_matches('/'), "oauth2/v2.0/token" | "oauth2/token")
}

/// The tenant tokens are issued in: the named tenant, or the home tenant of the app/user on aliases.
fn effective_tenant(ctx: &Ctx<'_>, home: &str) -> String {
    match ctx.tenant {
        TenantRef::Tenant(t) => t.id.clone(),
        TenantRef::Alias(_) => home.to_string(),
    }
}

/// What the request asks for: a v2 `scope` (or, leniently, a `resource`), or the v1 `resource`.
fn requested_target(
    ctx: &Ctx<'_>,
    fallback_scopes: Option<&[String]>,
) -> Result<(Vec<String>, Option<Target>), AadError> {
    let strict = ctx.form.get("grant_type") == Some("client_credentials");
    let resource = ctx.form.get("resource");
    if ctx.version == Version::V1 || (ctx.form.get("scope").is_none() && resource.is_some()) {
        let oidc = match ctx.form.get("scope") {
            Some(s) => issue::parse_scopes(ctx.st, ctx.cloud, ctx.tenant_seg, s, false)?.0,
            None => fallback_scopes
                .map(|f| f.iter().filter(|s| issue::OIDC_SCOPES.contains(&s.as_str())).cloned().collect())
                .unwrap_or_default(),
        };
        let Some(resource) = resource else {
            if let Some(f) = fallback_scopes {
                return issue::parse_scopes(ctx.st, ctx.cloud, ctx.tenant_seg, &f.join(" "), false);
            }
            return Err(msg::no_resource());
        };
        let (kind, aud) = issue::resolve_resource(ctx.st, ctx.cloud, ctx.tenant_seg, resource)?;
        return Ok((oidc, Some(Target { kind, aud, permissions: Vec::new(), dot_default: true })));
    }
    match ctx.form.get("scope") {
        Some(scope) => issue::parse_scopes(ctx.st, ctx.cloud, ctx.tenant_seg, scope, strict),
        None => match fallback_scopes {
            Some(f) => issue::parse_scopes(ctx.st, ctx.cloud, ctx.tenant_seg, &f.join(" "), false),
            None => Err(msg::missing_param("scope")),
        },
    }
}

fn roles_for(roles: &std::collections::BTreeMap<String, Vec<String>>, kind: ApiKind) -> Vec<String> {
    roles.get(issue::kind_key(kind)).cloned().unwrap_or_default()
}

/// The token response body for the endpoint version (v1: numbers as strings plus
/// `expires_on`, `not_before`, `resource`).
fn token_body(ctx: &Ctx<'_>, minted: &issue::Minted, aud: &str, extra: Map<String, Value>) -> Value {
    let life = minted.exp - minted.iat;
    let mut m = Map::new();
    m.insert("token_type".into(), json!("Bearer"));
    if let Some(scope) = extra.get("scope") {
        m.insert("scope".into(), scope.clone());
    }
    match ctx.version {
        Version::V2 => {
            m.insert("expires_in".into(), json!(life));
            m.insert("ext_expires_in".into(), json!(life));
        }
        Version::V1 => {
            m.insert("expires_in".into(), json!(life.to_string()));
            m.insert("ext_expires_in".into(), json!(life.to_string()));
            m.insert("expires_on".into(), json!(minted.exp.to_string()));
            m.insert("not_before".into(), json!(minted.iat.to_string()));
            m.insert("resource".into(), json!(aud));
        }
    }
    m.insert("access_token".into(), json!(minted.token));
    for (k, v) in extra {
        if k != "scope" {
            m.insert(k, v);
        }
    }
    Value::Object(m)
}

fn client_credentials(ctx: &Ctx<'_>) -> Result<Value, AadError> {
    if matches!(ctx.tenant, TenantRef::Alias("common" | "consumers")) {
        return Err(msg::cc_on_common());
    }
    let acr = authenticate(ctx, false)?;
    let (_, target) = requested_target(ctx, None)?;
    let Some(target) = target else {
        return Err(msg::invalid_scope(ctx.form.get("scope").unwrap_or("")));
    };
    if ctx.version == Version::V2
        && ctx.form.get("scope").is_some()
        && (!target.dot_default || !target.permissions.is_empty())
    {
        // App-only requests must name a single `{resource}/.default`.
        return Err(msg::invalid_scope(ctx.form.get("scope").unwrap_or("")));
    }
    let tid = effective_tenant(ctx, &ctx.app.tenant);
    let subject = Subject::App {
        client_id: &ctx.app.client_id,
        name: &ctx.app.display_name,
        sp_oid: &ctx.app.object_id,
        acr,
        roles: roles_for(&ctx.app.roles, target.kind),
    };
    let minted = issue::access_token(
        ctx.st,
        ctx.cloud,
        &tid,
        target.kind,
        &target.aud,
        &subject,
        ctx.st.config().behaviour.token_lifetime_secs,
    )?;
    Ok(token_body(ctx, &minted, &target.aud, Map::new()))
}

/// Issues the delegated response: access token, `scope`, refresh token, id_token, client_info.
#[allow(clippy::too_many_arguments)]
fn delegated_response(
    ctx: &Ctx<'_>,
    acr: &'static str,
    user: &UserConfig,
    tid: &str,
    oidc: &[String],
    target: Option<Target>,
    nonce: Option<&str>,
    grant_scopes: Vec<String>,
) -> Result<Value, AadError> {
    let target = match target {
        Some(t) => t,
        None => Target {
            kind: ApiKind::Graph,
            aud: format!("https://{}", ctx.cloud.graph_host()),
            permissions: vec!["User.Read".into()],
            dot_default: false,
        },
    };
    let scp = if target.permissions.is_empty() {
        issue::default_delegated_scp(target.kind).to_string()
    } else {
        target.permissions.join(" ")
    };
    let subject = Subject::User {
        client_id: &ctx.app.client_id,
        name: &ctx.app.display_name,
        acr,
        user,
        scp: scp.clone(),
    };
    let minted = issue::access_token(
        ctx.st,
        ctx.cloud,
        tid,
        target.kind,
        &target.aud,
        &subject,
        ctx.st.config().behaviour.token_lifetime_secs,
    )?;
    let mut extra = Map::new();
    // Echo the requested scopes minus offline_access, so MSAL's cache lookups hit.
    let mut echoed: Vec<String> =
        grant_scopes.iter().filter(|s| !s.eq_ignore_ascii_case("offline_access")).cloned().collect();
    if echoed.is_empty() || ctx.version == Version::V1 {
        echoed = vec![scp];
    }
    extra.insert("scope".into(), json!(echoed.join(" ")));
    let wants_refresh = ctx.version == Version::V1 || oidc.iter().any(|s| s == "offline_access");
    if wants_refresh {
        let rt = issue::opaque("0.A");
        let now = ctx.st.now_ms();
        ctx.st.grants().refresh.insert(
            rt.clone(),
            RefreshGrant {
                client_id: ctx.app.client_id.clone(),
                tenant_id: tid.to_string(),
                user_oid: Some(user.object_id.clone()),
                scopes: grant_scopes.clone(),
                issued_ms: now,
                last_used_ms: now,
                revoked: false,
                rotated: false,
            },
        );
        extra.insert("refresh_token".into(), json!(rt));
    }
    if ctx.version == Version::V1 || oidc.iter().any(|s| s == "openid") {
        let issuer = format!("{}/{tid}/v2.0", ctx.meta.base_url());
        extra.insert(
            "id_token".into(),
            json!(issue::id_token(ctx.st, &issuer, tid, &ctx.app.client_id, user, nonce)?),
        );
    }
    if ctx.form.get("client_info") == Some("1") {
        extra.insert("client_info".into(), json!(issue::client_info(&user.object_id, tid)));
    }
    Ok(token_body(ctx, &minted, &target.aud, extra))
}

fn user_by_oid<'a>(st: &'a EmulatorState, oid: &str) -> Result<&'a UserConfig, AadError> {
    st.config().users.iter().find(|u| u.object_id == oid).ok_or_else(msg::grant_other_client)
}

fn authorization_code(ctx: &Ctx<'_>) -> Result<Value, AadError> {
    let Some(code) = ctx.form.get("code") else { return Err(msg::missing_param("code")) };
    let verifier = ctx.form.get("code_verifier");
    // A public client proves itself with PKCE; a confidential one needs its credential.
    let acr = authenticate(ctx, ctx.app.public_client)?;
    let grant = {
        let mut grants = ctx.st.grants();
        let Some(g) = grants.codes.get_mut(code) else { return Err(msg::code_expired()) };
        if g.used {
            return Err(msg::code_redeemed());
        }
        if g.expires_ms < ctx.st.now_ms() {
            return Err(msg::code_expired());
        }
        if !g.client_id.eq_ignore_ascii_case(&ctx.app.client_id) {
            return Err(msg::grant_other_client());
        }
        if let Some(uri) = ctx.form.get("redirect_uri")
            && uri != g.redirect_uri
        {
            return Err(msg::redirect_mismatch(uri, &ctx.app.client_id));
        }
        if let Some((challenge, method)) = &g.code_challenge {
            let Some(v) = verifier else { return Err(msg::missing_param("code_verifier")) };
            let computed = if method.eq_ignore_ascii_case("S256") {
                use sha2::Digest as _;
                crate::keys::b64url(&sha2::Sha256::digest(v.as_bytes()))
            } else {
                v.to_string()
            };
            if &computed != challenge {
                return Err(msg::pkce_mismatch());
            }
        }
        g.used = true;
        g.clone()
    };
    let user = user_by_oid(ctx.st, &grant.user_oid)?;
    let (oidc, target) = requested_target(ctx, Some(&grant.scopes))?;
    let mut scopes = grant.scopes.clone();
    if ctx.form.get("scope").is_some() || ctx.form.get("resource").is_some() {
        scopes = ctx
            .form
            .get("scope")
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or(grant.scopes.clone());
    }
    let mut oidc = oidc;
    for s in &grant.scopes {
        if issue::OIDC_SCOPES.contains(&s.as_str()) && !oidc.contains(s) {
            oidc.push(s.clone());
        }
    }
    delegated_response(ctx, acr, user, &grant.tenant_id, &oidc, target, grant.nonce.as_deref(), scopes)
}

fn refresh_token(ctx: &Ctx<'_>) -> Result<Value, AadError> {
    let Some(rt) = ctx.form.get("refresh_token") else { return Err(msg::missing_param("refresh_token")) };
    let acr = authenticate(ctx, true)?;
    let b = &ctx.st.config().behaviour;
    let grant = {
        let mut grants = ctx.st.grants();
        let now = ctx.st.now_ms();
        let Some(g) = grants.refresh.get_mut(rt) else { return Err(msg::grant_malformed()) };
        if g.revoked {
            return Err(msg::refresh_revoked());
        }
        if now - g.last_used_ms > b.refresh_token_max_inactive_secs as i64 * 1000 {
            return Err(msg::refresh_inactive(&crate::aad::iso7(g.issued_ms)));
        }
        if g.rotated && b.refresh_token_single_use {
            return Err(msg::grant_malformed());
        }
        if !g.client_id.eq_ignore_ascii_case(&ctx.app.client_id) {
            return Err(msg::grant_other_client());
        }
        g.last_used_ms = now;
        if b.rotate_refresh_tokens {
            g.rotated = true;
        }
        g.clone()
    };
    let Some(user_oid) = grant.user_oid.clone() else { return Err(msg::grant_other_client()) };
    let user = user_by_oid(ctx.st, &user_oid)?;
    let (mut oidc, target) = requested_target(ctx, Some(&grant.scopes))?;
    let scopes: Vec<String> = ctx
        .form
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or(grant.scopes.clone());
    // A refresh token keeps working for offline access even if the refresh request omits it.
    if !oidc.iter().any(|s| s == "offline_access") {
        oidc.push("offline_access".into());
    }
    let mut body = delegated_response(ctx, acr, user, &grant.tenant_id, &oidc, target, None, scopes)?;
    if !b.rotate_refresh_tokens
        && let Some(obj) = body.as_object_mut()
        && let Some(new_rt) = obj.get("refresh_token").and_then(Value::as_str).map(str::to_string)
    {
        ctx.st.grants().refresh.remove(&new_rt);
        obj.insert("refresh_token".into(), json!(rt));
    }
    Ok(body)
}

fn device_code(ctx: &Ctx<'_>) -> Result<Value, AadError> {
    let Some(code) = ctx.form.get("device_code").or_else(|| ctx.form.get("code")) else {
        return Err(msg::missing_param("device_code"));
    };
    let acr = authenticate(ctx, true)?;
    let b = &ctx.st.config().behaviour;
    let now = ctx.st.now_ms();
    let (user_oid, tenant_id, scopes, resource) = {
        let mut grants = ctx.st.grants();
        let Some(d) = grants.devices.get_mut(code) else { return Err(msg::device_unknown()) };
        if !d.client_id.eq_ignore_ascii_case(&ctx.app.client_id) {
            return Err(msg::device_unknown());
        }
        if d.expires_ms < now {
            return Err(msg::device_expired(b.device_expired_code));
        }
        let last = d.last_poll_ms.replace(now);
        match &d.status {
            DeviceStatus::Pending => {
                // 100 ms of tolerance for timer jitter in clients that sleep exactly `interval`.
                if b.device_enforce_slow_down && last.is_some_and(|l| now - l < d.interval_ms - 100) {
                    return Err(msg::device_slow_down(b.device_poll_interval_secs));
                }
                return Err(msg::device_pending());
            }
            DeviceStatus::Denied => return Err(msg::device_denied(&b.device_denied_error)),
            DeviceStatus::Redeemed => return Err(msg::grant_other_client()),
            DeviceStatus::Approved(user) => {
                let out = (user.clone(), d.tenant_id.clone(), d.scopes.clone(), d.resource.clone());
                d.status = DeviceStatus::Redeemed;
                out
            }
        }
    };
    let user = user_by_oid(ctx.st, &user_oid)?;
    let (oidc, target) = match (&resource, ctx.form.get("scope"), ctx.form.get("resource")) {
        (_, Some(_), _) | (_, _, Some(_)) => requested_target(ctx, Some(&scopes))?,
        (Some(r), None, None) => {
            let (kind, aud) = issue::resolve_resource(ctx.st, ctx.cloud, ctx.tenant_seg, r)?;
            (Vec::new(), Some(Target { kind, aud, permissions: Vec::new(), dot_default: true }))
        }
        (None, None, None) => {
            issue::parse_scopes(ctx.st, ctx.cloud, ctx.tenant_seg, &scopes.join(" "), false)?
        }
    };
    let mut oidc = oidc;
    for s in &scopes {
        if issue::OIDC_SCOPES.contains(&s.as_str()) && !oidc.contains(s) {
            oidc.push(s.clone());
        }
    }
    delegated_response(ctx, acr, user, &tenant_id, &oidc, target, None, scopes)
}
