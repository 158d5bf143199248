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
use crate::hints::Permission;
use crate::params::{AuthForm, auth_params, check_auth_params};

/// What an integration declares besides its commands.
pub struct About {
    /// The auth declaration; its `prefix` and `flows` are the integration's.
    pub spec: &'static AuthSpec,
    /// The name people see.
    pub display_name: &'static str,
    /// One or two sentences on what the integration does (the XSOAR YAML's `description`).
    pub description: &'static str,
    /// The XSOAR category, e.g. `Analytics & SIEM`, `IT Services`.
    pub category: &'static str,
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

/// Turns a command's failure into an answer instead (the reference's scheduled retry after a
/// 429), with the hidden arguments it adds to every command (`ran_once_flag`).
#[derive(Clone, Copy)]
pub struct Rescue {
    /// The answer for this failure, or `None` to keep the error.
    pub answer: fn(&CommandContext, &Error) -> Option<soar_core::Outcome>,
    /// Arguments every command then accepts.
    pub args: fn() -> Vec<soar_core::ArgSpec>,
}

/// Makes one command around the integration's shared [`Core`].
type Maker<E> = fn(&Arc<Core<E>>) -> Box<dyn Command>;

/// An integration: its [`About`] and its commands, each a [`Handler`] over the environment `E`.
pub struct MsIntegration<E> {
    about: &'static About,
    shared: Arc<Shared>,
    env: EnvFn<E>,
    clock: Arc<dyn Clock>,
    makers: Vec<Maker<E>>,
    auth: AuthCommands,
    around: Option<Around>,
    rescue: Option<Rescue>,
    permissions: &'static [Permission],
}

impl<E: Send + Sync + 'static> MsIntegration<E> {
    /// With the process-wide HTTP client and token cache (configured from the environment)
    /// and the system clock; `env` builds the handlers' environment per request.
    pub fn new(
        about: &'static About,
        env: impl Fn(soar_auth::MsClient, &CommandContext) -> Result<E, Error> + Send + Sync + 'static,
    ) -> Self {
        Self::with_shared(about, Shared::new(), env)
    }

    /// With a given `Shared` (tests).
    pub fn with_shared(
        about: &'static About,
        shared: Arc<Shared>,
        env: impl Fn(soar_auth::MsClient, &CommandContext) -> Result<E, Error> + Send + Sync + 'static,
    ) -> Self {
        MsIntegration {
            about,
            shared,
            env: Arc::new(env),
            clock: Arc::new(SystemClock),
            makers: Vec::new(),
            auth: AuthCommands::All,
            around: None,
            rescue: None,
            permissions: &[],
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

    /// The permissions each command needs, for the troubleshooting hints ([`crate::hints`]).
    pub fn permissions(mut self, table: &'static [Permission]) -> Self {
        self.permissions = table;
        self
    }

    /// Runs `around` around every command, the auth commands included.
    pub fn around(mut self, around: Around) -> Self {
        self.around = Some(around);
        self
    }

    /// Lets `rescue` answer a command's failure (every command, the auth commands included).
    pub fn rescue(mut self, rescue: Rescue) -> Self {
        self.rescue = Some(rescue);
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

    fn description(&self) -> &'static str {
        self.about.description
    }

    fn category(&self) -> &'static str {
        self.about.category
    }

    /// The flow instructions written from the auth spec and the form ([`crate::help`]).
    fn detailed_description(&self) -> String {
        crate::help::detailed_description(self.about.spec, &self.about.all_params())
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
            env: self.env.clone(),
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
        // Hints first (on the API's own error), then the integration's wording around them.
        let v = v.into_iter().map(|inner| {
            Box::new(Hinted {
                inner,
                spec: self.about.spec,
                shared: self.shared.clone(),
                table: self.permissions,
            }) as Box<dyn Command>
        });
        let v = v.map(|inner| match self.rescue {
            Some(rescue) => Box::new(Rescued { inner, rescue }) as Box<dyn Command>,
            None => inner,
        });
        match self.around {
            Some(around) => v.map(|inner| Box::new(Wrapped { inner, around }) as Box<dyn Command>).collect(),
            None => v.collect(),
        }
    }
}

/// The declaration methods of [`Command`] a decorator (a wrapper that only changes `run`) takes
/// from the command it wraps, written once so that a new declaration cannot be forgotten in one
/// decorator (`polling` once was).
macro_rules! forward_declarations {
    () => {
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

        fn polling(&self) -> bool {
            self.inner.polling()
        }
    };
}

/// A command whose errors get the troubleshooting hints ([`crate::hints::add_hint`]).
struct Hinted {
    inner: Box<dyn Command>,
    spec: &'static AuthSpec,
    shared: Arc<Shared>,
    table: &'static [Permission],
}

#[async_trait::async_trait]
impl Command for Hinted {
    forward_declarations!();

