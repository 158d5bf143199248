//! The token cache: the reference's integration-context keys (msapi.md §4) and the process-wide
//! single-flight table used in `--serve` mode.
//!
//! Expiry arithmetic is the reference's, so contexts written by the Python integrations keep
//! working both ways: `valid_until = now + expires_in - 5` (the 5 s margin is applied only when
//! `expires_in > 5`), and a cached token is used while `epoch() < valid_until`.
//!
//! A server's `expires_in` is clamped to `0..=`[`MAX_TOKEN_LIFETIME`] before the arithmetic, and
//! the addition saturates, so an answer such as `expires_in: 1e300` cannot store a negative (or
//! wrapped) `valid_until`: the token is simply refreshed after a day at the latest.
//!
//! In one process the in-memory copy is refreshed [`REFRESH_AHEAD`] seconds before its
//! `valid_until`, so concurrent commands of a long-running `--serve` process do not all meet the
//! expiry together. Each in-memory copy records the hash of the grant it came from
//! ([`MemToken::grant`]); it is only ever written into a context that presents that same grant.

use serde_json::{Value, json};
use soar_protocol::{IntegrationContext, Secret};

/// Context key of the refresh token (always overwritten with what the last token call returned).
pub const CURRENT_REFRESH_TOKEN: &str = "current_refresh_token";
/// The reference's expiry safety margin, seconds.
pub const EXPIRY_MARGIN: i64 = 5;
/// The in-memory (single-flight) copy is refreshed this many seconds before `valid_until`.
pub const REFRESH_AHEAD: i64 = 60;
/// The longest lifetime believed from a server's `expires_in` (one day; Entra access tokens live
/// about an hour, 28 h at most with continuous access evaluation, where refreshing earlier is harmless).
pub const MAX_TOKEN_LIFETIME: i64 = 86_400;

/// The context keys of one cached token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKeys {
    /// Where the token goes (`access_token` or `<scope>_access_token`).
    pub token: String,
    /// Where its validity goes (`valid_until` or `<scope>_valid_until`).
    pub valid_until: String,
}

impl CacheKeys {
    /// Plain keys for the primary API; `<scope>_...` keys for any other scope (the reference's
    /// per-scope keys, e.g. `https://graph.microsoft.com/.default_access_token`).
    pub fn for_scope(scope: Option<&str>) -> CacheKeys {
        match scope {
            None => CacheKeys { token: "access_token".into(), valid_until: "valid_until".into() },
            Some(s) => {
                CacheKeys { token: format!("{s}_access_token"), valid_until: format!("{s}_valid_until") }
            }
        }
    }
}

/// `valid_until` for a token obtained at `now` that lives `expires_in` seconds. `expires_in` is
/// clamped to `0..=MAX_TOKEN_LIFETIME` and the sum saturates, so no answer can overflow it.
pub fn valid_until(now: i64, expires_in: i64) -> i64 {
    let expires_in = expires_in.clamp(0, MAX_TOKEN_LIFETIME);
    let life = if expires_in - EXPIRY_MARGIN > 0 { expires_in - EXPIRY_MARGIN } else { expires_in };
    now.saturating_add(life)
}

/// The cached token when it is still valid at `now` (no I/O).
pub fn lookup(ctx: &IntegrationContext, keys: &CacheKeys, now: i64) -> Option<Secret> {
    let token = ctx.get(&keys.token).and_then(Value::as_str).filter(|s| !s.is_empty())?;
    let until = ctx.get(&keys.valid_until).and_then(as_i64).filter(|v| *v != 0)?;
    (now < until).then(|| Secret::new(token))
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

/// Writes a token: the token key, the validity key and `current_refresh_token`.
pub fn store(
    ctx: &mut IntegrationContext,
    keys: &CacheKeys,
    token: &Secret,
    valid_until: i64,
    refresh: &Secret,
) {
    ctx.set(keys.token.clone(), Value::String(token.expose().to_owned()));
    ctx.set(keys.valid_until.clone(), json!(valid_until));
    ctx.set(CURRENT_REFRESH_TOKEN, Value::String(refresh.expose().to_owned()));
}

/// One in-memory cached token (single-flight slot).
#[derive(Clone)]
pub struct MemToken {
    /// The token.
    pub token: Secret,
    /// Its `valid_until`.
    pub valid_until: i64,
    /// The refresh token that came with it.
    pub refresh: Secret,
    /// When it was obtained (epoch seconds).
    pub obtained: i64,
    /// The hash of the grant material it was obtained with (empty for app-only flows). A copy
    /// is handed to a request only when the request presents the same grant.
    pub grant: String,
}

impl MemToken {
    /// Fresh enough to hand out at `now`: more than [`REFRESH_AHEAD`] seconds (at most half its
    /// lifetime, so short-lived tokens are not refreshed on every call) before `valid_until`.
    pub fn fresh_at(&self, now: i64) -> bool {
        let ahead = REFRESH_AHEAD.min(self.valid_until.saturating_sub(self.obtained) / 2).max(0);
        now < self.valid_until.saturating_sub(ahead)
    }
}
