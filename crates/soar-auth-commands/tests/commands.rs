//! The generic auth commands: which exist per declared flows, the reference's wording
//! (reset, login URL, test-module per flow), and device-code start/complete end to end
//! against the scripted transport.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use serde_json::{Value, json};
use soar_auth::http::{HttpConfig, HttpResponse};
use soar_auth::testing::{self, FakeTime, MockTransport};
use soar_auth::{AuthFlow, AuthSpec, Shared};
use soar_auth_commands::{RESET_MESSAGE, auth_commands, test_module};
use soar_core::{Command, CommandContext, Error};
use soar_protocol::{IntegrationContext, Object, ParamValue, Params};

static ALL: AuthSpec = AuthSpec { prefix: "azure-ks", ..AuthSpec::DEFAULT };
static CC_ONLY: AuthSpec = AuthSpec {
    prefix: "azure-sentinel",
    flows: &[AuthFlow::ClientSecret, AuthFlow::ManagedIdentity],
    ..AuthSpec::DEFAULT
};

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().map(|(k, v)| (*k, ParamValue::Str((*v).to_owned()))))
}

fn rig() -> (Arc<MockTransport>, Arc<FakeTime>, Arc<Shared>) {
    let http = MockTransport::new();
    let time = FakeTime::at(1000.0);
    let shared = testing::shared(http.clone(), time.clone(), HttpConfig::default());
    (http, time, shared)
}

fn find(cmds: &[Box<dyn Command>], name: &str) -> usize {
    cmds.iter().position(|c| c.name() == name).unwrap_or_else(|| panic!("no command {name}"))
}

/// What a person reads: HumanReadable when there is one, else the Contents.
fn text(o: &soar_core::Outcome) -> String {
    let e = &o.entries[0];
    e.human_readable.as_str().or(e.contents.as_str()).unwrap_or_default().to_owned()
}

/// The entry's shape as the reference builds it: `CommandResults(readable_output=..)` is a
/// Type 1 `json` entry with null Contents and the text in HumanReadable; a bare string
/// (`return_results('✅ Success!')`) is a Type 1 `text` entry with the text in Contents.
fn check_shape(o: &soar_core::Outcome, readable: bool) {
    let e = &o.entries[0];
    assert_eq!(e.entry_type, 1);
    if readable {
        assert_eq!((e.contents_format.as_str(), &e.contents), ("json", &Value::Null), "{e:?}");
        assert!(e.human_readable.is_string(), "{e:?}");
    } else {
        assert_eq!((e.contents_format.as_str(), &e.human_readable), ("text", &Value::Null), "{e:?}");
        assert!(e.contents.is_string(), "{e:?}");
    }
}

#[test]
fn commands_follow_the_declared_flows() {
    let (_, _, shared) = rig();
    let names = |spec: &'static AuthSpec| {
        auth_commands(spec, shared.clone()).iter().map(|c| c.name().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(
        names(&ALL),
        [
            "azure-ks-auth-start",
            "azure-ks-auth-complete",
            "azure-ks-auth-test",
            "azure-ks-auth-reset",
            "azure-ks-generate-login-url"
        ]
    );
    assert_eq!(names(&CC_ONLY), ["azure-sentinel-auth-test", "azure-sentinel-auth-reset"]);
}

#[tokio::test]
async fn reset_clears_the_context_with_the_reference_text() {
    let (_, _, shared) = rig();
    let cmds = auth_commands(&ALL, shared);
    let mut ctx = CommandContext::new("azure-ks-auth-reset", Object::new(), params(&[]));
    ctx.integration_context =
        IntegrationContext::new(json!({"access_token": "t", "valid_until": 5}).as_object().cloned().unwrap());
    let out = cmds[find(&cmds, "azure-ks-auth-reset")].run(&mut ctx).await.unwrap();
    assert_eq!(text(&out), RESET_MESSAGE);
    check_shape(&out, true);
    assert_eq!(
        RESET_MESSAGE,
        "Authorization was reset successfully. Please regenerate the credentials, and then click **Test** to validate the credentials and connection."
    );
    assert!(ctx.integration_context.data().is_empty());
    assert!(ctx.integration_context.changed());
}

#[tokio::test]
async fn generate_login_url_output() {
    let (_, _, shared) = rig();
    let cmds = auth_commands(&ALL, shared);
    let p = params(&[
        ("auth_type", "Authorization Code"),
        ("auth_id", "dummy_client"),
        ("tenant_id", "dummy_tenant"),
        ("enc_key", "s"),
        ("redirect_uri", "https://localhost/myapp"),
    ]);
    let mut ctx = CommandContext::new("azure-ks-generate-login-url", Object::new(), p.clone());
    let out = cmds[find(&cmds, "azure-ks-generate-login-url")].run(&mut ctx).await.unwrap();
    let t = text(&out);
    check_shape(&out, true);
    assert!(t.starts_with("### Authorization instructions\n1. Click on the [login URL]("));
    // The reference's text ends with a newline and a space.
    assert!(t.ends_with("under the **Authorization code** parameter.\n "), "{t:?}");
    assert!(t.contains("[login URL](https://login.microsoftonline.com/dummy_tenant/oauth2/v2.0/authorize?response_type=code&scope=offline_access%20https://graph.microsoft.com/.default&client_id=dummy_client&redirect_uri=https://localhost/myapp)"), "{t}");
    assert!(!ctx.integration_context.changed());

    // `prompt=consent` (the hint for "Missing scope permissions") adds `&prompt=consent`; an
    // unknown value is refused naming the argument.
    let mut args = Object::new();
    args.insert("prompt".into(), Value::String("consent".into()));
    let mut ctx = CommandContext::new("azure-ks-generate-login-url", args, p.clone());
    let out = cmds[find(&cmds, "azure-ks-generate-login-url")].run(&mut ctx).await.unwrap();
    assert!(text(&out).contains("&redirect_uri=https://localhost/myapp&prompt=consent)"), "{}", text(&out));
    let mut args = Object::new();
    args.insert("prompt".into(), Value::String("always".into()));
    let mut ctx = CommandContext::new("azure-ks-generate-login-url", args, p);
    let e = cmds[find(&cmds, "azure-ks-generate-login-url")].run(&mut ctx).await.unwrap_err().to_string();
    assert!(e.starts_with("Invalid value for argument prompt: \"always\" is not one of consent"), "{e}");
}

#[tokio::test]
async fn test_module_per_flow() {
    let (http, _, shared) = rig();
    // (params, Ok(entry text) or Err(error text))
    type Case<'a> = (&'a [(&'a str, &'a str)], Result<&'a str, &'a str>);
    let cases: [Case; 3] = [
        (
            &[("auth_type", "Device Code"), ("auth_id", "c")],
            Err(
                "When using device code flow configuration, Please enable the integration and run `!azure-ks-auth-start` and `!azure-ks-auth-complete` to log in. You can validate the connection by running `!azure-ks-auth-test`\nFor more details, see the authentication steps in the integration's help (the instance's Help tab, or its README).",
            ),
        ),
        (
            &[
                ("auth_type", "Authorization Code"),
                ("auth_id", "c"),
                ("tenant_id", "t"),
                ("redirect_uri", "https://x"),
                ("enc_key", "s"),
            ],
            Err(
                "When using user auth flow configuration, Please enable the integration and run the !azure-ks-auth-test command in order to test it",
            ),
        ),
        (
            &[("auth_type", "Client Credentials"), ("auth_id", "c"), ("tenant_id", "t"), ("enc_key", "s")],
            Ok("ok"),
        ),
    ];
    for (p, want) in cases {
        http.respond(HttpResponse::json(200, &json!({"access_token": "tok", "expires_in": 3600})));
        let mut ctx = CommandContext::new("test-module", Object::new(), params(p));
        let got = test_module(&ALL, &shared, &mut ctx).await;
        match (got, want) {
            (Ok(o), Ok(w)) => assert_eq!(o.entries[0].contents, Value::String(w.into())),
            (Err(Error::Command(m)), Err(w)) => assert_eq!(m, w),
            (other, w) => panic!("{p:?}: {other:?} vs {w:?}"),
        }
    }
}

