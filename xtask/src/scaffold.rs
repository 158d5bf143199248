//! `cargo xtask new-integration <prefix> --display "<name>" --api graph|arm|defender
//! [--flows client-secret,device-code,...] [--oproxy-app NAME] [--category "..."] [--no-record]`:
//! writes a compiling integration crate with one example command, its conformance suite, an
//! emulator seed and (by running them) its recorded expectations, YAML and README.
//!
//! What it writes (everything a new integration needs, nothing outside its own folders):
//! - `integrations/<prefix>/`: `Cargo.toml`, `src/main.rs`, `src/lib.rs` (the auth spec, the
//!   form, the command list), `src/commands.rs` (`test-module` and `<prefix>-example-list`, which
//!   pages through the seed's items with the kit's paging helpers), `tests/conformance.rs`;
//! - `test-data/<prefix>/`: `conformance.json` (one entry per declared flow with the emulator's
//!   registrations, a demo line), `cases/` (test-module, a list, a bad argument) and
//!   `emulator-seed.json` (the example collection the emulator serves).
//!
//! Then, unless `--no-record`, it records the cases' expectations with the real binary against
//! the emulator (`cargo xtask conformance --integration <prefix> --bless`) and writes the YAML
//! and README (`cargo xtask codegen`), so `cargo xtask test` passes at once. The engine, the
//! demo, the emulator and codegen find the new folders by themselves.
//!
//! Flows: a prefix in the flow table (`soar_auth::matrix`) takes its row's flows
//! (`matrix::declared_flows`), and `--flows` must then agree with them; any other prefix lists
//! them with `--flows` (default: client credentials and device code).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use soar_protocol::AuthFlow;

/// The APIs a scaffold can target, with what differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Microsoft Graph `v1.0` (OData next links).
    Graph,
    /// Azure Resource Manager (an `api-version` query, ARM next links).
    Arm,
    /// Microsoft Defender for Endpoint (`$top`/`$skip`).
    Defender,
}

impl Api {
    fn parse(s: &str) -> anyhow::Result<Api> {
        Ok(match s {
            "graph" => Api::Graph,
            "arm" => Api::Arm,
            "defender" => Api::Defender,
            other => bail!("unknown --api {other:?}; use graph, arm or defender"),
        })
    }

    fn kind(self) -> &'static str {
        match self {
            Api::Graph => "Graph",
            Api::Arm => "Arm",
            Api::Defender => "Defender",
        }
    }

    /// The seed's `api` and the collection's path, paging and read permissions: an app role
    /// and a delegated scope the emulator's registrations hold (ARM reads by RBAC), which a real
    /// integration replaces with its API's permissions.
    fn seed(self, prefix: &str) -> (&'static str, String, &'static str, &'static [&'static str]) {
        match self {
            Api::Graph => (
                "graph",
                format!("v1.0/example/{prefix}/items"),
                "odata-next-link",
                &["SecurityEvents.Read.All", "Directory.AccessAsUser.All"],
            ),
            Api::Arm => ("arm", format!("providers/Soar.Example/{prefix}"), "arm-next-link", &[]),
            Api::Defender => (
                "defender",
                format!("api/example/{prefix}"),
                "top-skip",
                &["Alert.Read.All", "user_impersonation"],
            ),
        }
    }
}

/// What `new-integration` was asked for.
#[derive(Debug)]
pub struct Options {
    prefix: String,
    display: String,
    api: Api,
    flows: Vec<AuthFlow>,
    from_table: bool,
    oproxy_app: Option<String>,
    category: String,
    record: bool,
}

