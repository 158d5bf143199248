//! The instance form's auth fields, generated from the flows an integration declares.
//!
//! An integration says which flows it supports (`AuthSpec::flows`), where it reads each
//! value (`AuthSpec::param_names`, the reference's spellings) and how a person picks the flow
//! ([`AuthForm`]); [`auth_params`] writes the fields, and [`check_auth_params`] tells when a
//! form and the declared flows disagree (a flow whose values no field holds, a field for a flow
//! the integration does not support, a flow select missing a flow).
//!
//! Rules (decisions where the reference forms differ from each other):
//! - a flow needs: Cortex application: client id ("ID"), tenant ("Token"), secret ("Key");
//!   client secret: client id, tenant, secret; certificate: client id, tenant, thumbprint,
//!   private key; authorization code: client id, tenant, secret, the code and the redirect URI;
//!   device code: client id; managed identities: the (optional) user-assigned client id;
//! - each value's first spelling is the field people see, later spellings are the hidden legacy
//!   fields the reference still reads; a spelling read as a credentials half
//!   (`ParamRef::Password`/`Identifier`) is a credentials field (type 9), one field for both
//!   halves;
//! - plain-text spellings of secrets are encrypted fields; so are the client id and tenant of
//!   an integration with the Cortex application, where they are the proxy's "ID" and "Token";
//! - the optional PEM certificate (`ParamNames::certificate`) is not on the form (a soar-rt
//!   extension the reference forms lack); set it in the instance as an extra param;
//! - checkbox pickers (`self_deployed`, `use_managed_identities`) appear only with the flows
//!   they choose; a select picker lists exactly the declared flows;
//! - every form ends with the `insecure` and `proxy` checkboxes.

use soar_auth::{AuthFlow, AuthSpec, CLOUDS, ParamRef};
use soar_core::ParamSpec;

/// How a person picks the flow on the instance form.
#[derive(Debug, Clone, Copy)]
pub enum FlowPicker {
    /// Checkboxes: "self-deployed" (unticked: the Cortex application) and "use managed
    /// identities"; among self-deployed flows, what is filled in decides (a code and redirect
    /// URI: authorization code; a certificate: certificate; else client secret).
    Checkboxes,
    /// A select (`ParamNames::auth_type`, first spelling) listing the declared flows.
    Select {
        /// The flow selected by default.
        default: AuthFlow,
    },
}

/// What an integration says about its form beyond its flows and spellings.
#[derive(Debug, Clone, Copy)]
pub struct AuthForm {
    /// How the flow is picked.
    pub picker: FlowPicker,
    /// Whether the form offers the national clouds (an `azure_cloud` select).
    pub national_clouds: bool,
    /// Labels that differ from the defaults, by param key.
    pub labels: &'static [(&'static str, &'static str)],
    /// Default values, by param key (`""` for `azure_cloud`: no default, see `auth_params`).
    pub defaults: &'static [(&'static str, &'static str)],
}

/// The values a flow needs, in the order the form shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    ClientId,
    TenantId,
    Secret,
    Thumbprint,
    PrivateKey,
    AuthCode,
    RedirectUri,
    ManagedIdentityId,
}

const ORDER: [Value; 8] = [
    Value::ClientId,
    Value::TenantId,
    Value::Secret,
    Value::Thumbprint,
    Value::PrivateKey,
    Value::AuthCode,
    Value::RedirectUri,
    Value::ManagedIdentityId,
];

fn needs(flow: AuthFlow) -> &'static [Value] {
    match flow {
        AuthFlow::CortexApp | AuthFlow::ClientSecret => &[Value::ClientId, Value::TenantId, Value::Secret],
        AuthFlow::ClientCertificate => {
            &[Value::ClientId, Value::TenantId, Value::Thumbprint, Value::PrivateKey]
        }
        AuthFlow::AuthorizationCode => {
            &[Value::ClientId, Value::TenantId, Value::Secret, Value::AuthCode, Value::RedirectUri]
        }
        AuthFlow::DeviceCode => &[Value::ClientId],
        AuthFlow::ManagedIdentity => &[Value::ManagedIdentityId],
    }
}

