//! The generic `<prefix>-auth-*` commands, shared by every integration, and the reference's
//! `test-module` behaviour per flow. This is the only auth code that builds War Room entries;
//! the wording is the reference's (msapi.md §5).
//!
//! Which commands an integration gets follows its declared flows: `auth-test` and
//! `auth-reset` always; `auth-start` / `auth-complete` with the device-code flow;
//! `generate-login-url` with the authorization-code flow.
//!
//! Decisions: `auth-complete` polls (RFC 8628) for at most its `timeout` argument (default 60 s,
//! at most 900 s) instead of the reference's single request; `generate-login-url` takes an
//! optional `pkce=true` that adds an S256 challenge and keeps the verifier in the context.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use soar_auth::{ApiKind, AuthFlow, AuthSpec, MsClient, Shared};
use soar_core::format::CommandResults;
use soar_core::format::entries::{ResultItem, payloads_to_entries, return_results};
use soar_core::{ArgSpec, Command, CommandContext, Entry, Error, Outcome};

/// The reference's `auth-reset` text.
pub const RESET_MESSAGE: &str = "Authorization was reset successfully. Please regenerate the credentials, and then click **Test** to validate the credentials and connection.";
/// `auth-test` success text.
pub const TEST_SUCCESS: &str = "✅ Success!";
/// `auth-complete` success text.
pub const COMPLETE_SUCCESS: &str = "✅ Authorization completed successfully.";
/// Default and maximum `auth-complete` polling time.
pub const COMPLETE_DEFAULT_SECS: u64 = 60;
/// The longest `auth-complete` polling time accepted.
pub const COMPLETE_MAX_SECS: u64 = 900;

/// Turns an auth error into the runtime's error: an API's error answer keeps its status,
/// headers and body ([`Error::Api`]); everything else is its text, already worded for a person.
/// This is the one place an auth-crate error crosses into the runtime.
pub fn core_error(e: soar_auth::Error) -> Error {
    let text = e.to_string();
    match e {
        soar_auth::Error::Api { status, headers, body, .. } => {
            Error::Api(soar_core::ApiFailure { status, headers, body, text })
        }
        // What the reference's module reports through `return_error` (the run ends there).
        soar_auth::Error::Authorization { .. }
        | soar_auth::Error::AuthorizationOther(_)
        | soar_auth::Error::ManagedIdentity(_)
        | soar_auth::Error::AuthorizationPending(_) => Error::Token(text),
        _ => Error::Command(text),
    }
}

/// Builds the client for this request.
pub fn client(
    spec: &'static AuthSpec,
    shared: &Arc<Shared>,
    ctx: &CommandContext,
) -> Result<MsClient, Error> {
    MsClient::from_params(spec, &ctx.params, shared.clone()).map_err(core_error)
}

/// The commands the spec's flows call for, named `<prefix>-auth-...`.
pub fn auth_commands(spec: &'static AuthSpec, shared: Arc<Shared>) -> Vec<Box<dyn Command>> {
    let mut out: Vec<Box<dyn Command>> = Vec::new();
    let p = spec.prefix;
    if spec.supports(AuthFlow::DeviceCode) {
        out.push(Box::new(AuthCmd {
            name: format!("{p}-auth-start"),
            kind: Kind::Start,
            spec,
            shared: shared.clone(),
        }));
        out.push(Box::new(AuthCmd {
            name: format!("{p}-auth-complete"),
            kind: Kind::Complete,
            spec,
            shared: shared.clone(),
        }));
    }
    out.push(Box::new(AuthCmd {
        name: format!("{p}-auth-test"),
        kind: Kind::Test,
        spec,
        shared: shared.clone(),
    }));
    out.push(Box::new(AuthCmd {
        name: format!("{p}-auth-reset"),
        kind: Kind::Reset,
        spec,
        shared: shared.clone(),
    }));
    if spec.supports(AuthFlow::AuthorizationCode) {
        out.push(Box::new(AuthCmd {
            name: format!("{p}-generate-login-url"),
            kind: Kind::LoginUrl,
            spec,
            shared,
        }));
    }
    out
}

