//! The flow table (`soar_auth::matrix`) against its two references: the copy of the seed's
//! table in `test-data/flow-matrix.md` (every row's name, folders, prefix, six flow columns,
//! proxy app name, API base and scope text), and the emulator (for every row, a token for each
//! of its resources under each flow it supports, with the right audience; every other flow
//! refused naming the supported ones). Also the flows the two built integrations must declare.

// Test helpers outside #[test] fns are test code too (clippy.toml allows unwrap in tests).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{claims, config, creds, p};

use std::sync::Arc;
use std::time::Duration;

use soar_auth::http::{HttpConfig, HttpRequest, ReqwestTransport, Transport};
use soar_auth::matrix::{self, CortexApp, Mark, ROWS, Row};
use soar_auth::{
    ApiKind, AuthFlow, AuthSpec, Cloud, CloudEndpoints, Error, IntegrationContext, MsClient, Shared,
};
use soar_emulator::config as ec;
use soar_emulator::{Emulator, EmulatorConfig};
use soar_protocol::ParamValue;

// ---------------------------------------------------------------------------------------------
// The seed's table.

/// One data row of the markdown table, split into its cells.
struct SeedRow {
    cells: Vec<String>,
}

impl SeedRow {
    fn cell(&self, i: usize) -> &str {
        self.cells[i].as_str()
    }
}

/// The data rows of the table in `test-data/flow-matrix.md` (lines `| <number> | ...`).
fn seed_rows() -> Vec<SeedRow> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../test-data/flow-matrix.md");
    let text = std::fs::read_to_string(path).unwrap();
    let mut header_cells = 0;
    let mut rows = Vec::new();
    for line in text.lines() {
        if line.starts_with("| # |") {
            header_cells = line.split('|').count();
        }
        let first = line.trim_start_matches('|').trim_start();
        if line.starts_with('|') && first.starts_with(|c: char| c.is_ascii_digit()) {
            let cells: Vec<String> = line.split('|').map(|c| c.trim().to_owned()).collect();
            assert_eq!(cells.len(), header_cells, "a cell holds a `|`, or the columns changed: {line}");
            // Drop the empty strings before the first and after the last `|`.
            rows.push(SeedRow { cells: cells[1..cells.len() - 1].to_vec() });
        }
    }
    rows
}