fn flow_key(flow: AuthFlow) -> String {
    serde_json::to_value(flow).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn parse_flow(s: &str) -> anyhow::Result<AuthFlow> {
    AuthFlow::ALL.into_iter().find(|f| flow_key(*f) == s).with_context(|| {
        let all: Vec<String> = AuthFlow::ALL.iter().map(|f| flow_key(*f)).collect();
        format!("unknown flow {s:?}; use {}", all.join(", "))
    })
}

impl Options {
    /// Reads the command line (after `new-integration`).
    pub fn parse(args: &[String]) -> anyhow::Result<Options> {
        let usage = "usage: cargo xtask new-integration <prefix> --display \"<name>\" --api graph|arm|defender \
                     [--flows f1,f2] [--oproxy-app NAME] [--category \"...\"] [--no-record]";
        let mut it = args.iter();
        let prefix = it.next().filter(|p| !p.starts_with("--")).context(usage)?.clone();
        if prefix.is_empty()
            || !prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            || prefix.starts_with('-')
            || prefix.ends_with('-')
        {
            bail!(
                "the prefix {prefix:?} must be lower-case letters, digits and inner hyphens (it is the folder, crate, binary and command prefix)"
            );
        }
        let (mut display, mut api, mut flows, mut oproxy_app, mut category, mut record) =
            (None, None, None, None, "IT Services".to_owned(), true);
        while let Some(flag) = it.next() {
            let mut value = || it.next().cloned().with_context(|| format!("{flag} needs a value; {usage}"));
            match flag.as_str() {
                "--display" => display = Some(value()?),
                "--api" => api = Some(Api::parse(&value()?)?),
                "--flows" => {
                    flows = Some(
                        value()?
                            .split(',')
                            .map(|s| parse_flow(s.trim()))
                            .collect::<anyhow::Result<Vec<_>>>()?,
                    )
                }
                "--oproxy-app" => oproxy_app = Some(value()?),
                "--category" => category = value()?,
                "--no-record" => record = false,
                other => bail!("unknown option {other}; {usage}"),
            }
        }
        let table = soar_auth::matrix::flows_of(&prefix);
        let flows = match (table, flows) {
            (Some(row), Some(given)) if !same_set(row, &given) => bail!(
                "{prefix} is in the flow table with the flows {:?}; --flows {:?} disagrees (leave --flows out to take the row's)",
                row.iter().map(|f| flow_key(*f)).collect::<Vec<_>>(),
                given.iter().map(|f| flow_key(*f)).collect::<Vec<_>>()
            ),
            (Some(row), _) => row.to_vec(),
            (None, Some(given)) => given,
            (None, None) => vec![AuthFlow::ClientSecret, AuthFlow::DeviceCode],
        };
        if flows.is_empty() {
            bail!("{prefix} declares no flow; give --flows");
        }
        let oproxy_app = oproxy_app.or_else(|| {
            soar_auth::matrix::row(&prefix).and_then(|r| r.cortex_app.oproxy_app()).map(str::to_owned)
        });
        if flows.contains(&AuthFlow::CortexApp) && oproxy_app.is_none() {
            bail!("the cortex-app flow needs --oproxy-app <the Cortex application's name>");
        }
        Ok(Options {
            display: display.with_context(|| format!("--display is required; {usage}"))?,
            api: api.with_context(|| format!("--api is required; {usage}"))?,
            from_table: table.is_some(),
            prefix,
            flows,
            oproxy_app,
            category,
            record,
        })
    }
}

fn same_set(a: &[AuthFlow], b: &[AuthFlow]) -> bool {
    a.len() == b.len() && a.iter().all(|f| b.contains(f))
}

/// `contoso-widgets` -> `ContosoWidgets` (the context prefix).
fn camel(prefix: &str) -> String {
    prefix
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn variant(flow: AuthFlow) -> String {
    format!("{flow:?}")
}

/// The params of one flow in the conformance suite (the emulator's registrations).
fn flow_params(flow: AuthFlow) -> (Value, Option<&'static str>) {
    let secret = json!({"identifier": "", "password": "${SECRET_APP_SECRET}"});
    match flow {
        AuthFlow::ClientSecret => (
            json!({"auth_type": "Client Credentials", "app_id": "${SECRET_APP_ID}", "tenant_id": "${TENANT_ID}", "credentials": secret}),
            None,
        ),
        AuthFlow::ClientCertificate => (
            json!({"auth_type": "Client Credentials", "app_id": "${CERT_APP_ID}", "tenant_id": "${TENANT_ID}",
                   "creds_certificate": {"identifier": "${CERT_THUMBPRINT}", "password": "${CERT_KEY_PEM}"}}),
            None,
        ),
        AuthFlow::AuthorizationCode => (
            json!({"auth_type": "Authorization Code", "app_id": "${SECRET_APP_ID}", "tenant_id": "${TENANT_ID}",
                   "credentials": secret, "redirect_uri": "https://localhost/myapp"}),
            Some("auth-code"),
        ),
        AuthFlow::DeviceCode => {
            (json!({"auth_type": "Device Code", "app_id": "${PUBLIC_APP_ID}"}), Some("device-code"))
        }
        AuthFlow::ManagedIdentity => (
            json!({"auth_type": "Azure Managed Identities",
                   "managed_identities_client_id": {"identifier": "", "password": "${USER_MI_CLIENT_ID}"}}),
            None,
        ),
        AuthFlow::CortexApp => (
            json!({"auth_type": "Cortex XSOAR application", "app_id": "${PROXY_REGISTRATION_ID}",
                   "tenant_id": "${PROXY_TOKEN}", "credentials": {"identifier": "", "password": "${PROXY_KEY}"}}),
            None,
        ),
    }
}

/// The scope the emulator's sign-in grants an authorization code for (the auth crate asks for
/// the API's `.default` and `offline_access` when an integration declares no scopes).
fn auth_code_scope(api: Api) -> &'static str {
    match api {
        Api::Graph => "${GRAPH}/.default offline_access",
        Api::Arm => "https://management.azure.com/.default offline_access",
        Api::Defender => "https://api.securitycenter.microsoft.com/.default offline_access",
    }
}

/// Every file the scaffold writes: its path from the workspace root and its text.
pub fn files(o: &Options) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let p = &o.prefix;
    let crate_dir = Path::new("integrations").join(p);
    let data_dir = Path::new("test-data").join(p);
    let subst = |t: &str| {
        t.replace("{{PREFIX}}", p)
            .replace("{{CRATE}}", &p.replace('-', "_"))
            .replace("{{DISPLAY}}", &o.display)
            .replace("{{CAMEL}}", &camel(p))
            .replace("{{API}}", o.api.kind())
            .replace("{{CATEGORY}}", &o.category)
            .replace("{{OPROXY}}", o.oproxy_app.as_deref().unwrap_or(""))
            .replace("{{MATRIX}}", if o.from_table { ", matrix" } else { "" })
            .replace("{{DEFAULT_FLOW}}", &variant(o.flows[0]))
            .replace("{{REQUEST_PATH}}", o.api.seed(p).1.trim_start_matches("v1.0/"))
            .replace(
                "{{FLOWS}}",
                &if o.from_table {
                    format!("matrix::declared_flows(\"{p}\")")
                } else {
                    format!(
                        "&[{}]",
                        o.flows
                            .iter()
                            .map(|f| format!("AuthFlow::{}", variant(*f)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
            )
    };
    let mut out = vec![
        (crate_dir.join("Cargo.toml"), subst(CARGO_TOML)),
        (crate_dir.join("src/main.rs"), subst(MAIN_RS)),
        (crate_dir.join("src/lib.rs"), subst(LIB_RS).replace("{{VERSIONED}}", versioned(o.api))),
        (
            crate_dir.join("src/commands.rs"),
            subst(COMMANDS_RS)
                .replace("{{PAGING}}", paging(o.api))
                .replace("{{VERSIONED}}", versioned(o.api)),
        ),
        (crate_dir.join("tests/conformance.rs"), subst(CONFORMANCE_RS)),
    ];
    let mut flows = serde_json::Map::new();
    for f in &o.flows {
        let (params, setup) = flow_params(*f);
        let mut entry = serde_json::Map::new();
        if let Some(s) = setup {
            entry.insert("setup".into(), json!(s));
        }
        entry.insert("params".into(), params);
        if *f == AuthFlow::AuthorizationCode {
            entry.insert("scope".into(), json!(auth_code_scope(o.api)));
        }
        flows.insert(flow_key(*f), Value::Object(entry));
    }
    let suite = json!({
        "binary": p,
        "prefix": p,
        "demo": [format!("!{p}-example-list limit=2")],
        "flows": flows,
        "clouds": {"worldwide": {}},
    });
    out.push((data_dir.join("conformance.json"), pretty(&suite)?));
    let case = |description: &str, command: &str, args: Value| {
        pretty(
            &json!({"description": description, "request": {"command": command, "args": args}, "expected": {"entries": []}}),
        )
    };
    out.push((
        data_dir.join("cases/001-test-module.json"),
        case(
            "test-module: a token for flows that need no person; the others say what to run",
            "test-module",
            json!({}),
        )?,
    ));
    out.push((
        data_dir.join("cases/010-example-list.json"),
        case(
            "the example list pages through the seed until the limit",
            &format!("{p}-example-list"),
            json!({"limit": "3"}),
        )?,
    ));
    out.push((
        data_dir.join("cases/011-example-list-bad-limit.json"),
        case(
            "a limit that is not a number names the argument",
            &format!("{p}-example-list"),
            json!({"limit": "many"}),
        )?,
    ));
    let (api, path, paging, role) = o.api.seed(p);
    let mut collection = json!({
        "path": path,
        "key": "id",
        "read": role,
        "paging": paging,
        "page_size": 2,
        "items": [
            {"id": "item-1", "name": "First example item"},
            {"id": "item-2", "name": "Second example item"},
            {"id": "item-3", "name": "Third example item"},
            {"id": "item-4", "name": "Fourth example item"},
        ],
    });
    if o.api == Api::Arm
        && let Some(c) = collection.as_object_mut()
    {
        c.insert("api_version".into(), json!(ARM_API_VERSION));
    }
    out.push((
        data_dir.join("emulator-seed.json"),
        pretty(&json!({"api": api, "collections": [collection]}))?,
    ));
    Ok(out)
}

const ARM_API_VERSION: &str = "2024-01-01";

/// A recording that turned the example list into an error means the example does not work
/// against the emulator: say so rather than leave a suite that checks a failure.
fn check_recorded(root: &Path, prefix: &str) -> anyhow::Result<()> {
    let path = root.join("test-data").join(prefix).join("cases/010-example-list.json");
    let case: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    let mut expectations = vec![&case["expected"]];
    if let Some(per_flow) = case["expected_for"].as_object() {
        expectations.extend(per_flow.values());
    }
    for e in expectations {
        if let Some(entry) = e["entries"].as_array().and_then(|a| a.iter().find(|x| x["Type"] == 4)) {
            bail!("the example list recorded an error in {}: {}", path.display(), entry["Contents"]);
        }
    }
    Ok(())
}

fn paging(api: Api) -> &'static str {
    match api {
        Api::Graph => "Paging::ODataNextLink",
        Api::Arm => "Paging::ArmNextLink",
        Api::Defender => "Paging::TopSkip { top: 2 }",
    }
}

fn versioned(api: Api) -> &'static str {
    match api {
        Api::Graph => "Some(\"v1.0\")",
        Api::Arm | Api::Defender => "None",
    }
}

fn pretty(v: &Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// Writes the integration, then records its expectations and docs (see the module docs).
pub fn main(args: &[String]) -> anyhow::Result<()> {
    let o = Options::parse(args)?;
    let root = crate::codegen::workspace_root();
    if root.join("integrations").join(&o.prefix).exists() || root.join("test-data").join(&o.prefix).exists() {
        bail!(
            "integrations/{0} or test-data/{0} exists already; pick another prefix or remove them",
            o.prefix
        );
    }
    for (path, text) in files(&o)? {
        let full = root.join(&path);
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&full, text).with_context(|| format!("writing {}", full.display()))?;
        eprintln!("new-integration: wrote {}", path.display());
    }
    if o.record {
        for step in
            [vec!["xtask", "conformance", "--integration", &o.prefix, "--bless"], vec!["xtask", "codegen"]]
        {
            let status = soar_conformance::cargo_command().current_dir(&root).args(&step).status()?;
            if !status.success() {
                bail!("`cargo {}` failed; fix the integration and run it again", step.join(" "));
            }
        }
        check_recorded(&root, &o.prefix)?;
    }
    eprintln!(
        "new-integration: {0} is ready. Next: replace the example command in integrations/{0}/src/commands.rs \
         with the real ones, describe the API in test-data/{0}/emulator-seed.json, add cases, and run \
         `cargo xtask conformance --integration {0} --bless` then `cargo xtask codegen`.",
        o.prefix
    );
    Ok(())
}

/// `cargo xtask scaffold-check`: the scaffold in a throw-away copy of the workspace (the files
/// git tracks, plus untracked ones it does not ignore), with its own target dir under
/// `target/scaffold-check`: `new-integration` (which records the suite with every declared flow
/// and writes the YAML and README), then the new crate's `cargo test` and `codegen --check`.
/// `cargo xtask test` runs it, so a change that breaks what the scaffold writes fails CI.
pub fn check() -> anyhow::Result<()> {
    let root = crate::codegen::workspace_root();
    let copy = root.join("target/scaffold-check/workspace");
    if copy.exists() {
        std::fs::remove_dir_all(&copy).with_context(|| format!("removing {}", copy.display()))?;
    }
    let listed = Command::new("git")
        .current_dir(&root)
        .args(["ls-files", "--cached", "--others", "--exclude-standard", "-z"])
        .output()
        .context("running git ls-files")?;
    if !listed.status.success() {
        bail!("git ls-files failed: {}", String::from_utf8_lossy(&listed.stderr));
    }
    for rel in listed.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let rel = Path::new(std::str::from_utf8(rel).context("a file name that is not UTF-8")?);
        let (from, to) = (root.join(rel), copy.join(rel));
        if !from.is_file() {
            continue; // deleted in the work tree
        }
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&from, &to).with_context(|| format!("copying {}", rel.display()))?;
    }
    let target = root.join("target/scaffold-check/target");
    let name = "scaffold-check";
    let steps: [Vec<&str>; 3] = [
        vec![
            "xtask",
            "new-integration",
            name,
            "--display",
            "Scaffold Check",
            "--api",
            "graph",
            "--flows",
            "client-secret,device-code,managed-identity",
        ],
        vec!["test", "-p", name],
        vec!["xtask", "codegen", "--check"],
    ];
    for step in steps {
        eprintln!("scaffold-check: cargo {}", step.join(" "));
        let status = soar_conformance::cargo_command()
            .current_dir(&copy)
            .env("CARGO_TARGET_DIR", &target)
            .args(&step)
            .status()?;
        if !status.success() {
            bail!("scaffold-check: `cargo {}` failed in {}", step.join(" "), copy.display());
        }
    }
    #[allow(clippy::print_stdout)] // the count is the stage's result
    {
        println!("scaffold-check: 3 passed, 0 failed");
    }
    Ok(())
}

