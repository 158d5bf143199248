//! Microsoft identity for soar-rt integrations. It knows nothing of War Room entries.
//!
//! An integration declares an [`AuthSpec`] (prefix, flows, primary API, delegated scopes, param
//! names); per request it builds an [`MsClient`] from the instance params and asks it for a
//! token ([`MsClient::token`]) or to make an API call ([`MsClient::request`]). Everything
//! process-wide (connection pools, the single-flight token table, the clock and sleep seams)
//! lives in one [`Shared`].
//!
//! Decisions where the reference left a choice (also in ARCHITECTURE.md):
//! - Cache keys and expiry arithmetic are the reference's (`access_token`, `valid_until`,
//!   `current_refresh_token`; `<scope>_access_token` for any API other than the primary one;
//!   `valid_until = now + expires_in - 5`), so Python-written contexts keep working.
//! - In one process, concurrent requests for the same identity+grant+scope share one token
//!   request (a tokio mutex per key in a dashmap; the dashmap guard is never held across
//!   `.await`), and the in-memory copy is refreshed 60 s before `valid_until`. The key holds a
//!   SHA-256 of every value that identifies a user's grant (authorization code, PKCE verifier,
//!   device code, refresh token), and a copy is written only into a context presenting the grant
//!   it came from: two users of one app registration in one `--serve` process never share one.
//! - A 401 from an API triggers one token refresh and one retry.
//! - **Redirects.** The transport follows none. API calls follow at most [`MAX_REDIRECTS`] hops in
//!   [`MsClient::follow`]: the bearer token goes along only while every hop is https on the
//!   API URL's origin (scheme, host, port); once a hop leaves it, no later hop gets it, even back
//!   on the origin. Other origins are followed without the token for GET and HEAD only (Graph's
//!   pre-authenticated download links); a redirect that would re-send a body to another origin,
//!   an https -> http downgrade or a non-http(s) scheme is refused ([`Error::Redirect`]).
//! - **Limits.** Answers over [`http::MAX_RESPONSE_BYTES`] (64 MiB) are refused with an error
//!   naming the limit; the `timeout` param is clamped to [`MAX_TIMEOUT`] (one hour; zero, negative
//!   or not a number is an error naming the param); `Retry-After` saturates and is clamped to
//!   [`MAX_RETRY_WAIT`]; `expires_in` is clamped to [`MAX_TOKEN_LIFETIME`] (one day).
//! - **Retries.** Idempotent API calls are retried on 429, 5xx and dropped connections
//!   ([`API_RETRIES`] times); token requests on 429 and 503 only ([`flows::TOKEN_RETRIES`]
//!   times; never on a dropped connection, as a one-time code may already be spent). Every wait
//!   goes through the sleep seam.
//! - Client assertions are signed per request (fresh `jti`, `exp` = now + 600, integer times,
//!   `nbf` = `iat`), `x5t` keeps the reference's `=` padding; `x5t#S256` only with a certificate.
//! - Device code polls send both `device_code` (RFC 8628) and `code` (the reference).
//! - Authorization-code and device-code token requests always send `scope` (the reference
//!   sends only a call-level scope); the login URL keeps the reference's exact shape.
//! - An unknown `azure_cloud` value is an error naming the accepted ones (the reference falls
//!   back to worldwide silently); `Custom` without URL params is worldwide as in the reference.
//! - Environment hook-up for the emulator: see [`HttpConfig`].
//! - The seed's 37-integration flow table is data in [`matrix`] (its own decisions are there).

mod cache;
mod client;
mod cloud;
mod error;
pub mod flows;
pub mod http;
pub mod matrix;
mod spec;
pub mod testing;

pub use cache::{
    CURRENT_REFRESH_TOKEN, CacheKeys, EXPIRY_MARGIN, MAX_TOKEN_LIFETIME, REFRESH_AHEAD,
    lookup as cache_lookup, valid_until,
};
pub use client::{
    API_RETRIES, ApiRequest, MAX_REDIRECTS, MAX_RETRY_WAIT, MAX_TIMEOUT, MsClient, PlainHttp, Shared,
    api_error,
};
pub use cloud::{CLOUDS, Cloud, CloudEndpoints, CloudRow, DefenderEndpoint};
pub use error::{
    Error, TOKEN_EXPIRED_ERROR_CODES, api_text, error_parser, extract_microsoft_error, oproxy_error_text,
};
pub use flows::DeviceStart;
pub use http::HttpConfig;
pub use matrix::{CortexApp, Mark, Row};
pub use soar_protocol::{AuthFlow, IntegrationContext, Params, Secret};
pub use spec::{ApiKind, AuthSpec, ParamNames, ParamRef};