/// The backticked words of a cell, in order.
fn ticked(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// The proxy app name: a cell that is exactly one backticked name (a sentence naming an app
/// that is never used, as Key Vault's, is not one).
fn oproxy_cell(cell: &str) -> Option<&str> {
    let t = ticked(cell);
    (t.len() == 1 && cell == format!("`{}`", t[0])).then(|| t[0])
}

fn variant(c: CortexApp) -> String {
    match c {
        CortexApp::No => "no".to_owned(),
        CortexApp::Oproxy { app } => format!("oproxy {app}"),
        CortexApp::DefaultClient => "default client".to_owned(),
    }
}

#[test]
fn the_table_equals_the_copy_of_the_seed() {
    let seed = seed_rows();
    assert_eq!(seed.len(), 37, "the seed has 37 integrations");
    assert_eq!(ROWS.len(), seed.len());
    let mut diffs = Vec::new();
    for (row, s) in ROWS.iter().zip(&seed) {
        let mut check = |what: &str, ours: String, theirs: String| {
            if ours != theirs {
                diffs.push(format!("row {} {what}: code {ours:?}, seed {theirs:?}", row.number));
            }
        };
        check("number", row.number.to_string(), s.cell(0).to_owned());
        // `Name (`Pack` / `Folder`)` or `Name (`Pack` / same[, unverified])`.
        let (name, rest) = s.cell(1).split_once(" (`").unwrap();
        check("name", row.name.to_owned(), name.to_owned());
        let folders = ticked(s.cell(1));
        check("pack", row.pack.to_owned(), folders[0].to_owned());
        let folder = if rest.contains("/ same") { folders[0] } else { folders[1] };
        check("folder", row.folder.to_owned(), folder.to_owned());
        check("prefix", row.prefix.to_owned(), ticked(s.cell(2))[0].to_owned());
        let columns = [
            "Cortex app",
            "client credentials",
            "device code",
            "auth code",
            "managed identities",
            "national clouds",
        ];
        for ((col, mark), cell) in columns.iter().zip(row.marks()).zip(&s.cells[3..9]) {
            check(col, mark.text().to_owned(), cell.clone());
            assert!(Mark::parse(cell).is_some(), "row {} {col}: unknown value {cell:?}", row.number);
        }
        let seed_app = oproxy_cell(s.cell(11));
        check("oproxy app name", format!("{:?}", row.cortex_app.oproxy_app()), format!("{seed_app:?}"));
        // The Cortex variant follows from the column and the app name.
        let want = match (Mark::parse(s.cell(3)), seed_app) {
            (Some(Mark::No), _) => "no".to_owned(),
            (_, Some(app)) => format!("oproxy {app}"),
            _ => "default client".to_owned(),
        };
        check("Cortex variant", variant(row.cortex_app), want);
        if !s.cell(9).contains(row.api_base) {
            diffs.push(format!(
                "row {}: API base {:?} is not in the seed's {:?}",
                row.number,
                row.api_base,
                s.cell(9)
            ));
        }
        if !s.cell(10).contains(row.scope) {
            diffs.push(format!(
                "row {}: scope {:?} is not in the seed's {:?}",
                row.number,
                row.scope,
                s.cell(10)
            ));
        }
        if let Some(id) = row.default_client_id
            && !s.cell(11).contains(id)
        {
            diffs.push(format!("row {}: default client id {id} is not in the seed", row.number));
        }
    }
    assert!(diffs.is_empty(), "the table and test-data/flow-matrix.md disagree:\n{}", diffs.join("\n"));
}

#[test]
fn the_built_integrations_declare_their_rows_flows() {
    use AuthFlow::*;
    // What `integrations/msgraph-user` declares today (`FLOWS`): the row agrees.
    assert_eq!(
        matrix::flows_of("msgraph-user").unwrap(),
        [CortexApp, ClientSecret, ClientCertificate, AuthorizationCode, ManagedIdentity]
    );
    // `integrations/azure-storage` declares client secret, device code, authorization code and
    // managed identity today; the row adds the certificate (client credentials "yes") and its
    // Cortex application is the default public client, used through device code.
    let storage = matrix::row("azure-storage").unwrap();
    assert_eq!(
        storage.flow_list(),
        [ClientSecret, ClientCertificate, AuthorizationCode, DeviceCode, ManagedIdentity]
    );
    assert_eq!(storage.cortex_app, matrix::CortexApp::DefaultClient);
    assert_eq!(storage.default_client_id, Some("55f9764e-300a-474a-a2bb-549cece85439"));
    assert_eq!(storage.auth_spec().resource, ApiKind::Arm);
}

// ---------------------------------------------------------------------------------------------
// Tokens from the emulator.

fn aud(jwt: &str) -> String {
    claims(jwt)["aud"].as_str().unwrap_or_default().to_owned()
}

fn norm(s: &str) -> String {
    s.trim_end_matches('/').to_ascii_lowercase()
}

/// The audiences a token for `api` may carry: the resource as IMDS and the proxy name it, or the
/// resource part of the scope the app and user flows ask for.
fn audiences(api: ApiKind) -> Vec<String> {
    let ep = CloudEndpoints::of(Cloud::Com);
    let scope = ep.default_scope(api).unwrap();
    vec![
        norm(&ep.resource_id(api).unwrap()),
        norm(scope.trim_end_matches("/.default")),
        norm(&ep.scope_prefix(api).unwrap()),
    ]
}

/// The value of the `auth_type` param that picks `flow`.
fn auth_type(flow: AuthFlow) -> &'static str {
    match flow {
        AuthFlow::CortexApp => "cortex-app",
        AuthFlow::ClientSecret => "client-secret",
        AuthFlow::ClientCertificate => "client-certificate",
        AuthFlow::AuthorizationCode => "authorization-code",
        AuthFlow::DeviceCode => "device-code",
        AuthFlow::ManagedIdentity => "managed-identity",
    }
}

/// What every case needs from the emulator.
struct Env {
    emulator: Emulator,
    cfg: HttpConfig,
    cert_id: String,
    cert_key: String,
}

/// The headless sign-in: follow the login URL to the redirect and take `code`.
async fn sign_in(cfg: &HttpConfig, url: &str) -> Result<String, String> {
    let resp = ReqwestTransport::new(cfg.clone())
        .send(HttpRequest::new(http::Method::GET, url))
        .await
        .map_err(|e| e.to_string())?;
    let loc = resp
        .header("location")
        .ok_or_else(|| format!("no redirect: {} {}", resp.status, String::from_utf8_lossy(&resp.body)))?;
    let u = url::Url::parse(loc).map_err(|e| e.to_string())?;
    u.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| format!("no code in {loc}"))
}

