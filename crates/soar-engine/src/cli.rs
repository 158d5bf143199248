//! The `soar` command line (clap) and what each subcommand prints.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::Value;
use soar_protocol::Object;

use crate::error::{EngineError, Result};
use crate::fsutil::resolve_data_dir;
use crate::instance::{Instance, ParamSource, SystemSecrets, build_params, check_params};
use crate::render::{Stream, Style, render_entry};
use crate::runner::{Engine, RunOutcome};
use crate::store::{ContextStore, FileStore, RedisStore};

/// soar: run Cortex-style SOAR integrations from a terminal.
#[derive(Debug, Parser)]
#[command(name = "soar", version, about, long_about = None)]
pub struct Cli {
    /// Where instances and contexts live [default: $XDG_DATA_HOME/soar or ~/.local/share/soar].
    #[arg(long, global = true, env = "SOAR_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The context store: `file` (in the data directory) or `redis://HOST:PORT[/DB]`.
    #[arg(long, global = true, env = "SOAR_STORE", default_value = "file", value_name = "STORE")]
    pub store: String,
    /// How long a run waits for the instance lease (held while a token is fetched) before it
    /// runs anyway, in milliseconds.
    #[arg(long, global = true, env = "SOAR_LEASE_WAIT_MS", default_value_t = 30_000, value_name = "MS")]
    pub lease_wait_ms: u64,
    /// How long the instance lease outlives an engine that died holding it (Redis), in
    /// milliseconds; a running engine renews it every third of this.
    #[arg(long, global = true, env = "SOAR_LEASE_TTL_MS", default_value_t = 15_000, value_name = "MS",
          value_parser = clap::value_parser!(u64).range(100..))]
    pub lease_ttl_ms: u64,
    /// Colours: auto (when printing to a terminal and NO_COLOR is unset), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Add, list, show or remove instances.
    #[command(subcommand)]
    Instance(InstanceCmd),
    /// Run a War Room command: soar run [--instance NAME] '!msgraph-user-list properties=id,mail'.
    Run(RunArgs),
    /// Fetch incidents: once (soar fetch NAME), or as a service on a schedule with mirroring
    /// (soar fetch --instance NAME --every 1m, or --config FILE for several instances).
    Fetch(FetchArgs),
    /// List the stored incidents (fetched by soar fetch).
    Incidents(IncidentsArgs),
    /// Show, update, note or close a stored incident; changes are mirrored out by the next
    /// fetch cycle.
    #[command(subcommand)]
    Incident(IncidentCmd),
    /// List the commands (and their arguments) of an integration or an instance.
    Commands {
        /// An integration name (e.g. msgraph-user) or an instance name.
        name: String,
    },
    /// The 37 Microsoft integrations and their authentication flows (the seed's table), with
    /// which are built here.
    Flows {
        /// Instead, one row per flow and one column per built integration (from the binaries' manifests).
        #[arg(long)]
        built: bool,
    },
    /// Start the built-in emulator and walk through every flow of every integration.
    Demo(crate::demo::DemoArgs),
}

/// `soar instance ...`.
#[derive(Debug, Subcommand)]
pub enum InstanceCmd {
    /// Configure an instance of an integration.
    Add(AddArgs),
    /// List the instances.
    List,
    /// Show an instance (secrets masked).
    Show {
        /// The instance.
        name: String,
    },
    /// Remove an instance and its stored context.
    Remove {
        /// The instance.
        name: String,
    },
    /// Clear an instance's last run: its next fetch starts from the integration's first fetch
    /// time (incidents already stored are not stored twice).
    ResetLastRun {
        /// The instance.
        name: String,
    },
}

/// `soar instance add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The instance name (letters, digits, '-', '_', '.').
    pub name: String,
    /// The integration (binary) name, e.g. msgraph-user.
    #[arg(long)]
    pub integration: String,
    /// A param typed here: KEY=VALUE (KEY.identifier=... for a credentials param).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// A secret param read from a file: KEY=PATH.
    #[arg(long = "param-file", value_name = "KEY=PATH")]
    pub param_files: Vec<String>,
    /// A secret param read from an environment variable: KEY=VAR.
    #[arg(long = "param-env", value_name = "KEY=VAR")]
    pub param_envs: Vec<String>,
    /// A secret param asked for without echo (one line of stdin when it is not a terminal).
    #[arg(long = "param-prompt", value_name = "KEY")]
    pub param_prompts: Vec<String>,
    /// Replace an instance of the same name.
    #[arg(long)]
    pub replace: bool,
}