const CARGO_TOML: &str = r#"[package]
name = "{{PREFIX}}"
description = "{{DISPLAY}} (prefix {{PREFIX}})."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[dependencies]
soar-integration-kit.workspace = true
serde_json.workspace = true

[dev-dependencies]
soar-conformance.workspace = true

[lints]
workspace = true
"#;

const MAIN_RS: &str = r#"//! The {{PREFIX}} integration binary: one request on stdin, one response on stdout.

use std::process::ExitCode;

fn main() -> ExitCode {
    soar_integration_kit::run({{CRATE}}::integration())
}
"#;

const LIB_RS: &str = r#"//! {{DISPLAY}} (prefix `{{PREFIX}}`).
//!
//! The binary (`src/main.rs`) is `soar_integration_kit::run(integration())`. [`AUTH_SPEC`]
//! declares the flows and where the instance's values are read, [`ABOUT`] the form and the
//! integration's own params, and [`integration`] lists the commands, each declared in one place
//! in `commands.rs`. The auth commands (`{{PREFIX}}-auth-test`, `-auth-reset`, and those the
//! flows call for) come with the kit.

pub mod commands;

use soar_integration_kit::{
    About, ApiClient, ApiKind, AuthFlow, AuthForm, AuthSpec, FlowPicker, MsIntegration, ParamNames{{MATRIX}},
};

