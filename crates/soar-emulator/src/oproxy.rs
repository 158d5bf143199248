//! The Cortex OAuth proxy (`POST /obtain-token`; with the reference's `ID@URL` form the URL is
//! simply this endpoint on the emulator).
//!
//! Request (JSON): `app_name`, `registration_id`, `encrypted_token`, `scope`, `resource`.
//! `encrypted_token` is base64 of a 12-byte nonce + AES-GCM ciphertext + 16-byte tag of
//! `"{epoch}:{token}"`, with the registration's key; `token` is the registration's "Token" or a
//! refresh token the proxy handed out. A timestamp further than `oproxy_max_clock_skew_secs` from
//! now is refused. Success: `{"access_token", "expires_in", "refresh_token"}` (a new refresh
//! token every time) with a `Function-Execution-Id` header. Errors: 400/403 with
//! `{"title","detail"}`; Entra-side failures (revoked or expired refresh token) as the real proxy
//! reports them, `Error: failed to get access token with err: {AADSTS body}` with status 401.

use aes_gcm::aead::{Aead, KeyInit};
use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::aad::{AadError, msg};
use crate::clouds::LoginCloud;
use crate::config::ProxyRegistration;
use crate::identity::issue::{self, Subject};
use crate::meta::RequestMeta;
use crate::state::{EmulatorState, LogNote, RefreshGrant};

/// The proxy's routes.
pub fn routes() -> Router<EmulatorState> {
    Router::new().route("/obtain-token", post(obtain_token))
}

fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut resp = (status, json!({"title": title, "detail": detail}).to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Decrypts `nonce ‖ ciphertext ‖ tag` with an AES-128/192/256-GCM key.
pub fn decrypt(key: &[u8], blob: &[u8]) -> Option<Vec<u8>> {
    if blob.len() < 12 + 16 {
        return None;
    }
    let (nonce, ct) = blob.split_at(12);
    let nonce = aes_gcm::Nonce::from_slice(nonce);
    match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key).ok()?.decrypt(nonce, ct).ok(),
        24 => aes_gcm::AesGcm::<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(key)
            .ok()?
            .decrypt(nonce, ct)
            .ok(),
        32 => aes_gcm::Aes256Gcm::new_from_slice(key).ok()?.decrypt(nonce, ct).ok(),
        _ => None,
    }
}

/// Encrypts like the reference's `get_encrypted` (for tests and the peer checks).
pub fn encrypt(key: &[u8], plaintext: &[u8]) -> Option<String> {
    let nonce_bytes = crate::keys::random_bytes::<12>();
    let nonce = aes_gcm::Nonce::from_slice(&nonce_bytes);
    let ct = match key.len() {
        16 => aes_gcm::Aes128Gcm::new_from_slice(key).ok()?.encrypt(nonce, plaintext).ok()?,
        24 => aes_gcm::AesGcm::<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(key)
            .ok()?
            .encrypt(nonce, plaintext)
            .ok()?,
        32 => aes_gcm::Aes256Gcm::new_from_slice(key).ok()?.encrypt(nonce, plaintext).ok()?,
        _ => return None,
    };
    let mut blob = nonce_bytes.to_vec();
    blob.extend(ct);
    Some(base64::engine::general_purpose::STANDARD.encode(blob))
}

fn aad_failure(st: &EmulatorState, meta: &RequestMeta, e: &AadError) -> Response {
    let body = format!("Error: failed to get access token with err: {}", e.body(st, meta));
    (StatusCode::UNAUTHORIZED, body).into_response()
}

async fn obtain_token(
    State(st): State<EmulatorState>,
    Extension(meta): Extension<RequestMeta>,
    body: Bytes,
) -> Response {
    let mut note = LogNote { grant_type: Some("oproxy".into()), client_id: None };
    let mut resp = handle(&st, &meta, &body, &mut note);
    resp.extensions_mut().insert(note);
    resp
}

