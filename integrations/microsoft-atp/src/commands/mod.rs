//! The commands, grouped by family; each is one arguments struct (its doc comment is the
//! description) and one [`Handler`] impl. What several families share is here: the multi-id
//! loop with the reference's notes, entry helpers and the connection checks.

pub mod actions;
pub mod alerts;
pub mod entities;
pub mod fetch;
pub mod hunting;
pub mod indicators;
pub mod live;
pub mod machines;
pub mod tvm;

use serde_json::{Map, Value};
use soar_integration_kit::{
    Args, AuthFlow, CommandContext, Entry, Error, Handler, MAX_TIMEOUT, Outcome, Request, Results, Table,
    async_trait,
};

use soar_integration_kit::format::py::{repr, repr_str};

use crate::client::Atp;
use crate::outputs::INTEGRATION_NAME;

/// A list argument with repeats removed, first occurrence kept (the reference's
/// `remove_duplicates_from_list_arg` goes through a set, whose order is arbitrary).
pub fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        let i = i.trim().to_owned();
        if !i.is_empty() && !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

/// Python's list repr of strings: `['a', 'b']` (titles quote the reference's lists).
pub fn py_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", inner.join(", "))
}

/// A command's HTTP `timeout` argument `arg`: seconds (fractions allowed), more than 0; values
/// over the auth crate's [`MAX_TIMEOUT`] (an hour) are clamped to it. Anything else is an error
/// naming the argument.
pub fn http_timeout(arg: &str, text: &str) -> Result<std::time::Duration, Error> {
    let bad = || Error::InvalidArg {
        name: arg.to_owned(),
        reason: format!(
            "'{text}' is not a usable number of seconds: give a number greater than 0 (at most {} is used).",
            MAX_TIMEOUT.as_secs()
        ),
    };
    let secs = text.trim().parse::<f64>().map_err(|_| bad())?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(bad());
    }
    Ok(std::time::Duration::try_from_secs_f64(secs).unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT))
}

