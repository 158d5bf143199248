//! The instance help of a Microsoft integration (the XSOAR YAML's `detaileddescription`),
//! written from what the integration declares: its `AuthSpec` (flows, prefix, the Cortex
//! application's name, the param keys it reads) and its instance params (their labels).
//!
//! Only the flows the integration supports are described, and only the fields it declares are
//! named (by their label, with the key in backticks), so the text cannot point at a field or a
//! command that does not exist. How a flow is picked follows `soar_auth::MsClient::from_params`:
//! the auth-type select when the integration has one, else the checkboxes.

use std::fmt::Write as _;

use soar_auth::{AuthFlow, AuthSpec, ParamRef};
use soar_core::ParamSpec;

/// The Cortex application's consent page for `app` (`oproxy_app_name`).
pub fn consent_link(app: &str) -> String {
    format!("https://oproxy.demisto.ninja/{app}")
}

/// Markdown a person follows to configure an instance: one section per supported flow (which
/// fields to fill, which commands finish the sign-in), national clouds, and what to run after
/// a permission change.
pub fn detailed_description(spec: &AuthSpec, params: &[ParamSpec]) -> String {
    let h = Help { spec, params };
    let mut out = String::new();
    let names: Vec<&str> = spec.flows.iter().map(|f| f.display_name()).collect();
    let _ = writeln!(out, "### Authentication\n");
    let _ = writeln!(
        out,
        "This integration signs in to Microsoft with one of these flows: {}. Each section below \
         says which instance fields that flow needs; leave the fields of the other flows empty.",
        names.join(", ")
    );
    if let Some(select) = h.auth_type_param() {
        let _ = writeln!(out, "\nThe flow is chosen with {}.", label(select));
    }
    if let Some(id) = h.default_client() {
        out.push('\n');
        h.default_client_section(id, &mut out);
    }
    for flow in spec.flows {
        out.push('\n');
        h.flow_section(*flow, &mut out);
    }
    h.clouds(&mut out);
    h.troubleshooting(&mut out);
    let _ = writeln!(out, "\n### After a permission change\n");
    let _ = writeln!(
        out,
        "Tokens are kept between runs. After you grant or remove a permission (or change the \
         instance's credentials), run `!{}-auth-reset` so that the next command signs in again \
         and gets a token with the new permissions.",
        spec.prefix
    );
    if spec.supports(AuthFlow::DeviceCode) {
        let _ = writeln!(
            out,
            "Under device code, the reset also drops the user's sign-in: run `!{0}-auth-start` and \
             `!{0}-auth-complete` again.",
            spec.prefix
        );
    }
    if spec.supports(AuthFlow::AuthorizationCode) {
        let _ = writeln!(
            out,
            "Under authorization code, an authorization code works only once: run \
             `!{}-generate-login-url` again and paste the new code.",
            spec.prefix
        );
    }
    out
}

struct Help<'a> {
    spec: &'a AuthSpec,
    params: &'a [ParamSpec],
}

fn label(p: &ParamSpec) -> String {
    let shown = if p.display.is_empty() { p.name } else { p.display };
    format!("**{shown}** (`{}`)", p.name)
}