use crate::commands::{ExampleList, TestModule};

/// The flows this integration supports.
pub const FLOWS: &[AuthFlow] = {{FLOWS}};

/// What the auth crate needs to know about this integration.
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "{{PREFIX}}",
    flows: FLOWS,
    oproxy_app_name: "{{OPROXY}}",
    resource: ApiKind::{{API}},
    scopes: &[],
    param_names: ParamNames::APP_CREDENTIALS,
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "{{DISPLAY}}",
    description: "{{DISPLAY}} for Cortex XSOAR, built on soar-rt.",
    category: "{{CATEGORY}}",
    form: AuthForm {
        picker: FlowPicker::Select { default: AuthFlow::{{DEFAULT_FLOW}} },
        national_clouds: true,
        labels: &[("app_id", "Application ID")],
        defaults: &[],
    },
    params: &[],
    unprefixed_commands: &[],
};

/// The integration with the process-wide HTTP client (configured from the environment).
pub fn integration() -> MsIntegration<ApiClient> {
    MsIntegration::new(&ABOUT, ApiClient::env(ApiKind::{{API}}, {{VERSIONED}}))
        .command::<TestModule>()
        .command::<ExampleList>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_follows_the_runtime_rules() {
        soar_integration_kit::check_integration(&integration()).unwrap();
    }

    #[test]
    fn the_form_agrees_with_the_declared_flows() {
        assert_eq!(ABOUT.check_params(), Vec::<String>::new());
    }
}
"#;

