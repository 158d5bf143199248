//! `cargo xtask fuzz [--seconds N] [--seed S]`: a bounded fuzzing run on stable Rust of the
//! parts that read what others send: the request decoder and dispatcher (with typed argument
//! decoding and the instance params), the argument helpers, the War Room formatter, and the
//! emulator's request parsers (token, authorize, device code, IMDS, proxy and API routes).
//!
//! Each target mutates seed inputs (JSON-level: values swapped for other types, huge and
//! non-finite numbers, deep nesting, long, empty and control-character strings; byte-level:
//! flips, cuts, insertions) with a seeded generator, and checks that nothing panics or hangs
//! (5 s per input), that every request still gets one valid response, and that a canary secret
//! given as a param never appears in a response outside the integration context. A failing
//! input is written to `target/fuzz-failures/` and the run fails. `cargo xtask test` runs it for
//! a few seconds per target; run it longer by hand (`--seconds 600`). The seed is printed, so a
//! failure can be replayed with `--seed`.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use soar_integration_kit::{
    About, ApiClient, ApiKind, Args, AuthFlow, AuthForm, AuthSpec, Choice, CommandContext, Error, FlowPicker,
    Handler, Json, MsIntegration, Outcome, ParamNames, Results, Secret, Table, async_trait,
};

/// The canary secret every fuzzed request carries as the client secret.
const CANARY: &str = "FUZZ-CANARY-7d1e0a9c";

/// One fuzz target: a name and a function that checks one input.
struct Target {
    name: &'static str,
    run: fn(&mut Harness, &mut StdRng) -> Result<(), String>,
}

/// What the targets share: the runtime and an emulator state.
struct Harness {
    rt: tokio::runtime::Runtime,
    integration: MsIntegration<ApiClient>,
    emulator: soar_emulator::EmulatorState,
    last_input: Vec<u8>,
}

/// Runs every target for its share of the time.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut seconds = 60u64;
    let mut seed: u64 = rand::random();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it.next().and_then(|s| s.parse().ok()).context("--seconds needs a number")?
            }
            "--seed" => seed = it.next().and_then(|s| s.parse().ok()).context("--seed needs a number")?,
            other => bail!("unknown option {other}; usage: cargo xtask fuzz [--seconds N] [--seed S]"),
        }
    }
    let targets = [
        Target { name: "request decoder and dispatcher", run: request_target },
        Target { name: "argument helpers", run: args_target },
        Target { name: "War Room formatter", run: formatter_target },
        Target { name: "emulator request parsers", run: emulator_target },
    ];
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let emulator = soar_emulator::EmulatorState::new(soar_emulator::EmulatorConfig::default())
        .map_err(|e| anyhow::anyhow!("emulator state: {e}"))?;
    let mut h = Harness { rt, integration: integration(), emulator, last_input: Vec::new() };
    eprintln!("fuzz: seed {seed}, {seconds} s over {} targets", targets.len());
    // Quiet the panic hook: a panic is reported by the harness with its input.
    std::panic::set_hook(Box::new(|_| {}));
    let share = Duration::from_secs(seconds) / targets.len() as u32;
    let (mut passed, mut failed) = (0, 0);
    for (i, t) in targets.iter().enumerate() {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_add(i as u64));
        let started = Instant::now();
        let mut n = 0u64;
        let mut failure = None;
        while started.elapsed() < share {
            n += 1;
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| (t.run)(&mut h, &mut rng)));
            let problem = match outcome {
                Ok(Ok(())) => continue,
                Ok(Err(problem)) => problem,
                Err(panic) => format!(
                    "panicked: {}",
                    panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                        .unwrap_or_default()
                ),
            };
            failure = Some(problem);
            break;
        }
        match failure {
            None => {
                passed += 1;
                eprintln!("ok    {}: {n} inputs", t.name);
            }
            Some(problem) => {
                failed += 1;
                let path = save_failure(t.name, &h.last_input)?;
                eprintln!("FAIL  {} after {n} inputs: {problem}\n      input: {}", t.name, path.display());
            }
        }
    }
    let _ = std::panic::take_hook();
    #[allow(clippy::print_stdout)] // the count is the command's result
    {
        println!("{passed} passed, {failed} failed");
    }
    if failed > 0 {
        bail!("fuzzing found {failed} failing target(s); replay with --seed {seed}");
    }
    Ok(())
}

fn save_failure(target: &str, input: &[u8]) -> anyhow::Result<PathBuf> {
    let dir = crate::codegen::workspace_root().join("target/fuzz-failures");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{}-{}.bin", target.replace(' ', "-"), std::process::id()));
    std::fs::write(&path, input)?;
    Ok(path)
}