impl Help<'_> {
    /// The Cortex XSOAR application of a row whose Cortex app is a Palo Alto public client used
    /// with device code (the seed's table, `CortexApp::DefaultClient`), when this integration
    /// declares device code and its client-id field defaults to that application.
    fn default_client(&self) -> Option<&'static str> {
        let row = soar_auth::matrix::row(self.spec.prefix)?;
        let id = row.default_client_id?;
        let defaulted = self
            .spec
            .param_names
            .client_id
            .iter()
            .filter_map(|r| self.param(r.key()))
            .any(|p| p.default == Some(id));
        (matches!(row.cortex_app, soar_auth::CortexApp::DefaultClient)
            && self.spec.supports(AuthFlow::DeviceCode)
            && defaulted)
            .then_some(id)
    }

    fn default_client_section(&self, id: &str, out: &mut String) {
        let p = self.spec.prefix;
        let _ = writeln!(
            out,
            "#### {}
",
            AuthFlow::CortexApp.display_name()
        );
        let _ = writeln!(
            out,
            "No Azure application of your own is needed: the Cortex XSOAR application (`{id}`), a \
             public client Palo Alto Networks registers, signs a user in with the device code flow.\n"
        );
        let mut steps: Vec<String> = Vec::new();
        if let Some(f) = self.field(self.spec.param_names.client_id) {
            steps.push(format!("Leave {f} at its default, `{id}`."));
        }
        steps.extend(self.select_step(AuthFlow::DeviceCode));
        steps.push(format!(
            "Save the instance and run `!{p}-auth-start`. Open the page it names, enter the code it \
             shows and sign in; the first sign-in asks you (or an administrator, where the tenant \
             requires it) to consent to the application."
        ));
        steps.push(format!("Run `!{p}-auth-complete` to receive the tokens; `!{p}-auth-test` checks them."));
        for (i, step) in steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {step}", i + 1);
        }
    }

    /// The errors people meet while setting up, and the next step for each (the product says
    /// the same in the error itself, see `crate::hints`).
    fn troubleshooting(&self, out: &mut String) {
        let p = self.spec.prefix;
        let n = &self.spec.param_names;
        let mut items: Vec<String> = Vec::new();
        if self.spec.supports(AuthFlow::CortexApp) && self.param(n.self_deployed).is_some() {
            items.push(format!(
                "\"The Key is not valid base64\": the instance holds your own application's client \
                 secret but {} is not ticked, so it went to the Cortex OAuth proxy. Tick it.",
                self.checkbox(n.self_deployed).unwrap_or_default()
            ));
        }
        items.push(format!(
            "403 \"Insufficient privileges to complete the operation\": the token lacks the permission \
             the command needs; the error names it and whether the flow takes it as an application or \
             a delegated permission. Grant it, then run `!{p}-auth-reset`."
        ));
        if self.spec.supports(AuthFlow::AuthorizationCode) {
            items.push(format!(
                "403 \"Missing scope permissions on the request. API requires one of ...\": the user \
                 never consented to that scope. Run `!{p}-auth-reset`, then `!{p}-generate-login-url \
                 prompt=consent`, sign in again and paste the new code."
            ));
        }
        if self.spec.supports(AuthFlow::ManagedIdentity) {
            items.push(
                "\"Error in Microsoft authorization with Azure Managed Identities\" naming an endpoint \
                 that did not answer: managed identities work only on an Azure virtual machine, App \
                 Service or container with an identity assigned."
                    .to_owned(),
            );
        }
        let _ = writeln!(out, "\n### Troubleshooting\n");
        for item in items {
            let _ = writeln!(out, "- {item}");
        }
    }

    fn param(&self, key: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.name == key)
    }

    /// The first declared param among `refs`, named for a person; for a credentials param
    /// whose both halves carry values, says which half.
    fn field(&self, refs: &[ParamRef]) -> Option<String> {
        refs.iter().find_map(|r| {
            let p = self.param(r.key())?;
            let both_halves =
                [self.spec.param_names.certificate_thumbprint, self.spec.param_names.private_key]
                    .iter()
                    .flat_map(|refs| refs.iter())
                    .filter(|o| o.key() == r.key())
                    .count()
                    > 1;
            Some(match r {
                ParamRef::Identifier(_) => format!("{} (the user name box)", label(p)),
                ParamRef::Password(_) if both_halves => format!("{} (the password box)", label(p)),
                _ => label(p),
            })
        })
    }

    fn auth_type_param(&self) -> Option<&ParamSpec> {
        self.spec.param_names.auth_type.iter().find_map(|k| self.param(k)).filter(|p| !p.options.is_empty())
    }

    /// The option of the auth-type select that picks `flow`.
    fn auth_type_option(&self, flow: AuthFlow) -> Option<&'static str> {
        let select = self.auth_type_param()?;
        select.options.iter().copied().find(|o| {
            let o = o.to_ascii_lowercase();
            match flow {
                AuthFlow::ClientSecret | AuthFlow::ClientCertificate => o.contains("client credentials"),
                AuthFlow::AuthorizationCode => o.contains("authorization code"),
                AuthFlow::DeviceCode => o.contains("device code"),
                AuthFlow::ManagedIdentity => o.contains("managed identit"),
                AuthFlow::CortexApp => o.contains("cortex"),
            }
        })
    }

    fn checkbox(&self, key: &str) -> Option<String> {
        self.param(key).map(label)
    }

    /// The step that selects `flow`, when the integration has a switch for it.
    fn select_step(&self, flow: AuthFlow) -> Option<String> {
        let n = &self.spec.param_names;
        if let (Some(select), Some(option)) = (self.auth_type_param(), self.auth_type_option(flow)) {
            return Some(format!("Set {} to `{option}`.", label(select)));
        }
        match flow {
            AuthFlow::CortexApp => self.checkbox(n.self_deployed).map(|c| format!("Leave {c} unticked.")),
            AuthFlow::ManagedIdentity => {
                self.checkbox(n.use_managed_identities).map(|c| format!("Tick {c}."))
            }
            _ if self.spec.supports(AuthFlow::CortexApp) => {
                self.checkbox(n.self_deployed).map(|c| format!("Tick {c}."))
            }
            _ => None,
        }
    }

    fn fill_step(&self, fields: &[Option<String>]) -> Option<String> {
        let named: Vec<&str> = fields.iter().flatten().map(String::as_str).collect();
        (!named.is_empty()).then(|| format!("Fill {}.", join(&named)))
    }

    fn flow_section(&self, flow: AuthFlow, out: &mut String) {
        let n = &self.spec.param_names;
        let p = self.spec.prefix;
        let mut steps: Vec<String> = Vec::new();
        let _ = writeln!(out, "#### {}\n", flow.display_name());
        match flow {
            AuthFlow::CortexApp => {
                let link = consent_link(self.spec.oproxy_app_name);
                let _ = writeln!(
                    out,
                    "No Azure application of your own is needed: the Cortex XSOAR application, \
                     reached through Cortex's OAuth proxy, asks Microsoft for the tokens.\n"
                );
                steps.push(format!(
                    "Open [{link}]({link}) and sign in with an account that may consent for your \
                     organization (an administrator for application permissions); accept the \
                     permissions the application asks for."
                ));
                steps.push(
                    "The page then shows three values: an ID, a Token and a Key. Keep them secret."
                        .to_owned(),
                );
                steps.extend(self.fill_step(&[
                    self.field(n.client_id).map(|f| format!("{f} with the ID")),
                    self.field(n.tenant_id).map(|f| format!("{f} with the Token")),
                    self.field(n.client_secret).map(|f| format!("{f} with the Key")),
                ]));
                steps.extend(self.select_step(flow));
            }
            AuthFlow::ClientSecret | AuthFlow::ClientCertificate => {
                let _ = writeln!(
                    out,
                    "Your own application registration signs in as itself (application \
                     permissions, no user).\n"
                );
                steps.push(
                    "In the Azure portal, register an application (Microsoft Entra ID > App \
                     registrations), add the application permissions the commands need, and grant \
                     admin consent for them."
                        .to_owned(),
                );
                if flow == AuthFlow::ClientSecret {
                    steps.push("Create a client secret for it (Certificates & secrets).".to_owned());
                    steps.extend(self.fill_step(&[
                        self.field(n.tenant_id).map(|f| format!("{f} with the directory (tenant) id")),
                        self.field(n.client_id).map(|f| format!("{f} with the application (client) id")),
                        self.field(n.client_secret).map(|f| format!("{f} with the secret's value")),
                    ]));
                } else {
                    steps.push(
                        "Upload a certificate to it (Certificates & secrets) and keep its private \
                         key in PEM form."
                            .to_owned(),
                    );
                    steps.extend(
                        self.fill_step(&[
                            self.field(n.tenant_id).map(|f| format!("{f} with the directory (tenant) id")),
                            self.field(n.client_id).map(|f| format!("{f} with the application (client) id")),
                            self.field(n.certificate_thumbprint)
                                .map(|f| format!("{f} with the certificate's SHA-1 thumbprint (hex)")),
                            self.field(n.private_key).map(|f| format!("{f} with the PEM private key")),
                        ]),
                    );
                }
                steps.extend(self.select_step(flow));
                steps.push("Click **Test**.".to_owned());
            }
            AuthFlow::AuthorizationCode => {
                let _ = writeln!(
                    out,
                    "Your own application acts for a signed-in user (delegated permissions); the \
                     user signs in once in a browser.\n"
                );
                steps.push(
                    "Register an application with a Web redirect URI (for example \
                     `https://localhost/myapp`), add the delegated permissions the commands need, \
                     and create a client secret."
                        .to_owned(),
                );
                steps.extend(self.fill_step(&[
                    self.field(n.tenant_id).map(|f| format!("{f} with the directory (tenant) id")),
                    self.field(n.client_id).map(|f| format!("{f} with the application (client) id")),
                    self.field(n.client_secret).map(|f| format!("{f} with the secret's value")),
                    self.field(n.redirect_uri).map(|f| format!("{f} with the redirect URI")),
                ]));
                steps.extend(self.select_step(flow));
                steps.push(format!(
                    "Save the instance and run `!{p}-generate-login-url`. Open the link it \
                     returns and sign in; the browser is sent to the redirect URI with \
                     `?code=...` in the address."
                ));
                steps.push(format!(
                    "Copy the value of `code` (without `code=` and without `session_state`) into {} \
                     and save. The next command exchanges it for tokens, which are kept and \
                     refreshed from then on.",
                    self.field(n.auth_code).unwrap_or_else(|| "the authorization code field".to_owned())
                ));
            }
            AuthFlow::DeviceCode => {
                let _ = writeln!(
                    out,
                    "A user signs in on any device with a browser; no secret is stored in the \
                     instance.\n"
                );
                let client = self.field(n.client_id);
                let default_id = n
                    .client_id
                    .iter()
                    .find_map(|r| self.param(r.key()))
                    .and_then(|p| p.default)
                    .map(|d| format!(" (the default, `{d}`, is the Cortex XSOAR application)"))
                    .unwrap_or_default();
                if let Some(client) = client {
                    steps.push(format!(
                        "Put in {client} the client id of an application that allows public client \
                         flows{default_id}."
                    ));
                }
                steps.extend(self.select_step(flow));
                steps.push(format!(
                    "Save the instance and run `!{p}-auth-start`. Open the page it names, enter the \
                     code it shows and sign in."
                ));
                steps.push(format!(
                    "Run `!{p}-auth-complete` to receive the tokens; `!{p}-auth-test` checks them."
                ));
            }
            AuthFlow::ManagedIdentity => {
                let _ = writeln!(
                    out,
                    "Works only when the engine runs on Azure with a managed identity (a virtual \
                     machine, App Service or container with an identity assigned); nothing is \
                     stored in the instance but the identity's client id.\n"
                );
                steps.extend(self.select_step(flow));
                if let Some(f) = self.field(n.managed_identities_client_id) {
                    steps.push(format!(
                        "For a user-assigned identity, put its client id in {f}; leave it empty \
                         for the system-assigned identity."
                    ));
                }
                steps.push(
                    "Give the identity the permissions or roles the commands need, then click \
                     **Test**."
                        .to_owned(),
                );
            }
        }
        for (i, step) in steps.iter().enumerate() {
            let _ = writeln!(out, "{}. {step}", i + 1);
        }
    }

    fn clouds(&self, out: &mut String) {
        let n = &self.spec.param_names;
        let _ = writeln!(out, "\n### National clouds\n");
        match self.param(n.azure_cloud) {
            Some(cloud) => {
                let choices = join(&cloud.options.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>());
                let _ = writeln!(
                    out,
                    "Pick the cloud in {} ({choices}). The sign-in and API hosts follow the cloud; \
                     register the application (or consent) in that cloud's own portal.",
                    label(cloud)
                );
                let server_url = n.graph_url.iter().find_map(|k| self.param(k));
                if let Some(url) = server_url.filter(|_| cloud.default.is_none()) {
                    let _ = writeln!(
                        out,
                        "Left empty, {} decides the Microsoft Graph host (for example \
                         `https://graph.microsoft.us`), as the reference's integrations do; the \
                         sign-in then stays on `login.microsoftonline.com`.",
                        label(url)
                    );
                }
            }
            None => {
                let _ = writeln!(
                    out,
                    "This integration's settings offer the worldwide cloud \
                     (`login.microsoftonline.com`)."
                );
            }
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [rest @ .., last] => {
            format!("{} and {}", rest.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", "), last.as_ref())
        }
    }
}

