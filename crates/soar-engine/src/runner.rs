//! Running one command: pick the instance, find and check the binary, read the context (taking
//! the lease when the token must be fetched), send the request, store what comes back.
//!
//! The binary runs in its own process group. `--timeout` is enforced on the group: at the
//! deadline every process of it is killed, so a child that inherited standard output cannot
//! keep the run waiting; and once the binary itself has exited, processes it left behind get
//! [`LEFTOVER_GRACE`] to close standard output before they are killed too. In both cases a
//! complete response that arrived in time is kept (with a warning), not discarded. Since its
//! own group is not the terminal's foreground group, Ctrl-C reaches only `soar`: the first
//! integration run installs handlers for SIGINT, SIGTERM and SIGHUP that kill the groups of the
//! running integrations and then exit (130, 143, 129), as the default action would have.
//!
//! A context that could not be sent back (over [`CONTEXT_LIMIT`]) is never stored; one stored
//! before that rule is not sent either (a clear error instead), except to
//! `<integration>-auth-reset`, which is sent an empty context so that it always works. The same
//! holds for a fetch's last run (over [`LAST_RUN_LIMIT`]): not stored (nor the page that came
//! with it), and one stored before that rule stops fetches with an error that names
//! `soar instance reset-last-run`.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, Once, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use soar_protocol::{Object, Request, Response};

use crate::cmdline::{self, CommandLine};
use crate::error::{EngineError, Result};
use crate::fsutil::ensure_private_dir;
use crate::instance::{Instance, Instances};
use crate::manifest::{Finder, Manifests};
use crate::store::{
    CONTEXT_LIMIT, ContextStore, LAST_RUN_LIMIT, RetryPolicy, StoredIncident, json_size, needs_lease,
    update_with_retries,
};

/// The command name of a fetch.
pub const FETCH_INCIDENTS: &str = "fetch-incidents";

/// The suffix of the command that clears an integration's context (`<prefix>-auth-reset`).
pub const AUTH_RESET_SUFFIX: &str = "-auth-reset";

/// How long processes an integration left behind may hold its standard output open after it
/// exited, before its process group is killed.
pub const LEFTOVER_GRACE: Duration = Duration::from_secs(1);

/// How long to wait for the pipes to close and the binary to be reaped once its group is killed.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Everything a run needs; built once per `soar` process.
pub struct Engine {
    /// The data directory.
    pub data_dir: PathBuf,
    /// The instance files.
    pub instances: Instances,
    /// The context store.
    pub store: Box<dyn ContextStore>,
    /// Finds integration binaries.
    pub finder: Finder,
    /// Reads (cached) manifests.
    pub manifests: Manifests,
    /// Extra environment variables for integration processes (the demo points them at the
    /// emulator this way).
    pub env: Vec<(String, String)>,
    /// How long a lease lives if its holder dies without releasing it (Redis); a live holder
    /// renews it every third of this.
    pub lease_ttl: Duration,
    /// How long a run waits for the lease before running anyway.
    pub lease_wait: Duration,
    /// How long an integration may run before it is killed.
    pub timeout: Duration,
    /// Retry policy for context conflicts.
    pub retry: RetryPolicy,
    /// The clock (epoch seconds), a seam for tests.
    pub now: fn() -> i64,
    /// The clock in epoch milliseconds (the fetch service's schedule and timestamps, where the
    /// store has no clock of its own: see [`Engine::clock_ms`]), a seam for tests.
    pub now_ms: fn() -> i64,
}

/// Epoch seconds from the system clock.
pub fn system_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Epoch milliseconds from the system clock.
pub fn system_now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// What one run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The instance that ran it.
    pub instance: String,
    /// The command.
    pub command: String,
    /// The integration's response.
    pub response: Response,
    /// The context version after the run.
    pub context_version: i64,
    /// Compare-and-set attempts needed to store the context (0 when unchanged).
    pub cas_attempts: u32,
    /// Whether the run held the instance lease.
    pub leased: bool,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// What storing a fetch's incidents and last run did (`None` for other commands and for a
    /// fetch that answered an error, which stores nothing).
    pub fetched: Option<crate::store::Committed>,
}

impl RunOutcome {
    /// True when an entry is an error.
    pub fn has_error(&self) -> bool {
        self.response.entries.iter().any(|e| e.is_error())
    }
}

