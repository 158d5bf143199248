//! Fault injection, per route (path prefix, optional method and host) or global (empty path):
//! an HTTP status with `Retry-After` (429, 5xx, IMDS 410 "while starting"), a delay, a dropped
//! connection, a truncated or non-JSON body; plus global switches: access tokens that expire
//! after N seconds. Rules apply to the next `count` matching requests (or until removed) and
//! never to `/__emulator/*`. Set them from tests ([`FaultHandle`]), over HTTP
//! (`POST /__emulator/faults` with a [`FaultRule`] as JSON) or from the CLI (`--fault`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::aad::AadError;
use crate::meta::RequestMeta;
use crate::state::EmulatorState;

/// What to do to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with `status` (and `Retry-After: retry_after` when set) instead of the handler;
    /// the body is the service's own error shape for that path unless `body` is given.
    Status {
        status: u16,
        #[serde(default)]
        retry_after: Option<u32>,
        #[serde(default)]
        body: Option<String>,
    },
    /// Wait `ms` milliseconds, then run the handler.
    Delay { ms: u64 },
    /// Close the connection without answering.
    Drop,
    /// Run the handler, then send only the first half of its body.
    Truncate,
    /// Answer `status` with an HTML page instead of JSON.
    NonJson {
        #[serde(default = "default_non_json_status")]
        status: u16,
    },
}

fn default_non_json_status() -> u16 {
    200
}

/// A fault and the requests it applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// Assigned when added.
    #[serde(default)]
    pub id: u64,
    /// Path prefix; empty matches every path.
    #[serde(default)]
    pub path: String,
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Only this host (without port; any when absent).
    #[serde(default)]
    pub host: Option<String>,
    /// The fault.
    pub fault: Fault,
    /// How many matching requests it affects; until removed when absent.
    #[serde(default)]
    pub count: Option<u32>,
}

impl FaultRule {
    /// A rule for every request under `path`.
    pub fn new(path: &str, fault: Fault) -> FaultRule {
        FaultRule { id: 0, path: path.to_string(), method: None, host: None, fault, count: None }
    }

    /// Limits the rule to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> FaultRule {
        self.count = Some(n);
        self
    }

    /// Parses the CLI form `path=/x,kind=status,status=429,retry_after=5,count=2` (keys:
    /// `path`, `method`, `host`, `count`, `kind` = status|delay|drop|truncate|non_json, and the
    /// fault's own fields `status`, `retry_after`, `ms`).
    pub fn parse_cli(text: &str) -> Result<FaultRule, String> {
        let mut map = std::collections::BTreeMap::new();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| {
                format!("fault part '{part}' is not key=value (example: path=/x,kind=status,status=429)")
            })?;
            map.insert(k.trim().to_string(), v.trim().to_string());
        }
        let num = |k: &str| -> Result<Option<u64>, String> {
            map.get(k)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| format!("fault field '{k}' must be a number, not '{v}'"))
                })
                .transpose()
        };
        let kind = map.get("kind").map(String::as_str).unwrap_or("status");
        let fault = match kind {
            "status" => Fault::Status {
                status: num("status")?.unwrap_or(503) as u16,
                retry_after: num("retry_after")?.map(|v| v as u32),
                body: None,
            },
            "delay" => Fault::Delay { ms: num("ms")?.ok_or("a delay fault needs ms=<milliseconds>")? },
            "drop" => Fault::Drop,
            "truncate" => Fault::Truncate,
            "non_json" => Fault::NonJson { status: num("status")?.unwrap_or(200) as u16 },
            other => {
                return Err(format!(
                    "unknown fault kind '{other}': use status, delay, drop, truncate or non_json"
                ));
            }
        };
        Ok(FaultRule {
            id: 0,
            path: map.get("path").cloned().unwrap_or_default(),
            method: map.get("method").cloned(),
            host: map.get("host").cloned(),
            fault,
            count: num("count")?.map(|c| c as u32),
        })
    }

    fn matches(&self, method: &str, host: &str, path: &str) -> bool {
        path.starts_with(&self.path)
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.host.as_deref().is_none_or(|h| h.eq_ignore_ascii_case(&crate::clouds::bare_host(host)))
    }
}