#[cfg(test)]
mod tests {
    use soar_auth::{ApiKind, ParamNames};

    use super::*;

    static ALL: AuthSpec = AuthSpec {
        prefix: "kit-test",
        flows: &AuthFlow::ALL,
        oproxy_app_name: "ms-kit-test",
        resource: ApiKind::Graph,
        ..AuthSpec::DEFAULT
    };

    static DEVICE_ONLY: AuthSpec = AuthSpec {
        prefix: "kit-dev",
        flows: &[AuthFlow::DeviceCode],
        oproxy_app_name: "",
        param_names: ParamNames { client_id: &[ParamRef::Str("app_id")], ..ParamNames::DEFAULT },
        ..AuthSpec::DEFAULT
    };

    fn p(name: &'static str, display: &'static str) -> ParamSpec {
        ParamSpec { name, display, ..ParamSpec::default() }
    }

    fn graph_params() -> Vec<ParamSpec> {
        vec![
            ParamSpec { options: &["Worldwide", "US GCC"], ..p("azure_cloud", "Azure Cloud") },
            ParamSpec { credentials: true, ..p("creds_auth_id", "ID / Client ID") },
            ParamSpec { credentials: true, ..p("creds_tenant_id", "Token / Tenant ID") },
            ParamSpec { credentials: true, ..p("creds_enc_key", "Key / Client Secret") },
            ParamSpec { credentials: true, ..p("creds_certificate", "Certificate Thumbprint / Private Key") },
            ParamSpec { checkbox: true, ..p("self_deployed", "Use a self-deployed Azure application") },
            p("redirect_uri", "Application redirect URI"),
            ParamSpec { credentials: true, ..p("creds_auth_code", "Authorization code") },
            ParamSpec { checkbox: true, ..p("use_managed_identities", "Use Azure Managed Identities") },
            ParamSpec {
                credentials: true,
                ..p("managed_identities_client_id", "Managed Identities Client ID")
            },
        ]
    }