impl Engine {
    /// An engine with default timings over `store`.
    pub fn new(data_dir: &Path, store: Box<dyn ContextStore>) -> Result<Engine> {
        ensure_private_dir(data_dir)?;
        Ok(Engine {
            data_dir: data_dir.to_owned(),
            instances: Instances::open(data_dir)?,
            store,
            finder: Finder::from_env(),
            manifests: Manifests::new(Some(data_dir)),
            env: Vec::new(),
            lease_ttl: Duration::from_secs(15),
            lease_wait: Duration::from_secs(30),
            timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            now: system_now,
            now_ms: system_now_ms,
        })
    }

    /// Now, in epoch milliseconds, for what is stored and read by other engines: the store's
    /// clock where it has one (see [`ContextStore::now_ms`]), else [`Engine::now_ms`].
    pub fn clock_ms(&self) -> Result<i64> {
        Ok(self.store.now_ms()?.unwrap_or_else(self.now_ms))
    }

    /// Parses a War Room line and runs it on `instance` (or the one `using=` names, or the only
    /// instance whose integration has the command).
    pub fn run_line(&self, instance: Option<&str>, line: &str) -> Result<RunOutcome> {
        let CommandLine { command, args, using } = cmdline::parse(line)?;
        let name = match (instance, using.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                return Err(EngineError::Usage(format!(
                    "--instance {a} and using={b} name different instances: keep one."
                )));
            }
            (Some(a), _) | (None, Some(a)) => a.to_owned(),
            (None, None) => self.pick_instance(&command)?,
        };
        let inst = self.instances.load(&name)?;
        let binary = self.finder.find(&inst.integration)?;
        if let Some(manifest) = self.manifests.get(&inst.integration, &binary)? {
            let info = manifest.command(&command, &inst.integration)?;
            manifest.check_args(info, &args)?;
        }
        let args: Object = args.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        self.run_command(&inst, &binary, &command, args)
    }

    fn pick_instance(&self, command: &str) -> Result<String> {
        let all = self.instances.all()?;
        let matching: Vec<&Instance> = all
            .iter()
            .filter(|i| command.strip_prefix(i.integration.as_str()).is_some_and(|r| r.starts_with('-')))
            .collect();
        match matching.as_slice() {
            [one] => Ok(one.name.clone()),
            [] if all.len() == 1 && !command.contains('-') => Ok(all[0].name.clone()),
            [] => {
                let prefix = command.rsplit_once('-').map_or(command, |(p, _)| p);
                Err(EngineError::Usage(format!(
                    "No instance runs !{command}: add --instance NAME, or create one with \
                     soar instance add NAME --integration {prefix} --param k=v."
                )))
            }
            many => {
                let names: Vec<&str> = many.iter().map(|i| i.name.as_str()).collect();
                Err(EngineError::Usage(format!(
                    "Several instances run !{command} ({}): add --instance NAME or using=NAME.",
                    names.join(", ")
                )))
            }
        }
    }

    /// Runs `command` with `args` on `inst` through the binary at `binary`.
    pub fn run_command(
        &self,
        inst: &Instance,
        binary: &Path,
        command: &str,
        args: Object,
    ) -> Result<RunOutcome> {
        self.run_command_fenced(inst, binary, command, args, None)
    }

    /// [`Engine::run_command`]; a fetch's incidents and last run are stored under `fetch_lease`
    /// (the fetch service's lease, which fences that write).
    pub fn run_command_fenced(
        &self,
        inst: &Instance,
        binary: &Path,
        command: &str,
        args: Object,
        fetch_lease: Option<&dyn crate::store::Lease>,
    ) -> Result<RunOutcome> {
        let started = Instant::now();
        let name = inst.name.as_str();
        let store = &*self.store;
        let now = (self.now)();
        let (mut stored, mut warm) = store.load_with_warm(name)?;
        let mut lease = None;
        if needs_lease(&stored, warm, now) {
            lease = store.acquire_lease(name, self.lease_ttl, self.lease_wait)?;
            if lease.is_none() {
                tracing::warn!(
                    "instance {name}: the lease stayed taken for {:?}; running without it",
                    self.lease_wait
                );
            }
            // Another engine may have fetched the token while this one waited.
            (stored, warm) = store.load_with_warm(name)?;
            if !needs_lease(&stored, warm, now) {
                lease = None;
            }
        }
        let leased = lease.is_some();
        // A context stored before the engine refused oversized ones cannot be sent; only the
        // reset command runs, with an empty context, so that it always clears it.
        let size = json_size(&stored.context);
        let oversized = size > CONTEXT_LIMIT;
        if oversized && !command.ends_with(AUTH_RESET_SUFFIX) {
            return Err(EngineError::StoredContextTooLarge {
                instance: name.to_owned(),
                size,
                limit: CONTEXT_LIMIT,
                reset: format!("{}{AUTH_RESET_SUFFIX}", inst.integration),
            });
        }
        let sent = if oversized {
            tracing::warn!(
                "instance {name}: the stored context is {size} bytes, over the {CONTEXT_LIMIT}-byte limit; \
                 {command} is sent an empty context"
            );
            Object::new()
        } else {
            stored.context.clone()
        };
        let last_run = if command == FETCH_INCIDENTS {
            let last_run = store.last_run(name)?.unwrap_or_default();
            let size = json_size(&last_run);
            if size > LAST_RUN_LIMIT {
                return Err(EngineError::StoredLastRunTooLarge {
                    instance: name.to_owned(),
                    size,
                    limit: LAST_RUN_LIMIT,
                });
            }
            Some(last_run)
        } else {
            None
        };
        let request = Request {
            id: None,
            command: command.to_owned(),
            args,
            params: inst.params.clone(),
            integration_context: sent,
            context_version: Some(stored.version),
            last_run,
            instance: Some(name.to_owned()),
        };
        let response = self.spawn(&inst.integration, binary, &request)?;
        // After an oversized context was replaced by an empty one, "unchanged" means empty.
        let new = match &response.integration_context {
            Some(new) => Some(new),
            None if oversized => Some(&request.integration_context),
            None => None,
        };
        let (version, attempts) = match new {
            Some(new) if *new != stored.context => {
                let up = update_with_retries(
                    store,
                    name,
                    &stored,
                    new,
                    self.retry,
                    &std::thread::sleep,
                    lease.as_deref(),
                )?;
                (up.version, up.attempts)
            }
            _ => {
                if warm != Some(stored.version) {
                    store.set_warm_version(name, stored.version)?;
                }
                (stored.version, 0)
            }
        };
        drop(lease);
        let mut fetched = None;
        if command == FETCH_INCIDENTS && !response.entries.iter().any(|e| e.is_error()) {
            fetched = Some(self.store_fetch(name, &response, fetch_lease)?);
        }
        Ok(RunOutcome {
            fetched,
            instance: name.to_owned(),
            command: command.to_owned(),
            response,
            context_version: version,
            cas_attempts: attempts,
            leased,
            elapsed: started.elapsed(),
        })
    }

    /// Stores a fetch's incidents with its last run, both or neither (see
    /// [`ContextStore::commit_fetch`]).
    fn store_fetch(
        &self,
        name: &str,
        response: &Response,
        lease: Option<&dyn crate::store::Lease>,
    ) -> Result<crate::store::Committed> {
        if let Some(size) = response.last_run.as_ref().map(json_size).filter(|&size| size > LAST_RUN_LIMIT) {
            return Err(EngineError::LastRunTooLarge {
                instance: name.to_owned(),
                size,
                limit: LAST_RUN_LIMIT,
            });
        }
        let now_ms = self.clock_ms()?;
        let at = crate::fetcher::iso(now_ms);
        let incidents: Vec<StoredIncident> = response
            .incidents
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, v)| StoredIncident::fetched(v.clone(), now_ms.saturating_mul(100_000) + i as i64, &at))
            .collect();
        let committed = self.store.commit_fetch(name, &incidents, response.last_run.as_ref(), lease)?;
        if committed == crate::store::Committed::LeaseLost {
            return Err(EngineError::LeaseLost { instance: name.to_owned() });
        }
        Ok(committed)
    }

    /// Spawns the binary in its own process group, writes the request and reads the response;
    /// its standard error is forwarded line by line through [`crate::render::neutralize`].
    ///
    /// At the timeout, or [`LEFTOVER_GRACE`] after the binary exited while something it started
    /// still holds its standard output, the whole group is killed; a complete response read
    /// before that is kept.
    pub fn spawn(&self, integration: &str, binary: &Path, request: &Request) -> Result<Response> {
        let body = serde_json::to_vec(request)
            .map_err(|e| EngineError::Other(format!("Could not serialize the request: {e}")))?;
        let started = Instant::now();
        // Listed before a signal can find it missing: the handler waits for this lock.
        let mut running = running_groups();
        let mut child = Command::new(binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .process_group(0)
            .spawn()
            .map_err(|e| EngineError::Integration(format!("Could not start {}: {e}", binary.display())))?;
        let group = child.id();
        running.push(group);
        drop(running);
        let _running = RunningGroup(group);
        // The integration's log lines reach the terminal neutralised, like its entries.
        let stderr_done = child.stderr.take().map(|stderr| {
            let (done, finished) = mpsc::channel::<()>();
            std::thread::spawn(move || {
                forward_stderr(stderr);
                let _ = done.send(());
            });
            finished
        });
        let (tx, events) = mpsc::channel::<Event>();
        // Write from a thread: a binary that answers before reading all input must not deadlock.
        if let Some(mut stdin) = child.stdin.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let written = stdin.write_all(&body);
                drop(stdin);
                let _ = tx.send(Event::Written(written));
            });
        }
        if let Some(mut stdout) = child.stdout.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let read = stdout.read_to_end(&mut out).map(|_| out);
                let _ = tx.send(Event::Read(read));
            });
        }
        std::thread::spawn(move || {
            let _ = tx.send(Event::Exited(child.wait()));
        });

        // `--timeout` takes any number of seconds; beyond what an `Instant` holds, never.
        let deadline = started
            .checked_add(self.timeout)
            .unwrap_or_else(|| started + Duration::from_secs(u64::from(u32::MAX)));
        let mut run = Collected::default();
        run.collect(&events, |exited_at| match exited_at {
            Some(t) => (t + LEFTOVER_GRACE).min(deadline),
            None => deadline,
        });
        let timed_out = run.status.is_none();
        let stopped = !run.done();
        if stopped {
            kill_group(group);
            let until = Instant::now() + KILL_GRACE;
            run.collect(&events, |_| until);
        }
        // Let the last log lines out before the answer is printed (not longer than the grace).
        if let Some(finished) = stderr_done {
            let _ = finished.recv_timeout(KILL_GRACE);
        }
        let status = match &run.status {
            Some(Ok(status)) => status.to_string(),
            Some(Err(e)) => {
                return Err(EngineError::Integration(format!("Could not wait for {integration}: {e}")));
            }
            None => "no exit status".to_owned(),
        };
        let out = match run.output {
            Some(Ok(out)) => out,
            Some(Err(e)) => {
                return Err(EngineError::Integration(format!(
                    "Could not read the response of {integration}: {e}"
                )));
            }
            // Something outside the group still holds standard output: use nothing.
            None => Vec::new(),
        };
        let empty = out.iter().all(u8::is_ascii_whitespace);
        let parsed = if empty { None } else { Some(serde_json::from_slice::<Response>(&out)) };
        if let Some(Ok(response)) = parsed {
            if timed_out {
                tracing::warn!(
                    "{integration} answered but had not exited after {:?}: it was stopped and its answer kept",
                    self.timeout
                );
            } else if stopped {
                tracing::warn!(
                    "{integration} exited but left processes holding its standard output; they were stopped"
                );
            }
            return Ok(response);
        }
        if timed_out {
            return Err(EngineError::Integration(format!(
                "{integration} did not answer within {:?} and was stopped: run it again, or raise --timeout.",
                self.timeout
            )));
        }
        let Some(Err(parse_error)) = parsed else {
            // The writer finishes (or fails) as soon as the process is gone.
            if run.written.is_none()
                && let Ok(Event::Written(w)) = events.recv_timeout(Duration::from_millis(200))
            {
                run.written = Some(w);
            }
            let write_note = match run.written {
                Some(Err(e)) => format!(" (it stopped reading its request: {e})"),
                _ => String::new(),
            };
            let held = if stopped { " (processes it left holding its output were stopped)" } else { "" };
            return Err(EngineError::Integration(format!(
                "{integration} exited with {status} and wrote no response{write_note}{held}; its standard error is above."
            )));
        };
        // What it wrote is not shown: it may hold tokens.
        Err(EngineError::Integration(format!(
            "{integration} ({status}) did not answer with a protocol response: {parse_error} ({} bytes on stdout).",
            out.len()
        )))
    }
}

