//! `soar flows`: the seed's table of the 37 Microsoft integrations and their authentication
//! flows (`soar_auth::matrix`, data only: the engine links no integration), with a column saying
//! which are built here (a binary named by the prefix is found). `soar flows --built` shows the
//! per-flow view of the integrations whose binary is found, read from each `--manifest`.
//!
//! Only names a person gave (configured instances, `SOAR_INTEGRATIONS`) are reported when their
//! binary is missing; the table's rows are never reported missing, since most are not built in
//! this project. A prefix two rows share (`msgraph-mail`, ...) marks both rows built when its
//! binary is found.

use std::path::PathBuf;

use soar_auth::matrix::ROWS;
use soar_protocol::AuthFlow;

use crate::error::Result;
use crate::manifest::Manifest;
use crate::render::{Style, markdown};
use crate::runner::Engine;

/// The seed's column titles, after `#`, integration and prefix.
pub const FLOW_COLUMNS: [&str; 6] =
    ["Cortex app", "Client credentials", "Device code", "Auth code", "Managed identities", "National clouds"];

/// The seed's table as markdown, with a last column from `built` (the binary of a prefix, if found).
pub fn seed_table(built: &dyn Fn(&str) -> Option<PathBuf>) -> String {
    let mut md =
        String::from("### Microsoft integrations and their authentication flows\n|#|Integration|Prefix|");
    for c in FLOW_COLUMNS {
        md.push_str(c);
        md.push('|');
    }
    md.push_str("Here|\n|");
    md.push_str(&"---|".repeat(FLOW_COLUMNS.len() + 4));
    md.push('\n');
    let mut found = Vec::new();
    for row in &ROWS {
        let bin = built(row.prefix);
        md.push_str(&format!("| {} | {} | {} |", row.number, row.name, row.prefix));
        for mark in row.marks() {
            md.push_str(&format!(" {} |", mark.text()));
        }
        md.push_str(if bin.is_some() { " built |\n" } else { " not built |\n" });
        if let Some(b) = bin
            && !found.iter().any(|(p, _)| *p == row.prefix)
        {
            found.push((row.prefix, b));
        }
    }
    md.push_str(&format!("\n{} of {} built here", found.len(), ROWS.len()));
    if found.is_empty() {
        md.push_str(" (build with cargo build --release -p PREFIX, or set SOAR_BIN_DIR).\n");
    } else {
        let list: Vec<String> = found.iter().map(|(p, b)| format!("{p} ({})", b.display())).collect();
        md.push_str(&format!(": {}.\n", list.join(", ")));
    }
    md
}