fn refs(spec: &AuthSpec, v: Value) -> &'static [ParamRef] {
    let n = &spec.param_names;
    match v {
        Value::ClientId => n.client_id,
        Value::TenantId => n.tenant_id,
        Value::Secret => n.client_secret,
        Value::Thumbprint => n.certificate_thumbprint,
        Value::PrivateKey => n.private_key,
        Value::AuthCode => n.auth_code,
        Value::RedirectUri => n.redirect_uri,
        Value::ManagedIdentityId => n.managed_identities_client_id,
    }
}

fn default_label(v: Value, cortex: bool, legacy: bool) -> &'static str {
    match (v, cortex, legacy) {
        (Value::ClientId, true, false) => "ID / Client ID",
        (Value::ClientId, true, true) => "ID (received from the admin consent)",
        (Value::ClientId, false, _) => "Client ID",
        (Value::TenantId, true, false) => "Token / Tenant ID",
        (Value::TenantId, true, true) => "Token (received from the admin consent)",
        (Value::TenantId, false, _) => "Tenant ID",
        (Value::Secret, true, false) => "Key / Client Secret",
        (Value::Secret, true, true) => "Key (received from the admin consent)",
        (Value::Secret, false, _) => "Client Secret",
        (Value::Thumbprint, ..) => "Certificate Thumbprint",
        (Value::PrivateKey, ..) => "Private Key",
        (Value::AuthCode, ..) => "Authorization code",
        (Value::RedirectUri, ..) => "Application redirect URI (for Self Deployed - Authorization Code Flow)",
        (Value::ManagedIdentityId, ..) => "Azure Managed Identities Client ID",
    }
}

fn is_secret(v: Value, cortex: bool) -> bool {
    match v {
        Value::Secret | Value::Thumbprint | Value::PrivateKey | Value::AuthCode => true,
        Value::ClientId | Value::TenantId => cortex,
        Value::RedirectUri | Value::ManagedIdentityId => false,
    }
}

/// The select's word for a flow (what `soar_auth` reads back from `auth_type`).
pub fn select_label(flow: AuthFlow) -> &'static str {
    match flow {
        AuthFlow::CortexApp => "Cortex XSOAR application",
        AuthFlow::ClientSecret | AuthFlow::ClientCertificate => "Client Credentials",
        AuthFlow::AuthorizationCode => "Authorization Code",
        AuthFlow::DeviceCode => "Device Code",
        AuthFlow::ManagedIdentity => "Azure Managed Identities",
    }
}

/// The select's options for `flows`, in the reference's order, without repeats.
fn select_options(flows: &[AuthFlow]) -> Vec<&'static str> {
    let order = [
        AuthFlow::CortexApp,
        AuthFlow::ClientSecret,
        AuthFlow::ClientCertificate,
        AuthFlow::AuthorizationCode,
        AuthFlow::DeviceCode,
        AuthFlow::ManagedIdentity,
    ];
    let mut out: Vec<&'static str> = Vec::new();
    for f in order.iter().filter(|f| flows.contains(f)) {
        let label = select_label(*f);
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// [`select_options`] as a `'static` slice, made once per distinct flow list (a process has
/// one or two), so a long `--serve` process does not grow with requests.
fn select_options_static(flows: &[AuthFlow]) -> &'static [&'static str] {
    type Cache = std::sync::Mutex<Vec<(Vec<&'static str>, &'static [&'static str])>>;
    static CACHE: std::sync::OnceLock<Cache> = std::sync::OnceLock::new();
    let want = select_options(flows);
    let Ok(mut cache) = CACHE.get_or_init(Cache::default).lock() else { return &[] };
    if let Some((_, made)) = cache.iter().find(|(k, _)| *k == want) {
        return made;
    }
    let made: &'static [&'static str] = Box::leak(want.clone().into_boxed_slice());
    cache.push((want, made));
    made
}

/// The `azure_cloud` select's values: the named clouds, then `Custom`.
fn cloud_options() -> &'static [&'static str] {
    static OPTIONS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    OPTIONS.get_or_init(|| CLOUDS.iter().map(|c| c.param_name).chain(["Custom"]).collect())
}

