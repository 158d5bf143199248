//! A TLS client that trusts the emulator's generated test CA (and nothing else), shared by the
//! server tests and the token-rate benchmark (`#[path]`-included by both).

use std::path::Path;
use std::sync::Arc;

/// A client configuration whose only root is the PEM certificate(s) in `ca`.
pub fn config_trusting(ca: &Path) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A connector with [`config_trusting`]'s configuration.
pub fn connector_trusting(ca: &Path) -> tokio_rustls::TlsConnector {
    tokio_rustls::TlsConnector::from(Arc::new(config_trusting(ca)))
}