fn handle(st: &EmulatorState, meta: &RequestMeta, body: &[u8], note: &mut LogNote) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The body must be a JSON object with app_name, registration_id, encrypted_token, scope and resource.",
        );
    };
    let field = |k: &str| req.get(k).and_then(Value::as_str).unwrap_or("");
    let (app_name, reg_id, encrypted) =
        (field("app_name"), field("registration_id"), field("encrypted_token"));
    for (name, v) in [("app_name", app_name), ("registration_id", reg_id), ("encrypted_token", encrypted)] {
        if v.is_empty() {
            return problem(
                StatusCode::BAD_REQUEST,
                "Bad request",
                &format!("Missing required field '{name}'."),
            );
        }
    }
    let Some(reg) = st.config().proxy_registrations.iter().find(|r| r.registration_id == reg_id) else {
        return problem(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "Unknown registration ID. Register again through the Cortex XSOAR application and copy the new ID, Token and Key.",
        );
    };
    if !reg.app_names.is_empty() && !reg.app_names.iter().any(|a| a == app_name) {
        return problem(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("The registration is not for app '{app_name}'."),
        );
    }
    note.client_id = Some(reg.client_id.clone());
    let key = base64::engine::general_purpose::STANDARD.decode(&reg.key_b64).unwrap_or_default();
    let Some(plain) =
        base64::engine::general_purpose::STANDARD.decode(encrypted).ok().and_then(|b| decrypt(&key, &b))
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The encrypted token could not be decrypted with this registration's key. Check the Key parameter.",
        );
    };
    let text = String::from_utf8_lossy(&plain).to_string();
    let Some((epoch, token)) = text.split_once(':') else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The decrypted token is not '<epoch>:<token>'.",
        );
    };
    let Ok(epoch) = epoch.parse::<i64>() else {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            "The decrypted token does not start with an integer epoch.",
        );
    };
    let skew = st.config().behaviour.oproxy_max_clock_skew_secs as i64;
    if (st.now_secs() - epoch).abs() > skew {
        return problem(
            StatusCode::BAD_REQUEST,
            "Bad request",
            &format!(
                "The request timestamp is stale (more than {skew} seconds from the proxy's clock). Check the engine's clock."
            ),
        );
    }
    if let Err(e) = check_token(st, reg, token) {
        return aad_failure(st, meta, &e);
    }
    let resource = match (field("resource"), req.get("scope").and_then(Value::as_str)) {
        (r, _) if !r.is_empty() => r.to_string(),
        (_, Some(scope)) if !scope.is_empty() => scope
            .split_whitespace()
            .find(|s| !issue::OIDC_SCOPES.contains(s))
            .map(|s| s.trim_end_matches("/.default").to_string())
            .unwrap_or_default(),
        _ => st
            .config()
            .proxy_app_resources
            .get(app_name)
            .cloned()
            .unwrap_or_else(|| reg.default_resource.clone()),
    };
    let Some(app) = st.config().app(&reg.client_id) else {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "The registration names an app that is not configured.",
        );
    };
    let mut resolved = Err(msg::no_resource());
    for cloud in [LoginCloud::Public, LoginCloud::UsGov, LoginCloud::Germany, LoginCloud::China] {
        resolved = issue::resolve_resource(st, cloud, &app.tenant, &resource).map(|(k, a)| (cloud, k, a));
        if resolved.is_ok() {
            break;
        }
    }
    let (cloud, kind, aud) = match resolved {
        Ok(r) => r,
        Err(e) => return aad_failure(st, meta, &e),
    };
    let subject = Subject::App {
        client_id: &app.client_id,
        name: &app.display_name,
        sp_oid: &app.object_id,
        acr: "1",
        roles: app.roles.get(issue::kind_key(kind)).cloned().unwrap_or_default(),
    };
    let minted = match issue::access_token(
        st,
        cloud,
        &app.tenant,
        kind,
        &aud,
        &subject,
        st.config().behaviour.token_lifetime_secs,
    ) {
        Ok(m) => m,
        Err(e) => return aad_failure(st, meta, &e),
    };
    let rt = issue::opaque("0.P");
    let now = st.now_ms();
    st.grants().refresh.insert(
        rt.clone(),
        RefreshGrant {
            client_id: format!("oproxy:{}", reg.registration_id),
            tenant_id: app.tenant.clone(),
            user_oid: None,
            scopes: Vec::new(),
            issued_ms: now,
            last_used_ms: now,
            revoked: false,
            rotated: false,
        },
    );
    let mut resp = (
        StatusCode::OK,
        json!({"access_token": minted.token, "expires_in": minted.exp - minted.iat, "refresh_token": rt})
            .to_string(),
    )
        .into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        resp.headers_mut().insert("function-execution-id", v);
    }
    resp
}

/// The decrypted token must be the registration's Token or a refresh token the proxy issued for
/// it (revoked: AADSTS50173; inactive too long: AADSTS700082).
fn check_token(st: &EmulatorState, reg: &ProxyRegistration, token: &str) -> Result<(), AadError> {
    if token == reg.token {
        return Ok(());
    }
    let mut grants = st.grants();
    let Some(g) = grants.refresh.get_mut(token) else { return Err(msg::grant_malformed()) };
    if g.client_id != format!("oproxy:{}", reg.registration_id) {
        return Err(msg::grant_other_client());
    }
    if g.revoked {
        return Err(msg::refresh_revoked());
    }
    let now = st.now_ms();
    if now - g.last_used_ms > st.config().behaviour.refresh_token_max_inactive_secs as i64 * 1000 {
        return Err(msg::refresh_inactive(&crate::aad::iso7(g.issued_ms)));
    }
    g.last_used_ms = now;
    Ok(())
}