    #[test]
    fn every_flow_gets_its_fields_commands_and_switch() {
        let text = detailed_description(&ALL, &graph_params());
        for needed in [
            "[https://oproxy.demisto.ninja/ms-kit-test](https://oproxy.demisto.ninja/ms-kit-test)",
            "**ID / Client ID** (`creds_auth_id`) with the ID",
            "**Token / Tenant ID** (`creds_tenant_id`) with the Token",
            "Leave **Use a self-deployed Azure application** (`self_deployed`) unticked.",
            "Tick **Use a self-deployed Azure application** (`self_deployed`).",
            "**Certificate Thumbprint / Private Key** (`creds_certificate`) (the user name box) with the \
             certificate's SHA-1 thumbprint",
            "(`creds_certificate`) (the password box) with the PEM private key",
            "`!kit-test-generate-login-url`",
            "**Authorization code** (`creds_auth_code`)",
            "`!kit-test-auth-start`",
            "`!kit-test-auth-complete`",
            "Tick **Use Azure Managed Identities** (`use_managed_identities`).",
            "virtual machine, App Service or container",
            "**Managed Identities Client ID** (`managed_identities_client_id`)",
            "Pick the cloud in **Azure Cloud** (`azure_cloud`) (`Worldwide` and `US GCC`)",
            "`!kit-test-auth-reset`",
        ] {
            assert!(text.contains(needed), "missing {needed:?} in:\n{text}");
        }
        for flow in AuthFlow::ALL {
            assert!(text.contains(&format!("#### {}\n", flow.display_name())), "{flow:?}");
        }
        // Legacy keys the integration does not declare are never named.
        assert!(!text.contains("`enc_key`") && !text.contains("`auth_id`"), "{text}");
    }

