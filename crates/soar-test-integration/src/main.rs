//! `soar-test-integration`: a small integration binary the runtime's end-to-end tests spawn.
//!
//! Prefix `soar-test`. It has a secret param (`api_key`), a credentials param (`credentials`),
//! a required plain param (`url`) and commands that cover what the runtime must handle:
//! - `soar-test-echo` (args `message` required, `mode` with options and a default, `items`
//!   list, `token` secret): echoes `message` and `mode`; logs its whole context at debug and
//!   trace, and the raw secret-free values at info, so that the secrets test is meaningful;
//! - `soar-test-store`: writes the api key and the token into the integration context (the
//!   one place a secret may appear in stdout);
//! - `soar-test-fail`: returns an error that quotes the secrets (the runtime must mask them);
//! - `soar-test-panic`: panics with a message that quotes the secret;
//! - `soar-test-sleep` (arg `ms`): sleeps, then answers (serve-mode concurrency);
//! - `soar-test-counter`: counts its calls in memory (warm state across serve requests);
//! - `soar-test-hold` (args `ms`, `data`): holds its (large) `data` argument for `ms`
//!   milliseconds, then answers with the number of items in it (the memory tests);
//! - `soar-test-echo-context`: fails with a server-like message that quotes every value of
//!   the integration context, after storing a fresh `access_token` when `refresh` is given
//!   (the context tokens must be masked);
//! - `test-module`: answers `ok`.
//!
//! With `SOAR_TEST_REPORT_PEAK_RSS` set, the binary writes its peak resident set (`VmHWM` of
//! `/proc/self/status`) to standard error when it ends, for the memory tests.
//!
//! Tests live in `tests/it.rs` and spawn this binary as a real process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use soar_core::{
    ArgSpec, AuthFlow, Command, CommandContext, Entry, Error, Integration, Outcome, OutputSpec, ParamSpec,
};
use tracing::{debug, info, trace};

struct TestIntegration;

impl Integration for TestIntegration {
    fn prefix(&self) -> &'static str {
        "soar-test"
    }
    fn display_name(&self) -> &'static str {
        "Soar Test"
    }
    fn supported_flows(&self) -> &'static [AuthFlow] {
        &[AuthFlow::ClientSecret]
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec { name: "url", display: "Server URL", required: true, ..ParamSpec::default() },
            ParamSpec {
                name: "credentials",
                display: "Client ID / secret",
                credentials: true,
                ..ParamSpec::default()
            },
            ParamSpec { name: "api_key", display: "API key", secret: true, ..ParamSpec::default() },
            ParamSpec {
                name: "state_file",
                display: "The remote side's state (a JSON file the fetch and mirroring tests control)",
                ..ParamSpec::default()
            },
            ParamSpec {
                name: "insecure",
                display: "Trust any certificate",
                default: Some("false"),
                ..ParamSpec::default()
            },
        ]
    }
    fn commands(&self) -> Vec<Box<dyn Command>> {
        vec![
            Box::new(TestModule),
            Box::new(Echo),
            Box::new(Store),
            Box::new(Fail),
            Box::new(Panic),
            Box::new(Sleep),
            Box::new(Counter(AtomicU64::new(0))),
            Box::new(Hold),
            Box::new(EchoContext),
            Box::new(Poll),
            Box::new(FetchIncidents),
            Box::new(GetModified),
            Box::new(GetRemote),
            Box::new(UpdateRemote),
            Box::new(MappingFields),
        ]
    }
}

fn log_everything(ctx: &CommandContext) {
    // Every level, every field: the runtime's redaction must hold even when a command is chatty.
    debug!(context = ?ctx, "command context");
    trace!(params = ?ctx.params, args = ?ctx.redacted_args(), secret_arg = ?ctx.secret_arg("token"), "inputs");
    info!(url = ?ctx.params.str("url"), "url");
}

