//! Troubleshooting hints: what to do next, appended to the errors a person most often meets
//! while setting an instance up (the seed article's troubleshooting section, in the product).
//!
//! Every integration gets them: [`crate::MsIntegration`] runs each command's error through
//! [`add_hint`] with the flow the instance uses and the integration's permission table (given
//! with `.permissions(..)`; without one the hints still name the flow and the reset command).
//! - Graph's 403 "Insufficient privileges to complete the operation": the permission the command
//!   needs (its [`Permission`] row), whether the instance's flow takes it as an application or a
//!   delegated permission, and `<prefix>-auth-reset` after granting it.
//! - A 403 "Missing scope permissions on the request. API requires one of ...": the user never
//!   consented to the scope; sign in again with `<prefix>-generate-login-url prompt=consent`.
//!
//! The other hints live where the failure is known: self-deployed credentials sent to the OAuth
//! proxy and managed identities off Azure are worded by `soar-auth` (`self_deployed_hint`, the
//! managed identity errors).

use soar_auth::{AuthFlow, AuthSpec};
use soar_core::Error;

/// The permissions one command needs, as Microsoft documents them: the application permission
/// (client credentials, managed identities, the Cortex XSOAR application) and the delegated one
/// (authorization code, device code). `None`: that kind of flow cannot run the command.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    /// The command.
    pub command: &'static str,
    /// The application permission, if any works.
    pub application: Option<&'static str>,
    /// The delegated permission, if any works.
    pub delegated: Option<&'static str>,
}

/// True for the flows whose token carries application permissions (no signed-in user). The
/// Cortex XSOAR application's consent grants its application permissions to the tenant.
pub fn is_application_flow(flow: AuthFlow) -> bool {
    matches!(
        flow,
        AuthFlow::ClientSecret
            | AuthFlow::ClientCertificate
            | AuthFlow::ManagedIdentity
            | AuthFlow::CortexApp
    )
}

/// Graph's text for a token without the permission.
pub const INSUFFICIENT_PRIVILEGES: &str = "Insufficient privileges to complete the operation";
/// The text of an API that wants a delegated scope the user never consented to.
pub const MISSING_SCOPE: &str = "Missing scope permissions on the request";

/// `e` with the hint for it, when one applies. `flow` is the instance's flow (`None` when the
/// instance does not say one); `table` the integration's permissions.
pub fn add_hint(
    spec: &AuthSpec,
    table: &[Permission],
    command: &str,
    flow: Option<AuthFlow>,
    e: Error,
) -> Error {
    let said = e.to_string();
    let hint = if e.api_status() == Some(403) && said.contains(INSUFFICIENT_PRIVILEGES) {
        Some(privileges_hint(spec, table.iter().find(|p| p.command == command), command, flow))
    } else if e.api_status() == Some(403) && said.contains(MISSING_SCOPE) {
        Some(consent_hint(spec))
    } else {
        None
    };
    match (hint, e) {
        (None, e) => e,
        (Some(h), Error::Api(mut f)) => {
            f.text = format!("{}\n\n{h}", f.text);
            Error::Api(f)
        }
        (Some(h), e) => Error::Command(format!("{e}\n\n{h}")),
    }
}

/// What to grant for a 403 "Insufficient privileges".
pub fn privileges_hint(
    spec: &AuthSpec,
    row: Option<&Permission>,
    command: &str,
    flow: Option<AuthFlow>,
) -> String {
    let p = spec.prefix;
    let reset = format!("then run `!{p}-auth-reset` so that the next command gets a token with it.");
    let Some(row) = row else {
        return format!(
            "How to fix: the token has no permission for {command}. Grant the permission the command \
             needs to the application (see the integration's help), {reset}"
        );
    };
    let both = match (row.application, row.delegated) {
        (Some(a), Some(d)) if a == d => format!("`{a}` (application or delegated)"),
        (Some(a), Some(d)) => format!("`{a}` (application) or `{d}` (delegated)"),
        (Some(a), None) => format!("`{a}` (application; it does not work with a signed-in user's token)"),
        (None, Some(d)) => format!("`{d}` (delegated: it needs a signed-in user)"),
        (None, None) => "a permission Microsoft does not grant to this kind of token".to_owned(),
    };
    let mut out = format!("How to fix: {command} needs the permission {both}.");
    if let Some(flow) = flow {
        let app = is_application_flow(flow);
        let (needed, kind) =
            if app { (row.application, "application") } else { (row.delegated, "delegated") };
        match needed {
            Some(perm) => out.push_str(&format!(
                " This instance signs in with {} ({kind} permissions): {}, {reset}",
                flow.display_name(),
                if app {
                    format!("add `{perm}` as an application permission and grant admin consent for it")
                } else {
                    format!("add `{perm}` as a delegated permission, consent to it, and sign in with a user whose role allows the action")
                }
            )),
            None => {
                let other: Vec<&str> = spec
                    .flows
                    .iter()
                    .filter(|f| is_application_flow(**f) != app)
                    .map(|f| f.display_name())
                    .collect();
                out.push_str(&format!(
                    " This instance signs in with {} ({kind} permissions), which cannot run it: use {} instead, {reset}",
                    flow.display_name(),
                    if other.is_empty() { "another flow".to_owned() } else { other.join(" or ") }
                ));
            }
        }
    } else {
        out.push_str(&format!(" Grant it, {reset}"));
    }
    out
}

