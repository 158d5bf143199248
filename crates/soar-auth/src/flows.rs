//! One credential type per flow, behind one trait. Each knows how to get a token for a target
//! (scope + resource) and nothing about caching, which [`crate::MsClient`] does for all.
//!
//! Each credential also names what identifies it ([`Credential::identity`]: ids in clear,
//! secrets hashed) and the user's grant it would redeem ([`Credential::grant`]: authorization
//! code, PKCE verifier, device code, refresh token, hashed). Both are part of the in-memory
//! single-flight key, so two users of one app registration never share a token.
//!
//! Token requests (`post_form`, device-code polls and starts) are retried on 429 and 503, at most
//! [`TOKEN_RETRIES`] times, after the server's `Retry-After` or 1, 2 s, never more than
//! [`crate::MAX_RETRY_WAIT`]. A dropped connection is not retried: the grant (a one-time code)
//! may already have been redeemed.

use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm, AesGcm, Nonce};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use rand::RngCore;
use serde_json::{Value, json};
use sha2::Digest;
use soar_protocol::{AuthFlow, IntegrationContext, Secret};

use crate::error::{error_parser, oproxy_error_text};
use crate::http::{HttpRequest, HttpResponse};
use crate::{Error, Shared};

/// What a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The v2 scope string (`https://graph.microsoft.com/.default`).
    pub scope: String,
    /// The v1 resource id (`https://graph.microsoft.com/`), for managed identities and the proxy.
    pub resource: String,
    /// True for the integration's primary API (plain cache keys, no per-resource proxy call).
    pub primary: bool,
}

/// A token answer.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: Secret,
    /// Lifetime in seconds (3595 when the server gave none).
    pub expires_in: i64,
    /// The refresh token (empty when none was returned).
    pub refresh_token: Secret,
}

/// The default lifetime when a server omits `expires_in` (the reference's 3595).
pub const DEFAULT_EXPIRES_IN: i64 = 3595;

/// Per-call context a credential needs: the shared seams, the integration context, HTTP options.
pub struct FlowCx<'a> {
    /// Process-wide transport, clock, sleeper, configuration.
    pub shared: &'a Shared,
    /// The integration context (refresh tokens, device codes, the proxy's gate).
    pub ctx: &'a mut IntegrationContext,
    /// TLS verification off.
    pub insecure: bool,
    /// System proxy on.
    pub proxy: bool,
    /// Request timeout.
    pub timeout: Duration,
    /// The integration's command prefix (for hints in error texts).
    pub prefix: &'static str,
}

impl FlowCx<'_> {
    /// A request carrying this call's HTTP options (never following redirects).
    pub fn request(&self, method: http::Method, url: &str) -> HttpRequest {
        let mut r = HttpRequest::new(method, url);
        r.insecure = self.insecure;
        r.proxy = self.proxy;
        r.timeout = self.timeout;
        r
    }

    /// POSTs a form to a token endpoint and parses the answer (200/201 only are success).
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<TokenResponse, Error> {
        let mut req = self.request(http::Method::POST, url);
        req.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        req.headers.push(("accept".into(), "application/json".into()));
        req.body = Some(encode_form(form).into_bytes());
        let resp = self.send_token(req).await.map_err(Error::AuthorizationOther)?;
        token_from_response(&resp, self.prefix)
    }

    /// Sends through the shared transport.
    pub async fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        self.shared.transport.send(req).await
    }

    /// Sends a token request, retrying 429 and 503 answers (the server did not process them) at
    /// most [`TOKEN_RETRIES`] times after `Retry-After` (clamped to [`crate::MAX_RETRY_WAIT`]) or
    /// 1, 2 s. Transport errors are returned at once.
    pub async fn send_token(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        let mut attempt = 0u32;
        loop {
            let resp = self.send(req.clone()).await?;
            if !matches!(resp.status, 429 | 503) || attempt >= TOKEN_RETRIES {
                return Ok(resp);
            }
            let wait = resp
                .retry_after()
                .unwrap_or(Duration::from_secs(1 << attempt))
                .min(crate::client::MAX_RETRY_WAIT);
            tracing::debug!(
                status = resp.status,
                wait_ms = wait.as_millis() as u64,
                "retrying token request"
            );
            self.shared.sleeper.sleep(wait).await;
            attempt += 1;
        }
    }
}

/// How many times a token request answered 429 or 503 is retried.
pub const TOKEN_RETRIES: u32 = 2;

/// URL-encodes form fields in order.
pub fn encode_form(form: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        s.append_pair(k, v);
    }
    s.finish()
}

/// Reads `expires_in` as the reference does (`int()` of a number or a numeric string).
fn expires_in(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n.as_f64().map(|f| f as i64).unwrap_or(DEFAULT_EXPIRES_IN),
        Some(Value::String(s)) => s.trim().parse::<f64>().map(|f| f as i64).unwrap_or(DEFAULT_EXPIRES_IN),
        _ => DEFAULT_EXPIRES_IN,
    }
}

