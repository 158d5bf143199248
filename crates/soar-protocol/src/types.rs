//! Request, response, entry, params and the other wire types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Secret;

/// A JSON object, in the order its keys were inserted.
pub type Object = Map<String, Value>;

/// One request from the engine: run `command` with `args` on an instance configured with `params`.
///
/// Secret args, not-yet-wrapped secret params and the tokens in the context may all be in
/// here, so `Debug` prints the command, the id and the key names only.
#[derive(Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// Echoed in the response; in `--serve` mode requests with an id may run concurrently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// The command name, e.g. `msgraph-user-list`, `test-module`, `fetch-incidents`.
    pub command: String,
    /// Command arguments. Engines send strings; other JSON values are accepted.
    #[serde(default)]
    pub args: Object,
    /// The instance configuration. Credential params are objects `{identifier, password}`.
    #[serde(default)]
    pub params: Params,
    /// The integration context as the engine stored it (tokens live here between runs).
    #[serde(default)]
    pub integration_context: Object,
    /// The version of `integration_context`; echoed back so the engine can refuse a stale write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_version: Option<i64>,
    /// What the previous fetch run stored (fetch commands only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<Object>,
    /// The instance name, for logs and messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("command", &self.command)
            .field("args", &self.args.keys().collect::<Vec<_>>())
            .field("params", &self.params.0.keys().collect::<Vec<_>>())
            .field("integration_context", &self.integration_context.keys().collect::<Vec<_>>())
            .field("context_version", &self.context_version)
            .field("last_run", &self.last_run.is_some())
            .field("instance", &self.instance)
            .finish()
    }
}

/// One response to the engine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Response {
    /// The request's `id`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// War Room entries, in order.
    pub entries: Vec<Entry>,
    /// The new integration context; absent when the command did not change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_context: Option<Object>,
    /// The version the context was read at (the request's `context_version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_version: Option<i64>,
    /// The state to hand to the next fetch run; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<Object>,
    /// Incidents created by a fetch; absent when the command did not report any (not even `[]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incidents: Option<Vec<Value>>,
    /// A mirroring command's answer (see [`crate::mirror`]); absent for every other command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<crate::Mirror>,
}

/// Entry types (the reference's `EntryType`).
pub mod entry_type {
    /// A normal result.
    pub const NOTE: i64 = 1;
    /// A file result.
    pub const FILE: i64 = 3;
    /// An error entry (red in the War Room).
    pub const ERROR: i64 = 4;
    /// An image file.
    pub const IMAGE: i64 = 7;
    /// A file shown as an info file.
    pub const ENTRY_INFO_FILE: i64 = 9;
    /// A warning.
    pub const WARNING: i64 = 11;
    /// API-call metrics.
    pub const EXECUTION_METRICS: i64 = 19;
}

/// One War Room entry, with the engine's key names.
///
/// The five keys every entry has come first; anything else (`IndicatorTimeline`, `Note`, `File`,
/// `FileID`, polling keys, ...) lives in `extra`, which keeps its insertion order on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Entry {
    /// 1 note, 3 file, 4 error, ... (see [`entry_type`]).
    #[serde(rename = "Type")]
    pub entry_type: i64,
    /// `json`, `text`, `markdown`, `table`, `html` or `dbotCommandResponse`.
    #[serde(rename = "ContentsFormat")]
    pub contents_format: String,
    /// The raw response.
    #[serde(rename = "Contents")]
    pub contents: Value,
    /// Markdown shown to a person; usually a string, null when absent.
    #[serde(rename = "HumanReadable", default)]
    pub human_readable: Value,
    /// Context outputs keyed by their DT path, e.g. `MSGraphUser(val.ID && val.ID == obj.ID)`.
    #[serde(rename = "EntryContext", default)]
    pub entry_context: Object,
    /// Any other key of the entry, in order.
    #[serde(flatten)]
    pub extra: Object,
}

