//! Microsoft identity platform (Entra ID): token endpoints, /authorize, the device flow,
//! OpenID discovery, JWKS and instance discovery.

pub mod authorize;
pub mod discovery;
pub mod issue;
pub mod token;

use axum::Router;
use axum::routing::{get, post};

use crate::aad::{AadError, msg};
use crate::config::TenantConfig;
use crate::state::EmulatorState;

/// A parsed `application/x-www-form-urlencoded` body (or query). The first non-empty value of a
/// name wins; unknown names are kept and ignored.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses form bytes.
    pub fn parse(bytes: &[u8]) -> Form {
        Form(url::form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }
}

/// The tenant segment of a URL: a configured tenant, or one of the multi-tenant aliases.
#[derive(Debug, Clone, Copy)]
pub enum TenantRef<'a> {
    /// `common`, `organizations` or `consumers`.
    Alias(&'static str),
    /// A configured tenant (by id or verified domain).
    Tenant(&'a TenantConfig),
}

/// Resolves a tenant segment; unknown tenants are AADSTS90002.
pub fn resolve_tenant<'a>(st: &'a EmulatorState, seg: &str) -> Result<TenantRef<'a>, AadError> {
    for alias in ["common", "organizations", "consumers"] {
        if seg.eq_ignore_ascii_case(alias) {
            return Ok(TenantRef::Alias(alias));
        }
    }
    st.config().tenant(seg).map(TenantRef::Tenant).ok_or_else(|| msg::unknown_tenant(seg))
}

/// The identity routes.
pub fn routes() -> Router<EmulatorState> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::token_v2))
        .route("/{tenant}/oauth2/token", post(token::token_v1))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            get(authorize::authorize_get).post(authorize::authorize_v2_post),
        )
        .route("/{tenant}/oauth2/authorize", get(authorize::authorize_get))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(authorize::devicecode_v2))
        .route("/{tenant}/oauth2/devicecode", post(authorize::devicecode_v1))
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::openid_v2))
        .route("/{tenant}/.well-known/openid-configuration", get(discovery::openid_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::jwks))
        .route("/{tenant}/discovery/{what}", get(discovery::discovery_misc))
}
