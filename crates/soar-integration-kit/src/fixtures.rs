//! Test fixtures shared by this crate's unit tests: an auth spec with one flow and the
//! params that select it.

use soar_auth::{ApiKind, AuthFlow, AuthSpec};
use soar_protocol::{ParamValue, Params};

/// A client-secret-only integration whose primary API is Graph.
pub static SPEC: AuthSpec = AuthSpec {
    prefix: "kit-test",
    flows: &[AuthFlow::ClientSecret],
    oproxy_app_name: "",
    resource: ApiKind::Graph,
    scopes: &[],
    ..AuthSpec::DEFAULT
};

/// Client-secret params, plus `extra` pairs.
pub fn params(extra: &[(&str, &str)]) -> Params {
    let base = [("auth_id", "cid"), ("tenant_id", "tid"), ("enc_key", "sec")];
    Params::from_pairs(base.iter().chain(extra).map(|(k, v)| (*k, ParamValue::Str((*v).to_owned()))))
}
