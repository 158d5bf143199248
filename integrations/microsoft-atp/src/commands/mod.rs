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
    Args, AuthFlow, CommandContext, Entry, Error, Handler, Outcome, Request, Results, Table, async_trait,
};

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
            let parts: Vec<String> = self.0.iter().map(|(id, e)| format!("'{id}': '{e}'")).collect();
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
