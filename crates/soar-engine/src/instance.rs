//! Instance configurations: an integration name plus its params, one private file each.
//!
//! `<data dir>/instances/<name>.json` (mode 0600) holds `{name, integration, params,
//! secret_params}`. Values given through a prompt, a file or an environment variable are
//! secrets: they are stored (the file is private, as a SOAR server's database is) but never
//! printed; `show` masks them, and masks every param the integration's manifest declares secret.
//! A credentials param `{identifier, password}` is built from `KEY.identifier` and
//! `KEY.password`; its password is always a secret.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use soar_protocol::{Credentials, ParamValue, Params, Secret};

use crate::error::{EngineError, Result};
use crate::fsutil::{check_name, ensure_private_dir, read_optional, write_private_atomic};
use crate::manifest::Manifest;

/// What a person sees instead of a secret.
pub const MASK: &str = "********";

/// One configured instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// The instance name.
    pub name: String,
    /// The integration (binary) name.
    pub integration: String,
    /// The params sent with every request.
    pub params: Params,
    /// Keys whose values are secrets (given through a prompt, file or environment variable).
    #[serde(default)]
    pub secret_params: Vec<String>,
}

/// Where a param value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamSource {
    /// Typed on the command line (`--param k=v`).
    Value(String),
    /// Read from a file (`--param-file k=PATH`); a secret.
    File(PathBuf),
    /// Read from an environment variable (`--param-env k=VAR`); a secret.
    Env(String),
    /// Asked for without echo (`--param-prompt k`); a secret.
    Prompt,
}

/// Reads secrets: the environment, files and the terminal, behind a seam for tests.
pub trait SecretReader {
    /// The value of an environment variable.
    fn env(&self, name: &str) -> Option<String>;
    /// The contents of a file.
    fn file(&self, path: &Path) -> std::io::Result<String>;
    /// Asks for a value without echoing it.
    fn prompt(&self, label: &str) -> std::io::Result<String>;
}

/// The real [`SecretReader`]: a terminal prompt without echo, or one line of standard input
/// when standard input is not a terminal (scripts pipe secrets in).
#[derive(Debug, Default)]
pub struct SystemSecrets;

impl SecretReader for SystemSecrets {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
    fn file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
    fn prompt(&self, label: &str) -> std::io::Result<String> {
        use std::io::IsTerminal;
        if std::io::stdin().is_terminal() {
            rpassword::prompt_password(format!("{label}: "))
        } else {
            let mut err = std::io::stderr();
            let _ = write!(err, "{label} (reading a line from standard input): ");
            let _ = err.flush();
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let _ = writeln!(err);
            Ok(trim_newline(line))
        }
    }
}

fn trim_newline(mut s: String) -> String {
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    s
}

/// Builds params from the sources given on the command line.
pub fn build_params(
    items: &[(String, ParamSource)],
    reader: &dyn SecretReader,
) -> Result<(Params, Vec<String>)> {
    let mut params = Params::default();
    let mut secrets = BTreeSet::new();
    for (key, source) in items {
        if key.is_empty() {
            return Err(EngineError::Usage("A param has an empty name: write --param name=value.".into()));
        }
        let secret = !matches!(source, ParamSource::Value(_));
        let value = match source {
            ParamSource::Value(v) => v.clone(),
            ParamSource::File(path) => trim_newline(reader.file(path).map_err(|e| {
                EngineError::Usage(format!(
                    "Could not read {} for param {key}: {e}. Check the path.",
                    path.display()
                ))
            })?),
            ParamSource::Env(var) => reader.env(var).ok_or_else(|| {
                EngineError::Usage(format!(
                    "Environment variable {var} (for param {key}) is not set: export {var}=... first."
                ))
            })?,
            ParamSource::Prompt => reader.prompt(key).map_err(|e| {
                EngineError::Usage(format!("Could not read param {key} from the prompt: {e}"))
            })?,
        };
        let (base, part) = match key.rsplit_once('.') {
            Some((b, p @ ("identifier" | "password"))) => (b.to_owned(), Some(p)),
            _ => (key.clone(), None),
        };
        if params.0.contains_key(&base) && part.is_none() {
            return Err(EngineError::Usage(format!("Param {base} is given twice: keep one.")));
        }
        match part {
            None => {
                params.0.insert(base.clone(), ParamValue::Str(value));
                if secret {
                    secrets.insert(base);
                }
            }
            Some(part) => {
                let entry = params
                    .0
                    .entry(base.clone())
                    .or_insert_with(|| ParamValue::Credentials(Credentials::default()));
                let ParamValue::Credentials(c) = entry else {
                    return Err(EngineError::Usage(format!(
                        "Param {base} is given both as a value and as {base}.{part}: use {base}.identifier and {base}.password only."
                    )));
                };
                if part == "identifier" {
                    c.identifier = value;
                } else {
                    c.password = Secret::new(value);
                }
            }
        }
    }
    Ok((params, secrets.into_iter().collect()))
}

