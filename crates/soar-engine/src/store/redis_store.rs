//! The Redis store: the same guarantees as the file store, shared by engines on many machines.
//!
//! Keys (prefix `soar` by default): `<prefix>:ctx:<instance>` is a hash `{version, context}`;
//! the compare-and-set is one Lua script (check the fence, compare the version, write the new
//! version and context), which Redis runs atomically. Versions are compared and written as
//! decimal text and the new one is computed in Rust with checked arithmetic (Lua numbers are
//! doubles, exact only up to 2^53). `<prefix>:lease:<instance>` is the token lease, taken with
//! `SET NX PX <ttl>` and released by a script that deletes it only if it still holds our random
//! token, so a lease held by a crashed engine frees itself after its short TTL. While it is
//! held, a thread renews it every TTL/3 (`PEXPIRE`, again only while it holds our token), so a
//! run longer than the TTL keeps it; and a write made under it names the token, which the CAS
//! script checks (fencing), so an engine that lost its lease (paused, or cut off from Redis
//! past the TTL) cannot overwrite the update of the engine that took it over.
//! `<prefix>:lastrun:<instance>` and `<prefix>:warm:<instance>` are plain strings.
//!
//! The fetch service: `<prefix>:inc:<instance>` is a hash incident key -> incident JSON,
//! `<prefix>:fetch:<instance>` the fetch schedule's state and `<prefix>:fetchlease:<instance>`
//! the fetch lease (taken, renewed and released as the token lease). A fetched page and its last
//! run are written by one script (`HSETNX` per incident, so a key already stored is kept, then
//! the last run), which Redis runs atomically and only while the writer still holds the fetch
//! lease: an engine killed in the middle wrote all of it or nothing, and one that lost its lease
//! writes nothing. Incident changes are a compare-and-set script on the incident's JSON text,
//! which also keeps `<prefix>:pending:<instance>`, the set of incidents with local changes not
//! yet mirrored out.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redis::{Commands, Connection, Script};
use soar_protocol::Object;

use super::{
    Cas, Committed, ContextStore, FetchState, IncidentCas, Lease, StoredIncident, Versioned, next_version,
};
use crate::error::{EngineError, Result};
use crate::fsutil::check_name;

// KEYS: context hash, lease. ARGV: expected version, context, new version, fence token ('' for
// none). Returns {1, new} stored, {0, current} conflict, {2, current} lease lost.
const CAS_SCRIPT: &str = r"
local v = redis.call('HGET', KEYS[1], 'version') or '0'
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[4] then return {2, v} end
if v ~= ARGV[1] then return {0, v} end
redis.call('HSET', KEYS[1], 'version', ARGV[3], 'context', ARGV[2])
return {1, ARGV[3]}
";

// KEYS: incident hash, last-run key, fetch lease. ARGV: fence ('' for none), last run ('' for
// none), then key, JSON pairs. Returns {1, added} stored, {2, 0} lease lost.
const COMMIT_SCRIPT: &str = r"
if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then return {2, 0} end
local added = 0
for i = 3, #ARGV, 2 do
  added = added + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2]) end
return {1, added}
";

// KEYS: incident hash, fetch lease, pending set. ARGV: fence, key, expected JSON, new JSON,
// '1' when the new one has changes to mirror out. The pending set lists those keys, so a
// mirroring cycle reads only them. Returns {1, ''} stored, {0, current or ''} conflict,
// {2, ''} lease lost.
const SWAP_SCRIPT: &str = r"
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return {2, ''} end
local current = redis.call('HGET', KEYS[1], ARGV[2])
if current ~= ARGV[3] then return {0, current or ''} end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
if ARGV[5] == '1' then redis.call('SADD', KEYS[3], ARGV[2]) else redis.call('SREM', KEYS[3], ARGV[2]) end
return {1, ''}
";

// KEYS: fetch state, fetch lease. ARGV: fence, state JSON. Returns 1 stored, 2 lease lost.
const FETCH_STATE_SCRIPT: &str = r"
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[1] then return 2 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
";

const RENEW_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
";

