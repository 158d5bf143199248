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
//! - In one process, concurrent requests for the same identity+scope share one token request
//!   (a tokio mutex per key in a dashmap; the dashmap guard is never held across `.await`), and
//!   the in-memory copy is refreshed 60 s before `valid_until`.
//! - A 401 from an API triggers one token refresh and one retry.
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
    CURRENT_REFRESH_TOKEN, CacheKeys, EXPIRY_MARGIN, REFRESH_AHEAD, lookup as cache_lookup, valid_until,
};
pub use client::{API_RETRIES, ApiRequest, MAX_RETRY_WAIT, MsClient, Shared, api_error};
pub use cloud::{CLOUDS, Cloud, CloudEndpoints, CloudRow, DefenderEndpoint};
pub use error::{Error, TOKEN_EXPIRED_ERROR_CODES, error_parser, extract_microsoft_error, oproxy_error_text};
pub use flows::DeviceStart;
pub use http::HttpConfig;
pub use matrix::{CortexApp, Mark, Row};
pub use soar_protocol::{AuthFlow, IntegrationContext, Params, Secret};
pub use spec::{ApiKind, AuthSpec, ParamNames, ParamRef};
