//! The integration-context store: versioned, atomic, compare-and-set, with a token lease.
//!
//! Two backends implement [`ContextStore`]: [`FileStore`] (the embedded default, one JSON file per
//! instance written with fsync + rename under an `flock`) and [`RedisStore`] (shared by engines on
//! many machines, CAS in a Lua script). Both give the same guarantees:
//!
//! * **versioned**: every stored context has a version, 0 before the first write, +1 per write;
//! * **atomic**: a reader sees a whole old context or a whole new one;
//! * **compare-and-set**: a write names the version it was based on and is refused if another
//!   write came first. [`update_with_retries`] then re-reads and re-applies the command's own
//!   changes (a key-level three-way merge), like the reference's
//!   `set_to_integration_context_with_retries` re-reads and merges its update;
//! * **lease**: a short per-instance lease so that, when the context holds no valid token,
//!   concurrent engines let one run fetch it and the others reuse it ([`needs_lease`]). A lease
//!   that can expire (Redis) is renewed while the run lasts and *fences* the run's writes: a
//!   write made under a lease that another engine has since taken is refused ([`Cas::LeaseLost`]);
//! * **bounded**: versions never wrap (a write on version `i64::MAX` is refused), and
//!   [`update_with_retries`] refuses a context larger than [`CONTEXT_LIMIT`], which could not
//!   be sent back to the integration.

mod file;
pub mod incidents;
mod journal;
mod redis_store;

use std::time::Duration;

use serde_json::Value;
use soar_protocol::Object;

pub use file::FileStore;
pub use incidents::{Committed, FetchState, IncidentCas, StoredIncident};
pub use redis_store::RedisStore;

use crate::error::{EngineError, Result};

/// A context with the version it was read at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Versioned {
    /// 0 when nothing was ever stored.
    pub version: i64,
    /// The context object.
    pub context: Object,
}

/// The outcome of a compare-and-set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cas {
    /// Written; the new version.
    Stored(i64),
    /// Another write came first; the version now stored.
    Conflict(i64),
    /// The write was made under a lease that is no longer held (it expired and another engine
    /// may have taken it), so it was refused whatever the version.
    LeaseLost,
}

/// A held lease; dropping it releases it.
pub trait Lease: Send {
    /// The token that fences writes made under this lease: a store refuses a write whose token
    /// is no longer the lease's current holder. `None` for leases that cannot be lost while
    /// their holder lives (an `flock`).
    fn fence(&self) -> Option<&str> {
        None
    }
}

/// The largest integration request the integrations read (`soar_core::MAX_REQUEST_BYTES`,
/// 16 MiB); a bigger request is answered with an error and nothing else.
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The largest integration context (compact JSON) the engine stores: the request limit less
/// 1 MiB for the params, args and last run that travel with it. A bigger context could not be
/// sent back, so every later command of the instance would fail.
pub const CONTEXT_LIMIT: usize = MAX_REQUEST_BYTES - 1024 * 1024;

/// The largest last run (compact JSON) the engine stores, half of the 1 MiB that
/// [`CONTEXT_LIMIT`] leaves for what travels with the context, so that a fetch request always
/// fits. A last run holds a fetch's position (a time, an offset, some ids): a bigger one is an
/// integration's fault, refused when a fetch returns it rather than stored and sent back.
pub const LAST_RUN_LIMIT: usize = 512 * 1024;

/// The size of `context` as compact JSON (what a request carries), without building the text.
pub fn json_size(context: &Object) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a map of JSON values into a counter cannot fail.
    let _ = serde_json::to_writer(&mut count, context);
    count.0
}

/// The version a write on `expected` stores: `expected + 1`, refused at `i64::MAX`.
pub fn next_version(instance: &str, expected: i64) -> Result<i64> {
    expected.checked_add(1).ok_or_else(|| EngineError::VersionExhausted { instance: instance.to_owned() })
}

