//! What the emulator-backed tests share: the HTTP configuration that points the auth crate at a
//! running emulator, params builders, and reading a token's claims.

#![allow(dead_code)]

use base64::Engine;
use serde_json::Value;
use soar_auth::http::{HttpConfig, parse_host_map};
use soar_emulator::Emulator;
use soar_protocol::{Credentials, ParamValue, Params, Secret};

/// The auth crate's HTTP configuration for `e`: the clouds' hosts mapped to it, its CA trusted,
/// its OAuth proxy.
pub fn config(e: &Emulator) -> HttpConfig {
    HttpConfig {
        host_map: parse_host_map(&e.host_map()).unwrap(),
        extra_ca_pem: Some(std::fs::read(e.ca_pem_path()).unwrap()),
        imds_endpoint: None,
        identity_endpoint: None,
        oproxy_url: Some(format!("{}/obtain-token", e.https_base())),
    }
}

/// Plain string params.
pub fn p(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().map(|(k, v)| (*k, ParamValue::Str((*v).to_owned()))))
}

/// Adds a credentials param.
pub fn creds(params: &mut Params, key: &str, identifier: &str, password: &str) {
    params.0.insert(
        key.into(),
        ParamValue::Credentials(Credentials {
            identifier: identifier.into(),
            password: Secret::new(password),
        }),
    );
}

/// A JWT's claims (the signature is the emulator's business).
pub fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}
