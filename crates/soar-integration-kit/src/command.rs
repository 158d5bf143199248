//! One place per command: a struct of typed arguments (`#[derive(Args)]`: the description,
//! names, defaults, options, secrets) and its [`Handler`] impl (the name, outputs, examples and
//! what it does). The registry dispatches by name to [`Typed`], which reads the request's
//! params into an auth client, builds the integration's environment and decodes the arguments
//! before calling [`Handler::run`]; no integration writes a dispatch `match`.
//!
//! ```text
//! /// Gets one user.
//! #[derive(Args)]
//! pub struct Get {
//!     /// The user's ID or user principal name.
//!     user: String,
//! }
//!
//! #[async_trait]
//! impl Handler<Graph> for Get {
//!     const NAME: &'static str = "msgraph-user-get";
//!     const EXAMPLES: &'static [&'static str] = &["!msgraph-user-get user=alice@example.com"];
//!     fn outputs() -> Vec<OutputSpec> { vec![out("MSGraphUser.ID", "String", "The user's ID.")] }
//!     async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> { .. }
//! }
//! ```

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use soar_auth::{ApiKind, AuthFlow, AuthSpec, MsClient, Shared};
use soar_auth_commands::core_error;
use soar_core::args::{ArgContext, Args, Clock};
use soar_core::{ArgSpec, Command, CommandContext, Error, Outcome, OutputSpec};

use crate::{Api, MsApi};

/// A command of an integration whose handlers share the environment `E` (its API client and
/// instance choices, built per request).
#[async_trait]
pub trait Handler<E: Send + Sync + 'static>: Args + Send + 'static {
    /// The full command name.
    const NAME: &'static str;
    /// Example command lines (`!name arg=value`), listed in the manifest and the README.
    const EXAMPLES: &'static [&'static str] = &[];
    /// A scheduled (polling) command: its answers may carry a `soar_protocol::Schedule`
    /// (`Entry::with_schedule`), and the XSOAR YAML marks it `polling: true`.
    const POLLING: bool = false;

    /// The context outputs it writes.
    fn outputs() -> Vec<OutputSpec> {
        Vec::new()
    }

    /// Runs the command with its decoded arguments.
    async fn run(self, env: &E, ctx: &mut CommandContext) -> Result<Outcome, Error>;
}

/// Builds a command's environment from the request's auth client and context.
pub type EnvFn<E> = Arc<dyn Fn(MsClient, &CommandContext) -> Result<E, Error> + Send + Sync>;

/// The environment of an integration whose handlers need only one API and the flow: use it as
/// `MsIntegration::new(&ABOUT, ApiClient::env(ApiKind::Graph, Some("v1.0")))` and implement
/// `Handler<ApiClient>`; an integration with instance choices writes its own environment.
pub struct ApiClient {
    /// The API of the request.
    pub api: Box<dyn Api>,
    /// The flow the instance uses.
    pub flow: AuthFlow,
}

impl ApiClient {
    /// The environment builder for `api` with an optional version segment (`Some("v1.0")` for
    /// Graph).
    pub fn env(
        api: ApiKind,
        version: Option<&'static str>,
    ) -> impl Fn(MsClient, &CommandContext) -> Result<ApiClient, Error> + Send + Sync + 'static {
        move |ms, _| {
            let flow = ms.flow();
            Ok(ApiClient { api: Box::new(MsApi::new(ms, api, version)), flow })
        }
    }
}

/// What every command of one integration shares: the auth declaration, the process's tokens
/// and connections, the environment builder and the clock.
pub struct Core<E> {
    pub(crate) spec: &'static AuthSpec,
    pub(crate) shared: Arc<Shared>,
    pub(crate) env: EnvFn<E>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// The `soar_core::Command` of a [`Handler`] `C`.
pub struct Typed<C, E> {
    core: Arc<Core<E>>,
    command: PhantomData<fn() -> C>,
}

impl<C, E> Typed<C, E> {
    /// `C` run with `core`.
    pub fn new(core: Arc<Core<E>>) -> Self {
        Typed { core, command: PhantomData }
    }
}

/// `Typed::<C, E>::new` boxed, as a plain function the integration builder can list.
pub(crate) fn make<C: Handler<E>, E: Send + Sync + 'static>(core: &Arc<Core<E>>) -> Box<dyn Command> {
    Box::new(Typed::<C, E>::new(core.clone()))
}

#[async_trait]
impl<C: Handler<E>, E: Send + Sync + 'static> Command for Typed<C, E> {
    fn name(&self) -> &str {
        C::NAME
    }

    fn description(&self) -> &str {
        C::DESCRIPTION
    }

    fn args(&self) -> Vec<ArgSpec> {
        C::specs()
    }

    fn outputs(&self) -> Vec<OutputSpec> {
        C::outputs()
    }

    fn examples(&self) -> Vec<&'static str> {
        C::EXAMPLES.to_vec()
    }

    fn polling(&self) -> bool {
        C::POLLING
    }

    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        // The instance first: a wrong configuration is reported before any argument.
        let ms = MsClient::from_params(self.core.spec, &ctx.params, self.core.shared.clone())
            .map_err(core_error)?;
        let env = (self.core.env)(ms, ctx)?;
        let args = C::decode(&ctx.args, &ArgContext { clock: self.core.clock.as_ref() })?;
        args.run(&env, ctx).await
    }
}