/// What the threads around an integration process report.
enum Event {
    /// The request was written (or writing failed).
    Written(std::io::Result<()>),
    /// Standard output reached its end: everything read.
    Read(std::io::Result<Vec<u8>>),
    /// The process exited.
    Exited(std::io::Result<ExitStatus>),
}

/// The events of one run so far.
#[derive(Default)]
struct Collected {
    written: Option<std::io::Result<()>>,
    output: Option<std::io::Result<Vec<u8>>>,
    status: Option<std::io::Result<ExitStatus>>,
    exited_at: Option<Instant>,
}

impl Collected {
    /// Exited and its output closed.
    fn done(&self) -> bool {
        self.status.is_some() && self.output.is_some()
    }

    /// Takes events until done or `until(exited_at)` passes.
    fn collect(&mut self, events: &mpsc::Receiver<Event>, until: impl Fn(Option<Instant>) -> Instant) {
        while !self.done() {
            let left = until(self.exited_at).saturating_duration_since(Instant::now());
            match events.recv_timeout(left) {
                Ok(Event::Written(w)) => self.written = Some(w),
                Ok(Event::Read(r)) => self.output = Some(r),
                Ok(Event::Exited(s)) => {
                    self.status = Some(s);
                    self.exited_at = Some(Instant::now());
                }
                Err(_) => return,
            }
        }
    }
}

