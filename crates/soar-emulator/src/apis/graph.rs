//! Microsoft Graph routes. Owned by the integration engineers (msgraph-user); see `apis/mod.rs`
//! for the framework. Empty until they add their routes.

use axum::Router;

use crate::state::EmulatorState;

/// The Graph routes.
pub fn routes() -> Router<EmulatorState> {
    Router::new()
}
