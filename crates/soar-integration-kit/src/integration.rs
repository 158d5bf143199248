//! The `soar_core::Integration` of a Microsoft integration, written once: its declarations
//! ([`About`]: the auth spec gives the prefix and the flows, the form gives the auth fields)
//! and its commands, listed once by type in a builder:
//!
//! ```text
//! MsIntegration::new(&ABOUT, Graph::from_client)
//!     .command::<commands::Get>()
//!     .command::<commands::List>()
//!     .auth_commands(AuthCommands::Only(&["generate-login-url", "auth-reset"]))
//! ```

use std::sync::Arc;

use soar_auth::{AuthSpec, Shared};
use soar_core::args::{Clock, SystemClock};
use soar_core::{AuthFlow, Command, CommandContext, Error, Integration, ParamSpec};

use crate::command::{Core, EnvFn, Handler, make};
use crate::params::{AuthForm, auth_params, check_auth_params};

/// What an integration declares besides its commands.
pub struct About {
    /// The auth declaration; its `prefix` and `flows` are the integration's.
    pub spec: &'static AuthSpec,
    /// The name people see.
    pub display_name: &'static str,
    /// How the auth fields of the instance form look (they are generated from the flows).
    pub form: AuthForm,
    /// The integration's own instance params (not auth), shown after the auth fields.
    pub params: &'static [ParamSpec],
    /// Reference command names that do not start with `<prefix>-`.
    pub unprefixed_commands: &'static [&'static str],
}

impl About {
    /// The instance params: the auth fields for the declared flows, then the integration's own.
    pub fn all_params(&self) -> Vec<ParamSpec> {
        let mut v = auth_params(self.spec, &self.form);
        v.extend(self.params.iter().cloned());
        v
    }

    /// Where the form and the declared flows disagree (empty: they agree). Integrations call
    /// it from a unit test.
    pub fn check_params(&self) -> Vec<String> {
        check_auth_params(self.spec, &self.form, &self.all_params())
    }
}

/// Which of the generic `<prefix>-auth-*` commands an integration offers.
#[derive(Debug, Clone, Copy)]
pub enum AuthCommands {
    /// Every one its flows call for (`soar_auth_commands::auth_commands`).
    All,
    /// Only these, named without the prefix (`auth-reset`, `generate-login-url`, ...).
    Only(&'static [&'static str]),
}

/// What runs around every command of an integration (the reference's `main()`): a step that
/// prepares the request, and the wording of every error.
#[derive(Clone, Copy)]
pub struct Around {
    /// Runs before the command (fills param defaults, reads legacy forms).
    pub prepare: fn(&mut CommandContext),
    /// Words a failed command's error, given the command name.
    pub error: fn(&str, Error) -> Error,
}

/// An integration: its [`About`] and its commands, each a [`Handler`] over the environment `E`.
pub struct MsIntegration<E> {
    about: &'static About,
    shared: Arc<Shared>,
    env: EnvFn<E>,
    clock: Arc<dyn Clock>,
    makers: Vec<fn(&Arc<Core<E>>) -> Box<dyn Command>>,
    auth: AuthCommands,
    around: Option<Around>,
}

impl<E: Send + Sync + 'static> MsIntegration<E> {
    /// With the process-wide HTTP client and token cache (configured from the environment)
    /// and the system clock; `env` builds the handlers' environment per request.
    pub fn new(about: &'static About, env: EnvFn<E>) -> Self {
        Self::with_shared(about, Shared::new(), env)
    }

    /// With a given `Shared` (tests).
    pub fn with_shared(about: &'static About, shared: Arc<Shared>, env: EnvFn<E>) -> Self {
        MsIntegration {
            about,
            shared,
            env,
            clock: Arc::new(SystemClock),
            makers: Vec::new(),
            auth: AuthCommands::All,
            around: None,
        }
    }

    /// The clock of relative dates (tests fix it).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds the command `C` (the manifest lists commands in the order they are added).
    pub fn command<C: Handler<E>>(mut self) -> Self {
        self.makers.push(make::<C, E>);
        self
    }

    /// Which generic auth commands follow the integration's own (default: all).
    pub fn auth_commands(mut self, which: AuthCommands) -> Self {
        self.auth = which;
        self
    }

    /// Runs `around` around every command, the auth commands included.
    pub fn around(mut self, around: Around) -> Self {
        self.around = Some(around);
        self
    }
}

impl<E: Send + Sync + 'static> Integration for MsIntegration<E> {
    fn prefix(&self) -> &'static str {
        self.about.spec.prefix
    }

    fn display_name(&self) -> &'static str {
        self.about.display_name
    }

    fn supported_flows(&self) -> &'static [AuthFlow] {
        self.about.spec.flows
    }

    fn params(&self) -> Vec<ParamSpec> {
        self.about.all_params()
    }

    fn unprefixed_commands(&self) -> &'static [&'static str] {
        self.about.unprefixed_commands
    }

    fn commands(&self) -> Vec<Box<dyn Command>> {
        let core = Arc::new(Core {
            spec: self.about.spec,
            shared: self.shared.clone(),
            env: self.env,
            clock: self.clock.clone(),
        });
        let mut v: Vec<Box<dyn Command>> = self.makers.iter().map(|m| m(&core)).collect();
        let prefix = format!("{}-", self.about.spec.prefix);
        v.extend(soar_auth_commands::auth_commands(self.about.spec, self.shared.clone()).into_iter().filter(
            |c| match self.auth {
                AuthCommands::All => true,
                AuthCommands::Only(names) => {
                    c.name().strip_prefix(&prefix).is_some_and(|rest| names.contains(&rest))
                }
            },
        ));
        match self.around {
            Some(around) => {
                v.into_iter().map(|inner| Box::new(Wrapped { inner, around }) as Box<dyn Command>).collect()
            }
            None => v,
        }
    }
}

/// A command run inside an [`Around`].
struct Wrapped {
    inner: Box<dyn Command>,
    around: Around,
}

#[async_trait::async_trait]
impl Command for Wrapped {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn description(&self) -> &str {
        self.inner.description()
    }

    fn args(&self) -> Vec<soar_core::ArgSpec> {
        self.inner.args()
    }

    fn outputs(&self) -> Vec<soar_core::OutputSpec> {
        self.inner.outputs()
    }

    fn examples(&self) -> Vec<&'static str> {
        self.inner.examples()
    }

    async fn run(&self, ctx: &mut CommandContext) -> Result<soar_core::Outcome, Error> {
        (self.around.prepare)(ctx);
        let result = self.inner.run(ctx).await;
        result.map_err(|e| (self.around.error)(&ctx.command, e))
    }
}
