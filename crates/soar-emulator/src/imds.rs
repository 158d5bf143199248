//! Managed identity endpoints: Azure IMDS (`GET /metadata/identity/oauth2/token`, what
//! `http://169.254.169.254` serves; clients reach it with `AZURE_POD_IDENTITY_AUTHORITY_HOST`,
//! `MSAL_MANAGED_IDENTITY_ENDPOINT` or a host map) and the App Service variant
//! (`GET /msi/token`, i.e. `IDENTITY_ENDPOINT=http://127.0.0.1:PORT/msi/token` with
//! `IDENTITY_HEADER`).
//!
//! IMDS answers with every number as a string and both `expires_in` and `expires_on`; App Service
//! with `expires_on` only. The resource picks the cloud (a managed identity on a sovereign VM gets
//! that cloud's tokens).

use axum::Router;
use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::aad::AadError;
use crate::clouds::{ApiKind, LoginCloud};
use crate::config::ManagedIdentityConfig;
use crate::identity::Form;
use crate::identity::issue::{self, Subject};
use crate::meta::Call;
use crate::state::{EmulatorState, LogNote};

/// The managed identity routes.
pub fn routes() -> Router<EmulatorState> {
    Router::new()
        .route("/metadata/identity/oauth2/token", get(imds_token))
        // msal-node asks with a trailing slash.
        .route("/metadata/identity/oauth2/token/", get(imds_token))
        .route("/msi/token", get(app_service_token))
        .route("/msi/token/", get(app_service_token))
}

fn json(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

fn imds_error(description: &str) -> Response {
    json(StatusCode::BAD_REQUEST, &json!({"error": "invalid_request", "error_description": description}))
}

/// Notes the grant for the request log (both endpoints).
fn logged(mut resp: Response) -> Response {
    resp.extensions_mut().insert(LogNote { grant_type: Some("managed_identity".into()), client_id: None });
    resp
}

/// What both endpoints read after their own header check, in this order: `api-version` (present),
/// `resource`, and the identity asked for ([`pick`]). A miss is answered by `refuse` (the
/// endpoint's 400 shape) with the endpoint's words in `texts`, in the same order. (The handler
/// returns the `Err` response as is, so it is moved once.)
#[allow(clippy::result_large_err)]
fn requested<'a>(
    st: &'a EmulatorState,
    q: &'a Form,
    texts: [&str; 3],
    refuse: impl Fn(&str) -> Response,
) -> Result<(&'a str, &'a ManagedIdentityConfig), Response> {
    let [no_version, no_resource, no_identity] = texts;
    if q.get("api-version").is_none() {
        return Err(refuse(no_version));
    }
    let resource = q.get("resource").ok_or_else(|| refuse(no_resource))?;
    let mi = pick(st, q).ok_or_else(|| refuse(no_identity))?;
    Ok((resource, mi))
}

/// Picks the identity: by client id, object id or resource id; the system-assigned one when
/// nothing is named.
fn pick<'a>(st: &'a EmulatorState, q: &Form) -> Option<&'a ManagedIdentityConfig> {
    let mis = &st.config().managed_identities;
    if let Some(id) = q.get("client_id").or_else(|| q.get("clientid")) {
        return mis.iter().find(|m| m.client_id.eq_ignore_ascii_case(id));
    }
    if let Some(id) = q.get("object_id").or_else(|| q.get("principal_id")) {
        return mis.iter().find(|m| m.object_id.eq_ignore_ascii_case(id));
    }
    if let Some(id) = q.get("msi_res_id").or_else(|| q.get("mi_res_id")) {
        return mis.iter().find(|m| m.resource_id.eq_ignore_ascii_case(id));
    }
    mis.iter().find(|m| m.system_assigned)
}

