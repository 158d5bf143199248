//! The crate's one error type. Display texts are the reference's; none carries a secret.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

/// Everything that can go wrong getting a token or calling an API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The identity platform refused a token request.
    #[error("Error in Microsoft authorization. Status: {status}, body: {body}")]
    Authorization {
        /// HTTP status.
        status: u16,
        /// The parsed error (`error. \n<description>` plus hints), or the raw body.
        body: String,
    },
    /// A token request failed before an answer could be read, or the answer made no sense.
    #[error("Error in Microsoft authorization: {0}")]
    AuthorizationOther(String),
    /// The managed identity endpoint gave no token.
    #[error("Error in Microsoft authorization with Azure Managed Identities: {0}")]
    ManagedIdentity(String),
    /// The OAuth proxy refused or failed (text built by [`oproxy_error_text`]).
    #[error("{0}")]
    Oproxy(String),
    /// The OAuth proxy back-off gate is closed.
    #[error("The request will be delayed until {0}")]
    Delayed(String),
    /// An API answered with a status that is not OK. The text is the reference's: `Error in API
    /// call [status] - reason\n<body>`, except for a 404, which the reference raises as its
    /// `NotFoundError(response.json())`, so a person reads the Python `str()` of the body (a dict
    /// repr, `{'error': {'code': ...}}`) and nothing else (see [`api_text`]).
    #[error("{}", api_text(*status, reason, body))]
    Api {
        /// HTTP status.
        status: u16,
        /// The status's reason phrase.
        reason: String,
        /// The answer's headers (e.g. `Retry-After`, `request-id`), as received.
        headers: Vec<(String, String)>,
        /// The body: JSON re-written as Python's `json.dumps` does, or the raw text.
        body: String,
    },
    /// The configuration cannot be used; the text says what to change.
    #[error("{0}")]
    Config(String),
    /// The instance picks a flow the integration does not declare.
    #[error(
        "The authentication flow '{flow}' is not supported by this integration. Supported flows: {supported}."
    )]
    UnsupportedFlow {
        /// The flow picked.
        flow: String,
        /// The flows the integration declares.
        supported: String,
    },
    /// The device-code flow is still waiting for the person to sign in.
    #[error(
        "The sign-in is not complete yet: open the verification page, enter the code, then run {0} again."
    )]
    AuthorizationPending(String),
    /// An API answer that should be JSON is not.
    #[error("Failed to parse json object from response: {0}")]
    Parse(String),
    /// Network, TLS or timeout failure.
    #[error("Connection error: {0}")]
    Transport(String),
    /// An API redirect that soar-rt does not follow (to plain HTTP, or re-sending a body to
    /// another origin, or too many hops); the text names the origins, never a path or query.
    #[error("Refused to follow a redirect: {0}")]
    Redirect(String),
}

impl Error {
    /// The HTTP status, when the error came from an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Authorization { status, .. } | Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for an API 404 (integrations map it to their NotFound behaviour).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { status: 404, .. })
    }
}

/// The text of [`Error::Api`]: see there. `body` is the answer as `json.dumps` wrote it (or
/// its raw text when it is not JSON).
pub fn api_text(status: u16, reason: &str, body: &str) -> String {
    if status == 404 {
        // `response.json() or 'Not Found - 404 Response'`: an empty or falsy JSON body gives the
        // fixed text; a body that is not JSON is shown as it is (the reference would fail to
        // parse it and show Python's decoder error, which says less).
        return match serde_json::from_str::<Value>(body) {
            Ok(v) if truthy(&v) => match v {
                Value::String(s) => s,
                other => soar_pyjson::repr(&other),
            },
            Ok(_) => "Not Found - 404 Response".to_owned(),
            Err(_) if body.trim().is_empty() => "Not Found - 404 Response".to_owned(),
            Err(_) => body.to_owned(),
        };
    }
    format!("Error in API call [{status}] - {reason}\n{body}")
}

