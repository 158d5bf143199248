//! The Redis store against a real `redis-server`: the store's guarantees directly, then many
//! concurrent `soar run --store redis://...` processes. Against `SOAR_REDIS_URL` when set (`.ci/run`
//! starts a server and sets it), else each test starts its own `redis-server` on a free loopback
//! port; without one the tests fail, never skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{add_counter, soar, unique};
use serde_json::{Value, json};
use soar_engine::EngineError;
use soar_engine::store::{Cas, ContextStore, RedisStore, RetryPolicy, Versioned, update_with_retries};
use soar_protocol::Object;

/// A `redis-server` this test started on a free loopback port; killed when dropped.
struct Server(Option<std::process::Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The server URL: `SOAR_REDIS_URL` when set, else a `redis-server` started for this test. A
/// missing `redis-server` fails the test (it never passes by skipping).
fn redis_url(test: &str) -> (String, Server) {
    if let Ok(url) = std::env::var("SOAR_REDIS_URL")
        && !url.is_empty()
    {
        return (url, Server(None));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "{test}: cannot start redis-server ({e}); install it or set SOAR_REDIS_URL=redis://HOST:PORT"
            )
        });
    let server = Server(Some(child));
    let url = format!("redis://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection())
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok();
        if ready {
            return (url, server);
        }
        assert!(Instant::now() < deadline, "{test}: redis-server on port {port} did not answer PING in 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn obj(v: Value) -> Object {
    match v {
        Value::Object(o) => o,
        _ => panic!("not an object"),
    }
}

#[test]
fn redis_store_is_versioned_and_compare_and_set() {
    let (url, _server) = redis_url("redis_store_is_versioned_and_compare_and_set");
    let store = RedisStore::open(&url, "soar-test").unwrap();
    let name = unique("cas");
    assert_eq!(store.load(&name).unwrap(), Versioned::default());
    assert_eq!(store.compare_and_set(&name, 0, &obj(json!({"k": 1})), None).unwrap(), Cas::Stored(1));
    assert_eq!(store.compare_and_set(&name, 0, &obj(json!({"k": 2})), None).unwrap(), Cas::Conflict(1));
    assert_eq!(store.load(&name).unwrap(), Versioned { version: 1, context: obj(json!({"k": 1})) });
    store.set_last_run(&name, &obj(json!({"t": 1}))).unwrap();
    assert_eq!(store.last_run(&name).unwrap(), Some(obj(json!({"t": 1}))));
    store.set_warm_version(&name, 1).unwrap();
    assert_eq!(store.warm_version(&name).unwrap(), Some(1));
    store.remove(&name).unwrap();
    assert_eq!(store.load(&name).unwrap(), Versioned::default());
    assert_eq!(store.last_run(&name).unwrap(), None);
}

#[test]
fn redis_lease_is_exclusive_and_expires() {
    let (url, _server) = redis_url("redis_lease_is_exclusive_and_expires");
    let a = RedisStore::open(&url, "soar-test").unwrap();
    let b = RedisStore::open(&url, "soar-test").unwrap();
    let name = unique("lease");
    let ttl = Duration::from_millis(300);
    let held = a.acquire_lease(&name, ttl, Duration::ZERO).unwrap().expect("free lease");
    assert!(b.acquire_lease(&name, ttl, Duration::from_millis(50)).unwrap().is_none());
    drop(held); // released at once
    let held = b.acquire_lease(&name, ttl, Duration::ZERO).unwrap().expect("released lease");
    drop(held);
    // An engine that died holding the lease (it renews no more, as a live holder does): the
    // TTL frees it.
    let taken: Option<String> = redis::cmd("SET")
        .arg(format!("soar-test:lease:{name}"))
        .arg("dead-engine")
        .arg("NX")
        .arg("PX")
        .arg(ttl.as_millis() as u64)
        .query(&mut raw(&url))
        .unwrap();
    assert!(taken.is_some());
    let start = Instant::now();
    let again = a.acquire_lease(&name, ttl, Duration::from_secs(3)).unwrap();
    assert!(again.is_some());
    assert!(start.elapsed() >= Duration::from_millis(150), "freed by the TTL, not earlier");
    drop(again);
    a.remove(&name).unwrap();
}

/// A plain connection, to play another engine or a hostile store.
fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

#[test]
fn redis_lease_is_renewed_while_held() {
    let (url, _server) = redis_url("redis_lease_is_renewed_while_held");
    let a = RedisStore::open(&url, "soar-test").unwrap();
    let b = RedisStore::open(&url, "soar-test").unwrap();
    let name = unique("renew");
    let ttl = Duration::from_millis(300);
    let held = a.acquire_lease(&name, ttl, Duration::ZERO).unwrap().expect("free lease");
    // Four TTLs later the holder still has it: it was renewed, not left to expire.
    std::thread::sleep(ttl * 4);
    assert!(b.acquire_lease(&name, ttl, Duration::ZERO).unwrap().is_none(), "the lease expired while held");
    // Its writes are still accepted.
    assert_eq!(a.compare_and_set(&name, 0, &obj(json!({"k": 1})), Some(&*held)).unwrap(), Cas::Stored(1));
    drop(held);
    assert!(b.acquire_lease(&name, ttl, Duration::ZERO).unwrap().is_some());
    a.remove(&name).unwrap();
}

#[test]
fn redis_writes_under_a_lost_lease_are_refused() {
    let (url, _server) = redis_url("redis_writes_under_a_lost_lease_are_refused");
    let a = RedisStore::open(&url, "soar-test").unwrap();
    let b = RedisStore::open(&url, "soar-test").unwrap();
    let name = unique("fence");
    let ttl = Duration::from_secs(30);
    let a_lease = a.acquire_lease(&name, ttl, Duration::ZERO).unwrap().expect("free lease");
    // A loses its lease (as after a pause longer than the TTL) and B takes it.
    let _: () = redis::cmd("DEL").arg(format!("soar-test:lease:{name}")).query(&mut raw(&url)).unwrap();
    let b_lease = b.acquire_lease(&name, ttl, Duration::ZERO).unwrap().expect("freed lease");
    // A's write is refused although the version matches; B's goes through.
    assert_eq!(
        a.compare_and_set(&name, 0, &obj(json!({"n": "a"})), Some(&*a_lease)).unwrap(),
        Cas::LeaseLost
    );
    assert_eq!(
        b.compare_and_set(&name, 0, &obj(json!({"n": "b"})), Some(&*b_lease)).unwrap(),
        Cas::Stored(1)
    );
    // Through the retrying update, a lost lease is an error, never a merge.
    let base = a.load(&name).unwrap();
    let err = update_with_retries(
        &a,
        &name,
        &base,
        &obj(json!({"n": "a2"})),
        RetryPolicy::default(),
        &std::thread::sleep,
        Some(&*a_lease),
    )
    .unwrap_err();
    assert!(matches!(err, EngineError::LeaseLost { .. }), "{err}");
    assert_eq!(a.load(&name).unwrap(), Versioned { version: 1, context: obj(json!({"n": "b"})) });
    drop(a_lease); // must not release B's lease
    assert!(a.acquire_lease(&name, ttl, Duration::ZERO).unwrap().is_none(), "A released B's lease");
    drop(b_lease);
    a.remove(&name).unwrap();
}

#[test]
fn redis_the_last_version_is_refused_not_wrapped() {
    let (url, _server) = redis_url("redis_the_last_version_is_refused_not_wrapped");
    let store = RedisStore::open(&url, "soar-test").unwrap();
    let name = unique("maxver");
    let key = format!("soar-test:ctx:{name}");
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("version")
        .arg(i64::MAX)
        .arg("context")
        .arg(r#"{"k":1}"#)
        .query(&mut raw(&url))
        .unwrap();
    let stored = store.load(&name).unwrap();
    assert_eq!(stored.version, i64::MAX);
    let err = store.compare_and_set(&name, i64::MAX, &obj(json!({"k": 2})), None).unwrap_err();
    assert!(matches!(err, EngineError::VersionExhausted { .. }), "{err}");
    assert!(err.to_string().contains("largest there is"), "{err}");
    assert_eq!(store.load(&name).unwrap(), stored, "the stored context is untouched");
    // Versions beyond 2^53 stay exact (Lua numbers are doubles).
    let big = (1i64 << 53) + 1;
    let _: () = redis::cmd("HSET").arg(&key).arg("version").arg(big).query(&mut raw(&url)).unwrap();
    assert_eq!(store.compare_and_set(&name, big, &obj(json!({"k": 3})), None).unwrap(), Cas::Stored(big + 1));
    assert_eq!(
        store.compare_and_set(&name, big, &obj(json!({"k": 4})), None).unwrap(),
        Cas::Conflict(big + 1)
    );
    store.remove(&name).unwrap();
}

#[test]
fn redis_runs_longer_than_the_lease_ttl_lose_no_update() {
    let (url, _server) = redis_url("redis_runs_longer_than_the_lease_ttl_lose_no_update");
    // Two engines (two data directories, one Redis), a 1 s lease TTL and runs of 2.5 s: the
    // first run's lease must outlive the TTL, so the second run waits and then counts on top.
    let dir = tempfile::tempdir().unwrap();
    let name = unique("long");
    let machines = [dir.path().join("m1"), dir.path().join("m2")];
    for m in &machines {
        add_counter(m, &name, &[]);
    }
    let started = Instant::now();
    let children: Vec<_> = machines
        .iter()
        .map(|m| {
            soar(
                m,
                &[
                    "--store",
                    &url,
                    "--lease-ttl-ms",
                    "1000",
                    "run",
                    "-i",
                    &name,
                    "!soar-test-counter-increment sleep_ms=2500",
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{text}");
    }
    let store = RedisStore::open(&url, "soar").unwrap();
    let stored = store.load(&name).unwrap();
    assert_eq!(stored.context["counter"], 2, "an update was lost");
    assert_eq!(stored.version, 2);
    assert!(started.elapsed() >= Duration::from_millis(5000), "the runs overlapped");
    store.remove(&name).unwrap();
}

#[test]
fn redis_concurrent_writers_lose_no_update() {
    let (url, _server) = redis_url("redis_concurrent_writers_lose_no_update");
    let name = unique("threads");
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (url, name) = (url.clone(), name.clone());
            std::thread::spawn(move || {
                let store = RedisStore::open(&url, "soar-test").unwrap();
                let base = store.load(&name).unwrap();
                let mut new = base.context.clone();
                new.insert(format!("k{i}"), json!(i));
                let policy = RetryPolicy::default();
                update_with_retries(&store, &name, &base, &new, policy, &std::thread::sleep, None).unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let store = RedisStore::open(&url, "soar-test").unwrap();
    let stored = store.load(&name).unwrap();
    assert_eq!(stored.context.len(), 16);
    store.remove(&name).unwrap();
}

fn run_many(
    data: &std::path::Path,
    url: &str,
    instance: &str,
    n: usize,
    line: &str,
) -> Vec<(i32, String, String)> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            soar(data, &["--store", url, "run", "-i", instance, line])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .collect()
}

#[test]
fn redis_fifty_engines_lose_no_update_and_fetch_one_token() {
    let (url, _server) = redis_url("redis_fifty_engines_lose_no_update_and_fetch_one_token");
    // Two data directories stand for two machines that share only the Redis store; the
    // instance is named uniquely so runs of this test never share keys.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("tokens.log");
    let name = unique("engines");
    let machines = [dir.path().join("m1"), dir.path().join("m2")];
    for m in &machines {
        add_counter(m, &name, &["--param", &format!("token_log={}", log.display())]);
    }
    let store = RedisStore::open(&url, "soar").unwrap();

    let mut results = Vec::new();
    std::thread::scope(|s| {
        let hs: Vec<_> = machines
            .iter()
            .map(|m| s.spawn(|| run_many(m, &url, &name, 25, "!soar-test-counter-increment")))
            .collect();
        for h in hs {
            results.extend(h.join().unwrap());
        }
    });
    for (code, out, err) in &results {
        assert_eq!(*code, 0, "{out}{err}");
    }
    let stored = store.load(&name).unwrap();
    assert_eq!(stored.context["counter"], 50);
    assert_eq!(stored.version, 50);

    store.remove(&name).unwrap();
    let mut results = Vec::new();
    std::thread::scope(|s| {
        let hs: Vec<_> = machines
            .iter()
            .map(|m| s.spawn(|| run_many(m, &url, &name, 25, "!soar-test-counter-token sleep_ms=300")))
            .collect();
        for h in hs {
            results.extend(h.join().unwrap());
        }
    });
    for (code, out, err) in &results {
        assert_eq!(*code, 0, "{out}{err}");
    }
    let requests = std::fs::read_to_string(&log).unwrap();
    assert_eq!(requests.lines().count(), 1, "token requests:\n{requests}");
    store.remove(&name).unwrap();
}

/// Engine processes, killed when dropped (also when a check fails).
struct Engines(Vec<std::process::Child>);

impl Drop for Engines {
    fn drop(&mut self) {
        for e in &mut self.0 {
            let _ = e.kill();
            let _ = e.wait();
        }
    }
}

/// Three engines run one fetch schedule on Redis; the one fetching the third page is killed
/// with SIGKILL while the integration sleeps in it. The next holder (after the lease's TTL)
/// fetches that page again from the stored last run: every incident is stored exactly once,
/// no page but the killed one is fetched twice, and fetches start one interval apart.
#[test]
fn three_engines_share_a_schedule_and_a_killed_holder_loses_nothing() {
    let (url, _server) = redis_url("three_engines_share_a_schedule_and_a_killed_holder_loses_nothing");
    common::built(
        "three_engines_share_a_schedule_and_a_killed_holder_loses_nothing",
        &["soar-test-integration"],
    );
    let dir = tempfile::tempdir().unwrap();
    let name = unique("fetch3");
    let state = common::write_state(
        dir.path(),
        &json!({"total": 30, "page": 5, "sleep_at_offset": 10, "fetch_sleep_ms": 3000}),
    );
    let mut engines = Engines(
        (0..3)
            .map(|i| {
                let data = dir.path().join(format!("engine{i}"));
                common::add_test_integration(
                    &data,
                    &name,
                    &["--param", &format!("state_file={}", state.display())],
                );
                soar(
                    &data,
                    &[
                        "--store",
                        &url,
                        "--lease-ttl-ms",
                        "1000",
                        "fetch",
                        "--instance",
                        &name,
                        "--every",
                        "0.3s",
                        "--duration",
                        "60s",
                    ],
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect(),
    );
    // Wait for an engine to sleep inside the fetch at offset 10, then kill it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let holder = loop {
        if let Some(h) = common::state_log(&state, "holder").first() {
            break h["engine"].as_u64().unwrap() as u32;
        }
        assert!(Instant::now() < deadline, "no engine reached the page at offset 10");
        std::thread::sleep(Duration::from_millis(20));
    };
    let victim = engines.0.iter().position(|e| e.id() == holder).expect("the holder is one of the three");
    let mut killed = engines.0.remove(victim);
    killed.kill().unwrap(); // SIGKILL
    killed.wait().unwrap();
    // The others finish the schedule.
    let mut conn = raw(&url);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let last: Option<String> =
            redis::cmd("GET").arg(format!("soar:lastrun:{name}")).query(&mut conn).unwrap();
        if last.as_deref() == Some(r#"{"offset":30}"#) {
            break;
        }
        assert!(Instant::now() < deadline, "the schedule did not finish: last run {last:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(engines);
    let stored: Vec<String> = redis::cmd("HKEYS").arg(format!("soar:inc:{name}")).query(&mut conn).unwrap();
    let mut ids = stored.clone();
    ids.sort();
    let want: Vec<String> = (1..=30).map(|i| format!("INC-{i:05}")).collect();
    assert_eq!(ids, want, "every incident stored once");
    let fetched_by = common::check_fetch_log(&state, Some(holder), 200);
    // The killed engine's page was fetched again by another engine.
    let offset10: Vec<u64> = common::state_log(&state, "fetchlog")
        .iter()
        .filter(|l| l["offset"] == 10)
        .map(|l| l["engine"].as_u64().unwrap())
        .collect();
    assert!(offset10.iter().any(|e| *e != u64::from(holder)), "the page was resumed: {offset10:?}");
    assert!(!fetched_by.is_empty() && !fetched_by.contains(&u64::from(holder)), "{fetched_by:?}");
    let _: () = redis::cmd("DEL")
        .arg(format!("soar:inc:{name}"))
        .arg(format!("soar:lastrun:{name}"))
        .arg(format!("soar:fetch:{name}"))
        .query(&mut conn)
        .unwrap();
}

#[test]
fn redis_pages_are_stored_with_their_last_run_only_under_the_fetch_lease() {
    let (url, _server) = redis_url("redis_pages_are_stored_with_their_last_run_only_under_the_fetch_lease");
    use soar_engine::store::{Committed, IncidentCas, StoredIncident};
    let a = RedisStore::open(&url, "soar-test").unwrap();
    let b = RedisStore::open(&url, "soar-test").unwrap();
    let name = unique("page");
    let inc = |id: &str| StoredIncident::fetched(json!({"dbotMirrorId": id}), 0, "t");
    let ttl = Duration::from_secs(30);
    let lease = a.acquire_fetch_lease(&name, ttl, Duration::ZERO).unwrap().expect("free");
    // The token lease is another lease: a run inside the cycle can take it.
    assert!(b.acquire_lease(&name, ttl, Duration::ZERO).unwrap().is_some());
    assert!(b.acquire_fetch_lease(&name, ttl, Duration::ZERO).unwrap().is_none());
    let lr = obj(json!({"offset": 2}));
    assert_eq!(
        a.commit_fetch(&name, &[inc("x"), inc("y")], Some(&lr), Some(&*lease)).unwrap(),
        Committed::Stored { added: 2, duplicates: 0 }
    );
    assert_eq!(
        a.commit_fetch(&name, &[inc("y"), inc("z")], Some(&lr), Some(&*lease)).unwrap(),
        Committed::Stored { added: 1, duplicates: 1 }
    );
    // The lease is lost (as after a pause past its TTL) and another engine takes it: the old
    // holder's page, last run, state and incident changes are all refused.
    let _: () = redis::cmd("DEL").arg(format!("soar-test:fetchlease:{name}")).query(&mut raw(&url)).unwrap();
    let other = b.acquire_fetch_lease(&name, ttl, Duration::ZERO).unwrap().expect("freed");
    let lr2 = obj(json!({"offset": 9}));
    assert_eq!(a.commit_fetch(&name, &[inc("w")], Some(&lr2), Some(&*lease)).unwrap(), Committed::LeaseLost);
    assert!(!a.set_fetch_state(&name, &Default::default(), Some(&*lease)).unwrap());
    let x = a.incident(&name, "x").unwrap().unwrap();
    let mut closed = x.clone();
    closed.status = 2;
    closed.changed = true;
    assert_eq!(a.swap_incident(&name, &x, &closed, Some(&*lease)).unwrap(), IncidentCas::LeaseLost);
    assert_eq!(a.last_run(&name).unwrap(), Some(lr));
    assert_eq!(a.incidents(&name).unwrap().len(), 3);
    // The holder's change goes through and marks the incident pending.
    assert_eq!(b.swap_incident(&name, &x, &closed, Some(&*other)).unwrap(), IncidentCas::Stored);
    assert_eq!(b.pending_out(&name).unwrap(), vec![closed]);
    drop((lease, other));
    let keys: Vec<String> = ["inc", "lastrun", "fetch", "pending", "lease"]
        .iter()
        .map(|k| format!("soar-test:{k}:{name}"))
        .collect();
    let _: () = redis::cmd("DEL").arg(keys).query(&mut raw(&url)).unwrap();
}

/// Engines on several hosts share a Redis store, so what one writes for another to read (a
/// cycle's start, a fetched incident's time and order) is timed by Redis's clock, not by the
/// writing engine's: here that engine's clock is a day fast.
#[test]
fn redis_times_written_for_other_engines_come_from_the_store_clock() {
    use soar_engine::fetcher::{Cycle, FetchSchedule};
    use soar_engine::runner::{Engine, system_now_ms};
    let (url, _server) = redis_url("redis_times_written_for_other_engines_come_from_the_store_clock");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let name = unique("clock");
    add_counter(&data, &name, &[]);
    let store = RedisStore::open(&url, "soar-test").unwrap();
    let before = system_now_ms();
    let redis_now = store.now_ms().unwrap().expect("Redis has a clock");
    assert!((redis_now - before).abs() < 60_000, "Redis TIME {redis_now} against {before}");

    let mut engine = Engine::new(&data, Box::new(store)).unwrap();
    engine.finder.bin_dir = common::soar_bin().parent().map(std::path::Path::to_owned);
    const DAY_MS: i64 = 86_400_000;
    engine.now_ms = || system_now_ms() + DAY_MS;
    let schedule = FetchSchedule { instance: name.clone(), every: Duration::from_secs(60) };
    let cycle = engine.fetch_cycle(&schedule).unwrap();
    assert!(matches!(cycle, Cycle::Ran(_)), "{cycle:?}");
    let after = system_now_ms();
    let near = |ms: i64| before - 60_000 <= ms && ms <= after + 60_000;

    let state = engine.store.fetch_state(&name).unwrap();
    assert!(near(state.started_ms) && near(state.finished_ms), "{state:?} is not near {before}..{after}");
    let stored = engine.store.incidents(&name).unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(near(stored[0].seq / 100_000), "incident order from the fast clock: {}", stored[0].seq);
    let fetched_at = chrono::DateTime::parse_from_rfc3339(&stored[0].fetched_at).unwrap().timestamp_millis();
    assert!(near(fetched_at), "fetched_at from the fast clock: {}", stored[0].fetched_at);
    let keys: Vec<String> = ["inc", "lastrun", "fetch", "pending", "ctx"]
        .iter()
        .map(|k| format!("soar-test:{k}:{name}"))
        .collect();
    let _: () = redis::cmd("DEL").arg(keys).query(&mut raw(&url)).unwrap();
}
