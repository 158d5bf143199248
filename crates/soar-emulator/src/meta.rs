//! Per-request metadata (request id, correlation id, host, scheme) and the outermost middleware
//! that records it, stamps `x-ms-request-id` and writes the request log; [`Call`], the extractor
//! handlers start from.

use axum::extract::{Extension, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue};

use crate::state::{EmulatorState, LogEntry, LogNote};

/// Whether the connection was plain HTTP or HTTPS; the server inserts it per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// TLS.
    Https,
}

/// What handlers need to know about the request they serve.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// A fresh GUID; equals an AADSTS body's `trace_id` and the `x-ms-request-id` header.
    pub request_id: String,
    /// The caller's `client-request-id` header when sent (a fresh GUID otherwise).
    pub correlation_id: String,
    /// True when the caller sent `client-request-id`.
    pub client_sent_correlation: bool,
    /// The `Host` header (or URI authority), with port.
    pub host: String,
    /// The connection's scheme.
    pub scheme: Scheme,
}

/// What every handler starts from: the emulator's state, the request's metadata (set by the
/// `meta` middleware) and the request headers.
#[derive(Clone)]
pub struct Call {
    /// The emulator's state.
    pub st: EmulatorState,
    /// Host, base URL and ids of this request.
    pub meta: RequestMeta,
    /// The request headers (the bearer token, `ConsistencyLevel`, ...).
    pub headers: HeaderMap,
}

impl FromRequestParts<EmulatorState> for Call {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &EmulatorState) -> Result<Self, Self::Rejection> {
        // The same rejection as extracting `Extension<RequestMeta>` on its own.
        let Extension(meta) = Extension::<RequestMeta>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call { st: st.clone(), meta, headers: parts.headers.clone() })
    }
}

impl RequestMeta {
    /// `scheme://host` of this request.
    pub fn base_url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}", self.host)
    }
}

/// Builds [`RequestMeta`], runs the request, logs it.
pub async fn meta_layer(State(state): State<EmulatorState>, mut req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let scheme = req.extensions().get::<Scheme>().copied().unwrap_or(Scheme::Http);
    let request_id = uuid::Uuid::new_v4().to_string();
    let sent = req
        .headers()
        .get("client-request-id")
        .and_then(|h| h.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= 100)
        .map(str::to_string);
    let meta = RequestMeta {
        correlation_id: sent.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        client_sent_correlation: sent.is_some(),
        request_id: request_id.clone(),
        host: host.clone(),
        scheme,
    };
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(meta);
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().entry("x-ms-request-id").or_insert(v);
    }
    let note = resp.extensions_mut().remove::<LogNote>().unwrap_or_default();
    // Method, host, path and status only: bodies and queries may hold secrets.
    tracing::debug!(target: "soar_emulator::requests", %method, %host, %path, status = resp.status().as_u16(), "request");
    if !path.starts_with("/__emulator") {
        state.0.log.push(LogEntry {
            seq: 0,
            at_ms: state.now_ms(),
            method,
            host,
            path,
            status: resp.status().as_u16(),
            grant_type: note.grant_type,
            client_id: note.client_id,
        });
    }
    resp
}