/// `soar run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The instance [default: using=NAME, or the only instance of the command's integration].
    #[arg(long, short)]
    pub instance: Option<String>,
    /// Print the raw protocol response (integration-context values masked).
    #[arg(long)]
    pub json: bool,
    /// Print the EntryContext of the entries.
    #[arg(long)]
    pub context: bool,
    /// Seconds the integration may run before it is stopped.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Seconds between the runs of a polling command, instead of the `NextRun` it asks for
    /// (fractions allowed; for tests and demos).
    #[arg(long, env = "SOAR_POLL_INTERVAL", value_name = "SECONDS", value_parser = crate::polling::parse_seconds)]
    pub poll_interval: Option<Duration>,
    /// How long a polling command may poll, from its first run, instead of the `Timeout` it
    /// gives (600 s when it gives none).
    #[arg(long, value_name = "SECONDS", value_parser = crate::polling::parse_seconds)]
    pub poll_timeout: Option<Duration>,
    /// The War Room command line, e.g. '!msgraph-user-list properties=id,mail'.
    #[arg(required = true, num_args = 1.., value_name = "COMMAND LINE")]
    pub line: Vec<String>,
}

/// `soar fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The instance (or --instance).
    pub name: Option<String>,
    /// The instance.
    #[arg(long, short, conflicts_with = "name")]
    pub instance: Option<String>,
    /// Run as a service: a fetch and mirroring cycle every interval (500ms, 30s, 1m, 2h).
    #[arg(long, value_name = "INTERVAL", value_parser = crate::fetcher::parse_every)]
    pub every: Option<Duration>,
    /// Run as a service for the instances of a JSON file:
    /// {"instances": [{"instance": "NAME", "every": "1m"}]}.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["every", "name", "instance"])]
    pub config: Option<PathBuf>,
    /// Stop the service after this engine ran this many cycles.
    #[arg(long, value_name = "N")]
    pub cycles: Option<u64>,
    /// Stop the service after this long (500ms, 30s, 1m, ...).
    #[arg(long, value_name = "INTERVAL", value_parser = crate::fetcher::parse_every)]
    pub duration: Option<Duration>,
    /// Seconds each integration run may take before it is stopped.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Print the raw protocol response (one-shot fetch).
    #[arg(long)]
    pub json: bool,
}

/// `soar incidents`.
#[derive(Debug, Args)]
pub struct IncidentsArgs {
    /// Only this instance's incidents.
    #[arg(long, short)]
    pub instance: Option<String>,
    /// Print the stored incidents as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `soar incident ...`.
#[derive(Debug, Subcommand)]
pub enum IncidentCmd {
    /// Show a stored incident as JSON (fields, remote object, entries, pending changes).
    Show {
        /// The incident id (soar incidents lists them).
        id: String,
        /// The instance [default: the only one with this incident].
        #[arg(long, short)]
        instance: Option<String>,
    },
    /// Set fields: soar incident update ID severity=3 owner=alice.
    Update {
        /// The incident id.
        id: String,
        /// FIELD=VALUE pairs (a value that parses as JSON is stored as that JSON).
        #[arg(required = true, value_name = "FIELD=VALUE")]
        fields: Vec<String>,
        /// The instance [default: the only one with this incident].
        #[arg(long, short)]
        instance: Option<String>,
    },
    /// Add a note to an incident; the next cycle sends it in update-remote-system's entries.
    Note {
        /// The incident id.
        id: String,
        /// The note's text (markdown).
        text: String,
        /// The instance [default: the only one with this incident].
        #[arg(long, short)]
        instance: Option<String>,
    },
    /// Close an incident with a reason and notes.
    Close {
        /// The incident id.
        id: String,
        /// The close reason, e.g. Resolved, False Positive, Duplicate, Other.
        #[arg(long, default_value = "Resolved")]
        reason: String,
        /// The close notes.
        #[arg(long, default_value = "")]
        notes: String,
        /// Other fields to send with the close, as the integration names them (e.g. Microsoft
        /// Sentinel's classification=FalsePositive; the engine has no outgoing mapper).
        #[arg(value_name = "FIELD=VALUE")]
        fields: Vec<String>,
        /// The instance [default: the only one with this incident].
        #[arg(long, short)]
        instance: Option<String>,
    },
}

/// Standard output and error, behind a seam.
pub struct Io<'a> {
    /// Standard output.
    pub out: &'a mut dyn Write,
    /// Standard error.
    pub err: &'a mut dyn Write,
    /// Styles for standard output.
    pub out_style: Style,
    /// Styles for standard error.
    pub err_style: Style,
}

