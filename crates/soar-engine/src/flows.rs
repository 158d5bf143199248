//! `soar flows`: which auth flow each integration supports, from each binary's `--manifest`.
//!
//! Rows are the flows (in `AuthFlow::ALL` order, then any flow name the engine does not know),
//! columns the integrations. The integrations listed are this project's (the binaries of the
//! conformance suites embedded at build time, see [`crate::suites`], when built), those of
//! configured instances, and those named in `SOAR_INTEGRATIONS` (comma list).

use soar_protocol::AuthFlow;

use crate::error::Result;
use crate::manifest::Manifest;
use crate::render::{Style, markdown};
use crate::runner::Engine;

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

/// Integrations with their manifests.
pub type Known = Vec<(String, Manifest)>;

/// The integrations the engine knows, with their manifests, and those it could not read.
pub fn known(engine: &Engine) -> Result<(Known, Vec<String>)> {
    let mut names: Vec<String> = crate::suites::integrations();
    for inst in engine.instances.all()? {
        if !names.contains(&inst.integration) {
            names.push(inst.integration);
        }
    }
    for extra in std::env::var("SOAR_INTEGRATIONS").unwrap_or_default().split(',').map(str::trim) {
        if !extra.is_empty() && !names.iter().any(|n| n == extra) {
            names.push(extra.to_owned());
        }
    }
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match engine.finder.try_find(&name) {
            Some(bin) => match engine.manifests.get(&name, &bin)? {
                Some(m) => found.push((name, m)),
                None => missing.push(format!("{name} (no --manifest)")),
            },
            None => missing.push(name),
        }
    }
    Ok((found, missing))
}

/// The text `soar flows` prints.
pub fn render(engine: &Engine, style: Style) -> Result<String> {
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
}
