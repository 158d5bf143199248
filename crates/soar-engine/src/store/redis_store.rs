//! The Redis store: the same guarantees as the file store, shared by engines on many machines.
//!
//! Keys (prefix `soar` by default): `<prefix>:ctx:<instance>` is a hash `{version, context}`;
//! the compare-and-set is one Lua script (read version, compare, write version+1 and context),
//! which Redis runs atomically. `<prefix>:lease:<instance>` is the token lease, taken with
//! `SET NX PX <ttl>` and released by a script that deletes it only if it still holds our random
//! token, so a lease held by a crashed engine frees itself after its short TTL.
//! `<prefix>:lastrun:<instance>` and `<prefix>:warm:<instance>` are plain strings.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::{Commands, Connection, Script};
use soar_protocol::Object;

use super::{Cas, ContextStore, Lease, Versioned};
use crate::error::{EngineError, Result};
use crate::fsutil::check_name;

const CAS_SCRIPT: &str = r"
local v = redis.call('HGET', KEYS[1], 'version')
if v then v = tonumber(v) else v = 0 end
if v ~= tonumber(ARGV[1]) then return {0, v} end
redis.call('HSET', KEYS[1], 'version', v + 1, 'context', ARGV[2])
return {1, v + 1}
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
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.split_once('@') {
        Some((auth, host)) => match auth.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://***@{host}"),
        },
        None => url.to_owned(),
    }
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
}

struct RedisLease {
    conn: Arc<Mutex<Connection>>,
    key: String,
    token: String,
}

impl Lease for RedisLease {}

impl Drop for RedisLease {
    fn drop(&mut self) {
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

    fn compare_and_set(&self, instance: &str, expected: i64, context: &Object) -> Result<Cas> {
        let key = self.key("ctx", instance)?;
        let text = serde_json::to_string(context)
            .map_err(|e| EngineError::Other(format!("Could not serialize the context: {e}")))?;
        let (stored, version): (i64, i64) =
            self.with(|c| Script::new(CAS_SCRIPT).key(&key).arg(expected).arg(&text).invoke(c))?;
        Ok(if stored == 1 { Cas::Stored(version) } else { Cas::Conflict(version) })
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
        let key = self.key("lease", instance)?;
        let token = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        let ttl_ms = ttl.as_millis().max(1) as u64;
        let deadline = Instant::now() + wait;
        loop {
            let taken: Option<String> = self
                .with(|c| redis::cmd("SET").arg(&key).arg(&token).arg("NX").arg("PX").arg(ttl_ms).query(c))?;
            if taken.is_some() {
                return Ok(Some(Box::new(RedisLease { conn: self.conn.clone(), key, token })));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
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
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want);
        }
    }
}