/// Runs the CLI with the process's arguments, streams and environment.
pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // `COLUMNS` wins; otherwise a terminal's own width; piped output is never folded.
    let columns =
        std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse::<usize>().ok()).filter(|c| *c > 0);
    let style = |tty: bool| Style {
        color: match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        },
        width: columns.or_else(|| {
            tty.then(terminal_size::terminal_size)
                .flatten()
                .map(|(terminal_size::Width(w), _)| usize::from(w))
        }),
    };
    let (out_style, err_style) =
        (style(std::io::stdout().is_terminal()), style(std::io::stderr().is_terminal()));
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    let mut io = Io { out: &mut out, err: &mut err, out_style, err_style };
    let code = match dispatch(cli, &mut io) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let text = format!("soar: {e}");
            let _ = writeln!(io.err, "{}", io.err_style.red(&crate::render::neutralize(&text)));
            ExitCode::from(e.exit_code())
        }
    };
    // The fetch benchmark reads the engine's peak resident set once everything is done.
    if std::env::var_os("SOAR_REPORT_PEAK_RSS").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            let _ = writeln!(io.err, "soar peak-rss {line}");
        }
    }
    code
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SOAR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Opens the store `spec` names.
pub fn open_store(spec: &str, data_dir: &std::path::Path) -> Result<Box<dyn ContextStore>> {
    if spec == "file" || spec.is_empty() {
        Ok(Box::new(FileStore::open(data_dir)?))
    } else if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        Ok(Box::new(RedisStore::open(spec, "soar")?))
    } else {
        Err(EngineError::Usage(format!(
            "Unknown store {spec:?}: use --store file or --store redis://HOST:PORT (e.g. redis://127.0.0.1:6379)."
        )))
    }
}

/// Runs one parsed command line; returns the exit status.
pub fn dispatch(cli: Cli, io: &mut Io<'_>) -> Result<u8> {
    let env = |k: &str| std::env::var(k).ok();
    let data_dir = resolve_data_dir(cli.data_dir.clone(), &env)?;
    if let Cmd::Demo(args) = cli.command {
        return crate::demo::run(args, io);
    }
    let mut engine = Engine::new(&data_dir, open_store(&cli.store, &data_dir)?)?;
    engine.lease_wait = Duration::from_millis(cli.lease_wait_ms);
    engine.lease_ttl = Duration::from_millis(cli.lease_ttl_ms);
    match cli.command {
        Cmd::Instance(cmd) => instance_cmd(&engine, cmd, io),
        Cmd::Run(args) => {
            engine.timeout = Duration::from_secs(args.timeout.max(1));
            run_cmd(&engine, &args, io)
        }
        Cmd::Fetch(args) => {
            engine.timeout = Duration::from_secs(args.timeout.max(1));
            fetch_cmd(&engine, args, io)
        }
        Cmd::Incidents(args) => incidents_cmd(&engine, &args, io),
        Cmd::Incident(cmd) => incident_cmd(&engine, cmd, io),
        Cmd::Commands { name } => commands_cmd(&engine, &name, io),
        Cmd::Flows { built } => {
            let text = crate::flows::render(&engine, io.out_style, built)?;
            write_out(io.out, &text)?;
            Ok(0)
        }
        Cmd::Demo(_) => Ok(0),
    }
}