/// Python truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// AADSTS codes that mean "the grant is gone: start over" (`TOKEN_EXPIRED_ERROR_CODES`).
pub const TOKEN_EXPIRED_ERROR_CODES: [i64; 5] = [50173, 700082, 70008, 54005, 7000222];

fn desc_regex() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    // The reference's REGEX_SEARCH_ERROR_DESC: drop the `AADSTSnnnn:` prefix, cut at the trailers.
    RE.get_or_init(|| {
        Regex::new(r"^[^:]+:\s(?P<desc>.*?)(?:\s*Trace ID:| Correlation ID:| Timestamp:|$)").ok()
    })
    .as_ref()
}

/// The reference's `extract_microsoft_error`: `None` when it finds nothing to say.
pub fn extract_microsoft_error(body: &Value, prefix: &str) -> Option<String> {
    let obj = body.as_object()?;
    let error = obj.get("error");
    // Absent codes default to `[""]` (not a subset of the expired codes); `[]` is a subset.
    let codes: Vec<Value> = obj
        .get("error_codes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| vec![Value::String(String::new())]);
    let desc = obj.get("error_description").and_then(Value::as_str).unwrap_or("");
    let mut msg = match error {
        Some(Value::Object(e)) => {
            let code = e.get("code").map(json_text).unwrap_or_else(|| "None".into());
            let message = e.get("message").map(json_text).unwrap_or_else(|| "None".into());
            format!("{code}: {message}")
        }
        Some(Value::String(s)) => {
            let mut m = s.clone();
            if let Some(c) = desc_regex().and_then(|r| r.captures(desc))
                && let Some(d) = c.name("desc")
            {
                m.push_str(". \n");
                m.push_str(d.as_str());
            }
            m
        }
        // No `error` key: the reference formats the default `{}` dict and yields `None: None`.
        None => "None: None".to_owned(),
        Some(_) => return None,
    };
    let all_expired =
        codes.iter().all(|c| c.as_i64().is_some_and(|n| TOKEN_EXPIRED_ERROR_CODES.contains(&n)));
    if !msg.is_empty() && all_expired {
        msg.push_str(&format!(
            "\nYou can run the ***{prefix}-auth-reset*** command to reset the authentication process."
        ));
    }
    if msg.is_empty() { None } else { Some(msg) }
}

fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".into(),
        other => other.to_string(),
    }
}

/// The reference's `error_parser`: the extracted Microsoft error, or the raw text.
pub fn error_parser(body: &[u8], prefix: &str) -> String {
    let text = String::from_utf8_lossy(body);
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => extract_microsoft_error(&v, prefix).unwrap_or_else(|| text.into_owned()),
        Err(_) => text.into_owned(),
    }
}

/// The OAuth proxy's error text (`_raise_authentication_error`).
pub fn oproxy_error_text(status: u16, body: &[u8], prefix: &str) -> String {
    let text = String::from_utf8_lossy(body).into_owned();
    let mut msg = format!("Error in Microsoft authorization. Status: {status},");
    // The first `{...}` on one line (greedy), parsed and explained.
    let inner = text.lines().find_map(|line| {
        let start = line.find('{')?;
        let end = line.rfind('}')?;
        (end > start).then(|| line[start..=end].to_owned())
    });
    let extracted = inner
        .and_then(|s| serde_json::from_str::<Value>(&s).ok())
        .and_then(|v| extract_microsoft_error(&v, prefix));
    if let Some(e) = extracted {
        msg.push_str(&format!(" body: {e}"));
    } else if !text.is_empty() {
        msg.push_str(&format!(" body: {text}"));
    }
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(&text) {
        let server = match o.get("message").and_then(Value::as_str) {
            Some(m) => m.to_owned(),
            None => format!(
                "{}. {}",
                o.get("title").and_then(Value::as_str).unwrap_or(""),
                o.get("detail").and_then(Value::as_str).unwrap_or("")
            ),
        };
        msg.push_str(&format!(" Server message: {server}"));
    }
    msg
}