// ---- the integration the request target runs -------------------------------------------------

static SPEC: AuthSpec = AuthSpec {
    prefix: "fuzz",
    flows: &[AuthFlow::ClientSecret, AuthFlow::DeviceCode],
    oproxy_app_name: "",
    resource: ApiKind::Graph,
    scopes: &[],
    param_names: ParamNames::APP_CREDENTIALS,
    user_flow_tenant: None,
};

static ABOUT: About = About {
    spec: &SPEC,
    display_name: "Fuzz",
    description: "The fuzzing target.",
    category: "IT Services",
    form: AuthForm {
        picker: FlowPicker::Select { default: AuthFlow::ClientSecret },
        national_clouds: true,
        labels: &[],
        defaults: &[],
    },
    params: &[],
    unprefixed_commands: &[],
};

/// How loud.
#[derive(Debug, Clone, Copy, Choice)]
enum Level {
    Low,
    High,
}

/// Echoes every kind of argument through the formatter.
#[derive(Args)]
struct Echo {
    /// Text.
    text: String,
    /// A number.
    count: Option<u32>,
    /// A signed number with a default.
    #[arg(default = "5")]
    offset: i64,
    /// A list.
    items: Vec<String>,
    /// A flag.
    #[arg(default = "false", options = ["true", "false"])]
    flag: bool,
    /// A date.
    since: Option<soar_integration_kit::ArgDateTime>,
    /// A level.
    level: Option<Level>,
    /// A secret.
    #[arg(secret)]
    password: Option<Secret>,
    /// JSON.
    body: Option<Json>,
}

#[async_trait]
impl Handler<ApiClient> for Echo {
    const NAME: &'static str = "fuzz-echo";

    async fn run(self, _: &ApiClient, _: &mut CommandContext) -> Result<Outcome, Error> {
        let row = json!({
            "text": self.text,
            "count": self.count,
            "offset": self.offset,
            "items": self.items,
            "flag": self.flag,
            "since": self.since.map(|d| d.isoformat()),
            "level": self.level.map(Choice::as_str),
            "password given": self.password.is_some(),
            "body": self.body.map(|j| j.0),
        });
        let md = Table::new("Echo", row.clone()).render()?;
        Results { readable: Some(md), prefix: Some("Fuzz.Echo"), outputs: Some(row), ..Results::default() }
            .outcome()
    }
}

fn integration() -> MsIntegration<ApiClient> {
    MsIntegration::new(&ABOUT, ApiClient::env(ApiKind::Graph, Some("v1.0"))).command::<Echo>()
}

// ---- generators --------------------------------------------------------------------------------

const STRINGS: &[&str] = &[
    "",
    " ",
    "true",
    "YES",
    "no",
    "0",
    "-1",
    "1e300",
    "-1e300",
    "NaN",
    "inf",
    "9223372036854775808",
    "2024-01-15T10:00:00Z",
    "3 days ago",
    "in 2 hours",
    "[1,2",
    "[\"a\",\"b\"]",
    "{\"k\": 1}",
    "a,b,,c",
    "\u{1b}]52;c;AAAA\u{7}",
    "\u{202e}evil",
    "é\u{0}\u{ffff}",
    "Low",
    "High",
    "https://evil.example/?x=1",
    "../../etc/passwd",
    "%00%ff",
];

fn any_string(rng: &mut StdRng) -> String {
    match rng.gen_range(0..4) {
        0 => STRINGS[rng.gen_range(0..STRINGS.len())].to_owned(),
        1 => (0..rng.gen_range(0..40)).map(|_| char::from(rng.gen_range(0u8..128))).collect(),
        2 => "x".repeat(rng.gen_range(0..5000)),
        _ => (0..rng.gen_range(0..12)).filter_map(|_| char::from_u32(rng.gen_range(0..0x11000))).collect(),
    }
}

fn any_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth > 6 { 5 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.r#gen::<bool>()),
        2 => json!(rng.r#gen::<i64>()),
        3 => json!([1e300, -1e300, 0.5, f64::MIN_POSITIVE][rng.gen_range(0..4)]),
        4 => json!(any_string(rng)),
        5 => Value::Array((0..rng.gen_range(0..4)).map(|_| any_value(rng, depth + 1)).collect()),
        6 => {
            let mut m = serde_json::Map::new();
            for _ in 0..rng.gen_range(0..4) {
                m.insert(any_string(rng), any_value(rng, depth + 1));
            }
            Value::Object(m)
        }
        _ => {
            // Deep nesting, built without recursion.
            let mut v = json!(1);
            for _ in 0..rng.gen_range(0..200) {
                v = json!([v]);
            }
            v
        }
    }
}