const COMMANDS_RS: &str = r#"//! The commands, one place each: the arguments struct (its doc comment is the command's
//! description) and the [`Handler`] impl (its name, outputs, examples and what it does).

use serde_json::Value;
use soar_integration_kit::paging::{self, Paging};
use soar_integration_kit::{
    ApiClient, Args, AuthFlow, CommandContext, Error, Handler, Outcome, OutputSpec, Request, Results, Table,
    async_trait, out,
};

/// Checks the configuration: gets a token (the flows that need a person say what to run).
#[derive(Args)]
pub struct TestModule;

#[async_trait]
impl Handler<ApiClient> for TestModule {
    const NAME: &'static str = "test-module";

    async fn run(self, client: &ApiClient, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        match client.flow {
            AuthFlow::DeviceCode => Err(Error::Command(
                "Run !{{PREFIX}}-auth-start, sign in with the code it shows, run !{{PREFIX}}-auth-complete, \
                 then check the connection with !{{PREFIX}}-auth-test."
                    .to_owned(),
            )),
            AuthFlow::AuthorizationCode => Err(Error::Command(
                "Run !{{PREFIX}}-generate-login-url, sign in, put the code in the instance's Authorization code \
                 field, then check the connection with !{{PREFIX}}-auth-test."
                    .to_owned(),
            )),
            _ => {
                client.api.check_token(&mut ctx.integration_context).await?;
                Ok(soar_integration_kit::ok_outcome())
            }
        }
    }
}