/// Where integration contexts and fetch state live.
pub trait ContextStore: Send + Sync {
    /// A short description for messages (`file store at ...`, `redis://host:port`).
    fn describe(&self) -> String;
    /// Reads the context of `instance` (version 0 and `{}` when none is stored).
    fn load(&self, instance: &str) -> Result<Versioned>;
    /// Stores `context` if the stored version is still `expected` and, when `lease` is given,
    /// the lease is still held (fencing: [`Cas::LeaseLost`] otherwise).
    fn compare_and_set(
        &self,
        instance: &str,
        expected: i64,
        context: &Object,
        lease: Option<&dyn Lease>,
    ) -> Result<Cas>;
    /// Deletes everything stored for `instance`.
    fn remove(&self, instance: &str) -> Result<()>;
    /// The store's own clock in epoch milliseconds, for a store that engines on several hosts
    /// share (Redis's `TIME`): times one engine writes and another reads (a fetch cycle's start,
    /// the mirroring's `lastUpdate`, the order of fetched incidents) then come from one clock,
    /// whatever the engines' clocks say. `None`: use the engine's clock (the file store is on
    /// one host).
    fn now_ms(&self) -> Result<Option<i64>> {
        Ok(None)
    }
    /// The last run a fetch stored, if any.
    fn last_run(&self, instance: &str) -> Result<Option<Object>>;
    /// Stores the last run of a fetch (last writer wins, as in the reference).
    fn set_last_run(&self, instance: &str, last_run: &Object) -> Result<()>;
    /// Tries to take the instance's lease for up to `wait`; `None` when it stayed taken.
    /// A lease held by a crashed engine is freed by the OS (files) or after `ttl` (Redis); a
    /// Redis lease is renewed every `ttl / 3` until it is dropped.
    fn acquire_lease(&self, instance: &str, ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>>;
    /// The context version a run has proven warm (a run on it changed nothing).
    fn warm_version(&self, instance: &str) -> Result<Option<i64>>;
    /// Records that a run on `version` changed nothing.
    fn set_warm_version(&self, instance: &str, version: i64) -> Result<()>;
    /// The context and the warm version together (one round trip where the backend can).
    fn load_with_warm(&self, instance: &str) -> Result<(Versioned, Option<i64>)> {
        Ok((self.load(instance)?, self.warm_version(instance)?))
    }

    /// Tries to take the instance's *fetch* lease (held by the engine running its fetch cycle;
    /// not the token lease, which a run inside the cycle may take too) for up to `wait`.
    fn acquire_fetch_lease(
        &self,
        instance: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<Box<dyn Lease>>>;
    /// The fetch schedule's state (all zero when no cycle ever ran).
    fn fetch_state(&self, instance: &str) -> Result<FetchState>;
    /// Stores the fetch schedule's state, fenced by the fetch lease; `false` when it was lost.
    fn set_fetch_state(&self, instance: &str, state: &FetchState, lease: Option<&dyn Lease>) -> Result<bool>;
    /// Stores a fetched page and the last run that follows it, both or neither, fenced by the
    /// fetch lease; incidents whose key is already stored are left as they are.
    fn commit_fetch(
        &self,
        instance: &str,
        incidents: &[StoredIncident],
        last_run: Option<&Object>,
        lease: Option<&dyn Lease>,
    ) -> Result<Committed>;
    /// One stored incident.
    fn incident(&self, instance: &str, id: &str) -> Result<Option<StoredIncident>>;
    /// Every stored incident of `instance`, in the order they were fetched.
    fn incidents(&self, instance: &str) -> Result<Vec<StoredIncident>>;
    /// The stored incidents with local changes not yet mirrored out (`changed`), without
    /// reading the others into memory.
    fn pending_out(&self, instance: &str) -> Result<Vec<StoredIncident>>;
    /// Replaces the stored `expected` incident by `new` if it is still stored as `expected`
    /// (and, with a lease, the lease is still held).
    fn swap_incident(
        &self,
        instance: &str,
        expected: &StoredIncident,
        new: &StoredIncident,
        lease: Option<&dyn Lease>,
    ) -> Result<IncidentCas>;
}

/// Applies `change` to the stored incident `id` of `instance` with compare-and-set retries
/// (a person's `soar incident update` and a mirroring cycle may change it at once); `change`
/// returns `false` to leave it as it is. Returns the incident as stored, `None` when there is
/// no such incident, and [`EngineError::LeaseLost`] when the lease was lost.
pub fn modify_incident(
    store: &dyn ContextStore,
    instance: &str,
    id: &str,
    lease: Option<&dyn Lease>,
    change: &mut dyn FnMut(&mut StoredIncident) -> bool,
) -> Result<Option<StoredIncident>> {
    let Some(mut current) = store.incident(instance, id)? else { return Ok(None) };
    for _ in 0..RetryPolicy::default().attempts {
        let mut new = current.clone();
        if !change(&mut new) || new == current {
            return Ok(Some(current));
        }
        match store.swap_incident(instance, &current, &new, lease)? {
            IncidentCas::Stored => return Ok(Some(new)),
            IncidentCas::LeaseLost => return Err(EngineError::LeaseLost { instance: instance.to_owned() }),
            IncidentCas::Conflict(None) => return Ok(None),
            IncidentCas::Conflict(Some(now)) => {
                std::thread::sleep(Duration::from_millis(1 + rand::random::<u64>() % 20));
                current = *now;
            }
        }
    }
    Err(EngineError::ContextConflict {
        instance: instance.to_owned(),
        attempts: RetryPolicy::default().attempts,
    })
}

/// What a command changed in the context: keys set (new or different) and keys removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Keys whose value is new or different, with the new value.
    pub set: Vec<(String, Value)>,
    /// Keys the command removed.
    pub removed: Vec<String>,
}

impl Changes {
    /// The changes that turn `base` into `new`.
    pub fn between(base: &Object, new: &Object) -> Changes {
        let set = new
            .iter()
            .filter(|(k, v)| base.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let removed = base.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
        Changes { set, removed }
    }

    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.removed.is_empty()
    }