fn secret_field(body: &Value, key: &str) -> Secret {
    Secret::new(body.get(key).and_then(Value::as_str).unwrap_or(""))
}

/// A token endpoint answer -> token, or the reference's authorization error.
pub fn token_from_response(resp: &HttpResponse, prefix: &str) -> Result<TokenResponse, Error> {
    if resp.status != 200 && resp.status != 201 {
        return Err(Error::Authorization { status: resp.status, body: error_parser(&resp.body, prefix) });
    }
    let body: Value = serde_json::from_slice(&resp.body).map_err(|_| {
        Error::AuthorizationOther("the token endpoint answered with a body that is not JSON.".into())
    })?;
    let access_token = secret_field(&body, "access_token");
    if access_token.is_empty() {
        return Err(Error::AuthorizationOther(
            "the token endpoint answered 200 without an access_token.".into(),
        ));
    }
    Ok(TokenResponse {
        access_token,
        expires_in: expires_in(body.get("expires_in")),
        refresh_token: secret_field(&body, "refresh_token"),
    })
}

/// One flow's credential.
#[async_trait]
pub trait Credential: Send + Sync {
    /// The flow.
    fn flow(&self) -> AuthFlow;
    /// Who this credential is, for the single-flight key: ids in clear, secrets hashed.
    fn identity(&self) -> String;
    /// The user's grant this credential would redeem with `ctx`, hashed with [`grant_hash`]:
    /// every value that identifies a user or a grant (authorization code, PKCE verifier, device
    /// code, refresh token). Empty for app-only flows. Part of the single-flight key.
    fn grant(&self, _ctx: &IntegrationContext) -> String {
        String::new()
    }
    /// Gets a token for `target`.
    async fn acquire(&self, cx: &mut FlowCx<'_>, target: &Target) -> Result<TokenResponse, Error>;
}

/// Short SHA-256 of a secret, for keys (never reversible, never the secret).
pub fn fingerprint(s: &str) -> String {
    let d = sha2::Sha256::digest(s.as_bytes());
    hex::encode(&d[..8])
}

/// The full SHA-256 of named grant values, each length-prefixed so that no two different sets
/// of values hash alike by concatenation. Never reversible, never the values.
pub fn grant_hash(parts: &[(&str, Option<&str>)]) -> String {
    let mut h = sha2::Sha256::new();
    for (name, value) in parts {
        let v = value.unwrap_or("");
        for field in [name.as_bytes(), v.as_bytes()] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field);
        }
    }
    hex::encode(h.finalize())
}

// ---------------------------------------------------------------- client credentials

/// How a confidential client proves itself.
pub enum ClientAuth {
    /// `client_secret` in the body.
    Secret(Secret),
    /// An RS256 client assertion, freshly signed per request.
    Certificate(Box<CertificateKey>),
    /// A public client (device code): nothing.
    None,
}

impl ClientAuth {
    fn fingerprint(&self) -> String {
        match self {
            ClientAuth::Secret(s) => format!("s:{}", fingerprint(s.expose())),
            ClientAuth::Certificate(c) => format!("c:{}", hex::encode(c.sha1)),
            ClientAuth::None => "p".into(),
        }
    }

    /// The form fields that authenticate the client (after `grant_type` in the reference's order).
    fn fields(
        &self,
        client_id: &str,
        token_url: &str,
        now: f64,
    ) -> Result<Vec<(&'static str, String)>, Error> {
        Ok(match self {
            ClientAuth::Secret(s) => vec![("client_secret", s.expose().to_owned())],
            ClientAuth::Certificate(c) => vec![
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ),
                ("client_assertion", c.assertion(client_id, token_url, now)?),
            ],
            ClientAuth::None => Vec::new(),
        })
    }
}

/// A certificate credential: SHA-1 thumbprint, private key, optional certificate.
pub struct CertificateKey {
    /// SHA-1 thumbprint bytes.
    pub sha1: [u8; 20],
    /// SHA-256 of the certificate DER, when the certificate was given.
    pub sha256: Option<[u8; 32]>,
    key: jsonwebtoken::EncodingKey,
}

const OPENSSL_HELP: &str = "To create a key and a self-signed certificate: `openssl req -x509 -newkey rsa:2048 -nodes -keyout private.pem -out cert.pem -days 365 -subj \"/CN=soar\"`; upload cert.pem to the app registration; the thumbprint is `openssl x509 -in cert.pem -noout -fingerprint -sha1` (colons are fine) and the private key is the content of private.pem.";