/// Warnings (and errors) about params compared with the integration's manifest.
pub fn check_params(instance: &Instance, manifest: &Manifest) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    if manifest.params.is_empty() {
        return Ok(warnings);
    }
    for key in instance.params.0.keys() {
        if !manifest.params.iter().any(|p| p.name == *key) {
            let hint = crate::cmdline::closest(key, manifest.params.iter().map(|p| p.name.as_str()))
                .map(|c| format!("did you mean {c}? "))
                .unwrap_or_default();
            let names: Vec<&str> = manifest.params.iter().map(|p| p.name.as_str()).collect();
            return Err(EngineError::Usage(format!(
                "Unknown param {key} for integration {}: {hint}its params are: {}.",
                instance.integration,
                names.join(", ")
            )));
        }
    }
    for p in &manifest.params {
        let given = instance.params.0.get(&p.name);
        if p.required && given.is_none() {
            warnings.push(format!(
                "param {} ({}) is required by {} and not set",
                p.name, p.display, instance.integration
            ));
        }
        if p.secret && matches!(given, Some(ParamValue::Str(_))) && !instance.secret_params.contains(&p.name)
        {
            warnings.push(format!(
                "param {0} is a secret typed on the command line (visible in shell history and ps); \
                 prefer --param-env {0}=VAR, --param-file {0}=PATH or --param-prompt {0}",
                p.name
            ));
        }
    }
    Ok(warnings)
}

impl Instance {
    /// The params as a person may see them: secrets and credential passwords masked.
    pub fn masked_params(&self, manifest: Option<&Manifest>) -> Vec<(String, String)> {
        let declared_secret =
            |k: &str| manifest.is_some_and(|m| m.params.iter().any(|p| p.name == k && p.secret));
        self.params
            .0
            .iter()
            .map(|(k, v)| {
                let shown = match v {
                    ParamValue::Credentials(c) if c.identifier.is_empty() => MASK.to_owned(),
                    ParamValue::Credentials(c) => format!("identifier={}, password={MASK}", c.identifier),
                    _ if self.secret_params.contains(k) || declared_secret(k) => MASK.to_owned(),
                    ParamValue::Secret(_) => MASK.to_owned(),
                    ParamValue::Str(s) => s.clone(),
                    ParamValue::Bool(b) => b.to_string(),
                    ParamValue::Number(n) => n.to_string(),
                    ParamValue::Other(v) => v.to_string(),
                };
                (k.clone(), shown)
            })
            .collect()
    }
}

/// The instance files under `<data dir>/instances`.
#[derive(Debug, Clone)]
pub struct Instances {
    dir: PathBuf,
}