/// The process groups of the integrations running now, killed if `soar` is interrupted.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// The list of running groups, locked; the first call installs the signal handlers.
fn running_groups() -> std::sync::MutexGuard<'static, Vec<u32>> {
    static HANDLERS: Once = Once::new();
    HANDLERS.call_once(forward_interrupts);
    RUNNING.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running integration's process group, removed from [`RUNNING`] when dropped.
struct RunningGroup(u32);

impl Drop for RunningGroup {
    fn drop(&mut self) {
        RUNNING.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|g| *g != self.0);
    }
}

/// Starts a thread that installs handlers for SIGINT, SIGTERM and SIGHUP (this returns once
/// they are installed, so none is missed) and, on the first of them, kills the running
/// integrations' groups and exits with 128 + the signal number.
fn forward_interrupts() {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    async fn next(s: &mut Option<Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    let (ready, installed) = mpsc::channel::<()>();
    let started = std::thread::Builder::new().name("soar-signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
        rt.block_on(async {
            let mut int = signal(SignalKind::interrupt()).ok();
            let mut term = signal(SignalKind::terminate()).ok();
            let mut hup = signal(SignalKind::hangup()).ok();
            drop(ready);
            let code = tokio::select! {
                () = next(&mut int) => 130,
                () = next(&mut term) => 143,
                () = next(&mut hup) => 129,
            };
            let groups = RUNNING.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            for group in groups {
                kill_group(group);
            }
            std::process::exit(code);
        });
    });
    match started {
        // Returns when the handlers are installed (or the thread gave up: the defaults stay).
        Ok(_) => {
            let _ = installed.recv();
        }
        Err(e) => tracing::warn!(
            "could not watch for Ctrl-C ({e}); an interrupted run may leave its integration running"
        ),
    }
}

/// Kills every process of the group `group` (the integration and whatever it started).
fn kill_group(group: u32) {
    // Never signal group 0 or 1 (`kill(-1)` would reach every process of the user).
    let Some(pid) = i32::try_from(group).ok().filter(|p| *p > 1).and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(e) = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL)
        && e != rustix::io::Errno::SRCH
    {
        tracing::warn!("could not stop the process group {group}: {e}");
    }
}

/// Copies an integration's standard error to ours, one line at a time, with control sequences
/// shown rather than obeyed (API data can reach a log line).
fn forward_stderr(stderr: impl Read) {
    use std::io::BufRead;
    for line in std::io::BufReader::new(stderr).split(b'\n') {
        let Ok(line) = line else { break };
        let text = String::from_utf8_lossy(&line);
        let mut out = std::io::stderr().lock();
        let _ = writeln!(out, "{}", crate::render::neutralize(&text));
    }
}
