//! The real [`Api`]: `soar_auth::MsClient` calls to Azure Resource Manager.

use async_trait::async_trait;
use serde_json::Value;
use soar_auth::{ApiKind, ApiRequest, Error as AuthError, MsClient};
use soar_protocol::IntegrationContext;

use crate::api::{Api, ApiError, Call, Method, Reply};

/// ARM through the configured flow's token.
pub struct ArmClient {
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
impl Api for ArmClient {
    async fn send(&self, ctx: &mut IntegrationContext, call: Call) -> Result<Reply, ApiError> {
        let mut req = ApiRequest::new(ApiKind::Arm, method(call.method), call.path);
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
            return Ok(Reply { status: resp.status, body: Value::Null });
        }
        let body = serde_json::from_slice(&resp.body).map_err(|_| ApiError {
            status: Some(resp.status),
            body: None,
            text: format!(
                "Failed to parse json object from response: {}",
                String::from_utf8_lossy(&resp.body)
            ),
        })?;
        Ok(Reply { status: resp.status, body })
    }
}