fn str_arg(ctx: &CommandContext, name: &str) -> String {
    match ctx.args.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

struct TestModule;

#[async_trait]
impl Command for TestModule {
    fn name(&self) -> &str {
        "test-module"
    }
    fn description(&self) -> &str {
        "Tests the configuration."
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        log_everything(ctx);
        Ok(Entry::markdown("ok").into())
    }
}

struct Echo;

#[async_trait]
impl Command for Echo {
    fn name(&self) -> &str {
        "soar-test-echo"
    }
    fn description(&self) -> &str {
        "Echoes its arguments."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![
            ArgSpec { name: "message", description: "What to echo.", required: true, ..ArgSpec::default() },
            ArgSpec {
                name: "mode",
                description: "How.",
                default: Some("plain"),
                options: &["plain", "loud"],
                ..ArgSpec::default()
            },
            ArgSpec { name: "items", description: "A list.", is_array: true, ..ArgSpec::default() },
            ArgSpec { name: "token", description: "A secret argument.", secret: true, ..ArgSpec::default() },
        ]
    }
    fn outputs(&self) -> Vec<OutputSpec> {
        vec![OutputSpec { path: "SoarTest.Echo.message", output_type: "String", description: "The message." }]
    }
    fn examples(&self) -> Vec<&'static str> {
        vec!["!soar-test-echo message=hi mode=loud"]
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        log_everything(ctx);
        let mut message = str_arg(ctx, "message");
        if str_arg(ctx, "mode") == "loud" {
            message = message.to_uppercase();
        }
        let mut entry = Entry::markdown(format!("echo: {message}"));
        entry
            .entry_context
            .insert("SoarTest.Echo".into(), json!({"message": message, "mode": str_arg(ctx, "mode")}));
        Ok(entry.into())
    }
}

struct Store;

#[async_trait]
impl Command for Store {
    fn name(&self) -> &str {
        "soar-test-store"
    }
    fn description(&self) -> &str {
        "Stores the API key and the token argument in the integration context."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![ArgSpec { name: "token", description: "A secret argument.", secret: true, ..ArgSpec::default() }]
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        log_everything(ctx);
        let key = ctx.params.secret("api_key").map(|s| s.expose().to_owned()).unwrap_or_default();
        let token = ctx.secret_arg("token").map(|s| s.expose().to_owned()).unwrap_or_default();
        ctx.integration_context.set("api_key_copy", json!(key));
        ctx.integration_context.set("access_token", json!(token));
        debug!(context = ?ctx.integration_context, "stored");
        Ok(Entry::markdown("stored").into())
    }
}

struct Fail;

#[async_trait]
impl Command for Fail {
    fn name(&self) -> &str {
        "soar-test-fail"
    }
    fn description(&self) -> &str {
        "Fails with a message that quotes every secret."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![ArgSpec { name: "token", description: "A secret argument.", secret: true, ..ArgSpec::default() }]
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        log_everything(ctx);
        let password = ctx.params.secret("credentials").map(|s| s.expose().to_owned()).unwrap_or_default();
        let key = ctx.params.secret("api_key").map(|s| s.expose().to_owned()).unwrap_or_default();
        let token = ctx.secret_arg("token").map(|s| s.expose().to_owned()).unwrap_or_default();
        Err(Error::Command(format!("upstream said: bad password {password}, key {key}, token {token}")))
    }
}

struct Panic;

#[async_trait]
impl Command for Panic {
    fn name(&self) -> &str {
        "soar-test-panic"
    }
    fn description(&self) -> &str {
        "Panics."
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        log_everything(ctx);
        let key = ctx.params.secret("api_key").map(|s| s.expose().to_owned()).unwrap_or_default();
        let items: Vec<u8> = Vec::new();
        // A real bug: indexing past the end, with a message that quotes a secret.
        if items.is_empty() {
            std::panic::panic_any(format!("index out of range while using key {key}"));
        }
        Ok(Outcome::default())
    }
}

struct Sleep;

#[async_trait]
impl Command for Sleep {
    fn name(&self) -> &str {
        "soar-test-sleep"
    }
    fn description(&self) -> &str {
        "Sleeps, then answers with the time it slept."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![ArgSpec { name: "ms", description: "Milliseconds.", default: Some("0"), ..ArgSpec::default() }]
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let ms: u64 = str_arg(ctx, "ms").parse().map_err(|_| Error::InvalidArg {
            name: "ms".into(),
            reason: "expected a whole number of milliseconds.".into(),
        })?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(Entry::markdown(format!("slept {ms}")).into())
    }
}

