//! A local Microsoft cloud on loopback, faithful enough that Microsoft's own client libraries
//! (Python `msal`, `azure-identity`) trust it: Entra ID (v1 and v2 token endpoints,
//! /authorize, the device flow, discovery, JWKS), Azure IMDS and the App Service managed
//! identity endpoint, the Cortex OAuth proxy, and a framework for resource APIs (Graph, ARM,
//! Defender) with bearer-token checks, a seeded data store and pagination, plus fault injection.
//!
//! It shares no code with `soar-auth` or the integrations: it is an independent implementation
//! of Microsoft's side of the wire, so a misunderstanding cannot hide by being made twice.
//!
//! In-process: `app(EmulatorState::new(EmulatorConfig::default())?)` is an axum `Router` to drive
//! with `tower::ServiceExt::oneshot`. Over the network: [`Emulator::start`] binds 127.0.0.1:0 for
//! HTTP and HTTPS (a generated test CA; one server certificate for loopback and every national
//! cloud host). The `Host` header picks the cloud (see [`clouds`]).
//!
//! Resource APIs grow by data: each `test-data/<integration>/emulator-seed.json` is compiled in
//! (by `build.rs`; no emulator edit for a new folder) and served as generic collections with the
//! same token, role, RBAC, paging and error behaviour as the hand-written routes, which win at a
//! shared path. The format is in [`apis::seeded`]; tests add seeds with
//! [`EmulatorConfig::extra_seeds`].
//!
//! Test data names the emulator's registrations as `${NAME}` placeholders: the table is
//! [`Emulator::placeholders`] and [`fill_placeholders`] resolves them over a JSON value (see
//! [`placeholders`]).
//!
//! Quick start: `cargo run -p soar-emulator -- --data target/emu` prints the HTTPS and HTTP
//! bases, the tenant, the test apps with their credentials, the CA path and a `SOAR_HOST_MAP`
//! value; `soar-emulator approve <user_code> --url <http base>` approves a device code.
//! Point msal at `https://127.0.0.1:PORT/<tenant>` with `REQUESTS_CA_BUNDLE=<ca.pem>` and instance
//! discovery off (or `instance_discovery="<https base>/common/discovery/instance"`);
//! azure-identity at `authority="https://127.0.0.1:PORT"` with `disable_instance_discovery=True`,
//! and its managed identity at `AZURE_POD_IDENTITY_AUTHORITY_HOST=<http base>` or
//! `IDENTITY_ENDPOINT=<http base>/msi/token` + `IDENTITY_HEADER`. `cargo xtask peers ms` does all of
//! this against the real libraries; `cargo xtask bench emulator` measures token throughput.
//!
//! Decisions taken where the fact sheet was silent or unconfirmed (each switchable in
//! [`config::Behaviour`] where it is a wire variant):
//! - Access tokens are v1-format for every resource (Microsoft's first-party APIs issue v1), signed
//!   RS256 by one generated key published in the JWKS; Graph tokens carry a `nonce` header but are
//!   signed normally so the emulator's own APIs can verify them.
//! - A denied device code answers `authorization_declined` (Entra's documented value; RFC 8628's
//!   `access_denied` is a switch); an expired one AADSTS70020 (observed; 70019 is a switch);
//!   `slow_down` reuses code 70016 since Entra documents no code for it.
//! - Old refresh tokens stay valid after rotation (Entra does not detect reuse); a switch makes
//!   them single-use.
//! - IMDS accepts `Metadata: true` in any letter case, since the reference module sends `True`.
//! - Resource APIs allow no clock skew on `exp`, so "token expired" tests need not wait minutes.
//! - On loopback hosts an API route accepts its API's audiences from every cloud; on a named API
//!   host only that host's own audiences (a token for the wrong cloud gets 401).
//! - `--bind` accepts loopback addresses only (127.0.0.0/8, ::1); there is no override.
//! - Identical app-only requests within the same second get the same signed token
//!   (`reuse_app_tokens_within_second`, on by default): a fresh RS256 signature per token caps the
//!   emulator near 1,900 tokens/s on 2 cores, reuse lifts it past 50,000/s (the benchmark reports
//!   both). Delegated and managed-identity tokens are always freshly signed.
//! - The Cortex XSOAR public client of Azure Storage (`config::CORTEX_STORAGE_APP_ID`) lives in
//!   a second tenant standing for its publisher, multi-tenant, as a customer tenant sees Palo
//!   Alto's app; the OAuth proxy knows the resource of each Cortex app name whose API is not
//!   Graph (`proxy_app_resources`), as the real proxy knows its apps.
//! - A Kusto cluster is its own audience; the public `help.kusto.windows.net` cluster stands for
//!   any customer cluster (one audience, not a `*.kusto.windows.net` pattern).

pub mod aad;
pub mod apis;
pub mod clouds;
pub mod config;
pub mod faults;
pub mod identity;
pub mod imds;
pub mod keys;
pub mod meta;
pub mod oproxy;
pub mod placeholders;
pub mod server;
pub mod state;
pub mod testing;

use axum::Router;
use axum::middleware::from_fn_with_state;

pub use clouds::ApiKind;
pub use config::EmulatorConfig;
pub use faults::{Fault, FaultHandle, FaultRule};
pub use placeholders::{Placeholders, fill_placeholders};
pub use server::Emulator;
pub use state::{EmulatorState, LogEntry, ManualClock, RequestLog};

/// The emulator's error type.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration problem; the text names the field and what to change.
    #[error("configuration error: {0}")]
    Config(String),
    /// Key or certificate generation or parsing failed.
    #[error("crypto error: {0}")]
    Crypto(String),
    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The whole emulator as one router (identity, IMDS, OAuth proxy, resource APIs, test endpoints),
/// with the fault and request-log layers.
pub fn app(state: EmulatorState) -> Router {
    Router::new()
        .merge(identity::routes())
        .merge(imds::routes())
        .merge(oproxy::routes())
        .merge(apis::routes())
        .merge(testing::routes())
        // Seeded collections are the fallback, so every hand-written route wins over them.
        .fallback(apis::seeded::dispatch)
        .layer(from_fn_with_state(state.clone(), faults::fault_layer))
        .layer(from_fn_with_state(state.clone(), meta::meta_layer))
        .with_state(state)
}