/// Replaces values at random places of `v` (a few times).
fn mutate_value(rng: &mut StdRng, v: &mut Value) {
    match v {
        Value::Object(m) if !m.is_empty() && rng.gen_bool(0.8) => {
            let i = rng.gen_range(0..m.len());
            if let Some((_, child)) = m.iter_mut().nth(i) {
                if rng.gen_bool(0.5) { mutate_value(rng, child) } else { *child = any_value(rng, 0) }
            }
        }
        Value::Array(a) if !a.is_empty() && rng.gen_bool(0.8) => {
            let i = rng.gen_range(0..a.len());
            mutate_value(rng, &mut a[i]);
        }
        other => *other = any_value(rng, 0),
    }
}

/// Byte-level damage: flips, cuts and insertions.
fn mutate_bytes(rng: &mut StdRng, mut b: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.gen_range(1..4) {
        if b.is_empty() {
            b.push(rng.r#gen());
            continue;
        }
        let i = rng.gen_range(0..b.len());
        match rng.gen_range(0..3) {
            0 => b[i] ^= 1 << rng.gen_range(0..8),
            1 => b.truncate(i),
            _ => b.insert(i, [b'"', b'{', b'[', b'\\', 0, 0xff][rng.gen_range(0..6)]),
        }
    }
    b
}

// ---- targets -----------------------------------------------------------------------------------

fn seed_request() -> Value {
    json!({
        "command": "fuzz-echo",
        "args": {"text": "hello", "count": "3", "items": "a,b", "flag": "true", "since": "2 days ago",
                 "level": "High", "password": "pw-1234", "body": "{\"a\": [1]}"},
        "params": {"auth_type": "Client Credentials", "app_id": "app", "tenant_id": "tenant",
                   "credentials": {"identifier": "", "password": CANARY}, "azure_cloud": "Worldwide"},
        "integration_context": {"k": "v"},
        "context_version": 3,
    })
}

fn request_target(h: &mut Harness, rng: &mut StdRng) -> Result<(), String> {
    let mut request = seed_request();
    for _ in 0..rng.gen_range(0..4) {
        mutate_value(rng, &mut request);
    }
    let mut bytes = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    if rng.gen_bool(0.3) {
        bytes = mutate_bytes(rng, bytes);
    }
    h.last_input = bytes.clone();
    let integration = &h.integration;
    let response =
        h.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), soar_core::handle_bytes(integration, &bytes)).await
        })
        .map_err(|_| "no answer within 5 s".to_owned())?;
    if response.entries.is_empty() {
        return Err("a response without entries".to_owned());
    }
    let mut shown =
        serde_json::to_value(&response).map_err(|e| format!("the response does not serialize: {e}"))?;
    if let Some(o) = shown.as_object_mut() {
        o.remove("integration_context");
    }
    if shown.to_string().contains(CANARY) {
        return Err("the canary secret reached the response outside the integration context".to_owned());
    }
    Ok(())
}