    /// Applies the changes to `current` (keys keep their position; new keys go last).
    pub fn apply(&self, current: &Object) -> Object {
        let mut out = current.clone();
        for (k, v) in &self.set {
            out.insert(k.clone(), v.clone());
        }
        for k in &self.removed {
            out.shift_remove(k);
        }
        out
    }
}

/// How [`update_with_retries`] retries on a conflict.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (the reference uses 3; many engines on one instance need more).
    pub attempts: u32,
    /// The longest random pause between attempts (the reference sleeps 1-100 ms).
    pub max_pause: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { attempts: 25, max_pause: Duration::from_millis(50) }
    }
}

/// The result of [`update_with_retries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Updated {
    /// The version now stored (unchanged when the update was already there).
    pub version: i64,
    /// How many compare-and-set attempts were made (0 when nothing had to be written).
    pub attempts: u32,
}

/// Stores what a command changed (`base` -> `new`) on top of whatever is stored now.
///
/// The first attempt writes `new` if `base` is still current. On a conflict the stored context is
/// re-read, the command's own [`Changes`] are applied to it and the result is written with the
/// fresh version, after a random pause; this repeats up to `policy.attempts` times. Every write
/// is fenced by `lease` when the run holds one, and a context larger than [`CONTEXT_LIMIT`] is
/// refused before it is written (what is stored stays as it was).
pub fn update_with_retries(
    store: &dyn ContextStore,
    instance: &str,
    base: &Versioned,
    new: &Object,
    policy: RetryPolicy,
    pause: &dyn Fn(Duration),
    lease: Option<&dyn Lease>,
) -> Result<Updated> {
    let changes = Changes::between(&base.context, new);
    if changes.is_empty() {
        return Ok(Updated { version: base.version, attempts: 0 });
    }
    let mut current = base.clone();
    for attempt in 1..=policy.attempts {
        let target = changes.apply(&current.context);
        if target == current.context {
            // Another engine already stored exactly this change (e.g. the same token).
            return Ok(Updated { version: current.version, attempts: attempt - 1 });
        }
        let size = json_size(&target);
        if size > CONTEXT_LIMIT {
            return Err(EngineError::ContextTooLarge {
                instance: instance.to_owned(),
                size,
                limit: CONTEXT_LIMIT,
                kept: current.version,
            });
        }
        match store.compare_and_set(instance, current.version, &target, lease)? {
            Cas::Stored(version) => return Ok(Updated { version, attempts: attempt }),
            Cas::LeaseLost => return Err(EngineError::LeaseLost { instance: instance.to_owned() }),
            Cas::Conflict(_) => {
                if attempt < policy.attempts {
                    let max = policy.max_pause.as_millis().max(1) as u64;
                    pause(Duration::from_millis(1 + rand::random::<u64>() % max));
                }
                current = store.load(instance)?;
            }
        }
    }
    Err(EngineError::ContextConflict { instance: instance.to_owned(), attempts: policy.attempts })
}

/// Seconds of validity a token must still have for a run to skip the lease.
pub const TOKEN_MARGIN_SECS: i64 = 60;

/// Whether a run on `stored` should take the instance lease before it starts.
///
/// The token cache of the reference keeps integer epoch seconds under `valid_until` and
/// `<scope>_valid_until`. When the context has such keys, it is warm only while every one of
/// them is more than [`TOKEN_MARGIN_SECS`] away, so at expiry one engine refreshes while the
/// others wait and then reuse its token. A context without such keys is warm once a run on its
/// exact version finished without changing it (`warm_version`), so integrations that write their
/// context on every run are serialized and never lose an update.
pub fn needs_lease(stored: &Versioned, warm_version: Option<i64>, now_epoch: i64) -> bool {
    let expiries: Vec<Option<i64>> = stored
        .context
        .iter()
        .filter(|(k, _)| *k == "valid_until" || k.ends_with("_valid_until"))
        .map(|(_, v)| epoch_of(v))
        .collect();
    if !expiries.is_empty() {
        // Saturating: an expiry is whatever number the integration stored.
        return expiries.iter().any(|e| e.is_none_or(|t| t.saturating_sub(now_epoch) <= TOKEN_MARGIN_SECS));
    }
    warm_version != Some(stored.version)
}