/// What to do for a 403 "Missing scope permissions ... API requires one of ...".
pub fn consent_hint(spec: &AuthSpec) -> String {
    let p = spec.prefix;
    if spec.supports(AuthFlow::AuthorizationCode) {
        format!(
            "How to fix: the signed-in user has not consented to the scope the API asks for. Add it to \
             the application's delegated permissions, run `!{p}-auth-reset`, then `!{p}-generate-login-url \
             prompt=consent` (the link adds `&prompt=consent`, so Microsoft asks for consent again), sign \
             in, and paste the new authorization code."
        )
    } else {
        format!(
            "How to fix: the token lacks the scope the API asks for. Add it to the application's \
             permissions, grant consent, and run `!{p}-auth-reset`."
        )
    }
}

#[cfg(test)]
mod tests {
    use soar_core::ApiFailure;

    use super::*;

    static SPEC: AuthSpec = AuthSpec {
        prefix: "kit-test",
        flows: &[AuthFlow::ClientSecret, AuthFlow::AuthorizationCode],
        ..AuthSpec::DEFAULT
    };
    const TABLE: &[Permission] = &[
        Permission {
            command: "kit-test-list",
            application: Some("User.Read.All"),
            delegated: Some("User.Read.All"),
        },
        Permission {
            command: "kit-test-reset-password",
            application: None,
            delegated: Some("Directory.AccessAsUser.All"),
        },
    ];

    fn forbidden(message: &str) -> Error {
        let body = format!(
            "{{\"error\": {{\"code\": \"Authorization_RequestDenied\", \"message\": \"{message}\"}}}}"
        );
        Error::Api(ApiFailure {
            status: 403,
            headers: Vec::new(),
            text: format!("Error in API call [403] - Forbidden\n{body}"),
            body,
        })
    }

    /// (command, flow, error message, text the answer must contain; `None`: unchanged).
    #[test]
    fn hints_name_the_permission_the_flow_and_the_reset() {
        let denied = "Insufficient privileges to complete the operation.";
        let scope = "Missing scope permissions on the request. API requires one of 'Machine.Read'.";
        let cases: [(&str, Option<AuthFlow>, &str, Option<&str>); 6] = [
            (
                "kit-test-list",
                Some(AuthFlow::ClientSecret),
                denied,
                Some(
                    "add `User.Read.All` as an application permission and grant admin consent for it, then run `!kit-test-auth-reset`",
                ),
            ),
            (
                "kit-test-list",
                Some(AuthFlow::AuthorizationCode),
                denied,
                Some(
                    "signs in with Authorization code (delegated permissions): add `User.Read.All` as a delegated permission",
                ),
            ),
            (
                "kit-test-reset-password",
                Some(AuthFlow::ClientSecret),
                denied,
                Some("which cannot run it: use Authorization code instead, then run `!kit-test-auth-reset`"),
            ),
            (
                "kit-test-other",
                Some(AuthFlow::ClientSecret),
                denied,
                Some("the token has no permission for kit-test-other"),
            ),
            ("kit-test-list", None, scope, Some("`!kit-test-generate-login-url prompt=consent`")),
            ("kit-test-list", Some(AuthFlow::ClientSecret), "Something else", None),
        ];
        for (command, flow, message, want) in cases {
            let before = forbidden(message).to_string();
            let got = add_hint(&SPEC, TABLE, command, flow, forbidden(message));
            assert_eq!(got.api_status(), Some(403), "the error stays an API error");
            let text = got.to_string();
            match want {
                Some(w) => {
                    assert!(text.starts_with(&before), "{text}");
                    assert!(text.contains(w), "{command} {flow:?}: {text}");
                }
                None => assert_eq!(text, before),
            }
        }
    }
}