    async fn run(&self, ctx: &mut CommandContext) -> Result<soar_core::Outcome, Error> {
        let result = self.inner.run(ctx).await;
        result.map_err(|e| {
            // Only on failure: which flow the instance uses (a client that cannot be built has
            // failed before any API answered, so no hint needs it).
            let flow = soar_auth::MsClient::from_params(self.spec, &ctx.params, self.shared.clone())
                .ok()
                .map(|c| c.flow());
            crate::hints::add_hint(self.spec, self.table, &ctx.command, flow, e)
        })
    }
}

/// A command whose failures a [`Rescue`] may answer.
struct Rescued {
    inner: Box<dyn Command>,
    rescue: Rescue,
}

#[async_trait::async_trait]
impl Command for Rescued {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn description(&self) -> &str {
        self.inner.description()
    }

    fn args(&self) -> Vec<soar_core::ArgSpec> {
        let mut v = self.inner.args();
        for extra in (self.rescue.args)() {
            if !v.iter().any(|a| a.name == extra.name) {
                v.push(extra);
            }
        }
        v
    }

    fn outputs(&self) -> Vec<soar_core::OutputSpec> {
        self.inner.outputs()
    }

    fn examples(&self) -> Vec<&'static str> {
        self.inner.examples()
    }

    fn polling(&self) -> bool {
        self.inner.polling()
    }

    async fn run(&self, ctx: &mut CommandContext) -> Result<soar_core::Outcome, Error> {
        match self.inner.run(ctx).await {
            Err(e) => match (self.rescue.answer)(ctx, &e) {
                Some(outcome) => Ok(outcome),
                None => Err(e),
            },
            ok => ok,
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
    forward_declarations!();

    async fn run(&self, ctx: &mut CommandContext) -> Result<soar_core::Outcome, Error> {
        (self.around.prepare)(ctx);
        let result = self.inner.run(ctx).await;
        result.map_err(|e| (self.around.error)(&ctx.command, e))
    }
}

#[cfg(test)]
mod tests {
    use soar_core::Integration;

    use super::*;
    use crate::fixtures::ABOUT;

    /// Never built: the test integration's commands all fail before needing it.
    struct NoEnv;

    #[test]
    fn declarations_come_from_about_and_its_auth_spec() {
        let i = MsIntegration::<NoEnv>::new(&ABOUT, |_, _| Err(Error::Command("no env".into())))
            .auth_commands(AuthCommands::Only(&["auth-reset"]));
        assert_eq!((i.prefix(), i.display_name()), ("kit-test", "Kit Test"));
        assert_eq!((i.description(), i.category()), ("Tests the kit.", "IT Services"));
        assert!(
            i.detailed_description().contains("#### Client credentials (secret)\n"),
            "{}",
            i.detailed_description()
        );
        assert_eq!(i.supported_flows(), &[AuthFlow::ClientSecret]);
        let params: Vec<&str> = i.params().iter().map(|p| p.name).collect();
        assert_eq!(
            params,
            [
                "creds_auth_id",
                "_auth_id",
                "credentials",
                "auth_id",
                "app_id",
                "creds_tenant_id",
                "_tenant_id",
                "tenant_id",
                "creds_enc_key",
                "enc_key",
                "insecure",
                "proxy"
            ]
        );
        let names: Vec<String> = i.commands().iter().map(|c| c.name().to_owned()).collect();
        assert_eq!(names, ["kit-test-auth-reset"]);
    }

    #[tokio::test]
    async fn around_prepares_every_command_and_words_its_errors() {
        let i = MsIntegration::<NoEnv>::new(&ABOUT, |_, _| Err(Error::Command("no env".into())))
            .auth_commands(AuthCommands::Only(&["auth-test"]))
            .around(Around {
                prepare: |ctx| ctx.command.push_str(" (prepared)"),
                error: |command, e| Error::Command(format!("{command} failed: {e}")),
            });
        let cmds = i.commands();
        let mut ctx = CommandContext::new(
            "kit-test-auth-test",
            Default::default(),
            crate::fixtures::params(&[("azure_cloud", "Mars")]),
        );
        let err = cmds[0].run(&mut ctx).await.map(drop).map_err(|e| e.to_string());
        assert!(err.as_ref().is_err_and(|e| e.starts_with("kit-test-auth-test (prepared) failed: ") && e.contains("Mars")), "{err:?}");
    }
}