/// The argument if given, else the instance param of the same name (the reference's
/// `get_from_args_or_params`), else an error naming both.
pub fn arg_or_param(given: Option<String>, ctx: &CommandContext, name: &str) -> Result<String, Error> {
    given.or_else(|| ctx.params.str(name)).ok_or_else(|| Error::InvalidArg {
        name: name.to_owned(),
        reason: format!("no value: give {name}=<value> or set the instance's default {name}."),
    })
}

/// A context output spec (`const`, so output lists can be constants).
pub const fn out(path: &'static str, output_type: &'static str, description: &'static str) -> OutputSpec {
    OutputSpec { path, output_type, description }
}

/// The options of a boolean argument whose reference YAML lists them.
pub const BOOL: &[&str] = &["true", "false"];

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use soar_core::Integration;
    use soar_core::args::{ArgDateTime, FixedClock};

    use super::*;
    use crate::fixtures::{ABOUT, params};
    use crate::{Choice, MsIntegration};

    /// How loud.
    #[derive(Debug, Clone, Copy, PartialEq, Choice)]
    enum Volume {
        Low,
        #[arg(name = "LOUD")]
        High,
    }

    /// Says hello to someone.
    #[derive(crate::Args)]
    struct Hello {
        /// Who to greet.
        who: String,
        /// How many times.
        #[arg(default = "1")]
        times: u32,
        /// Shout it.
        volume: Option<Volume>,
        /// Extra words.
        words: Vec<String>,
        /// Since when.
        since: Option<ArgDateTime>,
        /// A password.
        #[arg(secret, name = "pass-word")]
        password: Option<soar_core::Secret>,
    }

    /// What the handlers share: here only the flow of the request's client.
    struct Env(String);

    #[async_trait]
    impl Handler<Env> for Hello {
        const NAME: &'static str = "kit-test-hello";
        const EXAMPLES: &'static [&'static str] = &["!kit-test-hello who=you"];

        fn outputs() -> Vec<OutputSpec> {
            vec![out("Kit.Hello", "String", "The greeting.")]
        }

        async fn run(self, env: &Env, _: &mut CommandContext) -> Result<Outcome, Error> {
            let text = format!(
                "{} {}x{} {:?} {:?} {:?} {}",
                env.0,
                self.who,
                self.times,
                self.volume.map(Choice::as_str),
                self.words,
                self.since.map(|d| d.isoformat()),
                self.password.is_some()
            );
            Err(Error::Command(text))
        }
    }

    fn integration() -> MsIntegration<Env> {
        let clock = FixedClock(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default());
        MsIntegration::new(&ABOUT, |ms, _| Ok(Env(format!("{:?}", ms.flow()))))
            .clock(Arc::new(clock))
            .command::<Hello>()
    }

    #[test]
    fn the_spec_is_derived_from_the_struct() {
        let cmds = integration().commands();
        let hello = &cmds[0];
        assert_eq!((hello.name(), hello.description()), ("kit-test-hello", "Says hello to someone."));
        assert_eq!(hello.examples(), ["!kit-test-hello who=you"]);
        assert_eq!(hello.outputs()[0].path, "Kit.Hello");
        let specs = hello.args();
        let row = |n: &str| specs.iter().find(|s| s.name == n).cloned().unwrap_or_default();
        let w = |a: ArgSpec| (a.required, a.default, a.options, a.is_array, a.secret, a.description);
        assert_eq!(w(row("who")), (true, None, &[][..], false, false, "Who to greet."));
        assert_eq!(w(row("times")), (false, Some("1"), &[][..], false, false, "How many times."));
        assert_eq!(w(row("volume")), (false, None, &["Low", "LOUD"][..], false, false, "Shout it."));
        assert!(w(row("words")).3);
        assert!(w(row("pass-word")).4);
        // The auth commands follow (all of them by default).
        assert!(cmds.iter().any(|c| c.name() == "kit-test-auth-reset"));
    }

    /// (arguments, the handler's text or the error): decoded by type, after the instance.
    #[tokio::test]
    async fn requests_are_decoded_then_run() {
        let cmds = integration().commands();
        let cases = [
            (json!({"who": "you"}), "ClientSecret youx1 None [] None false"),
            (
                json!({"who": "me", "times": "3", "volume": "LOUD", "words": "a, b", "since": "1 day", "pass-word": "p"}),
                "ClientSecret mex3 Some(\"LOUD\") [\"a\", \"b\"] Some(\"2023-11-13T22:13:20\") true",
            ),
            (json!({"who": "you", "times": "x"}), "Invalid number: \"times\"=\"x\""),
            (
                json!({"who": "you", "volume": "mid"}),
                "Invalid value for argument volume: \"mid\" is not one of the accepted values: Low, LOUD.",
            ),
            (json!({}), "Missing required argument: who. Add who=<value> to the command."),
        ];
        for (args, want) in cases {
            let Value::Object(args) = args else { continue };
            let mut ctx = CommandContext::new("kit-test-hello", args, params(&[]));
            let err = cmds[0].run(&mut ctx).await.unwrap_err().to_string();
            assert_eq!(err, want);
        }
        let mut bad =
            CommandContext::new("kit-test-hello", Default::default(), params(&[("azure_cloud", "Mars")]));
        let err = cmds[0].run(&mut bad).await.unwrap_err().to_string();
        assert!(err.contains("Mars"), "the instance is checked first: {err}");
    }
}