struct Counter(AtomicU64);

#[async_trait]
impl Command for Counter {
    fn name(&self) -> &str {
        "soar-test-counter"
    }
    fn description(&self) -> &str {
        "Counts its calls in this process."
    }
    async fn run(&self, _ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Entry::markdown(n.to_string()).into())
    }
}

struct Hold;

#[async_trait]
impl Command for Hold {
    fn name(&self) -> &str {
        "soar-test-hold"
    }
    fn description(&self) -> &str {
        "Holds its data argument for a while, then answers with its number of items."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![
            ArgSpec { name: "ms", description: "Milliseconds.", default: Some("0"), ..ArgSpec::default() },
            ArgSpec { name: "data", description: "Anything, usually large.", ..ArgSpec::default() },
        ]
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let ms: u64 = str_arg(ctx, "ms").parse().map_err(|_| Error::InvalidArg {
            name: "ms".into(),
            reason: "expected a whole number of milliseconds.".into(),
        })?;
        tokio::time::sleep(Duration::from_millis(ms)).await;
        let items = match ctx.args.get("data") {
            Some(Value::Array(items)) => items.len(),
            Some(Value::String(s)) => s.len(),
            _ => 0,
        };
        Ok(Entry::markdown(format!("held {items}")).into())
    }
}

struct EchoContext;

#[async_trait]
impl Command for EchoContext {
    fn name(&self) -> &str {
        "soar-test-echo-context"
    }
    fn description(&self) -> &str {
        "Fails like a server that echoes the tokens it was sent."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![ArgSpec {
            name: "refresh",
            description: "A new access token to store first.",
            ..ArgSpec::default()
        }]
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        log_everything(ctx);
        let fresh = str_arg(ctx, "refresh");
        if !fresh.is_empty() {
            ctx.integration_context.set("access_token", json!(fresh));
        }
        let echoed: Vec<String> = ctx.integration_context.data().values().map(Value::to_string).collect();
        Err(Error::Command(format!(
            "Error in API call [401] - Unauthorized\n{{\"sent\": [{}]}}",
            echoed.join(", ")
        )))
    }
}

/// A number argument, or a clear error naming it.
fn num_arg(ctx: &CommandContext, name: &str) -> Result<u64, Error> {
    str_arg(ctx, name).trim().parse().map_err(|_| Error::InvalidArg {
        name: name.into(),
        reason: "expected a whole number, e.g. 3.".into(),
    })
}

struct Poll;

#[async_trait]
impl Command for Poll {
    fn name(&self) -> &str {
        "soar-test-poll"
    }
    fn description(&self) -> &str {
        "Starts an action that finishes after a number of polls (a scheduled command)."
    }
    fn args(&self) -> Vec<ArgSpec> {
        vec![
            ArgSpec {
                name: "polls",
                description: "Runs until done.",
                default: Some("3"),
                ..ArgSpec::default()
            },
            ArgSpec {
                name: "outcome",
                description: "How the action ends.",
                default: Some("succeed"),
                options: &["succeed", "fail"],
                ..ArgSpec::default()
            },
            ArgSpec {
                name: "next_run",
                description: "NextRun seconds.",
                default: Some("10"),
                ..ArgSpec::default()
            },
            ArgSpec {
                name: "timeout",
                description: "Timeout seconds (0: none).",
                default: Some("0"),
                ..ArgSpec::default()
            },
            ArgSpec { name: "action_id", description: "Set by the schedule.", ..ArgSpec::default() },
            ArgSpec { name: "polling", description: "Set by the schedule.", ..ArgSpec::default() },
        ]
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let polls = num_arg(ctx, "polls")?;
        let next_run = num_arg(ctx, "next_run")?;
        let timeout = num_arg(ctx, "timeout")?;
        // The action's progress lives in the integration context, so it only finishes when the
        // engine carries the context from one poll to the next.
        let mut action = str_arg(ctx, "action_id");
        let key = |id: &str| format!("poll:{id}");
        if action.is_empty() {
            action = format!("A{}", ctx.integration_context.data().len() + 1);
            ctx.integration_context.set(key(&action), json!(0));
        }
        let done =
            ctx.integration_context.data().get(&key(&action)).and_then(Value::as_u64).ok_or_else(|| {
                Error::InvalidArg {
                    name: "action_id".into(),
                    reason: format!("no action {action} was started."),
                }
            })? + 1;
        ctx.integration_context.set(key(&action), json!(done));
        if done > polls {
            return match str_arg(ctx, "outcome").as_str() {
                "fail" => Err(Error::Command(format!("Action {action} failed after {polls} polls."))),
                _ => Ok(Entry::markdown(format!("Action {action} succeeded after {polls} polls.")).into()),
            };
        }
        let mut args = ctx.args.clone();
        args.insert("action_id".into(), json!(action));
        args.insert("polling".into(), json!("true"));
        let schedule = soar_core::protocol::Schedule {
            command: self.name().to_owned(),
            next_run_seconds: next_run,
            args,
            timeout_seconds: Some(timeout).filter(|t| *t > 0),
            items_remaining: Some(polls + 1 - done),
        };
        let entry = Entry::markdown(format!("Action {action} is in progress ({done} of {polls})."));
        Ok(entry.with_schedule(&schedule).into())
    }
}

