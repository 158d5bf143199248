//! Declaring commands: the small builders of argument and output specs, and the command that
//! stands for one variant of an integration's command enum and runs it with a fresh
//! `soar_auth::MsClient` per request.

use std::sync::Arc;

use async_trait::async_trait;
use soar_auth::{AuthSpec, MsClient, Shared};
use soar_core::{ArgSpec, Command, CommandContext, Error, Outcome, OutputSpec};

/// The options of a boolean argument.
pub const BOOL: &[&str] = &["true", "false"];

/// A required argument.
pub fn req(name: &'static str, description: &'static str) -> ArgSpec {
    ArgSpec { name, description, required: true, ..ArgSpec::default() }
}

/// An optional argument.
pub fn opt(name: &'static str, description: &'static str) -> ArgSpec {
    ArgSpec { name, description, ..ArgSpec::default() }
}

/// A context output.
pub fn out(path: &'static str, output_type: &'static str, description: &'static str) -> OutputSpec {
    OutputSpec { path, output_type, description }
}

/// An integration's command enum: one variant per command, with its declaration.
pub trait CommandKind: Copy + Send + Sync + 'static {
    /// The command name.
    fn name(self) -> &'static str;
    /// The description.
    fn description(self) -> &'static str;
    /// The arguments.
    fn args(self) -> Vec<ArgSpec>;
    /// The context outputs.
    fn outputs(self) -> Vec<OutputSpec>;
}

/// What runs a command of kind `K` once the auth client of the request is built.
#[async_trait]
pub trait KindHandler<K>: Send + Sync + 'static {
    /// Runs `kind` with `ms`, the auth client built from this request's params.
    async fn run(&self, kind: K, ms: MsClient, ctx: &mut CommandContext) -> Result<Outcome, Error>;
}

/// One command of kind `K`: declared by `K`, run by `H` with a fresh auth client per request
/// (the params can differ between requests of one `--serve` process; `Shared` keeps the
/// tokens and connections warm).
struct KindCommand<K, H> {
    kind: K,
    spec: &'static AuthSpec,
    shared: Arc<Shared>,
    handler: Arc<H>,
}

#[async_trait]
impl<K: CommandKind, H: KindHandler<K>> Command for KindCommand<K, H> {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn description(&self) -> &str {
        self.kind.description()
    }

    fn args(&self) -> Vec<ArgSpec> {
        self.kind.args()
    }

    fn outputs(&self) -> Vec<OutputSpec> {
        self.kind.outputs()
    }

    async fn run(&self, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let ms =
            MsClient::from_params(self.spec, &ctx.params, self.shared.clone()).map_err(Error::command)?;
        self.handler.run(self.kind, ms, ctx).await
    }
}

/// The commands of `kinds`, in order, each run by `handler` with an auth client built from
/// `spec` and the request's params.
pub fn kind_commands<K: CommandKind, H: KindHandler<K>>(
    kinds: &[K],
    spec: &'static AuthSpec,
    shared: &Arc<Shared>,
    handler: H,
) -> Vec<Box<dyn Command>> {
    let handler = Arc::new(handler);
    kinds
        .iter()
        .map(|&kind| {
            Box::new(KindCommand { kind, spec, shared: shared.clone(), handler: handler.clone() })
                as Box<dyn Command>
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{SPEC, params};

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum K {
        One,
        Two,
    }

    impl CommandKind for K {
        fn name(self) -> &'static str {
            if self == K::One { "kit-test-one" } else { "kit-test-two" }
        }
        fn description(self) -> &'static str {
            "d"
        }
        fn args(self) -> Vec<ArgSpec> {
            vec![req("a", "an arg")]
        }
        fn outputs(self) -> Vec<OutputSpec> {
            vec![out("Kit.A", "String", "o")]
        }
    }

    /// Answers with the kind's name and the flow of the auth client it was given.
    struct Echo;

    #[async_trait]
    impl KindHandler<K> for Echo {
        async fn run(&self, kind: K, ms: MsClient, _ctx: &mut CommandContext) -> Result<Outcome, Error> {
            Err(Error::Command(format!("{} {:?}", kind.name(), ms.flow())))
        }
    }

    /// (params, the error text the command gives): the handler sees its kind and an auth client
    /// built from the request's params; params the auth crate refuses never reach it.
    #[tokio::test]
    async fn commands_are_declared_by_the_kind_and_run_with_a_fresh_client() {
        let cmds = kind_commands(&[K::One, K::Two], &SPEC, &Shared::new(), Echo);
        let names: Vec<&str> = cmds.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["kit-test-one", "kit-test-two"]);
        assert_eq!(cmds[1].args()[0].name, "a");
        assert_eq!(cmds[1].outputs()[0].path, "Kit.A");
        let good = params(&[("auth_id", "cid"), ("tenant_id", "tid"), ("enc_key", "sec")]);
        let bad =
            params(&[("auth_id", "cid"), ("tenant_id", "tid"), ("enc_key", "sec"), ("azure_cloud", "Mars")]);
        let cases = [(good, "kit-test-two ClientSecret"), (bad, "Mars")];
        for (p, want) in cases {
            let mut ctx = CommandContext::new("kit-test-two", Default::default(), p);
            let err = cmds[1].run(&mut ctx).await.unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
