//! A fake [`Api`] for handler tests: answers scripted per method and path, records every
//! request, and words errors as the real client does, so a handler's War Room output can be
//! checked without a server.
//!
//! A request is matched by its method and its key: the path (or absolute URL) followed by the
//! query pairs as given, unencoded (`users?$select=id&$top=5`). Several answers for one key are
//! given in turn, the last one repeated.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use http::Method;
use serde_json::Value;
use soar_core::Error;
use soar_protocol::IntegrationContext;

use crate::api::{Api, Reply, Request, check_next_link};

type Answer = Result<Reply, (u16, Value)>;

/// An [`Api`] that answers from a script.
pub struct FakeApi {
    base: String,
    answers: Mutex<HashMap<(Method, String), Vec<Answer>>>,
    requests: Mutex<Vec<Request>>,
}

impl FakeApi {
    /// A fake whose base URL (for next links and [`Api::base_url`]) is `base`.
    pub fn new(base: &str) -> Self {
        FakeApi { base: base.to_owned(), answers: Mutex::default(), requests: Mutex::default() }
    }

    /// The key a request is matched by.
    pub fn key(req: &Request) -> String {
        let mut key = req.path_or_url.clone();
        for (i, (k, v)) in req.query.iter().enumerate() {
            key.push(if i == 0 && !key.contains('?') { '?' } else { '&' });
            key.push_str(&format!("{k}={v}"));
        }
        key
    }

    fn push(&self, method: Method, key: &str, answer: Answer) {
        if let Ok(mut a) = self.answers.lock() {
            a.entry((method, key.to_owned())).or_default().push(answer);
        }
    }

    /// Answers `method key` with `status` and `body` (`Value::Null` for no body).
    pub fn on(&self, method: Method, key: &str, status: u16, body: Value) -> &Self {
        self.push(method, key, Ok(Reply::new(status, body)));
        self
    }

    /// Answers `method key` with `status`, `body` and `headers` (e.g. a 202's `Location`).
    pub fn on_with_headers(
        &self,
        method: Method,
        key: &str,
        status: u16,
        body: Value,
        headers: &[(&str, &str)],
    ) -> &Self {
        let headers = headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())).collect();
        self.push(method, key, Ok(Reply { status, body, headers }));
        self
    }

    /// Answers `GET key` with 200 and `body`.
    pub fn on_get(&self, key: &str, body: Value) -> &Self {
        self.on(Method::GET, key, 200, body)
    }

    /// Answers `method key` with the error `status` and `body`.
    pub fn fail_with(&self, method: Method, key: &str, status: u16, body: Value) -> &Self {
        self.push(method, key, Err((status, body)));
        self
    }

    /// Answers `GET key` with the error `status` and `body`.
    pub fn fail(&self, key: &str, status: u16, body: Value) -> &Self {
        self.fail_with(Method::GET, key, status, body)
    }

    /// Every request made so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The methods and keys of the requests made so far.
    pub fn calls(&self) -> Vec<String> {
        self.requests().iter().map(|r| format!("{} {}", r.method, Self::key(r))).collect()
    }
}

/// The error the real client gives for an error answer (`Error in API call [..] - ..`), made
/// by the same code: soar-auth's `api_error` and the one conversion, `core_error`.
pub fn api_failure(status: u16, body: &Value) -> Error {
    soar_auth_commands::core_error(soar_auth::api_error(&soar_auth::http::HttpResponse::json(status, body)))
}

#[async_trait]
impl Api for FakeApi {
    async fn send(&self, _: &mut IntegrationContext, req: Request) -> Result<Reply, Error> {
        if req.is_absolute() {
            check_next_link(&self.base, &req.path_or_url)?;
        }
        let key = Self::key(&req);
        let method = req.method.clone();
        if let Ok(mut r) = self.requests.lock() {
            r.push(req);
        }
        let answer = self.answers.lock().ok().and_then(|mut a| {
            let list = a.get_mut(&(method.clone(), key.clone()))?;
            if list.len() > 1 { Some(list.remove(0)) } else { list.first().cloned() }
        });
        match answer {
            Some(Ok(reply)) => Ok(reply),
            Some(Err((status, body))) => Err(api_failure(status, &body)),
            None => Err(Error::Command(format!("FakeApi has no answer for {method} {key}"))),
        }
    }

    fn base_url(&self) -> Result<String, Error> {
        Ok(self.base.clone())
    }

    async fn check_token(&self, _: &mut IntegrationContext) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn answers_follow_the_script_and_requests_are_recorded() {
        let api = FakeApi::new("https://graph.microsoft.com/v1.0/");
        api.on_get("users?$top=1", json!({"n": 1})).on_get("users?$top=1", json!({"n": 2}));
        api.fail_with(Method::DELETE, "users/x", 404, json!({"error": {"code": "NotFound"}}));
        let mut ctx = IntegrationContext::default();
        let get = || Request::get("users").query("$top", "1");
        assert_eq!(api.json(&mut ctx, get()).await.unwrap(), json!({"n": 1}));
        assert_eq!(api.json(&mut ctx, get()).await.unwrap(), json!({"n": 2}));
        assert_eq!(api.json(&mut ctx, get()).await.unwrap(), json!({"n": 2}));
        let e = api.send(&mut ctx, Request::delete("users/x")).await.unwrap_err();
        assert!(e.is_not_found());
        assert_eq!(e.to_string(), "{'error': {'code': 'NotFound'}}");
        let e = api.send(&mut ctx, Request::get("nothing")).await.unwrap_err();
        assert!(e.to_string().contains("no answer for GET nothing"), "{e}");
        assert_eq!(api.calls().len(), 5);
        assert_eq!(api.calls()[3], "DELETE users/x");
    }
}
