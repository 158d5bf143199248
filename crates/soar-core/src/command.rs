//! The `Integration` and `Command` traits and what a command receives and returns.

use async_trait::async_trait;
use serde_json::Value;
use soar_protocol::{AuthFlow, Entry, Object, ParamValue, Params, Secret};

use crate::Error;
use crate::redact::is_secret_name;
use soar_protocol::IntegrationContext;

/// An integration: a prefix, the auth flows it supports, its params and its commands.
pub trait Integration: Send + Sync + 'static {
    /// The command prefix, e.g. `msgraph-user`.
    fn prefix(&self) -> &'static str;
    /// The name a person sees, e.g. `Microsoft Graph User`.
    fn display_name(&self) -> &'static str;
    /// One or two sentences on what the integration does (the XSOAR YAML's `description`).
    fn description(&self) -> &'static str {
        ""
    }
    /// The XSOAR category, e.g. `Analytics & SIEM`, `Endpoint`, `IT Services`.
    fn category(&self) -> &'static str {
        ""
    }
    /// Markdown a person follows to configure an instance (the YAML's `detaileddescription`).
    fn detailed_description(&self) -> String {
        String::new()
    }
    /// The auth flows this integration supports.
    fn supported_flows(&self) -> &'static [AuthFlow];
    /// The instance parameters.
    fn params(&self) -> Vec<ParamSpec>;
    /// The commands; called once per process.
    fn commands(&self) -> Vec<Box<dyn Command>>;
    /// Command names that keep a reference name without this integration's prefix (e.g.
    /// `msgraph-direct-reports` of `msgraph-user`); the registry accepts them as they are.
    fn unprefixed_commands(&self) -> &'static [&'static str] {
        &[]
    }
}

/// One command of an integration.
#[async_trait]
pub trait Command: Send + Sync {
    /// The full command name, e.g. `msgraph-user-list`.
    fn name(&self) -> &str;
    /// One sentence on what it does.
    fn description(&self) -> &str;
    /// The arguments it takes.
    fn args(&self) -> Vec<ArgSpec> {
        Vec::new()
    }
    /// The context outputs it writes.
    fn outputs(&self) -> Vec<OutputSpec> {
        Vec::new()
    }
    /// Example command lines, e.g. `!msgraph-user-list limit=5` (listed in the manifest).
    fn examples(&self) -> Vec<&'static str> {
        Vec::new()
    }
    /// True for a scheduled (polling) command, whose answers may carry a `Schedule`.
    fn polling(&self) -> bool {
        false
    }
    /// Runs the command.
    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error>;
}

/// What a command receives.
///
/// Its `Debug` output is safe to log: params hold secrets as [`Secret`]s, params and arguments
/// whose name the reference's rule calls secret (`api_key`, `*password*`, `*token*`, ... even
/// when not declared secret) and the arguments named in `secret_args` are printed as
/// `<redacted>`, and the integration context shows its keys only.
#[derive(Default)]
pub struct CommandContext {
    /// The command name as requested.
    pub command: String,
    /// Arguments, checked against the command's [`ArgSpec`]s and with defaults filled in.
    pub args: Object,
    /// The instance configuration (secret params already wrapped).
    pub params: Params,
    /// The integration context, read and written by the command.
    pub integration_context: IntegrationContext,
    /// The previous fetch run's state.
    pub last_run: Option<Object>,
    /// The instance name.
    pub instance: Option<String>,
    /// The names of the arguments declared secret (filled by the dispatcher from the
    /// [`ArgSpec`]s); their values are never shown by `Debug`.
    pub secret_args: Vec<String>,
}

impl CommandContext {
    /// A context with these args and params and everything else empty (tests and tools).
    pub fn new(command: impl Into<String>, args: Object, params: Params) -> Self {
        CommandContext { command: command.into(), args, params, ..CommandContext::default() }
    }

    /// A string argument declared secret, wrapped so it cannot be logged by accident.
    pub fn secret_arg(&self, name: &str) -> Option<Secret> {
        match self.args.get(name)? {
            Value::String(s) => Some(Secret::new(s.clone())),
            Value::Null => None,
            other => Some(Secret::new(other.to_string())),
        }
    }

    /// The arguments for logs: the values of secret ones, and of those whose name the
    /// reference's rule calls secret, replaced by `<redacted>`.
    pub fn redacted_args(&self) -> Object {
        let mut args = self.args.clone();
        for (name, v) in args.iter_mut() {
            if self.secret_args.contains(name) || is_secret_name(name) {
                *v = Value::String(REDACTED.to_owned());
            } else {
                redact_by_name(v);
            }
        }
        args
    }

    /// The params for logs: declared secrets stay [`Secret`]s, and string values whose name the
    /// reference's rule calls secret (at any depth) are replaced by `<redacted>`.
    pub fn redacted_params(&self) -> Params {
        redacted_params(&self.params)
    }
}

impl std::fmt::Debug for CommandContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandContext")
            .field("command", &self.command)
            .field("args", &self.redacted_args())
            .field("params", &self.redacted_params())
            .field("integration_context", &self.integration_context)
            .field("last_run", &self.last_run)
            .field("instance", &self.instance)
            .field("secret_args", &self.secret_args)
            .finish()
    }
}

