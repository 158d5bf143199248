//! Test fixtures shared by this crate's unit tests: an auth spec with one flow, the params
//! that select it, and an integration declaration around it.

use soar_auth::{ApiKind, AuthFlow, AuthSpec};
use soar_protocol::{ParamValue, Params};

use crate::{About, AuthForm, FlowPicker};

/// A client-secret-only integration whose primary API is Graph.
pub static SPEC: AuthSpec = AuthSpec {
    prefix: "kit-test",
    flows: &[AuthFlow::ClientSecret],
    oproxy_app_name: "",
    resource: ApiKind::Graph,
    scopes: &[],
    ..AuthSpec::DEFAULT
};

/// The declarations of the test integration.
pub static ABOUT: About = About {
    spec: &SPEC,
    display_name: "Kit Test",
    description: "Tests the kit.",
    category: "IT Services",
    form: AuthForm { picker: FlowPicker::Checkboxes, national_clouds: false, labels: &[], defaults: &[] },
    params: &[],
    unprefixed_commands: &[],
};

/// Client-secret params, plus `extra` pairs.
pub fn params(extra: &[(&str, &str)]) -> Params {
    let base = [("auth_id", "cid"), ("tenant_id", "tid"), ("enc_key", "sec")];
    Params::from_pairs(base.iter().chain(extra).map(|(k, v)| (*k, ParamValue::Str((*v).to_owned()))))
}