impl Entry {
    /// A note entry with markdown text and nothing else.
    pub fn markdown(text: impl Into<String>) -> Self {
        Entry {
            entry_type: entry_type::NOTE,
            contents_format: "markdown".to_owned(),
            contents: Value::String(text.into()),
            human_readable: Value::Null,
            entry_context: Object::new(),
            extra: Object::new(),
        }
    }

    /// An error entry (Type 4) with a plain-text message.
    pub fn error(message: impl Into<String>) -> Self {
        Entry {
            entry_type: entry_type::ERROR,
            contents_format: "text".to_owned(),
            contents: Value::String(message.into()),
            human_readable: Value::Null,
            entry_context: Object::new(),
            extra: Object::new(),
        }
    }

    /// True for an error entry.
    pub fn is_error(&self) -> bool {
        self.entry_type == entry_type::ERROR
    }
}

/// The instance configuration, as the engine sends it.
///
/// Credential objects and params the integration marks as secret are held as [`Secret`]s, so a
/// `Debug` of the params never shows them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Params(pub BTreeMap<String, ParamValue>);

/// One instance parameter value.
///
/// Deserialization is hand-written (below): a derived untagged enum would read a two-string
/// list such as `["a", "b"]` as credentials, because serde lets a struct be read from a
/// sequence. Credentials are read only from an object with a string `password`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ParamValue {
    /// A plain string (the usual case).
    Str(String),
    /// A checkbox.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A credentials object `{identifier, password}`; the password is always a secret.
    Credentials(Credentials),
    /// A string param the integration declares secret (wrapped after parsing).
    #[serde(skip_deserializing)]
    Secret(Secret),
    /// Anything else (lists, other objects, null).
    Other(Value),
}

impl<'de> Deserialize<'de> for ParamValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => ParamValue::Str(s),
            Value::Bool(b) => ParamValue::Bool(b),
            Value::Number(n) => ParamValue::Number(n),
            Value::Object(mut o) if o.get("password").is_some_and(Value::is_string) => {
                let password = match o.remove("password") {
                    Some(Value::String(p)) => Secret::new(p),
                    _ => Secret::default(),
                };
                let identifier = match o.get("identifier") {
                    Some(Value::String(i)) => i.clone(),
                    _ => String::new(),
                };
                ParamValue::Credentials(Credentials { identifier, password })
            }
            other => ParamValue::Other(other),
        })
    }
}

/// A credentials param: `{identifier, password}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Credentials {
    /// The user name or id part (not secret).
    #[serde(default)]
    pub identifier: String,
    /// The secret part.
    pub password: Secret,
}

impl Params {
    /// The raw value of a param.
    pub fn get(&self, key: &str) -> Option<&ParamValue> {
        self.0.get(key)
    }