impl Instances {
    /// Opens (creating with mode 0700) the instances directory.
    pub fn open(data_dir: &Path) -> Result<Instances> {
        let dir = data_dir.join("instances");
        ensure_private_dir(&dir)?;
        Ok(Instances { dir })
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        check_name("instance", name)?;
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Saves an instance; refuses to replace an existing one unless `replace`.
    pub fn save(&self, instance: &Instance, replace: bool) -> Result<()> {
        let path = self.path(&instance.name)?;
        if !replace && path.exists() {
            return Err(EngineError::Usage(format!(
                "Instance {0} already exists: pick another name, add --replace, or run soar instance remove {0} first.",
                instance.name
            )));
        }
        let bytes = serde_json::to_vec_pretty(instance).map_err(|e| {
            EngineError::Other(format!("Could not serialize instance {}: {e}", instance.name))
        })?;
        write_private_atomic(&path, &bytes, true)
    }

    /// Loads an instance, or says which ones exist.
    pub fn load(&self, name: &str) -> Result<Instance> {
        let path = self.path(name)?;
        match read_optional(&path)? {
            Some(bytes) => {
                let mut inst: Instance = serde_json::from_slice(&bytes).map_err(|e| {
                    EngineError::Corrupt { path, what: "instance file", reason: e.to_string() }
                })?;
                // In memory, secret params are `Secret`s, so no Debug or log line can show them.
                for key in inst.secret_params.clone() {
                    inst.params.mark_secret(&key);
                }
                Ok(inst)
            }
            None => {
                let names = self.names()?;
                let hint = match crate::cmdline::closest(name, names.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean --instance {c}? "),
                    None => String::new(),
                };
                let list = if names.is_empty() {
                    "none yet: create one with soar instance add NAME --integration msgraph-user --param k=v"
                        .to_owned()
                } else {
                    format!("known: {}", names.join(", "))
                };
                Err(EngineError::Usage(format!("Unknown instance {name}: {hint}({list}).")))
            }
        }
    }

    /// Every instance name, sorted.
    pub fn names(&self) -> Result<Vec<String>> {
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| EngineError::io("Could not list", &self.dir, e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".json").map(str::to_owned))
            .filter(|n| check_name("instance", n).is_ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Every instance.
    pub fn all(&self) -> Result<Vec<Instance>> {
        self.names()?.iter().map(|n| self.load(n)).collect()
    }

    /// Deletes an instance file.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.load(name)?;
        let path = self.path(name)?;
        std::fs::remove_file(&path).map_err(|e| EngineError::io("Could not remove", path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeSecrets;
    impl SecretReader for FakeSecrets {
        fn env(&self, name: &str) -> Option<String> {
            (name == "SECRET_VAR").then(|| "from-env".to_owned())
        }
        fn file(&self, path: &Path) -> std::io::Result<String> {
            if path == Path::new("/key.pem") {
                Ok("-----BEGIN-----\nabc\n-----END-----\n".to_owned())
            } else {
                Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
            }
        }
        fn prompt(&self, _: &str) -> std::io::Result<String> {
            Ok("typed".to_owned())
        }
    }

    fn item(k: &str, s: ParamSource) -> (String, ParamSource) {
        (k.to_owned(), s)
    }

    #[test]
    fn params_from_every_source() {
        let items = [
            item("tenant_id", ParamSource::Value("t1".into())),
            item("enc_key", ParamSource::Env("SECRET_VAR".into())),
            item("private_key", ParamSource::File("/key.pem".into())),
            item("credentials.identifier", ParamSource::Value("app-id".into())),
            item("credentials.password", ParamSource::Prompt),
        ];
        let (params, secrets) = build_params(&items, &FakeSecrets).unwrap();
        assert_eq!(params.str("tenant_id").as_deref(), Some("t1"));
        assert_eq!(params.secret("enc_key").unwrap().expose(), "from-env");
        assert_eq!(params.secret("private_key").unwrap().expose(), "-----BEGIN-----\nabc\n-----END-----");
        assert_eq!(params.credentials("credentials").unwrap().identifier, "app-id");
        assert_eq!(params.secret("credentials").unwrap().expose(), "typed");
        assert_eq!(secrets, vec!["enc_key".to_owned(), "private_key".to_owned()]);
        // The wire shape of a credentials param is {identifier, password}.
        let json = serde_json::to_value(&params).unwrap();
        assert_eq!(json["credentials"], serde_json::json!({"identifier": "app-id", "password": "typed"}));
    }

    #[test]
    fn bad_param_sources_say_what_to_do() {
        let cases = [
            (vec![item("k", ParamSource::Env("NOPE".into()))], "export NOPE=... first"),
            (vec![item("k", ParamSource::File("/nope".into()))], "Could not read /nope for param k"),
            (
                vec![item("k", ParamSource::Value("a".into())), item("k", ParamSource::Value("b".into()))],
                "given twice",
            ),
            (
                vec![item("c", ParamSource::Value("a".into())), item("c.password", ParamSource::Prompt)],
                "use c.identifier and c.password only",
            ),
        ];
        for (items, want) in cases {
            let err = build_params(&items, &FakeSecrets).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn show_masks_secrets_and_the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let items = [
            item("tenant_id", ParamSource::Value("t1".into())),
            item("enc_key", ParamSource::Env("SECRET_VAR".into())),
            item("declared", ParamSource::Value("typed-on-cli".into())),
            item("credentials.identifier", ParamSource::Value("app-id".into())),
            item("credentials.password", ParamSource::Prompt),
        ];
        let (params, secret_params) = build_params(&items, &FakeSecrets).unwrap();
        let inst = Instance { name: "g".into(), integration: "msgraph-user".into(), params, secret_params };
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "commands": [], "params": [{"name": "declared", "secret": true}]
        }))
        .unwrap();
        let shown = format!("{:?}", inst.masked_params(Some(&manifest)));
        for secret in ["from-env", "typed"] {
            assert!(!shown.contains(&format!("\"{secret}")), "{shown}");
        }
        assert!(shown.contains("identifier=app-id, password=********"), "{shown}");
        assert!(shown.contains("(\"declared\", \"********\")"), "{shown}");
        assert!(shown.contains("(\"tenant_id\", \"t1\")"), "{shown}");

        let dir = tempfile::tempdir().unwrap();
        let instances = Instances::open(dir.path()).unwrap();
        instances.save(&inst, false).unwrap();
        assert!(instances.save(&inst, false).unwrap_err().to_string().contains("already exists"));
        let path = dir.path().join("instances/g.json");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let loaded = instances.load("g").unwrap();
        assert_eq!(loaded.params.secret("enc_key").unwrap().expose(), "from-env");
        assert!(!format!("{loaded:?}").contains("from-env"), "secrets are redacted in memory");
        assert_eq!(serde_json::to_value(&loaded).unwrap(), serde_json::to_value(&inst).unwrap());
        let err = instances.load("h").unwrap_err().to_string();
        assert!(err.contains("Unknown instance h") && err.contains("known: g"), "{err}");
        instances.remove("g").unwrap();
        assert!(instances.names().unwrap().is_empty());
    }

    #[test]
    fn params_are_checked_against_the_manifest() {
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "commands": [],
            "params": [{"name": "tenant_id", "required": true, "display": "Tenant"}, {"name": "enc_key", "secret": true}]
        }))
        .unwrap();
        let mk = |items: &[(String, ParamSource)]| {
            let (params, secret_params) = build_params(items, &FakeSecrets).unwrap();
            Instance { name: "g".into(), integration: "msgraph-user".into(), params, secret_params }
        };
        let err =
            check_params(&mk(&[item("tenant", ParamSource::Value("x".into()))]), &manifest).unwrap_err();
        assert!(
            err.to_string()
                .contains("Unknown param tenant for integration msgraph-user: did you mean tenant_id?")
        );
        let warnings =
            check_params(&mk(&[item("enc_key", ParamSource::Value("x".into()))]), &manifest).unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("tenant_id (Tenant) is required"));
        assert!(warnings[1].contains("--param-env enc_key=VAR"));
    }
}