/// Shared handle on the fault rules and global switches.
#[derive(Clone, Default)]
pub struct FaultHandle(Arc<FaultInner>);

#[derive(Default)]
struct FaultInner {
    next_id: AtomicU64,
    rules: Mutex<Vec<FaultRule>>,
    /// 0 = no override.
    token_lifetime: AtomicU64,
}

impl std::fmt::Debug for FaultHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultHandle").field("rules", &self.rules().len()).finish()
    }
}

impl FaultHandle {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FaultRule>> {
        self.0.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a rule; returns its id.
    pub fn add(&self, mut rule: FaultRule) -> u64 {
        rule.id = self.0.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let id = rule.id;
        self.lock().push(rule);
        id
    }

    /// Removes one rule; false when it was not there.
    pub fn remove(&self, id: u64) -> bool {
        let mut rules = self.lock();
        let before = rules.len();
        rules.retain(|r| r.id != id);
        rules.len() != before
    }

    /// Removes every rule and switch.
    pub fn clear(&self) {
        self.lock().clear();
        self.0.token_lifetime.store(0, Ordering::Relaxed);
    }

    /// The current rules.
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    /// Makes access tokens issued from now on expire after `secs` (None restores the default).
    pub fn set_token_lifetime(&self, secs: Option<u64>) {
        self.0.token_lifetime.store(secs.unwrap_or(0), Ordering::Relaxed);
    }

    /// The token lifetime override, if any.
    pub fn token_lifetime_override(&self) -> Option<u64> {
        match self.0.token_lifetime.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// Shorthand: `status` (with `Retry-After`) on the next `count` requests under `path`.
    pub fn status(&self, path: &str, status: u16, retry_after: Option<u32>, count: u32) -> u64 {
        self.add(FaultRule::new(path, Fault::Status { status, retry_after, body: None }).times(count))
    }

    /// Shorthand: IMDS answers 410 ("updating") to the next `count` token requests.
    pub fn imds_starting(&self, count: u32) -> u64 {
        self.status("/metadata/identity", 410, None, count)
    }

    /// Takes the first rule matching the request, counting it down.
    fn take(&self, method: &str, host: &str, path: &str) -> Option<Fault> {
        if path.starts_with("/__emulator") {
            return None;
        }
        let mut rules = self.lock();
        let idx = rules.iter().position(|r| r.matches(method, host, path))?;
        let fault = rules[idx].fault.clone();
        if let Some(c) = rules[idx].count.as_mut() {
            *c = c.saturating_sub(1);
            if *c == 0 {
                rules.remove(idx);
            }
        }
        Some(fault)
    }
}

/// A per-connection trigger the server inserts so a `Drop` fault can close the socket.
#[derive(Clone, Default)]
pub struct ConnDrop(pub Arc<tokio::sync::Notify>);

/// The fault middleware.
pub async fn fault_layer(State(st): State<EmulatorState>, req: Request, next: Next) -> Response {
    let faults = st.faults();
    let Some(fault) = faults.take(req.method().as_str(), &host_of(&req), req.uri().path()) else {
        return next.run(req).await;
    };
    let meta = req.extensions().get::<RequestMeta>().cloned();
    let path = req.uri().path().to_string();
    match fault {
        Fault::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Fault::Status { status, retry_after, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut resp = match body {
                Some(b) => (status, b).into_response(),
                None => service_error(&st, meta.as_ref(), &path, status),
            };
            if let Some(secs) = retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Fault::NonJson { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut resp = (
                status,
                format!("<html><head><title>{status}</title></head><body><h1>{status}</h1><p>The service is temporarily unavailable.</p></body></html>"),
            )
                .into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            resp
        }
        Fault::Truncate => {
            let resp = next.run(req).await;
            let (mut parts, body) = resp.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(cut.len()));
            Response::from_parts(parts, Body::from(cut))
        }
        Fault::Drop => {
            if let Some(trigger) = req.extensions().get::<ConnDrop>() {
                trigger.0.notify_one();
                // The connection task closes the socket; this response is never sent.
                std::future::pending::<()>().await;
            }
            // In-process (no connection): a body that fails, as a reset connection would.
            let stream = futures::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection dropped by fault injection",
                ))
            });
            Response::new(Body::from_stream(stream))
        }
    }
}