    /// A non-empty string param (trimmed). Numbers and booleans are given as their text;
    /// secrets and credentials are not strings here (use [`Params::secret`]).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            ParamValue::Str(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            ParamValue::Bool(b) => Some(b.to_string()),
            ParamValue::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A checkbox param: `true`, `"true"` (any case) are true; absent is `default`.
    pub fn bool(&self, key: &str, default: bool) -> bool {
        match self.0.get(key) {
            Some(ParamValue::Bool(b)) => *b,
            Some(ParamValue::Str(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => true,
                "false" | "no" | "0" => false,
                _ => default,
            },
            _ => default,
        }
    }

    /// A credentials param, when present.
    pub fn credentials(&self, key: &str) -> Option<&Credentials> {
        match self.0.get(key)? {
            ParamValue::Credentials(c) => Some(c),
            _ => None,
        }
    }

    /// A non-empty secret: a secret param, a credentials param's password, or a plain string.
    pub fn secret(&self, key: &str) -> Option<Secret> {
        match self.0.get(key)? {
            ParamValue::Secret(s) if !s.is_empty() => Some(s.clone()),
            ParamValue::Credentials(c) if !c.password.is_empty() => Some(c.password.clone()),
            ParamValue::Str(s) if !s.is_empty() => Some(Secret::new(s.clone())),
            _ => None,
        }
    }

    /// Wraps the string value of `key` as a [`Secret`] (done by the runtime on parse for every
    /// param the integration declares secret).
    pub fn mark_secret(&mut self, key: &str) {
        if let Some(v) = self.0.get_mut(key)
            && let ParamValue::Str(s) = v
        {
            *v = ParamValue::Secret(Secret::new(std::mem::take(s)));
        }
    }

    /// Builds params from pairs (tests and tools).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, ParamValue)>) -> Self {
        Params(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

/// The authentication flows an integration may declare and an instance may pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthFlow {
    /// The Cortex application through the OAuth proxy (ID, token, key).
    CortexApp,
    /// Self-deployed client credentials with a client secret.
    ClientSecret,
    /// Self-deployed client credentials with a certificate (thumbprint + private key).
    ClientCertificate,
    /// Authorization code (login URL, code exchange, refresh token kept between runs).
    AuthorizationCode,
    /// Device code (`auth-start`, `auth-complete`).
    DeviceCode,
    /// Azure managed identities (system- or user-assigned).
    ManagedIdentity,
}

impl AuthFlow {
    /// Every flow, in display order.
    pub const ALL: [AuthFlow; 6] = [
        AuthFlow::CortexApp,
        AuthFlow::ClientSecret,
        AuthFlow::ClientCertificate,
        AuthFlow::AuthorizationCode,
        AuthFlow::DeviceCode,
        AuthFlow::ManagedIdentity,
    ];

    /// A person's name for the flow, as used in messages and the flows matrix.
    pub fn display_name(self) -> &'static str {
        match self {
            AuthFlow::CortexApp => "Cortex XSOAR application",
            AuthFlow::ClientSecret => "Client credentials (secret)",
            AuthFlow::ClientCertificate => "Client credentials (certificate)",
            AuthFlow::AuthorizationCode => "Authorization code",
            AuthFlow::DeviceCode => "Device code",
            AuthFlow::ManagedIdentity => "Azure managed identities",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_param_parses_and_hides_password() {
        let p: Params = serde_json::from_str(
            r#"{"credentials":{"identifier":"app-id","password":"canary"},"tenant_id":"t","insecure":true}"#,
        )
        .unwrap();
        assert_eq!(p.credentials("credentials").unwrap().identifier, "app-id");
        assert_eq!(p.secret("credentials").unwrap().expose(), "canary");
        assert_eq!(p.str("tenant_id").as_deref(), Some("t"));
        assert!(p.bool("insecure", false));
        assert!(!format!("{p:?}").contains("canary"));
    }

    #[test]
    fn only_objects_with_a_password_are_credentials() {
        let p: Params = serde_json::from_str(
            r#"{"list":["a","b"],"obj":{"identifier":"x"},"cred":{"identifier":"x","password":"y","passwordChanged":false},"null":null}"#,
        )
        .unwrap();
        assert_eq!(p.get("list"), Some(&ParamValue::Other(serde_json::json!(["a", "b"]))));
        assert_eq!(p.get("obj"), Some(&ParamValue::Other(serde_json::json!({"identifier": "x"}))));
        assert_eq!(p.credentials("cred").unwrap().password.expose(), "y");
        assert_eq!(p.get("null"), Some(&ParamValue::Other(Value::Null)));
    }

    #[test]
    fn marked_secret_params_are_redacted_in_debug() {
        let mut p: Params = serde_json::from_str(r#"{"enc_key":"canary"}"#).unwrap();
        p.mark_secret("enc_key");
        assert!(!format!("{p:?}").contains("canary"));
        assert_eq!(p.secret("enc_key").unwrap().expose(), "canary");
        assert_eq!(p.str("enc_key"), None);
    }

    #[test]
    fn request_and_context_debug_show_keys_not_values() {
        let r: Request = serde_json::from_str(
            r#"{"command":"c","args":{"pw":"canary"},"params":{"k":"canary"},"integration_context":{"access_token":"canary"}}"#,
        )
        .unwrap();
        let text = format!("{r:?} {:?}", crate::IntegrationContext::new(r.integration_context.clone()));
        assert!(!text.contains("canary"), "{text}");
        assert!(text.contains("access_token") && text.contains("pw"), "{text}");
    }
}