/// `soar run`: one run, then the runs its schedule asks for (polling commands), each printed as
/// it ends, with one progress line per wait on standard error.
fn run_cmd(engine: &Engine, args: &RunArgs, io: &mut Io<'_>) -> Result<u8> {
    let started = std::time::Instant::now();
    let first = engine.run_line(args.instance.as_deref(), &args.line.join(" "))?;
    let mut code = print_outcome(&first, args.json, args.context, io)?;
    if crate::polling::response_schedule(&first.response).is_none() {
        return Ok(code);
    }
    let opts = crate::polling::PollOptions { interval: args.poll_interval, timeout: args.poll_timeout };
    engine.follow_schedule(first, opts, started, &mut |event| {
        match event {
            crate::polling::PollEvent::Waiting { command, run, wait, items_remaining, timeout, elapsed } => {
                let items = items_remaining.map_or_else(String::new, |n| format!(", items remaining: {n}"));
                let line = format!(
                    "Polling !{command}: run {run} in {:.1} s ({:.1} s of {:.0} s used{items})",
                    wait.as_secs_f64(),
                    elapsed.as_secs_f64(),
                    timeout.as_secs_f64()
                );
                let _ = io.out.flush();
                let _ = writeln!(io.err, "{}", io.err_style.dim(&crate::render::neutralize(&line)));
            }
            crate::polling::PollEvent::Ran(outcome) => {
                // A blank line between one run's War Room and the next, as between entries.
                if !args.json && !args.context {
                    write_out(io.out, "\n")?;
                }
                code = print_outcome(outcome, args.json, args.context, io)?;
            }
        }
        Ok(())
    })?;
    Ok(code)
}

/// `soar fetch`: one-shot, or the service.
fn fetch_cmd(engine: &Engine, args: FetchArgs, io: &mut Io<'_>) -> Result<u8> {
    use crate::fetcher::{FetchSchedule, ServiceLimits, describe_cycle, read_config};
    let name = args.name.or(args.instance);
    let schedules = match (&args.config, args.every, name) {
        (Some(path), _, _) => read_config(path)?,
        (None, Some(every), Some(instance)) => vec![FetchSchedule { instance, every }],
        (None, Some(_), None) => {
            return Err(EngineError::Usage(
                "soar fetch --every needs --instance NAME (or --config FILE).".into(),
            ));
        }
        (None, None, Some(name)) => {
            let outcome = engine.fetch(&name)?;
            if args.json {
                return print_outcome(&outcome, true, false, io);
            }
            let code = print_outcome(&outcome, false, false, io)?;
            print_fetch(&outcome, io)?;
            return Ok(code);
        }
        (None, None, None) => {
            return Err(EngineError::Usage(
                "soar fetch needs an instance: soar fetch NAME, or soar fetch --instance NAME --every 1m."
                    .into(),
            ));
        }
    };
    for s in &schedules {
        engine.instances.load(&s.instance)?;
    }
    let limits = ServiceLimits { cycles: args.cycles, duration: args.duration };
    let mut failed = false;
    engine.serve_fetch(&schedules, limits, &mut |cycle| match cycle {
        Ok(report) => {
            let line = describe_cycle(report);
            let line = crate::render::neutralize(&line);
            let _ = writeln!(io.out, "{line}");
            let _ = io.out.flush();
            // The fetch's own War Room (an error entry, usually) is shown as soar run shows it.
            if report.fetch.has_error() {
                let _ = print_outcome(&report.fetch, false, false, io);
            }
        }
        Err((instance, e)) => {
            failed = true;
            let text = format!("{instance}: the fetch cycle failed: {e}");
            let text = crate::render::neutralize(&text);
            let _ = writeln!(io.err, "{}", io.err_style.red(&text));
        }
    })?;
    Ok(u8::from(failed))
}