fn host_of(req: &Request) -> String {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default()
}

/// The error body each service sends for a throttled or failed request.
fn service_error(st: &EmulatorState, meta: Option<&RequestMeta>, path: &str, status: StatusCode) -> Response {
    let request_id = meta.map(|m| m.request_id.clone()).unwrap_or_default();
    let throttled = status == StatusCode::TOO_MANY_REQUESTS;
    let imds = path.starts_with("/metadata/identity") || path.starts_with("/msi/");
    let mut resp = if path.contains("/oauth2/") && !imds {
        let (error, code, text) = if throttled || status == StatusCode::SERVICE_UNAVAILABLE {
            ("temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
        } else {
            ("server_error", 90033, "A transient error has occurred. Please try again.")
        };
        match meta {
            Some(m) => AadError::new(error, code, text).with_status(status).respond(st, m),
            None => (status, json!({"error": error}).to_string()).into_response(),
        }
    } else if imds {
        let body = if status == StatusCode::GONE || status == StatusCode::NOT_FOUND {
            json!({"error":"service_unavailable","error_description":"The managed identity endpoint is updating; retry in up to 70 seconds."})
        } else if throttled {
            json!({"error":"too_many_requests","error_description":"The request was throttled; retry with back-off."})
        } else {
            json!({"error":"unknown","error_description":"An unexpected error occurred while fetching the token."})
        };
        (status, body.to_string()).into_response()
    } else if path.starts_with("/v1.0") || path.starts_with("/beta") {
        let date = crate::apis::graph_date(st.now_secs());
        let body = if throttled {
            json!({"error":{"code":"TooManyRequests","innerError":{"code":"429","date":date,"message":"Please retry after","request-id":request_id,"status":"429"},"message":"Please retry again later."}})
        } else {
            json!({"error":{"code":"serviceNotAvailable","message":"Service unavailable.","innerError":{"date":date,"request-id":request_id,"client-request-id":request_id}}})
        };
        (status, body.to_string()).into_response()
    } else {
        let code = if throttled { "TooManyRequests" } else { "InternalServerError" };
        let message = if throttled {
            "Number of requests exceeded the limit. Please retry after the time given in Retry-After."
        } else {
            "Encountered internal server error. Please try again."
        };
        (status, json!({"error":{"code":code,"message":message}}).to_string()).into_response()
    };
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_form_parses_and_names_bad_parts() {
        let r = FaultRule::parse_cli("path=/t/oauth2,kind=status,status=429,retry_after=5,count=2").unwrap();
        assert_eq!(r.fault, Fault::Status { status: 429, retry_after: Some(5), body: None });
        assert_eq!((r.path.as_str(), r.count), ("/t/oauth2", Some(2)));
        assert_eq!(FaultRule::parse_cli("kind=delay,ms=20").unwrap().fault, Fault::Delay { ms: 20 });
        assert!(FaultRule::parse_cli("kind=bogus").unwrap_err().contains("bogus"));
        assert!(FaultRule::parse_cli("kind=delay").unwrap_err().contains("ms="));
        assert!(FaultRule::parse_cli("status").unwrap_err().contains("key=value"));
    }

    #[test]
    fn counted_rules_expire() {
        let h = FaultHandle::default();
        h.status("/a", 500, None, 2);
        assert!(h.take("GET", "x", "/a/b").is_some());
        assert!(h.take("GET", "x", "/b").is_none());
        assert!(h.take("GET", "x", "/a").is_some());
        assert!(h.take("GET", "x", "/a").is_none(), "the rule is used up");
        assert!(h.rules().is_empty());
    }
}