/// Finds the resource in any cloud, worldwide first.
fn resolve_any_cloud(st: &EmulatorState, resource: &str) -> Result<(LoginCloud, ApiKind, String), AadError> {
    let mut first_err = None;
    for cloud in [LoginCloud::Public, LoginCloud::UsGov, LoginCloud::Germany, LoginCloud::China] {
        match issue::resolve_resource(st, cloud, "managed identity tenant", resource) {
            Ok((kind, aud)) => return Ok((cloud, kind, aud)),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(crate::aad::msg::no_resource))
}

fn mint(st: &EmulatorState, mi: &ManagedIdentityConfig, resource: &str) -> Result<issue::Minted, AadError> {
    let (cloud, kind, aud) = resolve_any_cloud(st, resource)?;
    let roles = mi.roles.get(issue::kind_key(kind)).cloned().unwrap_or_default();
    let subject = Subject::Managed {
        client_id: &mi.client_id,
        oid: &mi.object_id,
        resource_id: &mi.resource_id,
        roles,
    };
    issue::access_token(
        st,
        cloud,
        &mi.tenant,
        kind,
        &aud,
        &subject,
        st.config().behaviour.managed_identity_token_lifetime_secs,
    )
}

async fn imds_token(call: Call, RawQuery(raw): RawQuery) -> Response {
    let Call { st, meta, headers } = &call;
    let q = Form::parse(raw.unwrap_or_default().as_bytes());
    let metadata = headers.get("metadata").and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut resp = (|| {
        if !metadata.eq_ignore_ascii_case("true") {
            return imds_error("Required metadata header not specified");
        }
        let texts = [
            "Required query variable 'api-version' is missing",
            "Required query variable 'resource' is missing",
            "Identity not found",
        ];
        let (resource, mi) = match requested(st, &q, texts, imds_error) {
            Ok(found) => found,
            Err(resp) => return resp,
        };
        match mint(st, mi, resource) {
            Ok(m) => {
                let life = (m.exp - m.iat).to_string();
                json(
                    StatusCode::OK,
                    &json!({
                        "access_token": m.token,
                        "client_id": mi.client_id,
                        "expires_in": life,
                        "expires_on": m.exp.to_string(),
                        "ext_expires_in": life,
                        "not_before": m.iat.to_string(),
                        "resource": resource,
                        "token_type": "Bearer",
                    }),
                )
            }
            // Entra's error passes through.
            Err(e) => json(StatusCode::BAD_REQUEST, &e.body(st, meta)),
        }
    })();
    resp.headers_mut().insert(header::SERVER, HeaderValue::from_static("IMDS/150.870.65.1544"));
    logged(resp)
}

async fn app_service_token(call: Call, RawQuery(raw): RawQuery) -> Response {
    let Call { st, meta, headers } = &call;
    let q = Form::parse(raw.unwrap_or_default().as_bytes());
    let err = |status: StatusCode, message: &str| {
        json(
            status,
            &json!({"statusCode": status.as_u16(), "message": message, "correlationId": meta.request_id}),
        )
    };
    let sent = headers.get("x-identity-header").and_then(|v| v.to_str().ok()).unwrap_or("");
    let resp = (|| {
        if sent.is_empty() || sent != st.config().app_service_identity_header {
            return err(
                StatusCode::UNAUTHORIZED,
                "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.",
            );
        }
        let texts = [
            "The api-version query parameter is required (2019-08-01).",
            "The resource query parameter is required.",
            "No managed identity matches the requested client_id, object_id or mi_res_id.",
        ];
        let (resource, mi) = match requested(st, &q, texts, |m| err(StatusCode::BAD_REQUEST, m)) {
            Ok(found) => found,
            Err(resp) => return resp,
        };
        match mint(st, mi, resource) {
            Ok(m) => json(
                StatusCode::OK,
                &json!({
                    "access_token": m.token,
                    "expires_on": m.exp.to_string(),
                    "resource": resource,
                    "token_type": "Bearer",
                    "client_id": mi.client_id,
                }),
            ),
            Err(e) => {
                err(StatusCode::BAD_REQUEST, e.body(st, meta)["error_description"].as_str().unwrap_or(""))
            }
        }
    })();
    logged(resp)
}
