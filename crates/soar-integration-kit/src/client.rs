//! The real [`Api`]: `soar_auth::MsClient` calls to one Microsoft API, chosen by its
//! `ApiKind` and an optional version segment put before relative paths.

use async_trait::async_trait;
use serde_json::Value;
use soar_auth::{ApiKind, ApiRequest, Error as AuthError, MsClient};
use soar_protocol::IntegrationContext;

use crate::api::{Api, ApiError, Call, Reply};

/// One API through the configured flow's token.
pub struct MsApi {
    /// The auth client of this request.
    pub ms: MsClient,
    /// The API every call goes to.
    pub api: ApiKind,
    /// The version segment before relative paths (`Some("v1.0")` for Graph), if any.
    pub version: Option<&'static str>,
}

impl MsApi {
    /// `api` through `ms`, with `version` (if any) before every relative path.
    pub fn new(ms: MsClient, api: ApiKind, version: Option<&'static str>) -> Self {
        MsApi { ms, api, version }
    }

    /// The path sent to the auth client: next links (absolute URLs) as they are, others below
    /// the version segment.
    fn full_path(&self, path: String) -> String {
        match self.version {
            Some(v) if !(path.starts_with("https://") || path.starts_with("http://")) => {
                format!("{v}/{path}")
            }
            _ => path,
        }
    }
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

#[async_trait]
impl Api for MsApi {
    async fn send(&self, ctx: &mut IntegrationContext, call: Call) -> Result<Reply, ApiError> {
        let mut req = ApiRequest::new(self.api, call.method.into(), self.full_path(call.path));
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

    fn base_url(&self) -> Result<String, ApiError> {
        let base = self.ms.endpoints().base(self.api)?;
        let base = base.trim_end_matches('/');
        Ok(match self.version {
            Some(v) => format!("{base}/{v}/"),
            None => format!("{base}/"),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use soar_auth::http::{HttpConfig, HttpResponse};
    use soar_auth::testing::{self, FakeTime, MockTransport};

    use super::*;
    use crate::api::Method;
    use crate::fixtures::{SPEC, params};

    /// Runs `call` through an `MsApi` for `api`/`version` whose API answers `answer` (after a
    /// token answer); returns what the seam gave and the URL the API was called at.
    async fn check(
        api: ApiKind,
        version: Option<&'static str>,
        call: Call,
        answer: HttpResponse,
    ) -> (Result<Reply, ApiError>, String, String) {
        let http = MockTransport::new();
        http.expect(
            http::Method::POST,
            "https://login.microsoftonline.com/",
            200,
            json!({
            "access_token": "tok", "expires_in": 3600, "token_type": "Bearer"}),
        );
        http.respond(answer);
        let params = params(&[]);
        let shared = testing::shared(http.clone(), FakeTime::at(1_700_000_000.0), HttpConfig::default());
        let ms = MsClient::from_params(&SPEC, &params, shared).unwrap();
        let client = MsApi::new(ms, api, version);
        let mut ctx = IntegrationContext::default();
        let got = client.send(&mut ctx, call).await;
        let url = http.requests().last().map(|r| r.url.clone()).unwrap_or_default();
        (got, url, client.base_url().unwrap())
    }

    /// (API, version, call, answer, URL called, base URL, body or error text): the version goes
    /// before relative paths only; empty bodies are null; other errors keep status and text.
    #[tokio::test]
    async fn calls_go_below_the_versioned_base_and_answers_are_read_as_the_reference_does() {
        let graph = "https://graph.microsoft.com/v1.0/";
        let arm = "https://management.azure.com/";
        let next = "https://graph.microsoft.com/v1.0/users?$skiptoken=abc";
        let cases = [
            (
                ApiKind::Graph,
                Some("v1.0"),
                Call::new(Method::Get, "users/a%40b"),
                HttpResponse::json(200, &json!({"id": "a"})),
                "https://graph.microsoft.com/v1.0/users/a%40b",
                graph,
                Ok((200, json!({"id": "a"}))),
            ),
            (
                ApiKind::Graph,
                Some("v1.0"),
                Call::new(Method::Get, next),
                HttpResponse::json(200, &json!({"value": []})),
                next,
                graph,
                Ok((200, json!({"value": []}))),
            ),
            (
                ApiKind::Arm,
                None,
                Call::new(Method::Delete, "subscriptions/s/x").query("api-version", "2022-09-01"),
                HttpResponse { status: 204, headers: vec![], body: b" ".to_vec() },
                "https://management.azure.com/subscriptions/s/x?api-version=2022-09-01",
                arm,
                Ok((204, Value::Null)),
            ),
            (
                ApiKind::Arm,
                None,
                Call::new(Method::Get, "subscriptions"),
                HttpResponse { status: 200, headers: vec![], body: b"not json".to_vec() },
                "https://management.azure.com/subscriptions",
                arm,
                Err((Some(200), "Failed to parse json object from response: not json".to_owned())),
            ),
        ];
        for (api, version, call, answer, want_url, want_base, want) in cases {
            let (got, url, base) = check(api, version, call, answer).await;
            assert_eq!(url, want_url);
            assert_eq!(base, want_base);
            let got = got.map(|r| (r.status, r.body)).map_err(|e| (e.status, e.text));
            assert_eq!(got, want, "{want_url}");
        }
    }

    #[tokio::test]
    async fn an_api_error_keeps_its_status_and_body() {
        let answer = HttpResponse::json(404, &json!({"error": {"code": "Request_ResourceNotFound"}}));
        let (got, _, _) =
            check(ApiKind::Graph, Some("v1.0"), Call::new(Method::Get, "users/x"), answer).await;
        let e = got.unwrap_err();
        assert!(e.is_not_found());
        assert!(e.body.as_deref().is_some_and(|b| b.contains("Request_ResourceNotFound")), "{e:?}");
        assert!(e.text.contains("[404]"), "{}", e.text);
    }
}