/// The auth fields of the form for `spec`'s flows (see the module docs for the rules).
pub fn auth_params(spec: &AuthSpec, form: &AuthForm) -> Vec<ParamSpec> {
    let cortex = spec.supports(AuthFlow::CortexApp);
    let n = &spec.param_names;
    let label = |key: &'static str, default: &'static str| {
        form.labels.iter().find(|(k, _)| *k == key).map_or(default, |(_, l)| *l)
    };
    let default_of = |key: &'static str| form.defaults.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let checkbox = |key: &'static str, display: &'static str| ParamSpec {
        name: key,
        display: label(key, display),
        default: default_of(key),
        checkbox: true,
        ..ParamSpec::default()
    };
    let mut out: Vec<ParamSpec> = Vec::new();
    if form.national_clouds {
        out.push(ParamSpec {
            name: n.azure_cloud,
            display: label(n.azure_cloud, "Azure Cloud"),
            // An empty default means none: the instance then has no `azure_cloud`, and the
            // reference's `get_azure_cloud` reads the Server URL params instead.
            default: default_of(n.azure_cloud).or(Some("Worldwide")).filter(|d| !d.is_empty()),
            options: cloud_options(),
            ..ParamSpec::default()
        });
    }
    if let FlowPicker::Select { default } = form.picker
        && let Some(key) = n.auth_type.first()
    {
        let options = select_options_static(spec.flows);
        out.push(ParamSpec {
            name: key,
            display: label(key, "Authentication Type"),
            required: true,
            default: Some(select_label(default)),
            options,
            ..ParamSpec::default()
        });
    }
    let needed: Vec<Value> =
        ORDER.into_iter().filter(|v| spec.flows.iter().any(|f| needs(*f).contains(v))).collect();
    for v in &needed {
        // The self-deployed box comes before the self-deployed-only fields it unlocks.
        if *v == Value::Thumbprint || (*v == Value::AuthCode && !needed.contains(&Value::Thumbprint)) {
            push_self_deployed(spec, form, &mut out, &checkbox);
        }
        if *v == Value::ManagedIdentityId && matches!(form.picker, FlowPicker::Checkboxes) {
            out.push(checkbox(n.use_managed_identities, "Use Azure Managed Identities"));
        }
        for (i, r) in refs(spec, *v).iter().enumerate() {
            let key = r.key();
            if out.iter().any(|p| p.name == key) {
                continue;
            }
            let credentials = !matches!(r, ParamRef::Str(_));
            // A credentials field holding the thumbprint and the key is one field: its label.
            let shown = if credentials && *v == Value::Thumbprint {
                "Certificate Thumbprint / Private Key"
            } else {
                default_label(*v, cortex, i > 0)
            };
            out.push(ParamSpec {
                name: key,
                display: label(key, shown),
                default: default_of(key),
                secret: !credentials && is_secret(*v, cortex),
                credentials,
                hidden: i > 0,
                ..ParamSpec::default()
            });
        }
    }
    push_self_deployed(spec, form, &mut out, &checkbox);
    out.push(ParamSpec {
        default: Some("false"),
        hidden: true,
        ..checkbox(n.insecure, "Trust any certificate (not secure)")
    });
    out.push(ParamSpec {
        default: Some("false"),
        hidden: true,
        ..checkbox(n.proxy, "Use system proxy settings")
    });
    out
}

fn push_self_deployed(
    spec: &AuthSpec,
    form: &AuthForm,
    out: &mut Vec<ParamSpec>,
    checkbox: &dyn Fn(&'static str, &'static str) -> ParamSpec,
) {
    let key = spec.param_names.self_deployed;
    let wanted = matches!(form.picker, FlowPicker::Checkboxes)
        && spec.supports(AuthFlow::CortexApp)
        && spec.flows.iter().any(|f| *f != AuthFlow::CortexApp && *f != AuthFlow::ManagedIdentity);
    if wanted && !out.iter().any(|p| p.name == key) {
        out.push(checkbox(key, "Use a self-deployed Azure application"));
    }
}