/// A date argument `arg` the API is sent as text: an RFC 3339 text as given (the reference passes
/// it through), another form `arg_to_datetime` reads (`2 hours ago`, `05/19/2024`) as UTC
/// `%Y-%m-%dT%H:%M:%SZ`; anything else is an error naming the argument instead of a request the
/// API refuses.
pub fn date_text(arg: &str, text: &str) -> Result<String, Error> {
    let t = text.trim();
    if chrono::DateTime::parse_from_rfc3339(t).is_ok() {
        return Ok(t.to_owned());
    }
    soar_integration_kit::parse_date_text(t, chrono::Utc::now())
        .map(|d| d.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .ok_or_else(|| Error::InvalidArg {
            name: arg.to_owned(),
            reason: format!("'{text}' is not a date; give e.g. 2024-05-19T01:00:05Z or 2 hours ago."),
        })
}

/// How the reference's dict of failures shows one failure: the repr of the exception it caught.
/// A 404 with a JSON object body is `NotFoundError({'error': {...}})` (the body as a Python dict,
/// as the API client raises it); anything else is `DemistoException('<its text>')` (the API
/// client's `Error in API call [..]`, or any other failure's text), quoted as Python quotes it.
pub fn py_exception(e: &Error) -> String {
    if let Error::Api(f) = e
        && f.status == 404
        && let Ok(body @ Value::Object(_)) = serde_json::from_str::<Value>(&f.body)
    {
        return format!("NotFoundError({})", repr(&body));
    }
    format!("DemistoException({})", repr_str(&e.to_string()))
}

/// What a per-id loop gathered: the failures in order.
#[derive(Default)]
pub struct Failures(pub Vec<(String, Error)>);

impl Failures {
    /// The reference's `add_error_message`: a note listing the failed ids, or the error when
    /// every id failed (a rate limit itself when one of them was rate limited).
    pub fn note(mut self, all: usize) -> Result<String, Error> {
        if self.0.is_empty() {
            return Ok(String::new());
        }
        if self.0.len() == all {
            // A rate limit is the command's to retry (see `polling::rate_limit_retry`).
            if let Some(at) = self.0.iter().position(|(_, e)| matches!(e, Error::Api(f) if f.status == 429)) {
                return Err(self.0.swap_remove(at).1);
            }
            let parts: Vec<String> =
                self.0.iter().map(|(id, e)| format!("{}: {}", repr_str(id), py_exception(e))).collect();
            return Err(Error::Command(format!(
                "{INTEGRATION_NAME} The command was failed with the errors: {{{}}}",
                parts.join(", ")
            )));
        }
        let mut text =
            "Note: you don't see the following IDs in the results as the request was failed for them. \n"
                .to_owned();
        for (id, e) in &self.0 {
            text.push_str(&format!("ID {id} failed with the error: {e} \n"));
        }
        Ok(text)
    }
}

/// The reference's `not_found_message`.
pub fn not_found_note(ids: &[String]) -> String {
    if ids.is_empty() {
        return String::new();
    }
    format!("\n You don't see the following IDs in the results as they were not found: {}.", py_list(ids))
}

/// A table with fixed columns and `removeNull`.
pub fn table(title: &str, rows: Value, headers: &[&str]) -> Result<String, Error> {
    Table::new(title, rows).headers(headers.iter().copied()).remove_null().render()
}

/// A table of derived columns with `removeNull`.
pub fn table_all(title: &str, rows: Value) -> Result<String, Error> {
    Table::new(title, rows).remove_null().render()
}

/// An entry whose context is written as the reference writes it (`return_outputs`): the keys
/// of `context` as given (`MicrosoftATP.Machine(val.ID === obj.ID)`).
pub fn outputs(readable: String, context: Map<String, Value>, raw: Value) -> Result<Entry, Error> {
    Results {
        readable: Some(readable),
        outputs: Some(Value::Object(context)),
        raw: Some(raw),
        ..Results::default()
    }
    .entry()
}

/// [`outputs`] with one context key.
pub fn output(readable: String, key: &str, value: Value, raw: Value) -> Result<Outcome, Error> {
    let mut m = Map::new();
    m.insert(key.to_owned(), value);
    Ok(outputs(readable, m, raw)?.into())
}

/// `CommandResults(outputs_prefix=.., outputs_key_field=.., outputs=.., readable_output=..)`.
pub fn results(
    readable: String,
    prefix: &'static str,
    key: Option<&'static str>,
    outputs: Value,
    raw: Value,
) -> Result<Entry, Error> {
    Results {
        readable: Some(readable),
        prefix: Some(prefix),
        key_field: key,
        outputs: Some(outputs),
        raw: Some(raw),
    }
    .entry()
}

/// [`results`] with a prefix made at run time (no key field).
pub fn results_named(readable: String, prefix: String, outputs: Value, raw: Value) -> Result<Entry, Error> {
    let mut r = soar_integration_kit::format::CommandResults::new(prefix);
    r.outputs = Some(outputs);
    r.raw_response = Some(raw);
    r.readable_output = Some(Value::String(readable));
    r.into_entry()
}

/// An API path segment: percent-encoded except unreserved characters.
pub fn seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET api/alerts?$top=1`, the reference's connection check.
async fn check(atp: &Atp, ctx: &mut CommandContext) -> Result<(), Error> {
    atp.json(ctx, Request::get("api/alerts").query("$top", "1")).await.map(drop)
}

/// Checks the configuration: lists one alert.
#[derive(Args)]
pub struct TestModule;

#[async_trait]
impl Handler<Atp> for TestModule {
    const NAME: &'static str = "test-module";

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if atp.flow == AuthFlow::AuthorizationCode {
            return Err(Error::Command(
                "Test-module is not available when using Authentication-code auth flow. \
                 Please use `!microsoft-atp-test` command to test the connection"
                    .to_owned(),
            ));
        }
        check(atp, ctx).await?;
        Ok(soar_integration_kit::ok_outcome())
    }
}

/// Tests the connection (use it with the authorization code flow).
#[derive(Args)]
pub struct Test;

#[async_trait]
impl Handler<Atp> for Test {
    const NAME: &'static str = "microsoft-atp-test";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-test"];

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        check(atp, ctx).await?;
        Results::text("✅ Success!").outcome()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use soar_integration_kit::testing::api_failure;

    use super::*;

    /// The reference's own unit test shape, and the text it printed for two unknown machines.
    #[test]
    fn every_id_failing_raises_the_reference_s_dict_of_exceptions() {
        let not_found = |id: &str| {
            api_failure(
                404,
                &json!({"error": {"code": "ResourceNotFound", "message": format!("Machine {id} was not found."), "target": "t-1"}}),
            )
        };
        let all = Failures(vec![("a1".into(), not_found("a1")), ("b'2".into(), not_found("b'2"))]);
        let err = all.note(2).unwrap_err().to_string();
        assert_eq!(
            err,
            "Microsoft Defender ATP The command was failed with the errors: {'a1': NotFoundError({'error': \
             {'code': 'ResourceNotFound', 'message': 'Machine a1 was not found.', 'target': 't-1'}}), \"b'2\": \
             NotFoundError({'error': {'code': 'ResourceNotFound', 'message': \"Machine b'2 was not found.\", \
             'target': 't-1'}})}"
        );
        let other = Failures(vec![("x".into(), api_failure(500, &json!({"error": {"message": "down"}})))]);
        let err = other.note(1).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "Microsoft Defender ATP The command was failed with the errors: {'x': DemistoException('Error in API call [500] - Internal Server Error\\n"
            ),
            "{err}"
        );
        assert!(err.ends_with("')}"), "{err}");
        let plain = Failures(vec![("y".into(), Error::Command("it's broken".into()))]);
        assert_eq!(
            plain.note(1).unwrap_err().to_string(),
            "Microsoft Defender ATP The command was failed with the errors: {'y': DemistoException(\"it's broken\")}"
        );
        // Some failed: the note, not an error.
        let some = Failures(vec![("x".into(), Error::Command("boom".into()))]);
        assert_eq!(
            some.note(2).unwrap(),
            "Note: you don't see the following IDs in the results as the request was failed for them. \nID x failed with the error: boom \n"
        );
    }

    #[test]
    fn date_arguments_pass_iso_texts_and_refuse_garbage() {
        assert_eq!(date_text("t", "2020-02-23T07:22:07.1532018Z").unwrap(), "2020-02-23T07:22:07.1532018Z");
        assert_eq!(date_text("t", "2024-05-19").unwrap(), "2024-05-19T00:00:00Z");
        assert!(date_text("t", "2 hours ago").unwrap().ends_with('Z'));
        let e = date_text("event_time", "soon-ish").unwrap_err().to_string();
        assert!(e.starts_with("Invalid value for argument event_time:"), "{e}");
    }

    #[test]
    fn http_timeouts_are_positive_seconds_clamped_to_an_hour() {
        use std::time::Duration;
        assert_eq!(http_timeout("timeout", "10").unwrap(), Duration::from_secs(10));
        assert_eq!(http_timeout("timeout", " 0.5 ").unwrap(), Duration::from_millis(500));
        assert_eq!(http_timeout("timeout", "1e300").unwrap(), MAX_TIMEOUT);
        assert_eq!(http_timeout("timeout", "inf").unwrap(), MAX_TIMEOUT);
        for bad in ["0", "-1", "NaN", "ten", ""] {
            let e = http_timeout("timeout", bad).unwrap_err().to_string();
            assert!(e.starts_with("Invalid value for argument timeout:"), "{bad}: {e}");
        }
    }
}