    #[test]
    fn only_the_declared_flows_are_described() {
        let params = vec![
            ParamSpec { default: Some("cortex-app-id"), ..p("app_id", "Application ID") },
            ParamSpec {
                options: &["Client Credentials", "Device Code"],
                ..p("auth_type", "Authentication Type")
            },
        ];
        let text = detailed_description(&DEVICE_ONLY, &params);
        assert!(text.contains("#### Device code\n"), "{text}");
        assert!(text.contains("Set **Authentication Type** (`auth_type`) to `Device Code`."), "{text}");
        assert!(text.contains("(the default, `cortex-app-id`, is the Cortex XSOAR application)"), "{text}");
        assert!(text.contains("`!kit-dev-auth-start`") && text.contains("`!kit-dev-auth-reset`"), "{text}");
        for absent in ["oproxy.demisto.ninja", "generate-login-url", "#### Client credentials", "Managed"] {
            assert!(!text.contains(absent), "{absent:?} in:\n{text}");
        }
        assert!(text.contains("offer the worldwide cloud"), "{text}");
    }

    #[test]
    fn join_reads_as_a_sentence() {
        assert_eq!(join::<&str>(&[]), "");
        assert_eq!(join(&["a"]), "a");
        assert_eq!(join(&["a", "b"]), "a and b");
        assert_eq!(join(&["a", "b", "c"]), "a, b and c");
    }
}
