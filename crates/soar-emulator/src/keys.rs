//! Key material: the token-signing RSA key, the test CA and TLS server certificate, the
//! certificate app's key, and a small RS256/PS256 JWT signer and verifier on top of `ring`.
//!
//! Keys are generated at start (RSA with the `rsa` crate, since `ring` cannot generate RSA keys;
//! certificates with `rcgen`). RSA generation is slow in debug builds, so generated RSA keys are
//! cached for the life of the process: every in-process emulator in a test binary reuses them.

use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, KeyPair as _, RsaKeyPair};
use serde_json::Value;
use sha1::Digest as _;

use crate::Error;

/// base64url without padding, as JOSE uses.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url with or without padding (MSAL Python keeps the `=` on `x5t`).
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// An RSA signing key with its self-signed certificate (published in the JWKS as `x5c`).
pub struct RsaKey {
    pair: RsaKeyPair,
    pkcs8_der: Vec<u8>,
    cert_der: Vec<u8>,
    /// base64url SHA-1 thumbprint of the certificate (`kid` = `x5t`).
    pub x5t: String,
}

impl std::fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaKey").field("x5t", &self.x5t).finish_non_exhaustive()
    }
}

impl RsaKey {
    /// Builds a key from PKCS#8 DER and gives it a self-signed certificate named `subject`.
    pub fn from_pkcs8(pkcs8_der: Vec<u8>, subject: &str) -> Result<RsaKey, Error> {
        let pair = RsaKeyPair::from_pkcs8(&pkcs8_der)
            .map_err(|e| Error::Crypto(format!("the RSA key is not usable for signing: {e}")))?;
        let rc_key = rcgen::KeyPair::try_from(pkcs8_der.as_slice())
            .map_err(|e| Error::Crypto(format!("rcgen could not load the RSA key: {e}")))?;
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| Error::Crypto(e.to_string()))?;
        params.distinguished_name.push(rcgen::DnType::CommonName, subject);
        let cert = params.self_signed(&rc_key).map_err(|e| Error::Crypto(e.to_string()))?;
        let cert_der = cert.der().to_vec();
        let x5t = b64url(&sha1::Sha1::digest(&cert_der));
        Ok(RsaKey { pair, pkcs8_der, cert_der, x5t })
    }

    /// Builds a key from a PKCS#8 key PEM and a certificate PEM (both given by the user).
    pub fn from_pems(key_pem: &str, cert_pem: &str) -> Result<RsaKey, Error> {
        let key_der = pem_block(key_pem, "PRIVATE KEY")
            .ok_or_else(|| Error::Config("the key PEM has no 'PRIVATE KEY' (PKCS#8) block".into()))?;
        let cert_der = pem_block(cert_pem, "CERTIFICATE")
            .ok_or_else(|| Error::Config("the certificate PEM has no 'CERTIFICATE' block".into()))?;
        let pair = RsaKeyPair::from_pkcs8(&key_der)
            .map_err(|e| Error::Config(format!("the key PEM is not an RSA PKCS#8 key: {e}")))?;
        let x5t = b64url(&sha1::Sha1::digest(&cert_der));
        Ok(RsaKey { pair, pkcs8_der: key_der, cert_der, x5t })
    }

    /// PKCS#8 PEM of the private key.
    pub fn key_pem(&self) -> String {
        pem_encode("PRIVATE KEY", &self.pkcs8_der)
    }

    /// PEM of the certificate.
    pub fn cert_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// DER of the certificate.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Signs `header.payload` with RS256 and returns the compact JWT.
    pub fn sign_jwt(&self, header: &Value, payload: &Value) -> Result<String, Error> {
        self.sign_jwt_alg(header, payload, false)
    }

    /// Signs with RS256, or PS256 when `pss` (the header's `alg` is the caller's business).
    pub fn sign_jwt_alg(&self, header: &Value, payload: &Value, pss: bool) -> Result<String, Error> {
        let mut out = b64url(header.to_string().as_bytes());
        out.push('.');
        out.push_str(&b64url(payload.to_string().as_bytes()));
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        self.pair
            .sign(
                if pss { &signature::RSA_PSS_SHA256 } else { &signature::RSA_PKCS1_SHA256 },
                rng(),
                out.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::Crypto("RSA signing failed".into()))?;
        out.push('.');
        out.push_str(&b64url(&sig));
        Ok(out)
    }

    /// The public key as a JWK (`kty`, `use`, `kid`, `x5t`, `n`, `e`, `x5c`).
    pub fn jwk(&self) -> Value {
        let parts = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(self.pair.public());
        let (n, e) = (&parts.n, &parts.e);
        serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "kid": self.x5t,
            "x5t": self.x5t,
            "n": b64url(n),
            "e": b64url(e),
            "x5c": [STANDARD.encode(&self.cert_der)],
        })
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER, for verification.
    pub fn public_pkcs1(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }
}