/// The remote side of the fetch and mirroring commands: a JSON file named by the `state_file`
/// param, which the tests write and `update-remote-system` records into.
///
/// `{"total": N, "page": P, "direction": "Both", "fetch_sleep_ms": 0, "sleep_at_offset": K,
///   "remote": {"INC-00001": {field overrides, "modified": ISO}}, "updates": [...]}`: incidents
/// `INC-00001`..`INC-<N>` are made on the fly (created one second apart), so 10,000 cost nothing
/// until fetched; `remote` holds the ones changed since (the tests' "remote changes").
mod remote {
    use serde_json::{Value, json};
    use soar_core::{CommandContext, Error};

    pub fn path(ctx: &CommandContext) -> Result<std::path::PathBuf, Error> {
        match ctx.params.str("state_file") {
            Some(p) if !p.is_empty() => Ok(p.into()),
            _ => Err(Error::InvalidArg {
                name: "state_file".into(),
                reason:
                    "this command needs the state_file param: soar instance add ... --param state_file=PATH."
                        .into(),
            }),
        }
    }

    pub fn load(ctx: &CommandContext) -> Result<Value, Error> {
        let path = path(ctx)?;
        let text = std::fs::read(&path)
            .map_err(|e| Error::Command(format!("Could not read the state file {}: {e}", path.display())))?;
        serde_json::from_slice(&text)
            .map_err(|e| Error::Command(format!("The state file {} is not JSON: {e}", path.display())))
    }

    pub fn save(ctx: &CommandContext, state: &Value) -> Result<(), Error> {
        let path = path(ctx)?;
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        std::fs::write(&tmp, state.to_string())
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| Error::Command(format!("Could not write the state file {}: {e}", path.display())))
    }

    /// Appends a line to `<state file>.<suffix>`.
    pub fn log(ctx: &CommandContext, suffix: &str, line: &Value) {
        use std::io::Write;
        let Ok(path) = path(ctx) else { return };
        let log = path.with_extension(suffix);
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
            let _ = writeln!(f, "{line}");
        }
    }

    pub fn id(i: u64) -> String {
        format!("INC-{i:05}")
    }

    pub fn number(id: &str) -> Option<u64> {
        id.strip_prefix("INC-")?.parse().ok()
    }

    /// Seconds after 2026-01-01T00:00:00Z as ISO 8601 (a day at most is enough here).
    pub fn time(secs: u64) -> String {
        let secs = secs % 86_400;
        format!("2026-01-01T{:02}:{:02}:{:02}.000Z", secs / 3600, secs / 60 % 60, secs % 60)
    }

    /// Remote incident `i` as it is now.
    pub fn object(state: &Value, i: u64) -> Value {
        let id = id(i);
        let mut o = json!({
            "id": id, "title": format!("Incident {i}"), "severity": 2, "status": "Active",
            "created": time(i), "modified": time(i),
        });
        if let (Some(o), Some(Value::Object(over))) = (o.as_object_mut(), state["remote"].get(&id)) {
            for (k, v) in over {
                o.insert(k.clone(), v.clone());
            }
        }
        o
    }

    pub fn millis() -> u128 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis())
    }
}

