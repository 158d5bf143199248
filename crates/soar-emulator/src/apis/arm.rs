//! Azure Resource Manager routes. Owned by the integration engineers (azure-storage, Sentinel);
//! see `apis/mod.rs` for the framework. Empty until they add their routes.

use axum::Router;

use crate::state::EmulatorState;

/// The ARM routes.
pub fn routes() -> Router<EmulatorState> {
    Router::new()
}