fn rng() -> &'static SystemRandom {
    static RNG: OnceLock<SystemRandom> = OnceLock::new();
    RNG.get_or_init(SystemRandom::new)
}

/// Fresh random bytes.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore as _;
    let mut out = [0u8; N];
    rand::thread_rng().fill_bytes(&mut out);
    out
}

/// Generates a 2048-bit RSA key as PKCS#8 DER. Cached per `slot` for the process (see module docs).
pub fn cached_rsa_pkcs8(slot: &str) -> Result<Vec<u8>, Error> {
    type Cache = Mutex<Vec<(String, Arc<Vec<u8>>)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    let mut guard = cache.lock().map_err(|_| Error::Crypto("key cache poisoned".into()))?;
    if let Some((_, der)) = guard.iter().find(|(name, _)| name == slot) {
        return Ok(der.as_ref().clone());
    }
    let der = generate_rsa_pkcs8()?;
    guard.push((slot.to_string(), Arc::new(der.clone())));
    Ok(der)
}

fn generate_rsa_pkcs8() -> Result<Vec<u8>, Error> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048)
        .map_err(|e| Error::Crypto(format!("RSA key generation failed: {e}")))?;
    let doc = key.to_pkcs8_der().map_err(|e| Error::Crypto(format!("PKCS#8 encoding failed: {e}")))?;
    Ok(doc.as_bytes().to_vec())
}

/// PEM-encodes DER with 64-column lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER of the first PEM block with `label` in `pem`.
pub fn pem_block(pem: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = start + pem[start..].find(&end)?;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).ok()
}

/// A certificate registered on an app: its thumbprints and public key.
#[derive(Clone)]
pub struct RegisteredCert {
    /// base64url SHA-1 thumbprint.
    pub x5t: String,
    /// base64url SHA-256 thumbprint.
    pub x5t_s256: String,
    /// Upper-case hex SHA-1 thumbprint, as the portal shows it.
    pub hex_thumbprint: String,
    /// PKCS#1 RSAPublicKey DER.
    pub public_pkcs1: Vec<u8>,
}

impl std::fmt::Debug for RegisteredCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredCert").field("thumbprint", &self.hex_thumbprint).finish()
    }
}

impl RegisteredCert {
    /// Parses a PEM certificate.
    pub fn from_pem(pem: &str) -> Result<RegisteredCert, Error> {
        let der = pem_block(pem, "CERTIFICATE")
            .ok_or_else(|| Error::Config("a registered certificate has no 'CERTIFICATE' PEM block".into()))?;
        RegisteredCert::from_der(&der)
    }

    /// Parses a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<RegisteredCert, Error> {
        let (_, cert) = x509_parser::parse_x509_certificate(der)
            .map_err(|e| Error::Config(format!("a registered certificate does not parse: {e}")))?;
        let public_pkcs1 = cert.public_key().subject_public_key.data.to_vec();
        let sha1 = sha1::Sha1::digest(der);
        Ok(RegisteredCert {
            x5t: b64url(&sha1),
            x5t_s256: b64url(&sha2::Sha256::digest(der)),
            hex_thumbprint: sha1.iter().map(|b| format!("{b:02X}")).collect(),
            public_pkcs1,
        })
    }
}