struct FetchIncidents;

#[async_trait]
impl Command for FetchIncidents {
    fn name(&self) -> &str {
        "fetch-incidents"
    }
    fn description(&self) -> &str {
        "Fetches the next page of the state file's incidents after the last run's offset."
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let state = remote::load(ctx)?;
        let offset = ctx.last_run.as_ref().and_then(|l| l.get("offset")).and_then(Value::as_u64).unwrap_or(0);
        let total = state["total"].as_u64().unwrap_or(0);
        let page = state["page"].as_u64().unwrap_or(50).max(1);
        let started = remote::millis();
        let parent = std::os::unix::process::parent_id();
        if state["sleep_at_offset"].as_u64() == Some(offset) {
            // The crash tests kill the engine that runs this fetch while it sleeps.
            remote::log(ctx, "holder", &json!({"engine": parent, "offset": offset}));
            let ms = state["fetch_sleep_ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        let end = (offset + page).min(total);
        let direction = state["direction"].as_str().unwrap_or("Both");
        let instance = ctx.instance.clone().unwrap_or_default();
        let incidents: Vec<Value> = (offset + 1..=end)
            .map(|i| {
                let o = remote::object(&state, i);
                json!({
                    "name": o["title"], "occurred": o["created"], "severity": o["severity"],
                    "rawJSON": o.to_string(), "dbotMirrorId": remote::id(i),
                    "dbotMirrorDirection": direction, "dbotMirrorInstance": instance,
                })
            })
            .collect();
        remote::log(
            ctx,
            "fetchlog",
            &json!({"engine": parent, "offset": offset, "end": end, "start_ms": started.to_string(), "end_ms": remote::millis().to_string()}),
        );
        let mut last_run = soar_core::Object::new();
        last_run.insert("offset".into(), json!(end));
        Ok(Outcome { last_run: Some(last_run), incidents: Some(incidents), ..Outcome::default() })
    }
}

/// Mirroring arguments read with the protocol's typed readers; a bad one names itself.
fn mirror_args<T>(
    ctx: &CommandContext,
    read: fn(&soar_core::Object) -> Result<T, String>,
) -> Result<T, Error> {
    read(&ctx.args).map_err(Error::Command)
}

fn mirror_arg_specs(names: &[&'static str]) -> Vec<ArgSpec> {
    names
        .iter()
        .map(|n| ArgSpec { name: n, description: "Sent by the engine.", ..ArgSpec::default() })
        .collect()
}

struct GetModified;

#[async_trait]
impl Command for GetModified {
    fn name(&self) -> &str {
        "get-modified-remote-data"
    }
    fn description(&self) -> &str {
        "The ids of the remote incidents modified after lastUpdate."
    }
    fn args(&self) -> Vec<ArgSpec> {
        mirror_arg_specs(&["lastUpdate"])
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let args = mirror_args(ctx, soar_core::protocol::mirror::ModifiedRemoteDataArgs::from_args)?;
        let state = remote::load(ctx)?;
        let mut ids: Vec<String> = state["remote"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, o)| o["modified"].as_str().is_some_and(|t| *t > *args.last_update.as_str()))
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        remote::log(
            ctx,
            "mirrorlog",
            &json!({"command": self.name(), "lastUpdate": args.last_update, "ids": ids}),
        );
        Ok(Outcome { mirror: Some(soar_core::protocol::Mirror::ModifiedIds { ids }), ..Outcome::default() })
    }
}

struct GetRemote;

#[async_trait]
impl Command for GetRemote {
    fn name(&self) -> &str {
        "get-remote-data"
    }
    fn description(&self) -> &str {
        "One remote incident, with a close or reopen entry when its status says so."
    }
    fn args(&self) -> Vec<ArgSpec> {
        mirror_arg_specs(&["id", "lastUpdate"])
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let args = mirror_args(ctx, soar_core::protocol::mirror::RemoteDataArgs::from_args)?;
        let state = remote::load(ctx)?;
        let n = remote::number(&args.remote_id)
            .filter(|n| *n >= 1 && *n <= state["total"].as_u64().unwrap_or(0))
            .ok_or_else(|| Error::Command(format!("Incident {} was not found.", args.remote_id)))?;
        let object = remote::object(&state, n);
        let mut entries = Vec::new();
        let over = &state["remote"][&args.remote_id];
        if object["status"] == "Closed" {
            entries.push(json!({"Type": 1, "ContentsFormat": "json", "Contents": {
                "dbotIncidentClose": true,
                "closeReason": object["classification"].as_str().unwrap_or("Other"),
                "closeNotes": object["closeNotes"].as_str().unwrap_or(""),
            }}));
        } else if over["reopened"] == json!(true) {
            entries
                .push(json!({"Type": 1, "ContentsFormat": "json", "Contents": {"dbotIncidentReopen": true}}));
        }
        remote::log(
            ctx,
            "mirrorlog",
            &json!({"command": self.name(), "id": args.remote_id, "lastUpdate": args.last_update}),
        );
        let object = object.as_object().cloned().unwrap_or_default();
        Ok(Outcome {
            mirror: Some(soar_core::protocol::Mirror::RemoteData { object, entries }),
            ..Outcome::default()
        })
    }
}

struct UpdateRemote;

#[async_trait]
impl Command for UpdateRemote {
    fn name(&self) -> &str {
        "update-remote-system"
    }
    fn description(&self) -> &str {
        "Records the local changes the engine sends and applies them to the remote incident."
    }
    fn args(&self) -> Vec<ArgSpec> {
        mirror_arg_specs(&["data", "entries", "incidentChanged", "remoteId", "status", "delta"])
    }
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let args = mirror_args(ctx, soar_core::protocol::mirror::UpdateRemoteSystemArgs::from_args)?;
        let mut state = remote::load(ctx)?;
        if state["fail_updates"] == json!(true) {
            return Err(Error::Command(format!(
                "The remote system refused the update of {}.",
                args.remote_id
            )));
        }
        let now = remote::millis();
        let over = &mut state["remote"][&args.remote_id];
        for (k, v) in &args.delta {
            over[k] = v.clone();
        }
        if args.closed() {
            over["status"] = json!("Closed");
            over["classification"] = args.delta.get("closeReason").cloned().unwrap_or(json!("Other"));
        }
        // `modified` stays: an update the engine made is not a remote change to mirror back in.
        let update = json!({
            "remoteId": args.remote_id, "data": args.data, "delta": args.delta, "status": args.status,
            "incidentChanged": args.incident_changed, "entries": args.entries, "at_ms": now.to_string(),
        });
        match state.get_mut("updates").and_then(Value::as_array_mut) {
            Some(list) => list.push(update),
            None => state["updates"] = json!([update]),
        }
        remote::save(ctx, &state)?;
        Ok(Outcome {
            mirror: Some(soar_core::protocol::Mirror::Updated { id: args.remote_id }),
            ..Outcome::default()
        })
    }
}

struct MappingFields;

#[async_trait]
impl Command for MappingFields {
    fn name(&self) -> &str {
        "get-mapping-fields"
    }
    fn description(&self) -> &str {
        "The fields update-remote-system understands."
    }
    async fn run(&self, _ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let schemes = json!({"Soar Test Incident": {
            "title": "The title.", "severity": "1-4.", "closeReason": "Why it was closed.", "closeNotes": "Notes.",
        }});
        Ok(Outcome {
            mirror: Some(soar_core::protocol::Mirror::Mapping {
                schemes: schemes.as_object().cloned().unwrap_or_default(),
            }),
            ..Outcome::default()
        })
    }
}

fn main() -> std::process::ExitCode {
    let code = soar_core::run(TestIntegration);
    // The memory tests read the process's peak resident set once everything is done.
    if std::env::var_os("SOAR_TEST_REPORT_PEAK_RSS").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("peak-rss {line}");
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_rules_hold() {
        soar_core::check_integration(&TestIntegration).unwrap();
    }
}