/// `soar incidents`.
fn incidents_cmd(engine: &Engine, args: &IncidentsArgs, io: &mut Io<'_>) -> Result<u8> {
    let names: Vec<String> = match &args.instance {
        Some(i) => vec![engine.instances.load(i)?.name],
        None => engine.instances.all()?.into_iter().map(|i| i.name).collect(),
    };
    let mut md = String::from(
        "|Instance|ID|Name|Severity|Status|Occurred|Mirrored in|Pending out|\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut count = 0usize;
    for name in &names {
        for inc in engine.store.incidents(name)? {
            count += 1;
            if args.json {
                let line = serde_json::to_string(&inc)
                    .map_err(|e| EngineError::Other(format!("Could not print an incident: {e}")))?;
                write_out(io.out, &format!("{line}\n"))?;
                continue;
            }
            let cell = |v: Option<&Value>| {
                v.map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
                    .replace('|', "\\|")
            };
            let pending: Vec<&str> = inc.delta.keys().map(String::as_str).collect();
            md.push_str(&format!(
                "| {name} | {} | {} | {} | {} | {} | {} | {} |\n",
                inc.id.replace('|', "\\|"),
                cell(inc.incident.get("name")),
                cell(inc.fields.get("severity").or(inc.incident.get("severity"))),
                crate::store::incidents::status::name(inc.status),
                cell(inc.incident.get("occurred")),
                inc.mirrored_in_at.as_deref().unwrap_or(""),
                if inc.changed { pending.join(", ") } else { String::new() }
            ));
        }
    }
    if args.json {
        return Ok(0);
    }
    if count == 0 {
        write_out(io.out, "No stored incidents: soar fetch --instance NAME --every 1m fetches them.\n")?;
        return Ok(0);
    }
    write_out(io.out, &crate::render::markdown(&format!("### Incidents ({count})\n{md}"), io.out_style))?;
    Ok(0)
}

/// `FIELD=VALUE` pairs; a value that parses as JSON (a number, `true`, a list) is that JSON.
fn field_pairs(fields: &[String]) -> Result<Vec<(String, Value)>> {
    fields
        .iter()
        .map(|f| {
            let (k, v) = split_kv("FIELD=VALUE", f)?;
            let value = serde_json::from_str::<Value>(&v).unwrap_or(Value::String(v));
            Ok((k, value))
        })
        .collect()
}

/// `soar incident show|update|close`.
fn incident_cmd(engine: &Engine, cmd: IncidentCmd, io: &mut Io<'_>) -> Result<u8> {
    let (name, inc, what) = match cmd {
        IncidentCmd::Show { id, instance } => {
            let (name, inc) = engine.find_incident(instance.as_deref(), &id)?;
            (name, inc, None)
        }
        IncidentCmd::Update { id, fields, instance } => {
            let pairs = field_pairs(&fields)?;
            let (name, inc) = engine.change_incident(instance.as_deref(), &id, &mut |inc| {
                crate::mirroring::set_fields(inc, &pairs);
            })?;
            (name, inc, Some("updated"))
        }
        IncidentCmd::Note { id, text, instance } => {
            let (name, inc) = engine.change_incident(instance.as_deref(), &id, &mut |inc| {
                crate::mirroring::add_note(inc, &text);
            })?;
            (name, inc, Some("noted"))
        }
        IncidentCmd::Close { id, reason, notes, fields, instance } => {
            let pairs = field_pairs(&fields)?;
            let (name, inc) = engine.change_incident(instance.as_deref(), &id, &mut |inc| {
                crate::mirroring::close(inc, &reason, &notes);
                crate::mirroring::set_fields(inc, &pairs);
            })?;
            (name, inc, Some("closed"))
        }
    };
    if let Some(what) = what {
        let note = if inc.mirrors_out() {
            "the next fetch cycle sends the change (update-remote-system)"
        } else {
            "it is not mirrored out (dbotMirrorDirection is not Out or Both)"
        };
        let text = format!("Incident {} of {name} {what}; {note}.\n", inc.id);
        write_out(io.out, &crate::render::neutralize(&text))?;
        return Ok(0);
    }
    let text = serde_json::to_string_pretty(&inc)
        .map_err(|e| EngineError::Other(format!("Could not print the incident: {e}")))?;
    write_out(io.out, &format!("{}\n", crate::render::neutralize(&text)))?;
    Ok(0)
}

fn write_out(w: &mut dyn Write, text: &str) -> Result<()> {
    w.write_all(text.as_bytes()).map_err(|e| EngineError::io("Could not write", "standard output", e))
}

fn split_kv(flag: &str, item: &str) -> Result<(String, String)> {
    match item.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(EngineError::Usage(format!("{flag} {item:?} needs KEY=..., e.g. {flag} tenant_id=...."))),
    }
}