/// The reference's `test-module`: device code and authorization code explain what to run
/// instead; the other flows fetch a token for the primary API and answer `ok`.
pub async fn test_module(
    spec: &'static AuthSpec,
    shared: &Arc<Shared>,
    ctx: &mut CommandContext,
) -> Result<Outcome, Error> {
    let c = client(spec, shared, ctx)?;
    let p = spec.prefix;
    match c.flow() {
        AuthFlow::DeviceCode => Err(Error::Command(format!(
            "When using device code flow configuration, Please enable the integration and run `!{p}-auth-start` and `!{p}-auth-complete` to log in. You can validate the connection by running `!{p}-auth-test`\nFor more details, see the authentication steps in the integration's help (the instance's Help tab, or its README)."
        ))),
        AuthFlow::AuthorizationCode => Err(Error::Command(format!(
            "When using user auth flow configuration, Please enable the integration and run the !{p}-auth-test command in order to test it"
        ))),
        _ => {
            c.token(&mut ctx.integration_context, spec.resource).await.map_err(core_error)?;
            Ok(ok_outcome())
        }
    }
}

/// The `ok` answer of `test-module`.
pub fn ok_outcome() -> Outcome {
    Outcome::from(Entry {
        entry_type: soar_core::protocol::entry_type::NOTE,
        contents_format: "text".into(),
        contents: Value::String("ok".into()),
        human_readable: Value::Null,
        entry_context: Default::default(),
        extra: Default::default(),
    })
}

/// The device-code instructions (reference wording plus the security note).
pub fn device_instructions(url: &str, user_code: &str, complete_command: &str) -> String {
    format!(
        "### Authorization instructions\n1. To sign in, use a web browser to open the page [{url}]({url})\nand enter the code **{user_code}** to authenticate.\n2. Run the **{complete_command}** command in the War Room.\n\n**Security note:** this code is shown only here, in the War Room; it is not stored or logged. Do not share it: whoever enters it signs in with your account."
    )
}

/// The authorization-code instructions (reference wording, its trailing `"\n "` included).
pub fn login_instructions(url: &str) -> String {
    format!(
        "### Authorization instructions\n1. Click on the [login URL]({url}) to sign in and grant Cortex XSOAR permissions for your Azure Service Management.\nYou will be automatically redirected to a link with the following structure:\n```REDIRECT_URI?code=AUTH_CODE&session_state=SESSION_STATE```\n2. Copy the `AUTH_CODE` (without the `code=` prefix, and the `session_state` parameter)\nand paste it in your instance configuration under the **Authorization code** parameter.\n "
    )
}

/// The entry of a reference command that returns `CommandResults(readable_output=text)`
/// (`auth-start`, `auth-reset`, `generate-login-url`): ContentsFormat `json`, no Contents, the
/// text in HumanReadable.
fn readable_entry(text: &str) -> Result<Outcome, Error> {
    Ok(CommandResults::readable(text).into_entry()?.into())
}

/// The entry of a reference command that returns a bare string (`auth-test`, `auth-complete`):
/// `return_results(str)`, a plain `text` note.
fn text_entry(text: &str) -> Result<Outcome, Error> {
    let mut payloads = Vec::new();
    return_results(&ResultItem::Raw(Value::String(text.to_owned())), &mut payloads)?;
    let entry = payloads_to_entries(&payloads)
        .into_iter()
        .next()
        .ok_or_else(|| Error::Command("no entry for a text result".to_owned()))?;
    Ok(entry.into())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    Complete,
    Test,
    Reset,
    LoginUrl,
}

struct AuthCmd {
    name: String,
    kind: Kind,
    spec: &'static AuthSpec,
    shared: Arc<Shared>,
}

fn bool_arg(ctx: &CommandContext, name: &str) -> Result<bool, Error> {
    match ctx.args.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" | "false" | "no" => Ok(false),
            "true" | "yes" => Ok(true),
            _ => Err(Error::InvalidArg { name: name.into(), reason: format!("'{s}' is not true or false.") }),
        },
        Some(other) => {
            Err(Error::InvalidArg { name: name.into(), reason: format!("{other} is not true or false.") })
        }
    }
}

/// The `prompt` values of Microsoft's authorize endpoint that `generate-login-url` accepts.
const PROMPTS: &[&str] = &["consent", "login", "select_account"];

fn prompt_arg(ctx: &CommandContext) -> Result<Option<&'static str>, Error> {
    match ctx.args.get("prompt") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(v) => {
            let given = v.as_str().map(str::trim).unwrap_or_default();
            PROMPTS.iter().copied().find(|p| *p == given).map(Some).ok_or_else(|| Error::InvalidArg {
                name: "prompt".into(),
                reason: format!("{v} is not one of {}.", PROMPTS.join(", ")),
            })
        }
    }
}

