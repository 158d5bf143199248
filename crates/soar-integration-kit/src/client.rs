//! The real [`Api`]: `soar_auth::MsClient` calls to one Microsoft API, chosen by its
//! `ApiKind` and an optional version segment put before relative paths.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use soar_auth::{ApiKind, MsClient};
use soar_auth_commands::core_error;
use soar_core::Error;
use soar_protocol::IntegrationContext;

use crate::api::{Api, Reply, Request, check_next_link};

/// One API through the configured flow's token. Several APIs of one request may share its
/// client (`Arc`), so that they share its token cache and transport.
pub struct MsApi {
    /// The auth client of this request.
    pub ms: Arc<MsClient>,
    /// The API every call goes to.
    pub api: ApiKind,
    /// The version segment before relative paths (`Some("v1.0")` for Graph), if any.
    pub version: Option<&'static str>,
}

impl MsApi {
    /// `api` through `ms` (a client, or one shared by several APIs), with `version` (if any)
    /// before every relative path.
    pub fn new(ms: impl Into<Arc<MsClient>>, api: ApiKind, version: Option<&'static str>) -> Self {
        MsApi { ms: ms.into(), api, version }
    }
}

#[async_trait]
impl Api for MsApi {
    async fn send(&self, ctx: &mut IntegrationContext, mut req: Request) -> Result<Reply, Error> {
        if req.is_absolute() {
            check_next_link(&self.base_url()?, &req.path_or_url)?;
        } else if let Some(v) = self.version {
            req.path_or_url = format!("{v}/{}", req.path_or_url.trim_start_matches('/'));
        }
        let resp = self.ms.send(ctx, self.api, req).await.map_err(core_error)?;
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Reply { status: resp.status, body: Value::Null, headers: resp.headers });
        }
        let body = serde_json::from_slice(&resp.body).map_err(|_| {
            Error::Command(format!(
                "Failed to parse json object from response: {}",
                String::from_utf8_lossy(&resp.body)
            ))
        })?;
        Ok(Reply { status: resp.status, body, headers: resp.headers })
    }

    fn base_url(&self) -> Result<String, Error> {
        let base = self.ms.endpoints().base(self.api).map_err(core_error)?;
        let base = base.trim_end_matches('/');
        Ok(match self.version {
            Some(v) => format!("{base}/{v}/"),
            None => format!("{base}/"),
        })
    }

    async fn check_token(&self, ctx: &mut IntegrationContext) -> Result<(), Error> {
        self.ms.token(ctx, self.api).await.map(drop).map_err(core_error)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use soar_auth::http::{HttpConfig, HttpResponse};
    use soar_auth::testing::{self, FakeTime, MockTransport};

    use super::*;
    use crate::fixtures::{SPEC, params};

    /// Runs `req` through an `MsApi` for `api`/`version` whose API answers `answer` (after a
    /// token answer); returns what the seam gave, the URL the API was called at (if it was)
    /// and the base URL.
    async fn check(
        api: ApiKind,
        version: Option<&'static str>,
        req: Request,
        answer: HttpResponse,
    ) -> (Result<Reply, Error>, Option<String>, String) {
        let http = MockTransport::new();
        http.expect(
            http::Method::POST,
            "https://login.microsoftonline.com/",
            200,
            json!({"access_token": "tok", "expires_in": 3600, "token_type": "Bearer"}),
        );
        http.respond(answer);
        let shared = testing::shared(http.clone(), FakeTime::at(1_700_000_000.0), HttpConfig::default());
        let ms = MsClient::from_params(&SPEC, &params(&[]), shared).unwrap();
        let client = MsApi::new(ms, api, version);
        let mut ctx = IntegrationContext::default();
        let got = client.send(&mut ctx, req).await;
        let url = http.requests().iter().map(|r| r.url.clone()).find(|u| !u.contains("login."));
        (got, url, client.base_url().unwrap())
    }

    /// (API, version, request, answer, URL called, base URL, status and body or error text):
    /// the version goes before relative paths only; empty bodies are null; next links on the
    /// API's origin pass as they are, others are refused before any call.
    #[tokio::test]
    async fn calls_go_below_the_versioned_base_and_answers_are_read_as_the_reference_does() {
        let graph = "https://graph.microsoft.com/v1.0/";
        let arm = "https://management.azure.com/";
        let next = "https://graph.microsoft.com/v1.0/users?$skiptoken=abc";
        let json_ok = |v: Value| HttpResponse::json(200, &v);
        let cases = [
            (
                ApiKind::Graph,
                Some("v1.0"),
                Request::get("users/a%40b"),
                json_ok(json!({"id": "a"})),
                Some("https://graph.microsoft.com/v1.0/users/a%40b"),
                graph,
                Ok((200, json!({"id": "a"}))),
            ),
            (
                ApiKind::Graph,
                Some("v1.0"),
                Request::get(next),
                json_ok(json!({"value": []})),
                Some(next),
                graph,
                Ok((200, json!({"value": []}))),
            ),
            (
                ApiKind::Graph,
                Some("v1.0"),
                Request::get("http://graph.microsoft.com/v1.0/users"),
                json_ok(json!({})),
                None,
                graph,
                Err("the link must be an https URL on this instance's API".to_owned()),
            ),
            (
                ApiKind::Arm,
                None,
                Request::delete("subscriptions/s/x").query("api-version", "2022-09-01"),
                HttpResponse { status: 204, headers: vec![], body: b" ".to_vec() },
                Some("https://management.azure.com/subscriptions/s/x?api-version=2022-09-01"),
                arm,
                Ok((204, Value::Null)),
            ),
            (
                ApiKind::Arm,
                None,
                Request::get("subscriptions"),
                HttpResponse { status: 200, headers: vec![], body: b"not json".to_vec() },
                Some("https://management.azure.com/subscriptions"),
                arm,
                Err("Failed to parse json object from response: not json".to_owned()),
            ),
        ];
        for (api, version, req, answer, want_url, want_base, want) in cases {
            let (got, url, base) = check(api, version, req, answer).await;
            assert_eq!(url.as_deref(), want_url);
            assert_eq!(base, want_base);
            match (got, want) {
                (Ok(r), Ok(w)) => assert_eq!((r.status, r.body), w),
                (Err(e), Err(w)) => assert!(e.to_string().contains(&w), "{e}"),
                (got, want) => panic!("got {got:?}, want {want:?}"),
            }
        }
    }

    #[tokio::test]
    async fn an_api_error_keeps_its_status_headers_and_body() {
        let mut answer = HttpResponse::json(404, &json!({"error": {"code": "Request_ResourceNotFound"}}));
        answer.headers.push(("request-id".into(), "r-1".into()));
        let (got, _, _) = check(ApiKind::Graph, Some("v1.0"), Request::get("users/x"), answer).await;
        let Err(Error::Api(f)) = got else { panic!("{got:?}") };
        assert_eq!(f.status, 404);
        assert!(f.body.contains("Request_ResourceNotFound"), "{f:?}");
        assert!(f.headers.iter().any(|(k, v)| k == "request-id" && v == "r-1"), "{f:?}");
        // A 404 reads as the reference's `NotFoundError`: the body's dict repr.
        assert_eq!(f.text, "{'error': {'code': 'Request_ResourceNotFound'}}");
    }
}