fn instance_cmd(engine: &Engine, cmd: InstanceCmd, io: &mut Io<'_>) -> Result<u8> {
    match cmd {
        InstanceCmd::Add(a) => {
            crate::fsutil::check_name("instance", &a.name)?;
            let mut items = Vec::new();
            for p in &a.params {
                let (k, v) = split_kv("--param", p)?;
                items.push((k, ParamSource::Value(v)));
            }
            for p in &a.param_files {
                let (k, v) = split_kv("--param-file", p)?;
                items.push((k, ParamSource::File(PathBuf::from(v))));
            }
            for p in &a.param_envs {
                let (k, v) = split_kv("--param-env", p)?;
                items.push((k, ParamSource::Env(v)));
            }
            for k in &a.param_prompts {
                items.push((k.clone(), ParamSource::Prompt));
            }
            let binary = engine.finder.find(&a.integration)?;
            let (params, secret_params) = build_params(&items, &SystemSecrets)?;
            let inst =
                Instance { name: a.name.clone(), integration: a.integration.clone(), params, secret_params };
            if let Some(manifest) = engine.manifests.get(&a.integration, &binary)? {
                for w in check_params(&inst, &manifest)? {
                    let _ = writeln!(io.err, "{}", io.err_style.yellow(&format!("warning: {w}")));
                }
            }
            engine.instances.save(&inst, a.replace)?;
            if a.replace {
                engine.store.remove(&a.name)?;
            }
            write_out(io.out, &format!("Instance {} of {} saved.\n", a.name, a.integration))?;
            Ok(0)
        }
        InstanceCmd::List => {
            let all = engine.instances.all()?;
            if all.is_empty() {
                write_out(
                    io.out,
                    "No instances. Add one with soar instance add NAME --integration msgraph-user --param k=v.\n",
                )?;
                return Ok(0);
            }
            let mut md = String::from("|Instance|Integration|Params|Context version|\n|---|---|---|---|\n");
            for i in &all {
                let v = engine.store.load(&i.name)?.version;
                md.push_str(&format!("| {} | {} | {} | {v} |\n", i.name, i.integration, i.params.0.len()));
            }
            write_out(io.out, &crate::render::markdown(&md, io.out_style))?;
            Ok(0)
        }
        InstanceCmd::Show { name } => {
            let inst = engine.instances.load(&name)?;
            let binary = engine.finder.try_find(&inst.integration);
            let manifest = match &binary {
                Some(b) => engine.manifests.get(&inst.integration, b)?,
                None => None,
            };
            let stored = engine.store.load(&name)?;
            let mut text = format!("Instance:     {}\nIntegration:  {}", inst.name, inst.integration);
            match &binary {
                Some(b) => text.push_str(&format!(" ({})\n", b.display())),
                None => text.push_str(" (binary not found)\n"),
            }
            text.push_str("Params:\n");
            for (k, v) in inst.masked_params(manifest.as_ref()) {
                text.push_str(&format!("  {k} = {v}\n"));
            }
            let keys: Vec<&str> = stored.context.keys().map(String::as_str).collect();
            text.push_str(&format!(
                "Context:      version {} in the {}, keys: {}\n",
                stored.version,
                engine.store.describe(),
                if keys.is_empty() { "(none)".to_owned() } else { keys.join(", ") }
            ));
            if let Some(last) = engine.store.last_run(&name)? {
                text.push_str(&format!("Last run:     {}\n", Value::Object(last)));
            }
            // Context keys and the last run are the integration's data.
            write_out(io.out, &crate::render::neutralize(&text))?;
            Ok(0)
        }
        InstanceCmd::Remove { name } => {
            engine.instances.remove(&name)?;
            engine.store.remove(&name)?;
            write_out(io.out, &format!("Instance {name} removed, with its stored context.\n"))?;
            Ok(0)
        }
        InstanceCmd::ResetLastRun { name } => {
            // Fails, naming the known instances, for an unknown one.
            engine.instances.load(&name)?;
            engine.store.set_last_run(&name, &Object::new())?;
            write_out(
                io.out,
                &format!(
                    "The last run of instance {name} is cleared: its next fetch starts from the integration's first fetch time.\n"
                ),
            )?;
            Ok(0)
        }
    }
}