#[tokio::test]
async fn undeclared_flow_is_refused_naming_supported_ones() {
    let (_, _, shared) = rig();
    let mut ctx = CommandContext::new(
        "test-module",
        Object::new(),
        params(&[("auth_type", "Device Code"), ("auth_id", "c")]),
    );
    let e = test_module(&CC_ONLY, &shared, &mut ctx).await.unwrap_err().to_string();
    assert!(e.contains("Supported flows: Client credentials (secret), Azure managed identities."), "{e}");
}

#[tokio::test]
async fn device_start_and_complete() {
    let (http, time, shared) = rig();
    let cmds = auth_commands(&ALL, shared);
    let p = params(&[("auth_type", "Device Code"), ("auth_id", "c")]);
    http.respond(HttpResponse::json(200, &json!({"user_code": "ABC123", "device_code": "dc", "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 5, "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code ABC123 to authenticate."})));
    let mut ctx = CommandContext::new("azure-ks-auth-start", Object::new(), p.clone());
    let out = cmds[find(&cmds, "azure-ks-auth-start")].run(&mut ctx).await.unwrap();
    let t = text(&out);
    check_shape(&out, true);
    assert!(t.starts_with("### Authorization instructions\n1. To sign in, use a web browser to open the page [https://microsoft.com/devicelogin](https://microsoft.com/devicelogin)\nand enter the code **ABC123** to authenticate.\n2. Run the **!azure-ks-auth-complete** command in the War Room."), "{t}");
    assert!(t.contains("shown only here"));
    assert!(
        !serde_json::to_string(ctx.integration_context.data()).unwrap().contains("ABC123"),
        "the user code is not stored"
    );

    http.respond(HttpResponse::json(400, &json!({"error": "authorization_pending"})));
    http.respond(HttpResponse::json(
        200,
        &json!({"access_token": "tok", "expires_in": 3600, "refresh_token": "rt"}),
    ));
    let mut args = Object::new();
    args.insert("timeout".into(), Value::String("30".into()));
    let mut ctx2 = CommandContext::new("azure-ks-auth-complete", args, p);
    ctx2.integration_context = ctx.integration_context.clone();
    let out = cmds[find(&cmds, "azure-ks-auth-complete")].run(&mut ctx2).await.unwrap();
    assert_eq!(text(&out), "✅ Authorization completed successfully.");
    check_shape(&out, false);
    assert_eq!(time.sleeps().len(), 1);
    assert_eq!(ctx2.integration_context.get("current_refresh_token"), Some(&json!("rt")));

    let mut bad = Object::new();
    bad.insert("timeout".into(), Value::String("forever".into()));
    let mut ctx3 = CommandContext::new(
        "azure-ks-auth-complete",
        bad,
        params(&[("auth_type", "Device Code"), ("auth_id", "c")]),
    );
    let e = cmds[find(&cmds, "azure-ks-auth-complete")].run(&mut ctx3).await.unwrap_err().to_string();
    assert!(e.contains("timeout") && e.contains("forever"), "{e}");
}