const REDACTED: &str = "<redacted>";

/// `params` with the values the reference's name rule calls secret wrapped as [`Secret`]s
/// (strings) or redacted inside objects, so that `Debug` prints none of them.
pub(crate) fn redacted_params(params: &Params) -> Params {
    let mut out = params.clone();
    for (name, value) in out.0.iter_mut() {
        match value {
            ParamValue::Str(s) if is_secret_name(name) => {
                *value = ParamValue::Secret(Secret::new(std::mem::take(s)))
            }
            ParamValue::Other(v) => {
                if is_secret_name(name) && v.is_string() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_by_name(v);
                }
            }
            _ => {}
        }
    }
    out
}

/// Replaces, inside `value`, every string under a key the reference's name rule calls secret.
fn redact_by_name(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_name(k) && !v.is_object() && !v.is_array() {
                    *v = Value::String(REDACTED.to_owned());
                } else {
                    redact_by_name(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_by_name),
        _ => {}
    }
}

/// What a command returns: entries, and for fetch commands the last run and incidents.
#[derive(Debug, Default)]
pub struct Outcome {
    /// War Room entries, in order.
    pub entries: Vec<Entry>,
    /// The state for the next fetch run.
    pub last_run: Option<Object>,
    /// The incidents a fetch created (`Some(vec![])` when it found none).
    pub incidents: Option<Vec<Value>>,
    /// A mirroring command's answer (`soar_protocol::mirror`).
    pub mirror: Option<soar_protocol::Mirror>,
}

impl From<Entry> for Outcome {
    fn from(entry: Entry) -> Self {
        Outcome { entries: vec![entry], ..Outcome::default() }
    }
}

impl From<Vec<Entry>> for Outcome {
    fn from(entries: Vec<Entry>) -> Self {
        Outcome { entries, ..Outcome::default() }
    }
}

/// An argument of a command.
#[derive(Debug, Clone, Default)]
pub struct ArgSpec {
    /// The argument name.
    pub name: &'static str,
    /// What it means.
    pub description: &'static str,
    /// Must be given.
    pub required: bool,
    /// The value used when it is not given.
    pub default: Option<&'static str>,
    /// The accepted values, when predefined.
    pub options: &'static [&'static str],
    /// A comma-separated list.
    pub is_array: bool,
    /// A secret (never logged or shown).
    pub secret: bool,
}

/// A context output of a command.
#[derive(Debug, Clone, Default)]
pub struct OutputSpec {
    /// The context path, e.g. `MSGraphUser.ID`.
    pub path: &'static str,
    /// `String`, `Number`, `Boolean`, `Date`, `Unknown`.
    pub output_type: &'static str,
    /// What it holds.
    pub description: &'static str,
}

/// An instance parameter.
#[derive(Debug, Clone, Default)]
pub struct ParamSpec {
    /// The param key as the engine sends it.
    pub name: &'static str,
    /// The label a person sees.
    pub display: &'static str,
    /// Must be set.
    pub required: bool,
    /// Its default.
    pub default: Option<&'static str>,
    /// A secret string (wrapped on parse, masked when shown).
    pub secret: bool,
    /// A credentials object `{identifier, password}`.
    pub credentials: bool,
    /// Accepted values for a select param.
    pub options: &'static [&'static str],
    /// Shown only under advanced settings.
    pub hidden: bool,
    /// A checkbox (XSOAR type 8): the engine sends `true` or `false`.
    pub checkbox: bool,
    /// The help text shown beside the field (the YAML's `additionalinfo`); empty: none.
    pub help: &'static str,
}

impl ParamSpec {
    /// A plain optional text param; set the other fields with `..ParamSpec::new(..)` (usable in
    /// `static` declarations, where `Default` is not).
    pub const fn new(name: &'static str, display: &'static str) -> ParamSpec {
        ParamSpec {
            name,
            display,
            required: false,
            default: None,
            secret: false,
            credentials: false,
            options: &[],
            hidden: false,
            checkbox: false,
            help: "",
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Params and args whose name the reference's rule calls secret are redacted by `Debug`
    /// even when nothing declared them secret; other values stay readable.
    #[test]
    fn debug_redacts_params_and_args_by_name() {
        let params: Params = serde_json::from_value(json!({
            "url": "https://h",
            "legacy_api_key": "p-canary-1",
            "admin_password": "p-canary-2",
            "proxy": {"client_secret": "p-canary-3", "host": "proxy-host"},
        }))
        .unwrap_or_default();
        let args = match json!({"webhook_token": "a-canary-4", "user": "bob", "nested": [{"password": "a-canary-5"}]})
        {
            Value::Object(args) => args,
            _ => Object::new(),
        };
        let ctx = CommandContext::new("x-cmd", args, params);
        let debug = format!("{ctx:?}");
        assert!(!debug.contains("canary"), "{debug}");
        for shown in ["bob", "https://h", "proxy-host", "legacy_api_key", "webhook_token"] {
            assert!(debug.contains(shown), "{shown} in {debug}");
        }
    }
}
