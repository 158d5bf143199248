//! `/authorize` (a headless sign-in of the configured test user) and the device authorization
//! endpoint (`/devicecode`).
//!
//! /authorize never shows a page: it signs the user in (the one named by `login_hint`, else the
//! first configured user) and redirects to `redirect_uri?code=...&session_state=...`.
//! `prompt=none` needs an earlier sign-in on the same cookie jar (the emulator sets an
//! `ESTSAUTH` cookie), otherwise it answers `login_required`; `prompt=login`, `consent` and
//! `select_account` sign in afresh. When the user is set to decline (the `user_denies` switch,
//! `POST /__emulator/user/deny`, or `emulator_decision=deny` on the URL) the redirect carries
//! `error=access_denied` with AADSTS65004. Errors that Entra shows on its own page (unknown
//! tenant or client, unregistered redirect URI) are an HTML page with status 400, no redirect.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use super::issue;
use super::{Form, TenantRef, resolve_tenant};
use crate::aad::{AadError, json_response, msg};
use crate::clouds;
use crate::config::AppConfig;
use crate::meta::{Call, RequestMeta};
use crate::state::{AuthCode, DeviceCode, DeviceStatus, EmulatorState, normalize_user_code};

/// `GET /{tenant}/oauth2/v2.0/authorize` and `GET /{tenant}/oauth2/authorize` (v1, `resource`
/// instead of `scope`; `authorize` reads whichever was sent): the query is the form.
pub async fn authorize_get(call: Call, Path(tenant): Path<String>, RawQuery(q): RawQuery) -> Response {
    authorize(&call, &tenant, &Form::parse(q.unwrap_or_default().as_bytes()))
}

/// `POST /{tenant}/oauth2/v2.0/authorize` (form-encoded parameters).
pub async fn authorize_v2_post(call: Call, Path(tenant): Path<String>, body: Bytes) -> Response {
    authorize(&call, &tenant, &Form::parse(&body))
}