const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// The Redis-backed context store.
pub struct RedisStore {
    url: String,
    prefix: String,
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("url", &self.url).field("prefix", &self.prefix).finish()
    }
}

/// `redis://user:pass@host` without the password, for messages.
///
/// The URL is parsed as the `redis` crate parses it (the `url` crate: the userinfo ends at the
/// *last* `@` of the authority, so a password may hold `@`); the user name is kept, the password
/// (or a lone userinfo, which may be a password typed without `:`) and every query value become
/// `***`. A URL that does not parse keeps only its scheme and what follows the last `@` of the
/// whole text (or nothing, without one): it may hold a password whose `/` or `#` ended the
/// authority early.
pub fn redact_url(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        let Some((scheme, rest)) = url.split_once("://") else { return "(unreadable URL)".to_owned() };
        return match rest.rsplit_once('@') {
            Some((_, host)) => format!("{scheme}://***@{host}"),
            None if rest.contains([':', '/', '?', '#']) => format!("{scheme}://***"),
            None => url.to_owned(),
        };
    };
    let mut out = format!("{}://", parsed.scheme());
    match (parsed.username(), parsed.password()) {
        ("", None) => {}
        // A lone userinfo may be a password typed without the `:`.
        (_, None) => out.push_str("***@"),
        (user, Some(_)) => out.push_str(&format!("{user}:***@")),
    }
    out.push_str(parsed.host_str().unwrap_or_default());
    if let Some(port) = parsed.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(parsed.path());
    if parsed.query().is_some() {
        let pairs: Vec<String> = parsed.query_pairs().map(|(k, _)| format!("{k}=***")).collect();
        out.push_str(&format!("?{}", pairs.join("&")));
    }
    out
}

impl RedisStore {
    /// Connects to `url` (`redis://[user:pass@]host:port[/db]`); keys start with `prefix:`.
    pub fn open(url: &str, prefix: &str) -> Result<RedisStore> {
        let shown = redact_url(url);
        let err = |reason: String| EngineError::Redis { url: shown.clone(), reason };
        let client = redis::Client::open(url)
            .map_err(|e| err(format!("{e}. Use --store redis://HOST:PORT (e.g. redis://127.0.0.1:6379).")))?;
        let conn = client
            .get_connection_with_timeout(Duration::from_secs(5))
            .map_err(|e| err(format!("could not connect: {e}. Is redis-server running there?")))?;
        Ok(RedisStore { url: shown, prefix: prefix.to_owned(), conn: Arc::new(Mutex::new(conn)) })
    }

    fn key(&self, kind: &str, instance: &str) -> Result<String> {
        check_name("instance", instance)?;
        Ok(format!("{}:{kind}:{instance}", self.prefix))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> redis::RedisResult<T>) -> Result<T> {
        let mut conn = self.conn.lock().map_err(|_| self.err("connection lock poisoned".into()))?;
        f(&mut conn).map_err(|e| self.err(e.to_string()))
    }