/// Lists the example items, page by page up to the limit.
#[derive(Args)]
pub struct ExampleList {
    /// The most items to return.
    #[arg(default = "50")]
    limit: usize,
}

#[async_trait]
impl Handler<ApiClient> for ExampleList {
    const NAME: &'static str = "{{PREFIX}}-example-list";
    const EXAMPLES: &'static [&'static str] = &["!{{PREFIX}}-example-list limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        vec![out("{{CAMEL}}.Item.id", "String", "The item's ID."), out("{{CAMEL}}.Item.name", "String", "The item's name.")]
    }

    async fn run(self, client: &ApiClient, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let first = Request::get("{{REQUEST_PATH}}");
        let items =
            paging::collect(client.api.as_ref(), &mut ctx.integration_context, first, {{PAGING}}, Some(self.limit))
                .await?;
        let md = Table::new("{{DISPLAY}} items", Value::Array(items.clone())).headers(["id", "name"]).render()?;
        Results {
            readable: Some(md),
            prefix: Some("{{CAMEL}}.Item"),
            key_field: Some("id"),
            outputs: Some(Value::Array(items.clone())),
            raw: Some(Value::Array(items)),
        }
        .outcome()
    }
}
"#;

const CONFORMANCE_RS: &str = r#"//! Runs this integration's conformance suite (`test-data/{{PREFIX}}/cases/`) with the real binary
//! against the emulator, so `cargo test` catches breakage; `cargo xtask conformance --integration
//! {{PREFIX}}` runs every flow.