fn error_page(st: &EmulatorState, meta: &RequestMeta, e: &AadError) -> Response {
    let body = e.body(st, meta);
    let text =
        body["error_description"].as_str().unwrap_or_default().replace('&', "&amp;").replace('<', "&lt;");
    let page = format!(
        "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we're having trouble signing you in.</h1><pre id=\"error\">{text}</pre></body></html>"
    );
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

/// True when `uri` is registered; `http://localhost` / `http://127.0.0.1` match any port, as
/// Entra allows for loopback redirects.
fn redirect_registered(app: &AppConfig, uri: &str) -> bool {
    if app.redirect_uris.iter().any(|r| r == uri) {
        return true;
    }
    let Ok(u) = url::Url::parse(uri) else { return false };
    let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1"));
    loopback
        && app.redirect_uris.iter().any(|r| {
            url::Url::parse(r).is_ok_and(|reg| {
                reg.scheme() == u.scheme() && reg.host_str() == u.host_str() && reg.path() == u.path()
            })
        })
}

fn authorize(call: &Call, tenant_seg: &str, q: &Form) -> Response {
    let Call { st, meta, headers } = call;
    let tenant = match resolve_tenant(st, tenant_seg) {
        Ok(t) => t,
        Err(e) => return error_page(st, meta, &e),
    };
    let Some(client_id) = q.get("client_id") else {
        return error_page(st, meta, &msg::missing_param("client_id"));
    };
    let Some(app) = st.config().app(client_id) else {
        return error_page(st, meta, &msg::unknown_client(client_id, tenant_seg));
    };
    let Some(redirect_uri) =
        q.get("redirect_uri").map(str::to_string).or_else(|| app.redirect_uris.first().cloned())
    else {
        return error_page(st, meta, &msg::missing_param("redirect_uri"));
    };
    if !redirect_registered(app, &redirect_uri) {
        return error_page(st, meta, &msg::redirect_mismatch(&redirect_uri, client_id));
    }
    let state_param = q.get("state").map(str::to_string);
    let mode = q.get("response_mode").unwrap_or("query").to_string();
    let redirect_error = |error: &str, e: AadError| {
        let body = e.body(st, meta);
        let mut params = vec![("error".to_string(), error.to_string())];
        params.push((
            "error_description".into(),
            body["error_description"].as_str().unwrap_or_default().to_string(),
        ));
        params.push(("error_uri".into(), body["error_uri"].as_str().unwrap_or_default().to_string()));
        if let Some(s) = &state_param {
            params.push(("state".into(), s.clone()));
        }
        redirect(&redirect_uri, &mode, &params, None)
    };
    let response_type = q.get("response_type").unwrap_or("");
    if !response_type.split_whitespace().any(|t| t == "code") {
        return redirect_error(
            "unsupported_response_type",
            AadError::new(
                "unsupported_response_type",
                700054,
                format!("response_type '{response_type}' is not enabled for the application."),
            ),
        );
    }
    let scope = q.get("scope").unwrap_or("openid").to_string();
    let cloud = clouds::login_cloud_for_host(&meta.host);
    let scopes_ok = match q.get("resource") {
        Some(r) => issue::resolve_resource(st, cloud, tenant_seg, r).map(|_| ()),
        None => issue::parse_scopes(st, cloud, tenant_seg, &scope, false).map(|_| ()),
    };
    if let Err(e) = scopes_ok {
        let error = e.error;
        return redirect_error(error, e);
    }
    let users = &st.config().users;
    let user = q
        .get("login_hint")
        .and_then(|h| users.iter().find(|u| u.upn.eq_ignore_ascii_case(h)))
        .or_else(|| users.first());
    let Some(user) = user else {
        return redirect_error(
            "login_required",
            AadError::new(
                "login_required",
                50058,
                "A silent sign-in request was sent but no user is signed in.",
            ),
        );
    };
    let prompt = q.get("prompt").unwrap_or("");
    let has_session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.split(';').any(|p| p.trim().starts_with("ESTSAUTH=")));
    match prompt {
        "" | "login" | "consent" | "select_account" => {}
        "none" if has_session => {}
        "none" => {
            return redirect_error(
                "login_required",
                AadError::new(
                    "login_required",
                    50058,
                    "A silent sign-in request was sent but no user is signed in. The cookies used to represent the user's session were not sent in the request to Azure AD.",
                ),
            );
        }
        other => {
            return redirect_error(
                "invalid_request",
                AadError::new("invalid_request", 90023, format!("Invalid prompt value '{other}'.")),
            );
        }
    }
    let denies = st.user_denies() || q.get("emulator_decision") == Some("deny");
    if denies {
        return redirect_error(
            "access_denied",
            AadError::new("access_denied", 65004, "User declined to consent to access the app."),
        );
    }
    let tid = match tenant {
        TenantRef::Tenant(t) => t.id.clone(),
        TenantRef::Alias(_) => user.tenant.clone(),
    };
    let mut scopes: Vec<String> = scope.split_whitespace().map(str::to_string).collect();
    if let Some(r) = q.get("resource") {
        // v1: remember the resource as a `.default` scope.
        scopes.push(format!("{}/.default", r.trim_end_matches('/')));
    }
    let code = issue::opaque("1.A");
    let challenge = q
        .get("code_challenge")
        .map(|c| (c.to_string(), q.get("code_challenge_method").unwrap_or("plain").to_string()));
    st.grants().codes.insert(
        code.clone(),
        AuthCode {
            client_id: app.client_id.clone(),
            redirect_uri: redirect_uri.clone(),
            tenant_id: tid.clone(),
            user_oid: user.object_id.clone(),
            scopes,
            nonce: q.get("nonce").map(str::to_string),
            code_challenge: challenge,
            expires_ms: st.now_ms() + st.config().behaviour.auth_code_lifetime_secs as i64 * 1000,
            used: false,
        },
    );
    let mut params = vec![("code".to_string(), code)];
    if q.get("client_info") == Some("1") {
        params.push(("client_info".into(), issue::client_info(&user.object_id, &tid)));
    }
    if let Some(s) = &state_param {
        params.push(("state".into(), s.clone()));
    }
    params.push(("session_state".into(), uuid::Uuid::new_v4().to_string()));
    redirect(&redirect_uri, &mode, &params, Some(&user.object_id))
}