/// Where `form`'s fields and `spec`'s flows disagree, one sentence each (empty: they agree).
pub fn check_auth_params(spec: &AuthSpec, form: &AuthForm, params: &[ParamSpec]) -> Vec<String> {
    let mut problems = Vec::new();
    let has = |key: &str| params.iter().find(|p| p.name == key);
    for flow in spec.flows {
        for v in needs(*flow) {
            let found = refs(spec, *v)
                .iter()
                .any(|r| has(r.key()).is_some_and(|p| p.credentials == !matches!(r, ParamRef::Str(_))));
            if !found {
                let keys: Vec<&str> = refs(spec, *v).iter().map(|r| r.key()).collect();
                problems.push(format!(
                    "the flow '{}' needs {v:?}, but the form has none of its fields ({})",
                    flow.display_name(),
                    keys.join(", ")
                ));
            }
        }
    }
    let n = &spec.param_names;
    let every_needed: Vec<Value> =
        ORDER.into_iter().filter(|v| spec.flows.iter().any(|f| needs(*f).contains(v))).collect();
    for v in ORDER.iter().filter(|v| !every_needed.contains(v)) {
        for r in refs(spec, *v) {
            // Keys shared with a needed value (e.g. a credentials field holding two values) are fine.
            let shared = every_needed.iter().any(|w| refs(spec, *w).iter().any(|s| s.key() == r.key()));
            if has(r.key()).is_some() && !shared {
                problems.push(format!(
                    "the field '{}' holds {v:?}, which none of the declared flows ({}) uses",
                    r.key(),
                    spec.supported_names()
                ));
            }
        }
    }
    let checks = [
        (n.use_managed_identities, spec.supports(AuthFlow::ManagedIdentity), "Azure managed identities"),
        (n.self_deployed, spec.supports(AuthFlow::CortexApp), "the Cortex XSOAR application"),
    ];
    if matches!(form.picker, FlowPicker::Checkboxes) {
        for (key, supported, what) in checks {
            if has(key).is_some() && !supported {
                problems.push(format!(
                    "the checkbox '{key}' picks {what}, which the integration does not declare"
                ));
            }
        }
        if spec.supports(AuthFlow::ManagedIdentity) && has(n.use_managed_identities).is_none() {
            problems.push(format!(
                "Azure managed identities are declared but the form has no '{}' checkbox",
                n.use_managed_identities
            ));
        }
    }
    if let FlowPicker::Select { default } = form.picker {
        let key = n.auth_type.first().copied().unwrap_or("auth_type");
        match has(key) {
            None => {
                problems.push(format!("the flows are picked by a select, but the form has no '{key}' field"))
            }
            Some(p) => {
                let want = select_options(spec.flows);
                if p.options != want.as_slice() {
                    problems.push(format!(
                        "the '{key}' select offers {:?}, but the declared flows are {want:?}",
                        p.options
                    ));
                }
                if !spec.supports(default) {
                    problems.push(format!("the default flow '{}' is not declared", default.display_name()));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use soar_auth::{ApiKind, ParamNames};

    use super::*;

    const CHECKBOXES: AuthForm =
        AuthForm { picker: FlowPicker::Checkboxes, national_clouds: false, labels: &[], defaults: &[] };

    fn spec(flows: &'static [AuthFlow], names: ParamNames) -> AuthSpec {
        AuthSpec {
            prefix: "kit-test",
            flows,
            oproxy_app_name: "kit",
            resource: ApiKind::Graph,
            param_names: names,
            ..AuthSpec::DEFAULT
        }
    }

    fn names(params: &[ParamSpec]) -> Vec<&str> {
        params.iter().map(|p| p.name).collect()
    }

    /// (flows, the fields generated): each flow brings its values' fields and pickers, and no
    /// other.
    #[test]
    fn fields_follow_the_declared_flows() {
        let n = ParamNames {
            client_id: &[ParamRef::Password("creds_auth_id"), ParamRef::Str("auth_id")],
            tenant_id: &[ParamRef::Password("creds_tenant_id")],
            client_secret: &[ParamRef::Password("creds_enc_key")],
            auth_code: &[ParamRef::Password("creds_auth_code")],
            ..ParamNames::DEFAULT
        };
        let cases: [(&'static [AuthFlow], &[&str]); 4] = [
            (
                &[AuthFlow::ClientSecret],
                &["creds_auth_id", "auth_id", "creds_tenant_id", "creds_enc_key", "insecure", "proxy"],
            ),
            (
                &[AuthFlow::CortexApp, AuthFlow::ClientSecret, AuthFlow::ManagedIdentity],
                &[
                    "creds_auth_id",
                    "auth_id",
                    "creds_tenant_id",
                    "creds_enc_key",
                    "use_managed_identities",
                    "managed_identities_client_id",
                    "self_deployed",
                    "insecure",
                    "proxy",
                ],
            ),
            (&[AuthFlow::DeviceCode], &["creds_auth_id", "auth_id", "insecure", "proxy"]),
            (
                &[AuthFlow::ClientCertificate, AuthFlow::AuthorizationCode],
                &[
                    "creds_auth_id",
                    "auth_id",
                    "creds_tenant_id",
                    "creds_enc_key",
                    "creds_certificate",
                    "certificate_thumbprint",
                    "private_key",
                    "creds_auth_code",
                    "redirect_uri",
                    "insecure",
                    "proxy",
                ],
            ),
        ];
        for (flows, want) in cases {
            let s = spec(flows, n);
            let got = auth_params(&s, &CHECKBOXES);
            assert_eq!(names(&got), want, "{flows:?}");
            assert_eq!(check_auth_params(&s, &CHECKBOXES, &got), Vec::<String>::new(), "{flows:?}");
        }
    }

    #[test]
    fn kinds_labels_and_the_select_picker() {
        let s = spec(
            &[AuthFlow::ClientSecret, AuthFlow::DeviceCode, AuthFlow::ManagedIdentity],
            ParamNames {
                client_id: &[ParamRef::Str("app_id")],
                client_secret: &[ParamRef::Password("credentials")],
                ..ParamNames::DEFAULT
            },
        );
        let form = AuthForm {
            picker: FlowPicker::Select { default: AuthFlow::DeviceCode },
            national_clouds: true,
            labels: &[("app_id", "Application ID")],
            defaults: &[("app_id", "some-app")],
        };
        let got = auth_params(&s, &form);
        let get = |k: &str| got.iter().find(|p| p.name == k).unwrap();
        assert_eq!(
            get("auth_type").options,
            ["Client Credentials", "Device Code", "Azure Managed Identities"]
        );
        assert_eq!(get("auth_type").default, Some("Device Code"));
        assert_eq!(get("azure_cloud").options.last(), Some(&"Custom"));
        assert_eq!((get("app_id").display, get("app_id").default), ("Application ID", Some("some-app")));
        assert!(get("credentials").credentials && !get("credentials").secret);
        assert!(get("insecure").checkbox && get("proxy").hidden);
        assert!(
            got.iter().all(|p| p.name != "use_managed_identities"),
            "the select picks managed identities"
        );
        assert!(check_auth_params(&s, &form, &got).is_empty());
    }

    /// (what is wrong with the form, a word the problem must contain): the check catches each.
    #[test]
    fn disagreements_are_named() {
        let s = spec(
            &[AuthFlow::CortexApp, AuthFlow::ClientSecret, AuthFlow::ManagedIdentity],
            ParamNames::DEFAULT,
        );
        let good = auth_params(&s, &CHECKBOXES);
        let without = |key: &str| good.iter().filter(|p| p.name != key).cloned().collect::<Vec<_>>();
        let mut with_code = good.clone();
        with_code.push(ParamSpec { name: "creds_auth_code", credentials: true, ..ParamSpec::default() });
        let cases = [
            (
                without("creds_enc_key")
                    .into_iter()
                    .filter(|p| p.name != "credentials" && p.name != "enc_key")
                    .collect(),
                "needs Secret",
            ),
            (without("use_managed_identities"), "no 'use_managed_identities' checkbox"),
            (with_code, "none of the declared flows"),
        ];
        for (params, want) in cases {
            let problems = check_auth_params(&s, &CHECKBOXES, &params);
            assert!(problems.iter().any(|p| p.contains(want)), "{want}: {problems:?}");
        }
        let no_mi = spec(&[AuthFlow::ClientSecret], ParamNames::DEFAULT);
        let problems = check_auth_params(&no_mi, &CHECKBOXES, &good);
        assert!(problems.iter().any(|p| p.contains("'use_managed_identities' picks")), "{problems:?}");
        let select = AuthForm { picker: FlowPicker::Select { default: AuthFlow::DeviceCode }, ..CHECKBOXES };
        let problems = check_auth_params(&no_mi, &select, &auth_params(&no_mi, &CHECKBOXES));
        assert!(problems.iter().any(|p| p.contains("no 'auth_type' field")), "{problems:?}");
    }
}
