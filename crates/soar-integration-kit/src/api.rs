//! The seam between the command handlers and a Microsoft API: one [`Request`] in, a [`Reply`]
//! or the runtime's [`Error`] out. The real implementation is [`crate::MsApi`]; handler tests
//! put [`crate::testing::FakeApi`] behind it.

use async_trait::async_trait;
use serde_json::Value;
use soar_core::Error;
use soar_protocol::IntegrationContext;

/// The one request builder, from a handler to the wire: `Request::get("users").query(..)`.
/// A relative path goes below the API's versioned base; an absolute URL is a next link (which
/// [`Api::send`] accepts only on the API's own origin).
pub use soar_auth::ApiRequest as Request;

/// An answer with a 2xx status.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The parsed JSON body (`Value::Null` when empty).
    pub body: Value,
    /// The answer's headers (lower-case names), e.g. the `Location` of a 202.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A reply with no headers.
    pub fn new(status: u16, body: Value) -> Self {
        Reply { status, body, headers: Vec::new() }
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Something that runs calls to one API with a token for the configured flow.
#[async_trait]
pub trait Api: Send + Sync {
    /// Runs one call; the body is `Value::Null` when the answer has none (202, 204). An error
    /// answer is [`Error::Api`] (status, headers, body and the reference's text).
    async fn send(&self, ctx: &mut IntegrationContext, req: Request) -> Result<Reply, Error>;

    /// The API base with its version segment, ending in `/`
    /// (e.g. `https://graph.microsoft.com/v1.0/`).
    fn base_url(&self) -> Result<String, Error>;

    /// Gets (or reads from the cache) a token for this API without calling it: what a
    /// `test-module` checks under flows that need no person.
    async fn check_token(&self, ctx: &mut IntegrationContext) -> Result<(), Error>;

    /// [`Api::send`] for handlers that need only the body.
    async fn json(&self, ctx: &mut IntegrationContext, req: Request) -> Result<Value, Error> {
        Ok(self.send(ctx, req).await?.body)
    }
}

/// A shared API is an API (tests keep a handle on a fake to read what was sent).
#[async_trait]
impl<T: Api + ?Sized> Api for std::sync::Arc<T> {
    async fn send(&self, ctx: &mut IntegrationContext, req: Request) -> Result<Reply, Error> {
        (**self).send(ctx, req).await
    }

    fn base_url(&self) -> Result<String, Error> {
        (**self).base_url()
    }

    async fn check_token(&self, ctx: &mut IntegrationContext) -> Result<(), Error> {
        (**self).check_token(ctx).await
    }
}

/// Refuses an absolute URL (a next link given by a person or an API) that is not on `base`'s
/// origin over https, so the bearer token never goes to another host or over plain http.
pub fn check_next_link(base: &str, url: &str) -> Result<(), Error> {
    let origin = |u: &str| -> Option<String> {
        let rest = u.strip_prefix("https://")?;
        let host = rest.split(['/', '?', '#']).next()?;
        Some(host.to_ascii_lowercase())
    };
    match (origin(base), origin(url)) {
        (Some(want), Some(got)) if want == got => Ok(()),
        _ => Err(Error::InvalidArg {
            name: "next_page".to_owned(),
            reason: format!(
                "the link must be an https URL on this instance's API ({}); \
                 use the next-page link the previous command returned.",
                base.trim_end_matches('/')
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (base, link, accepted): same host over https only; a lookalike host, another port or
    /// plain http is refused.
    #[test]
    fn next_links_must_stay_on_the_api_origin() {
        let base = "https://graph.microsoft.com/v1.0/";
        let cases = [
            ("https://graph.microsoft.com/v1.0/users?$skiptoken=a", true),
            ("https://GRAPH.microsoft.com/v1.0/users", true),
            ("http://graph.microsoft.com/v1.0/users", false),
            ("https://graph.microsoft.com.evil.example/v1.0/users", false),
            ("https://graph.microsoft.com:8443/v1.0/users", false),
            ("https://evil.example/?https://graph.microsoft.com/", false),
            ("graph.microsoft.com/v1.0/users", false),
        ];
        for (url, ok) in cases {
            let got = check_next_link(base, url);
            assert_eq!(got.is_ok(), ok, "{url}: {got:?}");
            if let Err(e) = got {
                assert!(e.to_string().contains("https://graph.microsoft.com/v1.0"), "{e}");
            }
        }
    }
}