/// Sends the browser back: a 302 for `query`/`fragment`, an auto-posting form for `form_post`.
fn redirect(uri: &str, mode: &str, params: &[(String, String)], session_for: Option<&str>) -> Response {
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter().map(|(k, v)| (k, v)))
        .finish();
    let mut resp = if mode == "form_post" {
        let inputs: String = params
            .iter()
            .map(|(k, v)| {
                format!("<input type=\"hidden\" name=\"{}\" value=\"{}\"/>", html_escape(k), html_escape(v))
            })
            .collect();
        Html(format!(
            "<html><head><title>Working...</title></head><body><form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\"/></noscript></form><script>document.forms[0].submit()</script></body></html>",
            html_escape(uri)
        ))
        .into_response()
    } else {
        let sep = if mode == "fragment" {
            '#'
        } else if uri.contains('?') {
            '&'
        } else {
            '?'
        };
        let mut r = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("{uri}{sep}{encoded}")) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        r
    };
    if let Some(oid) = session_for
        && let Ok(v) = HeaderValue::from_str(&format!(
            "ESTSAUTH={}; path=/; secure; HttpOnly; SameSite=None",
            issue::opaque(&format!("{oid}."))
        ))
    {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub async fn devicecode_v2(call: Call, Path(tenant): Path<String>, body: Bytes) -> Response {
    devicecode(&call.st, &call.meta, &tenant, &Form::parse(&body), false)
}

/// `POST /{tenant}/oauth2/devicecode` (v1: `resource`; numbers as strings; `verification_url`).
pub async fn devicecode_v1(call: Call, Path(tenant): Path<String>, body: Bytes) -> Response {
    devicecode(&call.st, &call.meta, &tenant, &Form::parse(&body), true)
}

fn user_code() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..9).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

fn devicecode(st: &EmulatorState, meta: &RequestMeta, tenant_seg: &str, form: &Form, v1: bool) -> Response {
    let result = (|| {
        let tenant = resolve_tenant(st, tenant_seg)?;
        let Some(client_id) = form.get("client_id") else { return Err(msg::missing_param("client_id")) };
        let app = st.config().app(client_id).ok_or_else(|| msg::unknown_client(client_id, tenant_seg))?;
        let cloud = clouds::login_cloud_for_host(&meta.host);
        let (scopes, resource) = if v1 {
            let Some(r) = form.get("resource") else { return Err(msg::no_resource()) };
            issue::resolve_resource(st, cloud, tenant_seg, r)?;
            (Vec::new(), Some(r.to_string()))
        } else {
            let Some(scope) = form.get("scope") else { return Err(msg::missing_param("scope")) };
            issue::parse_scopes(st, cloud, tenant_seg, scope, false)?;
            (scope.split_whitespace().map(str::to_string).collect::<Vec<_>>(), None)
        };
        let tid = match tenant {
            TenantRef::Tenant(t) => t.id.clone(),
            TenantRef::Alias("common") if !app.multi_tenant => return Err(msg::device_on_common()),
            TenantRef::Alias(_) => {
                st.config().users.first().map(|u| u.tenant.clone()).unwrap_or_else(|| app.tenant.clone())
            }
        };
        let b = &st.config().behaviour;
        let device_code = issue::opaque("DAQABIQEAAAB");
        let code = user_code();
        st.grants().devices.insert(
            device_code.clone(),
            DeviceCode {
                user_code: normalize_user_code(&code),
                client_id: app.client_id.clone(),
                tenant_id: tid,
                scopes,
                resource,
                expires_ms: st.now_ms() + b.device_code_lifetime_secs as i64 * 1000,
                interval_ms: b.device_poll_interval_secs as i64 * 1000,
                last_poll_ms: None,
                status: DeviceStatus::Pending,
            },
        );
        let uri = &b.device_verification_uri;
        let message = format!(
            "To sign in, use a web browser to open the page {uri} and enter the code {code} to authenticate."
        );
        Ok(if v1 {
            json!({
                "user_code": code, "device_code": device_code, "verification_url": uri,
                "expires_in": b.device_code_lifetime_secs.to_string(), "interval": b.device_poll_interval_secs.to_string(),
                "message": message,
            })
        } else {
            json!({
                "user_code": code, "device_code": device_code, "verification_uri": uri,
                "expires_in": b.device_code_lifetime_secs, "interval": b.device_poll_interval_secs,
                "message": message,
            })
        })
    })();
    match result {
        Ok(body) => json_response(StatusCode::OK, &body),
        Err(e) => e.respond(st, meta),
    }
}