impl CertificateKey {
    /// Parses a thumbprint (hex, colons and spaces tolerated), a PEM private key and an optional
    /// PEM certificate. Errors say which value is wrong and how to produce a good one.
    pub fn parse(
        thumbprint: &str,
        private_key_pem: &str,
        certificate_pem: Option<&str>,
    ) -> Result<Self, Error> {
        let hexed: String =
            thumbprint.chars().filter(|c| !matches!(c, ':' | ' ' | '-' | '\t' | '\n' | '\r')).collect();
        let bytes = hex::decode(&hexed).ok().filter(|b| b.len() == 20).ok_or_else(|| {
            Error::Config(format!(
                "The certificate thumbprint is not a SHA-1 thumbprint (40 hexadecimal digits, colons or spaces allowed). {OPENSSL_HELP}"
            ))
        })?;
        let mut sha1 = [0u8; 20];
        sha1.copy_from_slice(&bytes);
        let pem = normalise_pem(private_key_pem);
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| {
            Error::Config(format!(
                "The private key is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----). {OPENSSL_HELP}"
            ))
        })?;
        let sha256 = match certificate_pem {
            Some(c) => Some(cert_sha256(c)?),
            None => None,
        };
        Ok(CertificateKey { sha1, sha256, key })
    }

    /// A fresh assertion: `aud` = token URL, `iss` = `sub` = client id, new `jti`, `exp` = now + 600.
    pub fn assertion(&self, client_id: &str, token_url: &str, now: f64) -> Result<String, Error> {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.typ = Some("JWT".into());
        // The reference keeps the `=` padding of the URL-safe base64 SHA-1 thumbprint.
        header.x5t = Some(URL_SAFE.encode(self.sha1));
        header.x5t_s256 = self.sha256.map(|d| URL_SAFE_NO_PAD.encode(d));
        let iat = now.floor() as i64;
        let claims = json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid::Uuid::new_v4().to_string(),
            "iat": iat,
            "nbf": iat,
            "exp": iat + 600,
        });
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| {
            Error::Config(format!(
                "Cannot sign the client assertion with the private key: {e}. {OPENSSL_HELP}"
            ))
        })
    }
}

/// Engines sometimes flatten a PEM's newlines to spaces; put them back.
fn normalise_pem(pem: &str) -> String {
    let pem = pem.trim();
    if pem.contains('\n') {
        return pem.to_owned();
    }
    let (Some(b), Some(e)) = (pem.find("-----BEGIN"), pem.rfind("-----END")) else { return pem.to_owned() };
    let head_end = pem[b + 10..].find("-----").map(|i| b + 10 + i + 5).unwrap_or(b);
    if head_end >= e {
        return pem.to_owned();
    }
    let body: String = pem[head_end..e].split_whitespace().collect::<Vec<_>>().join("\n");
    format!("{}\n{}\n{}", &pem[..head_end], body, &pem[e..])
}

fn cert_sha256(pem: &str) -> Result<[u8; 32], Error> {
    let pem = normalise_pem(pem);
    let bad = || {
        Error::Config(format!(
            "The certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----). {OPENSSL_HELP}"
        ))
    };
    let (_, p) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|_| bad())?;
    if p.label != "CERTIFICATE" {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&sha2::Sha256::digest(&p.contents));
    Ok(out)
}

/// The reference's client-credentials form (msapi.md §2.1/§2.2): `client_id`, the client's
/// proof, `grant_type`, then `scope` and `resource` when non-empty.
pub fn client_credentials_form(
    client_id: &str,
    auth: &ClientAuth,
    token_url: &str,
    scope: Option<&str>,
    resource: Option<&str>,
    now: f64,
) -> Result<Vec<(&'static str, String)>, Error> {
    let mut form = vec![("client_id", client_id.to_owned())];
    let proof = auth.fields(client_id, token_url, now)?;
    // The secret comes before grant_type; the assertion fields after it (reference order).
    let (before, after): (Vec<_>, Vec<_>) = proof.into_iter().partition(|(k, _)| *k == "client_secret");
    form.extend(before);
    form.push(("grant_type", "client_credentials".into()));
    form.extend(after);
    if let Some(s) = scope.filter(|s| !s.is_empty()) {
        form.push(("scope", s.to_owned()));
    }
    if let Some(r) = resource.filter(|s| !s.is_empty()) {
        form.push(("resource", r.to_owned()));
    }
    Ok(form)
}

fn as_pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Client credentials with a secret or a certificate.
pub struct ClientCredentials {
    /// Client id.
    pub client_id: String,
    /// Secret or certificate.
    pub auth: ClientAuth,
    /// Token URL (`{login}/{tenant}/oauth2/v2.0/token`).
    pub token_url: String,
}