    fn parse(&self, key: &str, version: Option<i64>, context: Option<String>) -> Result<Versioned> {
        let Some(version) = version else { return Ok(Versioned::default()) };
        let context = match context {
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| self.err(format!("key {key} holds an invalid context: {e}")))?,
            None => Object::new(),
        };
        Ok(Versioned { version, context })
    }

    fn err(&self, reason: String) -> EngineError {
        EngineError::Redis { url: self.url.clone(), reason }
    }

    fn take_lease(&self, key: String, ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>> {
        let token = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let deadline = Instant::now() + wait;
        loop {
            let taken: Option<String> = self
                .with(|c| redis::cmd("SET").arg(&key).arg(&token).arg("NX").arg("PX").arg(ttl_ms).query(c))?;
            if taken.is_some() {
                return Ok(Some(Box::new(RedisLease::hold(self.conn.clone(), key, token, ttl))));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn parse_incident(&self, key: &str, text: &str) -> Result<StoredIncident> {
        serde_json::from_str(text).map_err(|e| self.err(format!("key {key} holds an invalid incident: {e}")))
    }

    fn to_text<T: serde::Serialize>(value: &T) -> Result<String> {
        serde_json::to_string(value).map_err(|e| EngineError::Other(format!("Could not serialize: {e}")))
    }
}

struct RedisLease {
    conn: Arc<Mutex<Connection>>,
    key: String,
    token: String,
    /// Dropped to stop the renewal thread.
    stop: Option<mpsc::Sender<()>>,
    renewer: Option<JoinHandle<()>>,
}

impl RedisLease {
    /// Holds the lease `key` = `token` and renews it every `ttl / 3` until dropped.
    fn hold(conn: Arc<Mutex<Connection>>, key: String, token: String, ttl: Duration) -> RedisLease {
        let (stop, stopped) = mpsc::channel::<()>();
        let renewer = {
            let (conn, key, token) = (conn.clone(), key.clone(), token.clone());
            let ttl_ms = ttl.as_millis().max(1) as u64;
            let every = (ttl / 3).max(Duration::from_millis(1));
            std::thread::spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let Ok(mut conn) = conn.lock() else { return };
                    let renewed: redis::RedisResult<i64> =
                        Script::new(RENEW_SCRIPT).key(&key).arg(&token).arg(ttl_ms).invoke(&mut *conn);
                    match renewed {
                        Ok(1) => {}
                        Ok(_) => {
                            tracing::warn!(
                                "the Redis lease {key} expired before it could be renewed; this run's \
                                 context write will be refused"
                            );
                            return;
                        }
                        Err(e) => tracing::warn!("could not renew the Redis lease {key}: {e}; retrying"),
                    }
                }
            })
        };
        RedisLease { conn, key, token, stop: Some(stop), renewer: Some(renewer) }
    }
}

impl Lease for RedisLease {
    fn fence(&self) -> Option<&str> {
        Some(&self.token)
    }
}

impl Drop for RedisLease {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(renewer) = self.renewer.take() {
            let _ = renewer.join();
        }
        if let Ok(mut conn) = self.conn.lock() {
            let released: redis::RedisResult<i64> =
                Script::new(RELEASE_SCRIPT).key(&self.key).arg(&self.token).invoke(&mut *conn);
            if let Err(e) = released {
                tracing::warn!("could not release the Redis lease {}: {e}; it expires by itself", self.key);
            }
        }
    }
}

impl ContextStore for RedisStore {
    fn describe(&self) -> String {
        format!("Redis store at {}", self.url)
    }

    fn load(&self, instance: &str) -> Result<Versioned> {
        let key = self.key("ctx", instance)?;
        let (version, context): (Option<i64>, Option<String>) =
            self.with(|c| redis::cmd("HMGET").arg(&key).arg("version").arg("context").query(c))?;
        self.parse(&key, version, context)
    }

    fn load_with_warm(&self, instance: &str) -> Result<(Versioned, Option<i64>)> {
        let key = self.key("ctx", instance)?;
        let warm_key = self.key("warm", instance)?;
        let ((version, context), warm): ((Option<i64>, Option<String>), Option<i64>) = self.with(|c| {
            redis::pipe()
                .cmd("HMGET")
                .arg(&key)
                .arg("version")
                .arg("context")
                .cmd("GET")
                .arg(&warm_key)
                .query(c)
        })?;
        Ok((self.parse(&key, version, context)?, warm))
    }

    fn compare_and_set(
        &self,
        instance: &str,
        expected: i64,
        context: &Object,
        lease: Option<&dyn Lease>,
    ) -> Result<Cas> {
        let key = self.key("ctx", instance)?;
        let lease_key = self.key("lease", instance)?;
        let next = next_version(instance, expected)?;
        let fence = lease.and_then(|l| l.fence()).unwrap_or_default();
        let text = serde_json::to_string(context)
            .map_err(|e| EngineError::Other(format!("Could not serialize the context: {e}")))?;
        let (outcome, version): (i64, String) = self.with(|c| {
            Script::new(CAS_SCRIPT)
                .key(&key)
                .key(&lease_key)
                .arg(expected)
                .arg(&text)
                .arg(next)
                .arg(fence)
                .invoke(c)
        })?;
        let version = || {
            version
                .parse::<i64>()
                .map_err(|_| self.err(format!("key {key} holds an invalid version {version:?}")))
        };
        Ok(match outcome {
            1 => Cas::Stored(version()?),
            2 => Cas::LeaseLost,
            _ => Cas::Conflict(version()?),
        })
    }

