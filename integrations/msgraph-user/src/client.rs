//! The real [`Api`]: `soar_auth::MsClient` calls to Microsoft Graph.

use async_trait::async_trait;
use serde_json::Value;
use soar_auth::{ApiKind, ApiRequest, Error as AuthError, MsClient};
use soar_protocol::IntegrationContext;

use crate::api::{Api, ApiError, Call, Method};

/// The Graph API version in every path.
pub const API_VERSION: &str = "v1.0";

/// Graph through the configured flow's token.
pub struct GraphClient {
    /// The auth client of this request.
    pub ms: MsClient,
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let body = match &e {
            AuthError::Api { body, .. } => Some(body.clone()),
            _ => None,
        };
        ApiError { status: e.status(), body, text: e.to_string() }
    }
}

fn method(m: Method) -> http::Method {
    match m {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Patch => http::Method::PATCH,
        Method::Delete => http::Method::DELETE,
    }
}

#[async_trait]
impl Api for GraphClient {
    async fn send(&self, ctx: &mut IntegrationContext, call: Call) -> Result<Value, ApiError> {
        // Paths are relative to `<graph>/v1.0/`; next links are absolute and used as they are.
        let path = if call.path.starts_with("https://") || call.path.starts_with("http://") {
            call.path
        } else {
            format!("{API_VERSION}/{}", call.path)
        };
        let mut req = ApiRequest::new(ApiKind::Graph, method(call.method), path);
        for (k, v) in call.query {
            req = req.query(k, v);
        }
        for (k, v) in call.headers {
            req = req.header(k, v);
        }
        if let Some(b) = &call.body {
            req = req.json(b);
        }
        let resp = self.ms.send(ctx, req).await?;
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&resp.body).map_err(|_| ApiError {
            status: Some(resp.status),
            body: None,
            text: format!(
                "Failed to parse json object from response: {}",
                String::from_utf8_lossy(&resp.body)
            ),
        })
    }

    fn base_url(&self) -> String {
        format!("{}/{API_VERSION}/", self.ms.endpoints().graph.trim_end_matches('/'))
    }
}