/// An epoch-seconds value stored as a number or a numeric string.
fn epoch_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<f64>().ok().map(|f| f as i64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Mutex;

    fn obj(v: Value) -> Object {
        match v {
            Value::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn changes_are_a_key_level_diff() {
        // (base, new, current, expected merge)
        let cases = [
            (json!({"a": 1}), json!({"a": 2}), json!({"a": 1, "b": 9}), json!({"a": 2, "b": 9})),
            (json!({"a": 1, "r": 0}), json!({"a": 1}), json!({"a": 5, "r": 0}), json!({"a": 5})),
            (json!({}), json!({"tok": "x"}), json!({"other": true}), json!({"other": true, "tok": "x"})),
            (json!({"a": 1}), json!({"a": 1}), json!({"a": 7}), json!({"a": 7})),
        ];
        for (base, new, current, expected) in cases {
            let c = Changes::between(&obj(base.clone()), &obj(new.clone()));
            assert_eq!(
                Value::Object(c.apply(&obj(current.clone()))),
                expected,
                "{base} -> {new} on {current}"
            );
        }
    }

    #[test]
    fn lease_decision() {
        let v = |ctx: Value, version| Versioned { version, context: obj(ctx) };
        let now = 1_000_000;
        // (stored, warm version, needs lease, why)
        let cases = [
            (v(json!({}), 0), None, true, "never proven warm"),
            (v(json!({"n": 1}), 3), Some(3), false, "proven warm at this version"),
            (v(json!({"n": 1}), 4), Some(3), true, "written since it was proven"),
            (v(json!({"access_token": "t", "valid_until": now + 3000}), 2), None, false, "valid token"),
            (v(json!({"valid_until": now + 10}), 2), Some(2), true, "token about to expire"),
            (v(json!({"valid_until": format!("{}", now + 3000)}), 2), None, false, "numeric string"),
            (
                v(json!({"valid_until": now + 3000, "x_valid_until": now - 1}), 2),
                Some(2),
                true,
                "one expired",
            ),
            (v(json!({"valid_until": "soon"}), 2), Some(2), true, "unreadable expiry"),
            (v(json!({"valid_until": i64::MIN}), 2), Some(2), true, "the smallest expiry"),
            (v(json!({"valid_until": i64::MAX}), 2), Some(2), false, "the largest expiry"),
            (v(json!({"valid_until": -1e300}), 2), Some(2), true, "a float far in the past"),
        ];
        for (stored, warm, want, why) in cases {
            assert_eq!(needs_lease(&stored, warm, now), want, "{why}");
        }
    }

    /// An in-memory store whose first `conflicts` writes lose to a simulated other engine.
    struct Racy {
        state: Mutex<(Versioned, u32)>,
    }

    impl ContextStore for Racy {
        fn describe(&self) -> String {
            "racy".into()
        }
        fn load(&self, _: &str) -> Result<Versioned> {
            Ok(self.state.lock().unwrap().0.clone())
        }
        fn compare_and_set(
            &self,
            _: &str,
            expected: i64,
            context: &Object,
            _: Option<&dyn Lease>,
        ) -> Result<Cas> {
            let mut s = self.state.lock().unwrap();
            if s.1 > 0 {
                // The other engine writes its own key first.
                s.1 -= 1;
                let n = s.0.version;
                s.0.context.insert(format!("other{n}"), json!(n));
                s.0.version += 1;
            }
            if s.0.version != expected {
                return Ok(Cas::Conflict(s.0.version));
            }
            s.0 = Versioned { version: expected + 1, context: context.clone() };
            Ok(Cas::Stored(expected + 1))
        }
        fn remove(&self, _: &str) -> Result<()> {
            Ok(())
        }
        fn last_run(&self, _: &str) -> Result<Option<Object>> {
            Ok(None)
        }
        fn set_last_run(&self, _: &str, _: &Object) -> Result<()> {
            Ok(())
        }
        fn acquire_lease(&self, _: &str, _: Duration, _: Duration) -> Result<Option<Box<dyn Lease>>> {
            Ok(None)
        }
        fn warm_version(&self, _: &str) -> Result<Option<i64>> {
            Ok(None)
        }
        fn set_warm_version(&self, _: &str, _: i64) -> Result<()> {
            Ok(())
        }
        // The fetch side is not what these tests are about: it answers as an empty store.
        fn acquire_fetch_lease(&self, _: &str, _: Duration, _: Duration) -> Result<Option<Box<dyn Lease>>> {
            Ok(None)
        }
        fn fetch_state(&self, _: &str) -> Result<FetchState> {
            Ok(FetchState::default())
        }
        fn set_fetch_state(&self, _: &str, _: &FetchState, _: Option<&dyn Lease>) -> Result<bool> {
            Ok(true)
        }
        fn commit_fetch(
            &self,
            _: &str,
            _: &[StoredIncident],
            _: Option<&Object>,
            _: Option<&dyn Lease>,
        ) -> Result<Committed> {
            Ok(Committed::Stored { added: 0, duplicates: 0 })
        }
        fn incident(&self, _: &str, _: &str) -> Result<Option<StoredIncident>> {
            Ok(None)
        }
        fn incidents(&self, _: &str) -> Result<Vec<StoredIncident>> {
            Ok(Vec::new())
        }
        fn pending_out(&self, _: &str) -> Result<Vec<StoredIncident>> {
            Ok(Vec::new())
        }
        fn swap_incident(
            &self,
            _: &str,
            _: &StoredIncident,
            _: &StoredIncident,
            _: Option<&dyn Lease>,
        ) -> Result<IncidentCas> {
            Ok(IncidentCas::Conflict(None))
        }
    }

    #[test]
    fn conflicts_are_merged_and_retried() {
        let store = Racy { state: Mutex::new((Versioned::default(), 2)) };
        let base = Versioned::default();
        let pauses = Mutex::new(0);
        let new = obj(json!({"token": "t"}));
        let up = update_with_retries(
            &store,
            "i",
            &base,
            &new,
            RetryPolicy::default(),
            &|_| *pauses.lock().unwrap() += 1,
            None,
        )
        .unwrap();
        assert_eq!(up, Updated { version: 3, attempts: 3 });
        assert_eq!(*pauses.lock().unwrap(), 2);
        let stored = store.load("i").unwrap();
        assert_eq!(Value::Object(stored.context), json!({"other0": 0, "other1": 1, "token": "t"}));
    }

    #[test]
    fn gives_up_after_the_last_attempt() {
        let store = Racy { state: Mutex::new((Versioned::default(), 100)) };
        let policy = RetryPolicy { attempts: 3, max_pause: Duration::from_millis(1) };
        let err = update_with_retries(
            &store,
            "i",
            &Versioned::default(),
            &obj(json!({"k": 1})),
            policy,
            &|_| {},
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("3 attempts"), "{err}");
    }

    #[test]
    fn versions_never_wrap() {
        assert_eq!(next_version("i", 41).unwrap(), 42);
        let err = next_version("i", i64::MAX).unwrap_err();
        assert!(matches!(err, EngineError::VersionExhausted { .. }), "{err}");
    }

    #[test]
    fn a_context_too_large_to_send_back_is_not_written() {
        let store = Racy { state: Mutex::new((Versioned::default(), 0)) };
        let huge = obj(json!({"pad": "x".repeat(CONTEXT_LIMIT)}));
        assert_eq!(json_size(&huge), CONTEXT_LIMIT + r#"{"pad":""}"#.len());
        let err = update_with_retries(
            &store,
            "i",
            &Versioned::default(),
            &huge,
            RetryPolicy::default(),
            &|_| {},
            None,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("is {} bytes, over the {CONTEXT_LIMIT}-byte limit", json_size(&huge))),
            "{text}"
        );
        assert_eq!(store.load("i").unwrap(), Versioned::default(), "nothing was written");
        // At the limit exactly, it is written.
        let fits = obj(json!({"pad": "x".repeat(CONTEXT_LIMIT - r#"{"pad":""}"#.len())}));
        let up = update_with_retries(
            &store,
            "i",
            &Versioned::default(),
            &fits,
            RetryPolicy::default(),
            &|_| {},
            None,
        )
        .unwrap();
        assert_eq!(up.version, 1);
    }

    #[test]
    fn no_change_writes_nothing() {
        let store = Racy { state: Mutex::new((Versioned::default(), 100)) };
        let base = Versioned { version: 0, context: obj(json!({"a": 1})) };
        let up = update_with_retries(
            &store,
            "i",
            &base,
            &obj(json!({"a": 1})),
            RetryPolicy::default(),
            &|_| {},
            None,
        )
        .unwrap();
        assert_eq!(up.attempts, 0);
    }
}
