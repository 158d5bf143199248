//! The commands, one place each: the arguments struct (its doc comment is the command's
//! description) and the [`Handler`] impl (its name, outputs, examples and what it does).

use serde_json::Value;
use soar_integration_kit::paging::{self, Paging};
use soar_integration_kit::{
    ApiClient, Args, AuthFlow, CommandContext, Error, Handler, Outcome, OutputSpec, Request, Results, Table,
    async_trait, out,
};

/// Checks the configuration: gets a token (the flows that need a person say what to run).
#[derive(Args)]
pub struct TestModule;

#[async_trait]
impl Handler<ApiClient> for TestModule {
    const NAME: &'static str = "test-module";

    async fn run(self, client: &ApiClient, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        match client.flow {
            AuthFlow::DeviceCode => Err(Error::Command(
                "Run !microsoft-atp-auth-start, sign in with the code it shows, run !microsoft-atp-auth-complete, \
                 then check the connection with !microsoft-atp-auth-test."
                    .to_owned(),
            )),
            AuthFlow::AuthorizationCode => Err(Error::Command(
                "Run !microsoft-atp-generate-login-url, sign in, put the code in the instance's Authorization code \
                 field, then check the connection with !microsoft-atp-auth-test."
                    .to_owned(),
            )),
            _ => {
                client.api.check_token(&mut ctx.integration_context).await?;
                Ok(soar_integration_kit::ok_outcome())
            }
        }
    }
}

/// Lists the example items, page by page up to the limit.
#[derive(Args)]
pub struct ExampleList {
    /// The most items to return.
    #[arg(default = "50")]
    limit: usize,
}

#[async_trait]
impl Handler<ApiClient> for ExampleList {
    const NAME: &'static str = "microsoft-atp-example-list";
    const EXAMPLES: &'static [&'static str] = &["!microsoft-atp-example-list limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        vec![out("MicrosoftAtp.Item.id", "String", "The item's ID."), out("MicrosoftAtp.Item.name", "String", "The item's name.")]
    }

    async fn run(self, client: &ApiClient, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let first = Request::get("api/example/microsoft-atp");
        let items =
            paging::collect(client.api.as_ref(), &mut ctx.integration_context, first, Paging::TopSkip { top: 2 }, Some(self.limit))
                .await?;
        let md = Table::new("Microsoft Defender for Endpoint items", Value::Array(items.clone())).headers(["id", "name"]).render()?;
        Results {
            readable: Some(md),
            prefix: Some("MicrosoftAtp.Item"),
            key_field: Some("id"),
            outputs: Some(Value::Array(items.clone())),
            raw: Some(Value::Array(items)),
        }
        .outcome()
    }
}