/// The serde (kebab-case) name of a flow, as manifests list it.
pub fn flow_key(flow: AuthFlow) -> String {
    serde_json::to_value(flow).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The matrix as markdown.
pub fn matrix(integrations: &[(String, Manifest)]) -> String {
    let mut rows: Vec<(String, String)> =
        AuthFlow::ALL.iter().map(|f| (flow_key(*f), f.display_name().to_owned())).collect();
    for (_, m) in integrations {
        for f in &m.flows {
            if !rows.iter().any(|(k, _)| k == f) {
                rows.push((f.clone(), f.clone()));
            }
        }
    }
    let mut md = String::from("### Supported authentication flows\n|Flow|");
    for (name, _) in integrations {
        md.push_str(&format!("{name}|"));
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(integrations.len()));
    md.push('\n');
    for (key, label) in rows {
        md.push_str(&format!("| {label} |"));
        for (_, m) in integrations {
            md.push_str(if m.flows.contains(&key) { " ✓ |" } else { " — |" });
        }
        md.push('\n');
    }
    md
}

/// Where the seed's table says the integration's Cortex XSOAR application is a Palo Alto public
/// client used with device code (`CortexApp::DefaultClient`, e.g. Azure Storage's
/// `55f9764e-...`), a binary declaring device code offers that application: its default client
/// id is that app. The view lists it as the Cortex XSOAR application flow too.
pub fn with_default_client(name: &str, m: &mut Manifest) {
    let cortex = flow_key(AuthFlow::CortexApp);
    let default_client = soar_auth::matrix::row(name)
        .is_some_and(|r| matches!(r.cortex_app, soar_auth::CortexApp::DefaultClient));
    if default_client && m.flows.iter().any(|f| f == "device-code") && !m.flows.contains(&cortex) {
        m.flows.insert(0, cortex);
    }
}

/// Integrations with their manifests.
pub type Known = Vec<(String, Manifest)>;

/// The built integrations with their manifests (the table's prefixes whose binary is found,
/// those of configured instances, those named in `SOAR_INTEGRATIONS`), and the names a person
/// gave whose binary or manifest could not be read.
pub fn known(engine: &Engine) -> Result<(Known, Vec<String>)> {
    let mut names: Vec<(String, bool)> = Vec::new();
    for row in &ROWS {
        if !names.iter().any(|(n, _)| n == row.prefix) && engine.finder.try_find(row.prefix).is_some() {
            names.push((row.prefix.to_owned(), false));
        }
    }
    // This project's own integrations (its conformance suites), also when no row names them.
    for name in crate::suites::integrations() {
        if !names.iter().any(|(n, _)| *n == name) && engine.finder.try_find(&name).is_some() {
            names.push((name, false));
        }
    }
    let mut given: Vec<String> = engine.instances.all()?.into_iter().map(|i| i.integration).collect();
    given.extend(
        std::env::var("SOAR_INTEGRATIONS")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    );
    for name in given {
        if !names.iter().any(|(n, _)| *n == name) {
            names.push((name, true));
        }
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for (name, report) in names {
        match engine.finder.try_find(&name) {
            Some(bin) => match engine.manifests.get(&name, &bin)? {
                Some(mut m) => {
                    with_default_client(&name, &mut m);
                    found.push((name, m))
                }
                None if report => missing.push(format!("{name} (no --manifest)")),
                None => {}
            },
            None if report => missing.push(name),
            None => {}
        }
    }
    Ok((found, missing))
}

/// The text `soar flows` prints: the seed's table, or with `built` the per-flow view of the
/// built integrations.
pub fn render(engine: &Engine, style: Style, built: bool) -> Result<String> {
    if !built {
        return Ok(markdown(&seed_table(&|prefix| engine.finder.try_find(prefix)), style));
    }
    let (found, missing) = known(engine)?;
    let mut text = if found.is_empty() {
        "No integration binary found next to soar, on PATH or in SOAR_BIN_DIR.\n".to_owned()
    } else {
        markdown(&matrix(&found), style)
    };
    if !missing.is_empty() {
        text.push_str(&format!(
            "Not found: {} (build with cargo build --release -p NAME, or set SOAR_BIN_DIR).\n",
            missing.join(", ")
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_are_rows_and_integrations_columns() {
        let m = |flows: &[&str]| Manifest {
            flows: flows.iter().map(|s| (*s).to_owned()).collect(),
            ..Manifest::default()
        };
        let md = matrix(&[
            ("msgraph-user".into(), m(&["client-secret", "device-code"])),
            ("azure-storage".into(), m(&["client-secret", "managed-identity", "future-flow"])),
        ]);
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(lines[1], "|Flow|msgraph-user|azure-storage|");
        assert_eq!(lines[2], "|---|---|---|");
        assert_eq!(lines[3], "| Cortex XSOAR application | — | — |");
        assert_eq!(lines[4], "| Client credentials (secret) | ✓ | ✓ |");
        assert_eq!(lines[7], "| Device code | ✓ | — |");
        assert_eq!(lines[8], "| Azure managed identities | — | ✓ |");
        assert_eq!(lines[9], "| future-flow | — | ✓ |");
        assert_eq!(flow_key(AuthFlow::CortexApp), "cortex-app");
    }

    /// (integration, manifest flows, listed flows): the Cortex XSOAR application is listed for a
    /// device-code integration whose row names a Palo Alto public client, and only there.
    #[test]
    fn a_default_client_row_lists_the_cortex_application() {
        let cases: [(&str, &[&str], &[&str]); 3] = [
            (
                "azure-storage",
                &["client-secret", "device-code"],
                &["cortex-app", "client-secret", "device-code"],
            ),
            ("azure-storage", &["client-secret"], &["client-secret"]),
            ("msgraph-user", &["cortex-app", "client-secret"], &["cortex-app", "client-secret"]),
        ];
        for (name, flows, want) in cases {
            let mut m =
                Manifest { flows: flows.iter().map(|s| (*s).to_owned()).collect(), ..Manifest::default() };
            with_default_client(name, &mut m);
            assert_eq!(m.flows, want, "{name} {flows:?}");
        }
    }

    #[test]
    fn the_seed_table_has_37_rows_in_the_seeds_words_and_says_what_is_built() {
        let md =
            seed_table(&|prefix| (prefix == "azure-storage").then(|| PathBuf::from("/bin/azure-storage")));
        let lines: Vec<&str> = md.lines().collect();
        assert_eq!(
            lines[1],
            "|#|Integration|Prefix|Cortex app|Client credentials|Device code|Auth code|Managed identities|National clouds|Here|"
        );
        let data: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(data.len(), 37);
        assert_eq!(
            data[1],
            "| 2 | Azure Data Explorer | azure-data-explorer | yes - device | yes | yes | yes | no | no | not built |"
        );
        assert_eq!(
            data[13],
            "| 14 | Azure Storage | azure-storage | yes | yes | yes | yes | yes | no | built |"
        );
        assert!(data[20].contains("| no - saas |"), "{}", data[20]);
        assert_eq!(data.iter().filter(|l| l.ends_with("| built |")).count(), 1);
        assert!(md.ends_with("1 of 37 built here: azure-storage (/bin/azure-storage).\n"), "{md}");
        let none = seed_table(&|_| None);
        assert!(none.contains("0 of 37 built here (build with"), "{none}");
    }
}