fn commands_cmd(engine: &Engine, name: &str, io: &mut Io<'_>) -> Result<u8> {
    let integration = match engine.instances.load(name) {
        Ok(inst) => inst.integration,
        Err(_) => name.to_owned(),
    };
    let binary = engine.finder.find(&integration)?;
    let manifest = engine.manifests.get(&integration, &binary)?.ok_or_else(|| {
        EngineError::Integration(format!(
            "{integration} does not answer --manifest, so its commands cannot be listed."
        ))
    })?;
    let mut md = format!("### Commands of {integration}\n|Command|Arguments|Description|\n|---|---|---|\n");
    for c in &manifest.commands {
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| if a.required { format!("**{}**", a.name) } else { a.name.clone() })
            .collect();
        md.push_str(&format!(
            "| !{} | {} | {} |\n",
            c.name,
            args.join(", "),
            c.description.replace('|', "\\|")
        ));
    }
    write_out(io.out, &crate::render::markdown(&md, io.out_style))?;
    Ok(0)
}

/// Masks every value of an integration context (tokens live there).
pub fn mask_context(ctx: &Object) -> Object {
    ctx.keys().map(|k| (k.clone(), Value::String(crate::instance::MASK.to_owned()))).collect()
}

/// Prints a run's War Room (or `--json` / `--context`); returns 1 when an entry is an error.
pub fn print_outcome(outcome: &RunOutcome, json: bool, context: bool, io: &mut Io<'_>) -> Result<u8> {
    let code = u8::from(outcome.has_error());
    if json {
        let mut response = outcome.response.clone();
        response.integration_context = response.integration_context.as_ref().map(mask_context);
        let text = serde_json::to_string_pretty(&response)
            .map_err(|e| EngineError::Other(format!("Could not print the response: {e}")))?;
        write_out(io.out, &format!("{text}\n"))?;
        return Ok(code);
    }
    if context {
        let contexts: Vec<Value> = outcome
            .response
            .entries
            .iter()
            .filter(|e| !e.entry_context.is_empty())
            .map(|e| Value::Object(e.entry_context.clone()))
            .collect();
        let value = match contexts.len() {
            0 => Value::Object(Object::new()),
            1 => contexts.into_iter().next().unwrap_or_default(),
            _ => Value::Array(contexts),
        };
        let text = serde_json::to_string_pretty(&value)
            .map_err(|e| EngineError::Other(format!("Could not print the context: {e}")))?;
        write_out(io.out, &format!("{text}\n"))?;
        return Ok(code);
    }
    for (i, entry) in outcome.response.entries.iter().enumerate() {
        let (stream, text) = render_entry(entry, if entry.is_error() { io.err_style } else { io.out_style });
        let sep = if i > 0 { "\n" } else { "" };
        match stream {
            Stream::Out => write_out(io.out, &format!("{sep}{text}"))?,
            Stream::Err => {
                let _ = io.out.flush();
                let _ = write!(io.err, "{sep}{text}");
            }
        }
    }
    Ok(code)
}

fn print_fetch(outcome: &RunOutcome, io: &mut Io<'_>) -> Result<u8> {
    let incidents = outcome.response.incidents.clone().unwrap_or_default();
    let mut md = format!("### Fetched incidents ({})\n", incidents.len());
    if incidents.is_empty() {
        md.push_str("**No entries.**\n");
    } else {
        md.push_str("|Name|Occurred|Severity|\n|---|---|---|\n");
        for inc in &incidents {
            let cell = |k: &str| {
                inc.get(k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
            };
            md.push_str(&format!(
                "| {} | {} | {} |\n",
                cell("name").replace('|', "\\|"),
                cell("occurred"),
                cell("severity")
            ));
        }
    }
    let last = outcome
        .response
        .last_run
        .clone()
        .map_or_else(|| "(unchanged)".to_owned(), |l| Value::Object(l).to_string());
    md.push_str(&format!("\n**Last run:** `{last}`\n"));
    write_out(io.out, &crate::render::markdown(&md, io.out_style))?;
    Ok(0)
}
