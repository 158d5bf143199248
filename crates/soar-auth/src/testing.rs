//! Test doubles for the HTTP, clock and sleep seams: a scripted transport (a queue of answers
//! plus a record of every request) and a manual clock whose sleeps advance it. Public so that
//! integration crates can test their commands without a network.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::Shared;
use crate::http::{Clock, HttpConfig, HttpRequest, HttpResponse, Sleeper, Transport};

/// One scripted answer: an optional check of the request, then a response or a transport error.
pub struct Step {
    /// `(method, url prefix)` the request must have, when given.
    pub expect: Option<(http::Method, String)>,
    /// The answer.
    pub answer: Result<HttpResponse, String>,
}

/// A transport that answers from a queue and records requests.
#[derive(Default)]
pub struct MockTransport {
    steps: Mutex<VecDeque<Step>>,
    seen: Mutex<Vec<HttpRequest>>,
}

impl MockTransport {
    /// An empty script.
    pub fn new() -> Arc<Self> {
        Arc::new(MockTransport::default())
    }

    /// Queues a JSON answer for a request of `method` whose URL starts with `url`.
    pub fn expect(&self, method: http::Method, url: &str, status: u16, body: Value) -> &Self {
        self.push(Step {
            expect: Some((method, url.to_owned())),
            answer: Ok(HttpResponse::json(status, &body)),
        })
    }

    /// Queues any answer for the next request.
    pub fn respond(&self, resp: HttpResponse) -> &Self {
        self.push(Step { expect: None, answer: Ok(resp) })
    }

    /// Queues a transport failure.
    pub fn fail(&self, err: &str) -> &Self {
        self.push(Step { expect: None, answer: Err(err.to_owned()) })
    }

    fn push(&self, s: Step) -> &Self {
        if let Ok(mut q) = self.steps.lock() {
            q.push_back(s);
        }
        self
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<HttpRequest> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Answers not used yet.
    pub fn remaining(&self) -> usize {
        self.steps.lock().map(|q| q.len()).unwrap_or(0)
    }
}

#[async_trait]
impl Transport for MockTransport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        if let Ok(mut s) = self.seen.lock() {
            s.push(req.clone());
        }
        let step = self.steps.lock().ok().and_then(|mut q| q.pop_front());
        let Some(step) = step else {
            return Err(format!("MockTransport: no answer scripted for {} {}", req.method, req.url));
        };
        if let Some((m, prefix)) = &step.expect
            && (m != req.method || !req.url.starts_with(prefix.as_str()))
        {
            return Err(format!("MockTransport: expected {m} {prefix}..., got {} {}", req.method, req.url));
        }
        step.answer
    }
}

/// A manual clock; sleeping advances it and records the duration.
#[derive(Default)]
pub struct FakeTime {
    now: Mutex<f64>,
    sleeps: Mutex<Vec<Duration>>,
}

impl FakeTime {
    /// A clock at `now` (Unix seconds).
    pub fn at(now: f64) -> Arc<Self> {
        Arc::new(FakeTime { now: Mutex::new(now), sleeps: Mutex::new(Vec::new()) })
    }

    /// Sets the time.
    pub fn set(&self, now: f64) {
        if let Ok(mut n) = self.now.lock() {
            *n = now;
        }
    }

    /// Every sleep so far.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Clock for FakeTime {
    fn now(&self) -> f64 {
        self.now.lock().map(|n| *n).unwrap_or(0.0)
    }
}

#[async_trait]
impl Sleeper for FakeTime {
    async fn sleep(&self, d: Duration) {
        if let Ok(mut s) = self.sleeps.lock() {
            s.push(d);
        }
        if let Ok(mut n) = self.now.lock() {
            *n += d.as_secs_f64();
        }
    }
}

/// A [`Shared`] over a mock transport and a fake clock.
pub fn shared(transport: Arc<MockTransport>, time: Arc<FakeTime>, config: HttpConfig) -> Arc<Shared> {
    Shared::with_parts(transport, time.clone(), time, config)
}