fn secs_arg(ctx: &CommandContext, name: &str, default: u64, max: u64) -> Result<u64, Error> {
    let bad = |v: &str| Error::InvalidArg {
        name: name.into(),
        reason: format!("'{v}' is not a number of seconds between 0 and {max}."),
    };
    let v = match ctx.args.get(name) {
        None | Some(Value::Null) => return Ok(default),
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(&n.to_string()))?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(default),
        Some(Value::String(s)) => s.trim().parse::<u64>().map_err(|_| bad(s))?,
        Some(other) => return Err(bad(&other.to_string())),
    };
    if v > max { Err(bad(&v.to_string())) } else { Ok(v) }
}

#[async_trait]
impl Command for AuthCmd {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> &str {
        match self.kind {
            Kind::Start => {
                "Run this command to start the authorization process and follow the instructions in the command results."
            }
            Kind::Complete => {
                "Run this command to complete the authorization process. Should be used after running the auth-start command."
            }
            Kind::Test => "Tests the connectivity to Microsoft.",
            Kind::Reset => {
                "Run this command if for some reason you need to rerun the authentication process."
            }
            Kind::LoginUrl => "Generate the login url used for Authorization code flow.",
        }
    }

    fn args(&self) -> Vec<ArgSpec> {
        match self.kind {
            Kind::Complete => vec![ArgSpec {
                name: "timeout",
                description: "How long to wait for the sign-in, in seconds (0-900). The command polls at the interval Microsoft asks for.",
                default: Some("60"),
                ..ArgSpec::default()
            }],
            Kind::LoginUrl => vec![
                ArgSpec {
                    name: "pkce",
                    description: "Add a PKCE (S256) challenge to the login URL; the verifier is kept in the integration context until the code is exchanged.",
                    default: Some("false"),
                    options: &["true", "false"],
                    ..ArgSpec::default()
                },
                ArgSpec {
                    name: "prompt",
                    description: "Add `&prompt=<value>` to the login URL: `consent` makes Microsoft ask for consent again (after a permission was added, or an API answers \"Missing scope permissions\"), `login` asks for the password again, `select_account` lets you pick another account.",
                    options: PROMPTS,
                    ..ArgSpec::default()
                },
            ],
            _ => Vec::new(),
        }
    }

    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let p = self.spec.prefix;
        match self.kind {
            Kind::Reset => {
                // Clear the context even when the params no longer build a client.
                match client(self.spec, &self.shared, ctx) {
                    Ok(c) => c.reset(&mut ctx.integration_context),
                    Err(_) => ctx.integration_context.replace(Default::default()),
                }
                readable_entry(RESET_MESSAGE)
            }
            Kind::Test => {
                let c = client(self.spec, &self.shared, ctx)?;
                c.token(&mut ctx.integration_context, self.spec.resource).await.map_err(core_error)?;
                text_entry(TEST_SUCCESS)
            }
            Kind::Start => {
                let c = client(self.spec, &self.shared, ctx)?;
                let s = c.device_start(&mut ctx.integration_context).await.map_err(core_error)?;
                readable_entry(&device_instructions(
                    &s.verification_uri,
                    &s.user_code,
                    &format!("!{p}-auth-complete"),
                ))
            }
            Kind::Complete => {
                let secs = secs_arg(ctx, "timeout", COMPLETE_DEFAULT_SECS, COMPLETE_MAX_SECS)?;
                let c = client(self.spec, &self.shared, ctx)?;
                c.device_complete(&mut ctx.integration_context, Duration::from_secs(secs))
                    .await
                    .map_err(core_error)?;
                text_entry(COMPLETE_SUCCESS)
            }
            Kind::LoginUrl => {
                let pkce = bool_arg(ctx, "pkce")?;
                let prompt = prompt_arg(ctx)?;
                let c = client(self.spec, &self.shared, ctx)?;
                let mut url = c.login_url(&mut ctx.integration_context, pkce).map_err(core_error)?;
                if let Some(p) = prompt {
                    url.push_str(&format!("&prompt={p}"));
                }
                readable_entry(&login_instructions(&url))
            }
        }
    }
}

/// The primary API of a spec (re-exported for integrations' `test-module` probes).
pub fn primary_api(spec: &AuthSpec) -> ApiKind {
    spec.resource
}