#[async_trait]
impl Credential for ClientCredentials {
    fn flow(&self) -> AuthFlow {
        match self.auth {
            ClientAuth::Certificate(_) => AuthFlow::ClientCertificate,
            _ => AuthFlow::ClientSecret,
        }
    }
    fn identity(&self) -> String {
        format!("cc|{}|{}|{}", self.token_url, self.client_id, self.auth.fingerprint())
    }
    async fn acquire(&self, cx: &mut FlowCx<'_>, target: &Target) -> Result<TokenResponse, Error> {
        let now = cx.shared.clock.now();
        let form = client_credentials_form(
            &self.client_id,
            &self.auth,
            &self.token_url,
            Some(&target.scope),
            None,
            now,
        )?;
        cx.post_form(&self.token_url, &as_pairs(&form)).await
    }
}

// ---------------------------------------------------------------- authorization code

/// Context key of the PKCE verifier kept between generate-login-url and the code exchange.
pub const CTX_CODE_VERIFIER: &str = "code_verifier";

/// The reference's message for a pasted code that still carries `session_state`.
pub const SESSION_STATE_MESSAGE: &str = "Malformed auth_code parameter: Please copy the auth code from the redirected uri without any additional info and without the \"session_state\" query parameter.";

/// Authorization code, then the refresh token kept in the context.
pub struct AuthorizationCode {
    /// Client id.
    pub client_id: String,
    /// Secret or certificate.
    pub auth: ClientAuth,
    /// The pasted code (or `refresh_token:<rt>`).
    pub auth_code: Option<Secret>,
    /// Redirect URI.
    pub redirect_uri: String,
    /// Token URL.
    pub token_url: String,
}

#[async_trait]
impl Credential for AuthorizationCode {
    fn flow(&self) -> AuthFlow {
        AuthFlow::AuthorizationCode
    }
    fn identity(&self) -> String {
        format!("ac|{}|{}|{}", self.token_url, self.client_id, self.auth.fingerprint())
    }
    fn grant(&self, ctx: &IntegrationContext) -> String {
        grant_hash(&[
            ("refresh_token", ctx_str(ctx, crate::cache::CURRENT_REFRESH_TOKEN).as_deref()),
            ("code", self.auth_code.as_ref().map(Secret::expose)),
            ("code_verifier", ctx_str(ctx, CTX_CODE_VERIFIER).as_deref()),
        ])
    }
    async fn acquire(&self, cx: &mut FlowCx<'_>, target: &Target) -> Result<TokenResponse, Error> {
        let now = cx.shared.clock.now();
        let mut form: Vec<(&'static str, String)> = vec![("client_id", self.client_id.clone())];
        form.extend(self.auth.fields(&self.client_id, &self.token_url, now)?);
        form.push(("redirect_uri", self.redirect_uri.clone()));
        let ctx_rt = ctx_str(cx.ctx, crate::cache::CURRENT_REFRESH_TOKEN);
        let code = self.auth_code.as_ref().map(|s| s.expose().to_owned()).unwrap_or_default();
        let rt = ctx_rt.or_else(|| code.strip_prefix("refresh_token:").map(str::to_owned));
        if let Some(rt) = rt {
            form.push(("grant_type", "refresh_token".into()));
            form.push(("refresh_token", rt));
        } else {
            if code.is_empty() {
                return Err(Error::Config(
                    "No authorization code: run the generate-login-url command, sign in, and paste the code into the Authorization code parameter.".into(),
                ));
            }
            if code.contains("session_state") {
                return Err(Error::Config(SESSION_STATE_MESSAGE.into()));
            }
            form.push(("grant_type", "authorization_code".into()));
            form.push(("code", code));
            if let Some(v) = ctx_str(cx.ctx, CTX_CODE_VERIFIER) {
                form.push(("code_verifier", v));
            }
        }
        form.push(("scope", target.scope.clone()));
        let result = cx.post_form(&self.token_url, &as_pairs(&form)).await;
        if result.is_ok() {
            cx.ctx.remove(CTX_CODE_VERIFIER);
        }
        result.map_err(add_consent_hint)
    }
}

/// On "Missing scope permissions" the reference's troubleshooting hint: sign in again with
/// `&prompt=consent` appended to the login URL.
pub fn add_consent_hint(e: Error) -> Error {
    match e {
        Error::Authorization { status, body } if body.contains("Missing scope permissions") => {
            Error::Authorization {
                status,
                body: format!(
                    "{body}\nMissing scope permissions: add `&prompt=consent` to the end of the login URL, sign in again and paste the new authorization code."
                ),
            }
        }
        other => other,
    }
}

/// Generates a PKCE verifier (43 URL-safe characters) and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    let mut raw = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut raw);
    let verifier = URL_SAFE_NO_PAD.encode(raw);
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The reference's login URL shape (msapi.md §2.3), exactly: no encoding beyond spaces.
pub fn login_url(login: &str, tenant: &str, scope: &str, client_id: &str, redirect_uri: &str) -> String {
    format!(
        "{}/{}/oauth2/v2.0/authorize?response_type=code&scope=offline_access%20{}&client_id={}&redirect_uri={}",
        login.trim_end_matches('/'),
        tenant,
        scope.replace(' ', "%20"),
        client_id,
        redirect_uri
    )
}

fn ctx_str(ctx: &IntegrationContext, key: &str) -> Option<String> {
    ctx.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned)
}