/// Signs in with `flow` as the row's integration and gets a token for each of its resources.
async fn tokens(env: &Env, row: &'static Row, spec: &'static AuthSpec, flow: AuthFlow) -> Result<(), String> {
    let shared = Shared::with_config(env.cfg.clone());
    let mut params = p(&[("auth_type", auth_type(flow)), ("tenant_id", ec::DEFAULT_TENANT_ID)]);
    let mut ctx = IntegrationContext::default();
    match flow {
        AuthFlow::CortexApp => {
            params = p(&[
                ("auth_type", auth_type(flow)),
                ("auth_id", ec::PROXY_REGISTRATION_ID),
                ("tenant_id", ec::PROXY_TOKEN),
                ("enc_key", ec::PROXY_KEY_B64),
            ]);
        }
        AuthFlow::ClientSecret => creds(&mut params, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET),
        AuthFlow::ClientCertificate => {
            params.0.insert("auth_id".into(), ParamValue::Str(ec::CERT_APP_ID.into()));
            creds(&mut params, "creds_certificate", &env.cert_id, &env.cert_key);
        }
        AuthFlow::ManagedIdentity => {}
        AuthFlow::AuthorizationCode => {
            params.0.insert("redirect_uri".into(), ParamValue::Str("https://localhost/myapp".into()));
            creds(&mut params, "credentials", ec::SECRET_APP_ID, ec::SECRET_APP_SECRET);
            let c = MsClient::from_params(spec, &params, shared.clone()).map_err(|e| e.to_string())?;
            let url = c.login_url(&mut ctx, true).map_err(|e| e.to_string())?;
            let code = sign_in(&env.cfg, &url).await?;
            creds(&mut params, "auth_code", "", &code);
        }
        AuthFlow::DeviceCode => {
            // The row's Cortex public client when known, else the emulator's own public client.
            let client = row.default_client_id.unwrap_or(ec::PUBLIC_APP_ID);
            params.0.insert("auth_id".into(), ParamValue::Str(client.into()));
            let c = MsClient::from_params(spec, &params, shared.clone()).map_err(|e| e.to_string())?;
            let start = c.device_start(&mut ctx).await.map_err(|e| format!("device start: {e}"))?;
            if !env.emulator.approve_device_code(&start.user_code) {
                return Err(format!("the emulator did not know user code {}", start.user_code));
            }
            c.device_complete(&mut ctx, Duration::from_secs(30))
                .await
                .map_err(|e| format!("device complete: {e}"))?;
        }
    }
    let client = MsClient::from_params(spec, &params, shared).map_err(|e| e.to_string())?;
    if client.flow() != flow {
        return Err(format!("the params picked {:?}", client.flow()));
    }
    for api in std::iter::once(row.resource).chain(row.other_resources.iter().copied()) {
        let token = client.token(&mut ctx, api).await.map_err(|e| format!("{api:?}: {e}"))?;
        let got = norm(&aud(token.expose()));
        let want = audiences(api);
        if !want.contains(&got) {
            return Err(format!("{api:?}: audience {got}, expected one of {want:?}"));
        }
    }
    Ok(())
}

/// Every flow of `row`: the supported ones give tokens, the others are refused naming the
/// supported ones. Returns the failures and the number of supported flows.
async fn check_row(env: Arc<Env>, row: &'static Row) -> (Vec<String>, usize) {
    let spec = row.static_spec().unwrap();
    let mut failures = Vec::new();
    for flow in AuthFlow::ALL {
        let what = format!("row {} {} / {}", row.number, row.prefix, flow.display_name());
        if spec.supports(flow) {
            if let Err(e) = tokens(&env, row, spec, flow).await {
                failures.push(format!("{what}: {e}"));
            }
            continue;
        }
        let params = p(&[("auth_type", auth_type(flow)), ("tenant_id", ec::DEFAULT_TENANT_ID)]);
        match MsClient::from_params(spec, &params, Shared::with_config(env.cfg.clone())) {
            Err(e @ Error::UnsupportedFlow { .. }) => {
                let text = e.to_string();
                let names_all = spec.flows.iter().all(|f| text.contains(f.display_name()));
                if !names_all || !text.contains(&spec.supported_names()) {
                    failures.push(format!("{what}: the refusal does not name the supported flows: {text}"));
                }
            }
            Err(e) => failures.push(format!("{what}: refused with another error: {e}")),
            Ok(_) => failures.push(format!("{what}: accepted although the row does not support it")),
        }
    }
    (failures, spec.flows.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_gets_tokens_for_its_flows_and_refuses_the_others() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let cfg = config(&emulator);
    let cert = emulator.cert_files().iter().find(|c| c.client_id == ec::CERT_APP_ID).unwrap().clone();
    let env = Arc::new(Env {
        cert_id: cert.thumbprint.clone(),
        cert_key: std::fs::read_to_string(&cert.key).unwrap(),
        emulator,
        cfg,
    });
    // One task per row: the rows run side by side against the one emulator.
    let tasks: Vec<_> = ROWS.iter().map(|row| tokio::spawn(check_row(env.clone(), row))).collect();
    let mut failures = Vec::new();
    let mut cases = 0;
    for t in tasks {
        let (f, n) = t.await.unwrap();
        failures.extend(f);
        cases += n;
    }
    let supported: usize = ROWS.iter().map(|r| r.flows().len()).sum();
    assert_eq!(cases, supported);
    eprintln!("{supported} supported (row, flow) pairs, {} refused ones", 37 * 6 - supported);
    assert!(failures.is_empty(), "{} cases failed:\n{}", failures.len(), failures.join("\n"));
}