soar_integration_kit::conformance_test!("{{PREFIX}}");
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| (*a).to_owned()).collect()
    }

    /// (command line, the error or the flows chosen): flows come from the table when the prefix
    /// is in it, otherwise from `--flows`.
    #[test]
    fn options_take_the_flows_from_the_table_or_the_command_line() {
        let ok =
            Options::parse(&args(&["contoso-widgets", "--display", "Contoso", "--api", "graph"])).unwrap();
        assert_eq!(ok.flows, [AuthFlow::ClientSecret, AuthFlow::DeviceCode]);
        let row = Options::parse(&args(&["azure-waf", "--display", "WAF", "--api", "arm"])).unwrap();
        assert!(row.from_table && row.flows.contains(&AuthFlow::ManagedIdentity), "{:?}", row.flows);
        let bad = [
            (args(&["Bad_Prefix", "--display", "x", "--api", "graph"]), "lower-case"),
            (args(&["x", "--api", "graph"]), "--display is required"),
            (args(&["x", "--display", "x", "--api", "soap"]), "unknown --api"),
            (args(&["x", "--display", "x", "--api", "graph", "--flows", "magic"]), "unknown flow"),
            (args(&["x", "--display", "x", "--api", "graph", "--flows", "cortex-app"]), "--oproxy-app"),
            (args(&["azure-waf", "--display", "x", "--api", "arm", "--flows", "client-secret"]), "disagrees"),
        ];
        for (a, want) in bad {
            let e = Options::parse(&a).unwrap_err().to_string();
            assert!(e.contains(want), "{a:?}: {e}");
        }
    }

    #[test]
    fn files_are_named_by_the_prefix_and_carry_no_placeholder() {
        let o = Options::parse(&args(&[
            "contoso-widgets",
            "--display",
            "Contoso Widgets",
            "--api",
            "defender",
            "--flows",
            "client-secret,device-code,managed-identity",
        ]))
        .unwrap();
        let files = files(&o).unwrap();
        for (path, text) in &files {
            assert!(!text.contains("{{"), "{} keeps a placeholder", path.display());
        }
        let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
        assert!(names.contains(&"integrations/contoso-widgets/src/commands.rs".to_owned()), "{names:?}");
        let suite: Value =
            serde_json::from_str(&files.iter().find(|(p, _)| p.ends_with("conformance.json")).unwrap().1)
                .unwrap();
        let flows: Vec<&String> = suite["flows"].as_object().unwrap().keys().collect();
        assert_eq!(flows, ["client-secret", "device-code", "managed-identity"]);
        let lib = &files.iter().find(|(p, _)| p.ends_with("lib.rs")).unwrap().1;
        assert!(lib.contains("AuthFlow::ClientSecret, AuthFlow::DeviceCode, AuthFlow::ManagedIdentity"));
        assert!(lib.contains("ApiKind::Defender"));
        assert_eq!(camel("contoso-widgets"), "ContosoWidgets");
    }
}
