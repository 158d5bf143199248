//! The seam between the command handlers and a Microsoft API: one call in, status and JSON
//! out. The real implementation is [`crate::client::MsApi`]; tests can put anything that
//! speaks the API behind it.

use async_trait::async_trait;
use serde_json::Value;
use soar_protocol::IntegrationContext;

/// The HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl From<Method> for http::Method {
    fn from(m: Method) -> Self {
        match m {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Patch => http::Method::PATCH,
            Method::Delete => http::Method::DELETE,
        }
    }
}

/// One API call. `path` is relative to the API's versioned base unless it is an absolute URL
/// (a next link).
#[derive(Debug, Clone)]
pub struct Call {
    /// The method.
    pub method: Method,
    /// The path below the API base (already percent-encoded), or an absolute next link.
    pub path: String,
    /// Query parameters (encoded by the client).
    pub query: Vec<(&'static str, String)>,
    /// Extra request headers.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: Option<Value>,
}

impl Call {
    /// A call without query, headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Call { method, path: path.into(), query: Vec::new(), headers: Vec::new(), body: None }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((key, value.into()));
        self
    }

    /// Sets the JSON body.
    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }
}

/// An answer with a 2xx status.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The parsed JSON body (`Value::Null` when empty).
    pub body: Value,
}

/// A failed call: its status when the API answered, the answer's body, and the text a person
/// reads (the reference's wording, e.g. `Error in API call [404] - Not Found\n{...}`).
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// The answer's body text, when there was one.
    pub body: Option<String>,
    /// The full message.
    pub text: String,
}

impl ApiError {
    /// True for a 404.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Something that runs calls to one API with a token for the configured flow.
#[async_trait]
pub trait Api: Send + Sync {
    /// Runs one call; the body is `Value::Null` when the answer has none (202, 204).
    async fn send(&self, ctx: &mut IntegrationContext, call: Call) -> Result<Reply, ApiError>;

    /// The API base with its version segment, ending in `/`
    /// (e.g. `https://graph.microsoft.com/v1.0/`).
    fn base_url(&self) -> Result<String, ApiError>;

    /// [`Api::send`] for handlers that need only the body.
    async fn send_json(&self, ctx: &mut IntegrationContext, call: Call) -> Result<Value, ApiError> {
        Ok(self.send(ctx, call).await?.body)
    }
}