/// A decoded, not yet verified, compact JWT.
#[derive(Debug)]
pub struct Jwt {
    /// The JOSE header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jwt {
    /// Splits and decodes a compact JWT; `None` when it is not one.
    pub fn parse(token: &str) -> Option<Jwt> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&b64url_decode(h)?).ok()?;
        let claims: Value = serde_json::from_slice(&b64url_decode(p)?).ok()?;
        if !header.is_object() || !claims.is_object() {
            return None;
        }
        Some(Jwt { header, claims, signing_input: format!("{h}.{p}"), signature: b64url_decode(s)? })
    }

    /// The header's `alg`.
    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    /// Verifies the signature with an RSA public key (PKCS#1 DER) for RS256 or PS256.
    pub fn verify_rsa(&self, public_pkcs1: &[u8]) -> bool {
        let alg: &dyn signature::VerificationAlgorithm = match self.alg() {
            "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
            "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
            _ => return false,
        };
        signature::UnparsedPublicKey::new(alg, public_pkcs1)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .is_ok()
    }

    /// A NumericDate claim as seconds; accepts floats (MSAL Python sends them).
    pub fn time_claim(&self, name: &str) -> Option<f64> {
        self.claims.get(name).and_then(Value::as_f64)
    }

    /// A string claim.
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }
}

/// The TLS material: a test CA and one server certificate for loopback and every cloud host.
pub struct TlsMaterial {
    /// PEM of the CA certificate (what clients trust).
    pub ca_pem: String,
    /// PEM chain served (server certificate, then the CA).
    pub chain_pem: String,
    /// The server key, PKCS#8 PEM.
    pub key_pem: String,
}

impl TlsMaterial {
    /// Generates a CA (ECDSA P-256) and a server certificate for `names` plus 127.0.0.1 and ::1.
    pub fn generate(names: &[String]) -> Result<TlsMaterial, Error> {
        let err = |e: rcgen::Error| Error::Crypto(format!("certificate generation failed: {e}"));
        let ca_key = rcgen::KeyPair::generate().map_err(err)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "soar-emulator test CA");
        ca_params.distinguished_name.push(rcgen::DnType::OrganizationName, "soar-rt");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
        let issuer = rcgen::Issuer::new(ca_params, ca_key);

        let mut sans: Vec<String> = vec!["localhost".into()];
        sans.extend(names.iter().cloned());
        let mut params = rcgen::CertificateParams::new(sans).map_err(err)?;
        params.subject_alt_names.push(rcgen::SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)));
        params.distinguished_name.push(rcgen::DnType::CommonName, "soar-emulator");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        let key = rcgen::KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &issuer).map_err(err)?;
        Ok(TlsMaterial {
            ca_pem: ca_cert.pem(),
            chain_pem: format!("{}{}", cert.pem(), ca_cert.pem()),
            key_pem: key.serialize_pem(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_jwt_verifies_and_tampering_breaks_it() {
        let key = RsaKey::from_pkcs8(cached_rsa_pkcs8("test").unwrap(), "t").unwrap();
        let token = key
            .sign_jwt(&serde_json::json!({"alg":"RS256","typ":"JWT"}), &serde_json::json!({"a":1}))
            .unwrap();
        let jwt = Jwt::parse(&token).unwrap();
        assert!(jwt.verify_rsa(&key.public_pkcs1()));
        let cert = RegisteredCert::from_pem(&key.cert_pem()).unwrap();
        assert!(jwt.verify_rsa(&cert.public_pkcs1), "the certificate's key verifies too");
        assert_eq!(cert.x5t, key.x5t);
        let mut forged = token.clone();
        forged.replace_range(token.find('.').unwrap() + 2..token.find('.').unwrap() + 3, "A");
        let bad = Jwt::parse(&forged);
        assert!(bad.is_none() || !bad.unwrap().verify_rsa(&key.public_pkcs1()));
    }

    #[test]
    fn pem_round_trip() {
        let der = vec![1u8, 2, 3, 4, 5];
        assert_eq!(pem_block(&pem_encode("X", &der), "X").unwrap(), der);
        assert!(pem_block("nothing", "X").is_none());
    }
}