// ---------------------------------------------------------------- device code

/// Context keys of the device-code flow.
pub const CTX_DEVICE_CODE: &str = "device_code";
/// The poll interval the server asked for (ours; the reference keeps only `device_code`).
pub const CTX_DEVICE_INTERVAL: &str = "device_code_interval";

/// What `auth-start` shows a person.
#[derive(Debug, Clone)]
pub struct DeviceStart {
    /// The page to open (the first URL of the server's `message`, else `verification_uri`).
    pub verification_uri: String,
    /// The code to type (it is shown once, in the War Room only).
    pub user_code: String,
    /// Seconds until the code expires.
    pub expires_in: i64,
    /// Poll interval in seconds.
    pub interval: i64,
}

/// Device code: a public client; `auth-start` asks for a code, `auth-complete` polls.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// Client id.
    pub client_id: String,
    /// Device authorization URL (`{login}/{tenant}/oauth2/v2.0/devicecode`).
    pub devicecode_url: String,
    /// Token URL.
    pub token_url: String,
}

/// The result of one device-code poll.
pub enum Poll {
    /// Tokens.
    Done(TokenResponse),
    /// Not yet: keep the interval.
    Pending,
    /// Poll slower: add 5 s.
    SlowDown,
}

impl DeviceCode {
    /// Starts the flow: the context is replaced with the device code (reference behaviour,
    /// which also drops any cached token).
    pub async fn start(&self, cx: &mut FlowCx<'_>, scope: &str) -> Result<DeviceStart, Error> {
        let mut req = cx.request(http::Method::POST, &self.devicecode_url);
        req.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        req.body = Some(encode_form(&[("client_id", &self.client_id), ("scope", scope)]).into_bytes());
        let resp = cx.send_token(req).await.map_err(Error::AuthorizationOther)?;
        if resp.status >= 400 {
            return Err(Error::Authorization {
                status: resp.status,
                body: error_parser(&resp.body, cx.prefix),
            });
        }
        let body: Value = serde_json::from_slice(&resp.body).map_err(|_| {
            Error::AuthorizationOther(
                "the device code endpoint answered with a body that is not JSON.".into(),
            )
        })?;
        let device_code = body.get("device_code").and_then(Value::as_str).unwrap_or_default();
        if device_code.is_empty() {
            return Err(Error::AuthorizationOther(
                "the device code endpoint returned no device_code.".into(),
            ));
        }
        let message = body.get("message").and_then(Value::as_str).unwrap_or("");
        let verification_uri = first_url(message)
            .or_else(|| body.get("verification_uri").and_then(Value::as_str).map(str::to_owned))
            .or_else(|| body.get("verification_url").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_else(|| "https://microsoft.com/devicelogin".into());
        let interval =
            body.get("interval").map(|v| expires_in(Some(v))).filter(|i| *i > 0 && *i < 3000).unwrap_or(5);
        let mut fresh = soar_protocol::Object::new();
        fresh.insert(CTX_DEVICE_CODE.into(), Value::String(device_code.to_owned()));
        fresh.insert(CTX_DEVICE_INTERVAL.into(), json!(interval));
        cx.ctx.replace(fresh);
        Ok(DeviceStart {
            verification_uri,
            user_code: body.get("user_code").and_then(Value::as_str).unwrap_or_default().to_owned(),
            expires_in: body.get("expires_in").map(|v| expires_in(Some(v))).unwrap_or(900),
            interval,
        })
    }

    /// One poll of the token endpoint with the stored device code (RFC 8628 §3.4/§3.5).
    pub async fn poll(&self, cx: &mut FlowCx<'_>, scope: &str) -> Result<Poll, Error> {
        let Some(dc) = ctx_str(cx.ctx, CTX_DEVICE_CODE) else {
            return Err(Error::Config(format!(
                "No device code: run !{p}-auth-start first, then !{p}-auth-complete.",
                p = cx.prefix
            )));
        };
        // `code` is the reference's field name, `device_code` the RFC's: send both, as MSAL Python does.
        let form = [
            ("client_id", self.client_id.as_str()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", dc.as_str()),
            ("code", dc.as_str()),
            ("scope", scope),
        ];
        let mut req = cx.request(http::Method::POST, &self.token_url);
        req.headers.push(("content-type".into(), "application/x-www-form-urlencoded".into()));
        req.body = Some(encode_form(&form).into_bytes());
        let resp = cx.send_token(req).await.map_err(Error::AuthorizationOther)?;
        if resp.status == 400 {
            let code = serde_json::from_slice::<Value>(&resp.body)
                .ok()
                .and_then(|b| b.get("error").and_then(Value::as_str).map(str::to_owned));
            match code.as_deref() {
                Some("authorization_pending") => return Ok(Poll::Pending),
                Some("slow_down") => return Ok(Poll::SlowDown),
                _ => {}
            }
        }
        token_from_response(&resp, cx.prefix).map(Poll::Done)
    }
}

/// The first `http(s)://...` in a text (the reference's REGEX_SEARCH_URL).
fn first_url(text: &str) -> Option<String> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    let rest = &text[start..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

#[async_trait]
impl Credential for DeviceCode {
    fn flow(&self) -> AuthFlow {
        AuthFlow::DeviceCode
    }
    fn identity(&self) -> String {
        format!("dc|{}|{}", self.token_url, self.client_id)
    }
    fn grant(&self, ctx: &IntegrationContext) -> String {
        grant_hash(&[
            ("refresh_token", ctx_str(ctx, crate::cache::CURRENT_REFRESH_TOKEN).as_deref()),
            ("device_code", ctx_str(ctx, CTX_DEVICE_CODE).as_deref()),
        ])
    }
    async fn acquire(&self, cx: &mut FlowCx<'_>, target: &Target) -> Result<TokenResponse, Error> {
        if let Some(rt) = ctx_str(cx.ctx, crate::cache::CURRENT_REFRESH_TOKEN) {
            let form = [
                ("client_id", self.client_id.as_str()),
                ("grant_type", "refresh_token"),
                ("refresh_token", rt.as_str()),
                ("scope", target.scope.as_str()),
            ];
            return cx.post_form(&self.token_url, &form).await;
        }
        match self.poll(cx, &target.scope).await? {
            Poll::Done(t) => Ok(t),
            Poll::Pending | Poll::SlowDown => {
                Err(Error::AuthorizationPending(format!("!{}-auth-complete", cx.prefix)))
            }
        }
    }
}

// ---------------------------------------------------------------- managed identities

/// The IMDS host.
pub const IMDS_BASE: &str = "http://169.254.169.254";
/// The reference's IMDS path and api-version.
pub const IMDS_PATH: &str = "/metadata/identity/oauth2/token?api-version=2018-02-01";
/// How many times an IMDS call is retried on 404/410/429/5xx.
pub const IMDS_RETRIES: u32 = 5;

/// Azure managed identities: system-assigned (no client id) or user-assigned.
pub struct ManagedIdentity {
    /// User-assigned client id; `None` = system-assigned.
    pub client_id: Option<String>,
}

impl ManagedIdentity {
    /// The token URL for `resource` (IMDS, an IMDS override, or the App Service endpoint).
    pub fn url(&self, shared: &Shared, resource: &str) -> String {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut url = match &shared.config.identity_endpoint {
            Some((endpoint, _)) => {
                let sep = if endpoint.contains('?') { '&' } else { '?' };
                format!("{endpoint}{sep}api-version=2019-08-01")
            }
            None => format!("{}{IMDS_PATH}", shared.config.imds_endpoint.as_deref().unwrap_or(IMDS_BASE)),
        };
        url.push_str(&format!("&resource={}", enc(resource)));
        if let Some(id) = &self.client_id {
            url.push_str(&format!("&client_id={}", enc(id)));
        }
        url
    }
}

/// What to do when the identity endpoint does not answer at all: managed identities exist only
/// on Azure compute with an identity. Names the endpoint tried (without its query, which holds
/// only the resource and the identity's client id).
pub fn off_azure_hint(url: &str) -> String {
    let endpoint = url.split('?').next().unwrap_or(url);
    format!(
        "Azure managed identities work only where Azure gives the machine an identity endpoint: an \
         Azure virtual machine or scale set, App Service or Functions, or a container (AKS, Container \
         Apps, Container Instances) with a managed identity assigned. The endpoint tried, {endpoint}, \
         did not answer, so this engine is not running on such a host. Run it there, or use another \
         flow (client credentials) on this host."
    )
}

#[async_trait]
impl Credential for ManagedIdentity {
    fn flow(&self) -> AuthFlow {
        AuthFlow::ManagedIdentity
    }
    fn identity(&self) -> String {
        format!("mi|{}", self.client_id.as_deref().unwrap_or("SYSTEM_ASSIGNED"))
    }
    async fn acquire(&self, cx: &mut FlowCx<'_>, target: &Target) -> Result<TokenResponse, Error> {
        let url = self.url(cx.shared, &target.resource);
        let mut attempt = 0u32;
        let resp = loop {
            let mut req = cx.request(http::Method::GET, &url);
            req.headers.push(("metadata".into(), "true".into()));
            if let Some((_, h)) = &cx.shared.config.identity_endpoint {
                req.headers.push(("x-identity-header".into(), h.expose().to_owned()));
            }
            let r = cx.send(req).await;
            let retry = match &r {
                Ok(resp) => matches!(resp.status, 404 | 410 | 429) || resp.status >= 500,
                Err(_) => false,
            };
            if !retry || attempt >= IMDS_RETRIES {
                break r.map_err(|e| Error::ManagedIdentity(format!("{e}\n{}", off_azure_hint(&url))))?;
            }
            // Exponential back-off (1, 2, 4, 8, 16 s), or the server's Retry-After.
            let wait = r
                .as_ref()
                .ok()
                .and_then(HttpResponse::retry_after)
                .unwrap_or(Duration::from_secs(1 << attempt));
            cx.shared.sleeper.sleep(wait.min(Duration::from_secs(60))).await;
            attempt += 1;
        };
        let body: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        let token = body.get("access_token").and_then(Value::as_str).unwrap_or("");
        if token.is_empty() {
            let reason = body
                .get("error_description")
                .or_else(|| body.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    format!("status {}: {}", resp.status, String::from_utf8_lossy(&resp.body))
                });
            return Err(Error::ManagedIdentity(reason));
        }
        let lifetime = match body.get("expires_in") {
            Some(v) => expires_in(Some(v)),
            // App Service gives only `expires_on` (epoch seconds as a string).
            None => match body.get("expires_on").map(|v| expires_in(Some(v))) {
                Some(on) if on > cx.shared.clock.epoch() => on - cx.shared.clock.epoch(),
                _ => DEFAULT_EXPIRES_IN,
            },
        };
        Ok(TokenResponse {
            access_token: Secret::new(token),
            expires_in: lifetime,
            refresh_token: Secret::default(),
        })
    }
}

// ---------------------------------------------------------------- OAuth proxy (Cortex application)

/// The default OAuth proxy URL.
pub const OPROXY_URL: &str = "https://oproxy.demisto.ninja/obtain-token";
/// Context keys of the proxy's back-off gate.
pub const CTX_NEXT_REQUEST_TIME: &str = "next_request_time";
/// Counter of consecutive proxy failures.
pub const CTX_DELAY_REQUEST_COUNTER: &str = "delay_request_counter";
/// The gate's exponent cap (`MAX_DELAY_REQUEST_COUNTER`).
pub const MAX_DELAY_REQUEST_COUNTER: i64 = 6;

/// The Cortex application through the OAuth proxy.
pub struct CortexApp {
    /// Registration id (the ID param without `@url`).
    pub registration_id: String,
    /// Proxy URL.
    pub token_url: String,
    /// App name.
    pub app_name: String,
    /// The "Token" param (tenant token or refresh token).
    pub token: Secret,
    /// The "Key" param (base64 AES key).
    pub key: Secret,
    /// Name the resource even for the primary API (national clouds: the proxy would otherwise
    /// issue a worldwide token; the reference sends `''` and only works worldwide).
    pub always_send_resource: bool,
}

/// `base64(nonce ‖ AES-GCM(key, "{epoch}:{content}") ‖ tag)` with a random 12-byte nonce.
pub fn encrypt_token(content: &str, key_b64: &str, epoch: i64) -> Result<String, Error> {
    let bad_key = |why: &str| {
        Error::AuthorizationOther(format!("{why} Please check authentication related parameters."))
    };
    if let Some(why) = oproxy_key_problem(key_b64) {
        return Err(bad_key(why));
    }
    let key = STANDARD.decode(key_b64.trim()).map_err(|_| bad_key("The Key is not valid base64."))?;
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    let plain = format!("{epoch}:{content}");
    let n = Nonce::from_slice(&nonce);
    let ct = match key.len() {
        16 => Aes128Gcm::new_from_slice(&key).ok().and_then(|c| c.encrypt(n, plain.as_bytes()).ok()),
        24 => AesGcm::<aes_gcm::aes::Aes192, aes_gcm::aead::consts::U12>::new_from_slice(&key)
            .ok()
            .and_then(|c| c.encrypt(n, plain.as_bytes()).ok()),
        32 => Aes256Gcm::new_from_slice(&key).ok().and_then(|c| c.encrypt(n, plain.as_bytes()).ok()),
        _ => None,
    }
    .ok_or_else(|| bad_key("The Key must decode to a 128, 192 or 256-bit AES key."))?;
    let mut out = nonce.to_vec();
    out.extend(ct);
    Ok(STANDARD.encode(out))
}

/// What is wrong with a Cortex XSOAR application Key (base64 of a 128, 192 or 256-bit AES key),
/// or `None` when it is usable.
pub fn oproxy_key_problem(key_b64: &str) -> Option<&'static str> {
    match STANDARD.decode(key_b64.trim()) {
        Err(_) => Some("The Key is not valid base64."),
        Ok(k) if ![16, 24, 32].contains(&k.len()) => {
            Some("The Key must decode to a 128, 192 or 256-bit AES key.")
        }
        Ok(_) => None,
    }
}

/// Python's `str(datetime.fromtimestamp(t))` in UTC: `1970-01-01 00:00:01[.ffffff]`.
pub fn python_datetime(t: f64) -> String {
    let secs = t.floor() as i64;
    let micros = ((t - secs as f64) * 1e6).round() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let base = format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
    if micros > 0 { format!("{base}.{micros:06}") } else { base }
}

/// The proxy's JSON body (exactly five keys, in the reference's order).
pub fn oproxy_body(
    app_name: &str,
    registration_id: &str,
    encrypted: &str,
    scope: Option<&str>,
    resource: &str,
) -> Value {
    json!({
        "app_name": app_name,
        "registration_id": registration_id,
        "encrypted_token": encrypted,
        "scope": scope,
        "resource": resource,
    })
}

#[async_trait]
impl Credential for CortexApp {
    fn flow(&self) -> AuthFlow {
        AuthFlow::CortexApp
    }
    fn identity(&self) -> String {
        format!("op|{}|{}|{}", self.token_url, self.registration_id, fingerprint(self.token.expose()))
    }
    fn grant(&self, ctx: &IntegrationContext) -> String {
        grant_hash(&[
            ("refresh_token", ctx_str(ctx, crate::cache::CURRENT_REFRESH_TOKEN).as_deref()),
            ("token", Some(self.token.expose())),
        ])
    }
    async fn acquire(&self, cx: &mut FlowCx<'_>, target: &Target) -> Result<TokenResponse, Error> {
        let now = cx.shared.clock.now();
        let next = cx.ctx.get(CTX_NEXT_REQUEST_TIME).and_then(Value::as_f64).unwrap_or(0.0);
        let counter = cx
            .ctx
            .get(CTX_DELAY_REQUEST_COUNTER)
            .and_then(Value::as_i64)
            .unwrap_or(1)
            .min(MAX_DELAY_REQUEST_COUNTER);
        if next > 0.0 && now < next {
            return Err(Error::Delayed(python_datetime(next)));
        }
        let content = ctx_str(cx.ctx, crate::cache::CURRENT_REFRESH_TOKEN)
            .unwrap_or_else(|| self.token.expose().to_owned());
        let encrypted = encrypt_token(&content, self.key.expose(), cx.shared.clock.epoch())?;
        let resource =
            if target.primary && !self.always_send_resource { "" } else { target.resource.as_str() };
        let body = oproxy_body(&self.app_name, &self.registration_id, &encrypted, None, resource);
        let mut req = cx.request(http::Method::POST, &self.token_url);
        req.headers.push(("content-type".into(), "application/json".into()));
        req.headers.push(("accept".into(), "application/json".into()));
        req.body = Some(body.to_string().into_bytes());
        let resp = cx.send(req).await;
        let resp = match resp {
            Ok(r) if r.ok() => r,
            other => {
                // Close the gate for 2^counter seconds (capped), then report.
                cx.ctx
                    .set(CTX_NEXT_REQUEST_TIME, json!(now + f64::from(1u32 << counter.clamp(0, 30) as u32)));
                cx.ctx.set(CTX_DELAY_REQUEST_COUNTER, json!(counter + 1));
                return Err(match other {
                    Ok(r) => Error::Oproxy(oproxy_error_text(r.status, &r.body, cx.prefix)),
                    Err(e) => Error::AuthorizationOther(e),
                });
            }
        };
        // The reference resets the gate (0.0, 1) and then writes back its own earlier copy of
        // the context with the token: after a success the context holds no gate keys
        // (`test_get_access_token_no_context`), so they are removed rather than reset.
        cx.ctx.remove(CTX_NEXT_REQUEST_TIME);
        cx.ctx.remove(CTX_DELAY_REQUEST_COUNTER);
        if let Some(id) = resp.header("function-execution-id") {
            tracing::debug!(function_execution_id = id, "OAuth proxy answered");
        }
        let body: Value = serde_json::from_slice(&resp.body).map_err(|_| {
            Error::AuthorizationOther("There was a problem in retrieving an updated access token.\nThe response from the Oproxy server did not contain the expected content.".into())
        })?;
        Ok(TokenResponse {
            access_token: secret_field(&body, "access_token"),
            expires_in: expires_in(body.get("expires_in")),
            refresh_token: secret_field(&body, "refresh_token"),
        })
    }
}