fn args_target(h: &mut Harness, rng: &mut StdRng) -> Result<(), String> {
    let value = if rng.gen_bool(0.5) { json!(any_string(rng)) } else { any_value(rng, 0) };
    h.last_input = value.to_string().into_bytes();
    let clock = soar_integration_kit::FixedClock::at_epoch(1_700_000_000);
    let name = Some("a");
    let _ = soar_core::args::arg_to_number(Some(&value), name, false);
    let _ = soar_core::args::arg_to_datetime(Some(&value), name, rng.r#gen(), false, &clock);
    let _ = soar_core::args::arg_to_list(Some(&value), [",", ";", ""][rng.gen_range(0..3)]);
    let _ = soar_core::args::arg_to_bool(&value);
    let mut args = soar_integration_kit::Object::new();
    for key in ["text", "count", "offset", "items", "flag", "since", "level", "password", "body"] {
        if rng.gen_bool(0.6) {
            args.insert(key.to_owned(), if rng.gen_bool(0.5) { value.clone() } else { any_value(rng, 0) });
        }
    }
    let _ = Echo::decode(&args, &soar_core::args::ArgContext { clock: &clock });
    Ok(())
}

fn formatter_target(h: &mut Harness, rng: &mut StdRng) -> Result<(), String> {
    let rows = any_value(rng, 0);
    h.last_input = rows.to_string().into_bytes();
    let mut opts = soar_core::TableOptions::default();
    if rng.gen_bool(0.5) {
        opts = opts.headers((0..rng.gen_range(0..4)).map(|_| any_string(rng)));
    }
    opts = opts.remove_null(rng.r#gen()).metadata(any_string(rng));
    let _ = soar_core::table_to_markdown(&any_string(rng), &rows, &opts);
    let results = soar_core::CommandResults {
        readable_output: if rng.gen_bool(0.5) { Some(any_value(rng, 0)) } else { None },
        outputs_prefix: if rng.gen_bool(0.7) { Some(any_string(rng)) } else { None },
        outputs_key_field: (0..rng.gen_range(0..2)).map(|_| any_string(rng)).collect(),
        outputs: Some(rows.clone()),
        raw_response: if rng.gen_bool(0.5) { Some(any_value(rng, 0)) } else { None },
        ..soar_core::CommandResults::default()
    };
    let _ = results.to_entry();
    Ok(())
}

const EMULATOR_PATHS: &[(&str, &str)] = &[
    ("POST", "/{tenant}/oauth2/v2.0/token"),
    ("POST", "/organizations/oauth2/v2.0/token"),
    ("POST", "/{tenant}/oauth2/token"),
    ("POST", "/organizations/oauth2/v2.0/devicecode"),
    ("GET", "/{tenant}/oauth2/v2.0/authorize"),
    ("GET", "/{tenant}/v2.0/.well-known/openid-configuration"),
    ("GET", "/metadata/identity/oauth2/token"),
    ("POST", "/obtain-token"),
    ("GET", "/v1.0/users"),
    ("PATCH", "/v1.0/users/adele@soar.example"),
    ("GET", "/subscriptions"),
    ("PUT", "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a"),
    ("GET", "/api/machines"),
];

const FORM_KEYS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "scope",
    "resource",
    "code",
    "redirect_uri",
    "refresh_token",
    "device_code",
    "client_assertion",
    "client_assertion_type",
    "code_verifier",
    "api-version",
    "$top",
    "$skiptoken",
    "$filter",
];

fn form(rng: &mut StdRng) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for _ in 0..rng.gen_range(0..6) {
        let key = if rng.gen_bool(0.8) {
            FORM_KEYS[rng.gen_range(0..FORM_KEYS.len())].to_owned()
        } else {
            any_string(rng)
        };
        ser.append_pair(&key, &any_string(rng));
    }
    ser.finish()
}

fn emulator_target(h: &mut Harness, rng: &mut StdRng) -> Result<(), String> {
    use tower::ServiceExt;
    let (method, path) = EMULATOR_PATHS[rng.gen_range(0..EMULATOR_PATHS.len())];
    let path = path.replace("{tenant}", soar_emulator::config::DEFAULT_TENANT_ID);
    let query = form(rng);
    let body = if rng.gen_bool(0.5) {
        form(rng).into_bytes()
    } else {
        let json = any_value(rng, 0).to_string().into_bytes();
        mutate_bytes(rng, json)
    };
    let host = [
        "login.microsoftonline.com",
        "graph.microsoft.com",
        "management.azure.com",
        "api.securitycenter.microsoft.com",
        "169.254.169.254",
        "evil.example",
    ][rng.gen_range(0..6)];
    let uri = format!("{path}?{query}");
    h.last_input = format!("{method} {uri}\nhost: {host}\n\n").into_bytes();
    h.last_input.extend_from_slice(&body);
    let mut req = http::Request::builder().method(method).uri(&uri).header("host", host);
    if rng.gen_bool(0.5) {
        req = req.header(
            "content-type",
            ["application/x-www-form-urlencoded", "application/json", "text/plain"][rng.gen_range(0..3)],
        );
    }
    if rng.gen_bool(0.4) {
        req = req.header("authorization", format!("Bearer {}", any_string(rng)));
    }
    if rng.gen_bool(0.2) {
        req = req.header("metadata", "true");
    }
    let Ok(req) = req.body(axum::body::Body::from(body)) else { return Ok(()) };
    let app = soar_emulator::app(h.emulator.clone());
    let status =
        h.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), async {
                match app.oneshot(req).await {
                    Ok(resp) => {
                        let status = resp.status();
                        let _ = axum::body::to_bytes(resp.into_body(), 64 << 20).await;
                        status
                    }
                    Err(never) => match never {},
                }
            })
            .await
        })
        .map_err(|_| "no answer within 5 s".to_owned())?;
    if status.is_server_error() {
        return Err(format!("the emulator answered {status} to a malformed request"));
    }
    Ok(())
}