    fn remove(&self, instance: &str) -> Result<()> {
        let keys = ["ctx", "lease", "lastrun", "warm"].map(|k| self.key(k, instance));
        let keys: Vec<String> = keys.into_iter().collect::<Result<_>>()?;
        self.with(|c| c.del::<_, ()>(keys))
    }

    fn last_run(&self, instance: &str) -> Result<Option<Object>> {
        let key = self.key("lastrun", instance)?;
        let text: Option<String> = self.with(|c| c.get(&key))?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| self.err(format!("key {key} holds an invalid last run: {e}")))
        })
        .transpose()
    }

    fn set_last_run(&self, instance: &str, last_run: &Object) -> Result<()> {
        let key = self.key("lastrun", instance)?;
        let text = serde_json::to_string(last_run)
            .map_err(|e| EngineError::Other(format!("Could not serialize the last run: {e}")))?;
        self.with(|c| c.set::<_, _, ()>(&key, text))
    }

    fn acquire_lease(&self, instance: &str, ttl: Duration, wait: Duration) -> Result<Option<Box<dyn Lease>>> {
        self.take_lease(self.key("lease", instance)?, ttl, wait)
    }

    fn acquire_fetch_lease(
        &self,
        instance: &str,
        ttl: Duration,
        wait: Duration,
    ) -> Result<Option<Box<dyn Lease>>> {
        self.take_lease(self.key("fetchlease", instance)?, ttl, wait)
    }

    fn now_ms(&self) -> Result<Option<i64>> {
        let (secs, micros): (i64, i64) = self.with(|c| redis::cmd("TIME").query(c))?;
        Ok(Some(secs.saturating_mul(1000).saturating_add(micros / 1000)))
    }

    fn fetch_state(&self, instance: &str) -> Result<FetchState> {
        let key = self.key("fetch", instance)?;
        let text: Option<String> = self.with(|c| c.get(&key))?;
        match text {
            None => Ok(FetchState::default()),
            Some(t) => serde_json::from_str(&t)
                .map_err(|e| self.err(format!("key {key} holds an invalid fetch state: {e}"))),
        }
    }

    fn set_fetch_state(&self, instance: &str, state: &FetchState, lease: Option<&dyn Lease>) -> Result<bool> {
        let key = self.key("fetch", instance)?;
        let lease_key = self.key("fetchlease", instance)?;
        let fence = lease.and_then(|l| l.fence()).unwrap_or_default();
        let text = Self::to_text(state)?;
        let outcome: i64 = self.with(|c| {
            Script::new(FETCH_STATE_SCRIPT).key(&key).key(&lease_key).arg(fence).arg(&text).invoke(c)
        })?;
        Ok(outcome == 1)
    }

    fn commit_fetch(
        &self,
        instance: &str,
        incidents: &[StoredIncident],
        last_run: Option<&Object>,
        lease: Option<&dyn Lease>,
    ) -> Result<Committed> {
        let keys =
            [self.key("inc", instance)?, self.key("lastrun", instance)?, self.key("fetchlease", instance)?];
        let fence = lease.and_then(|l| l.fence()).unwrap_or_default();
        let last_run = last_run.map(Self::to_text).transpose()?.unwrap_or_default();
        // A page may hold the same key twice; the first one counts, as HSETNX keeps it.
        let commit = Script::new(COMMIT_SCRIPT);
        let mut script = commit.prepare_invoke();
        for key in &keys {
            script.key(key);
        }
        script.arg(fence).arg(&last_run);
        for inc in incidents {
            script.arg(&inc.id).arg(Self::to_text(inc)?);
        }
        let (outcome, added): (i64, usize) = self.with(|c| script.invoke(c))?;
        Ok(match outcome {
            1 => Committed::Stored { added, duplicates: incidents.len() - added.min(incidents.len()) },
            _ => Committed::LeaseLost,
        })
    }

    fn incident(&self, instance: &str, id: &str) -> Result<Option<StoredIncident>> {
        let key = self.key("inc", instance)?;
        let text: Option<String> = self.with(|c| c.hget(&key, id))?;
        text.map(|t| self.parse_incident(&key, &t)).transpose()
    }

    fn incidents(&self, instance: &str) -> Result<Vec<StoredIncident>> {
        let key = self.key("inc", instance)?;
        let texts: Vec<String> = self.with(|c| c.hvals(&key))?;
        let mut list = texts.iter().map(|t| self.parse_incident(&key, t)).collect::<Result<Vec<_>>>()?;
        list.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.id.cmp(&b.id)));
        Ok(list)
    }

    fn pending_out(&self, instance: &str) -> Result<Vec<StoredIncident>> {
        let key = self.key("inc", instance)?;
        let pending_key = self.key("pending", instance)?;
        let ids: Vec<String> = self.with(|c| c.smembers(&pending_key))?;
        let mut list = Vec::new();
        for id in ids {
            let text: Option<String> = self.with(|c| c.hget(&key, &id))?;
            if let Some(inc) = text.map(|t| self.parse_incident(&key, &t)).transpose()? {
                list.push(inc);
            }
        }
        list.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.id.cmp(&b.id)));
        Ok(list)
    }

    fn swap_incident(
        &self,
        instance: &str,
        expected: &StoredIncident,
        new: &StoredIncident,
        lease: Option<&dyn Lease>,
    ) -> Result<IncidentCas> {
        let key = self.key("inc", instance)?;
        let lease_key = self.key("fetchlease", instance)?;
        let fence = lease.and_then(|l| l.fence()).unwrap_or_default();
        let pending_key = self.key("pending", instance)?;
        let (expected_text, new_text) = (Self::to_text(expected)?, Self::to_text(new)?);
        let (outcome, current): (i64, String) = self.with(|c| {
            Script::new(SWAP_SCRIPT)
                .key(&key)
                .key(&lease_key)
                .key(&pending_key)
                .arg(fence)
                .arg(&expected.id)
                .arg(&expected_text)
                .arg(&new_text)
                .arg(if new.changed { "1" } else { "0" })
                .invoke(c)
        })?;
        Ok(match outcome {
            1 => IncidentCas::Stored,
            2 => IncidentCas::LeaseLost,
            _ if current.is_empty() => IncidentCas::Conflict(None),
            _ => IncidentCas::Conflict(Some(Box::new(self.parse_incident(&key, &current)?))),
        })
    }

    fn warm_version(&self, instance: &str) -> Result<Option<i64>> {
        let key = self.key("warm", instance)?;
        self.with(|c| c.get(&key))
    }

    fn set_warm_version(&self, instance: &str, version: i64) -> Result<()> {
        let key = self.key("warm", instance)?;
        self.with(|c| c.set::<_, _, ()>(&key, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        let cases = [
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis://:hunter2@h:1/0", "redis://:***@h:1/0"),
            ("redis://u:hunter2@h:1", "redis://u:***@h:1"),
            ("redis://hunter2@h:1", "redis://***@h:1"),
            // The password ends at the last `@` of the authority.
            ("redis://user:p@ss@word@127.0.0.1:6379/0", "redis://user:***@127.0.0.1:6379/0"),
            ("rediss://:a@b@c@h/2?protocol=resp3", "rediss://:***@h/2?protocol=***"),
            // Unparseable (a `/` in the password ends the authority early): only the host shows.
            ("redis://u:pa/ss@w@h:1", "redis://***@h:1"),
            ("redis://u:pa ss", "redis://***"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
            for secret in ["hunter2", "p@ss", "ss@word", "word", "pa/ss", "pa ss", "a@b"] {
                assert!(!redact_url(url).contains(secret), "{url}: {}", redact_url(url));
            }
        }
    }
}
