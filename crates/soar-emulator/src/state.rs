//! Shared runtime state: configuration, keys, the grant stores (codes, refresh tokens, device
//! codes), the clock seam, the request log, faults and the resource-API store.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::Error;
use crate::apis::Store;
use crate::apis::seeded::Seeded;
use crate::config::EmulatorConfig;
use crate::faults::FaultHandle;
use crate::keys::{Jwt, RegisteredCert, RsaKey, cached_rsa_pkcs8};

/// The clock seam: every expiry and timestamp reads it.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The real clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// Starts at `start_ms`.
    pub fn new(start_ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(start_ms)))
    }
    /// Moves forward by `ms`.
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A key + certificate generated for a certificate app (written to the data dir at start).
#[derive(Clone)]
pub struct GeneratedCert {
    /// File stem (`cert-app`).
    pub name: String,
    /// The app it belongs to.
    pub client_id: String,
    /// PKCS#8 PEM private key.
    pub key_pem: String,
    /// Certificate PEM.
    pub cert_pem: String,
    /// Upper-case hex SHA-1 thumbprint (what msal and the reference take).
    pub thumbprint_hex: String,
}

impl std::fmt::Debug for GeneratedCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedCert")
            .field("name", &self.name)
            .field("thumbprint", &self.thumbprint_hex)
            .finish()
    }
}

/// An authorization code waiting to be redeemed.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub tenant_id: String,
    pub user_oid: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<(String, String)>,
    pub expires_ms: i64,
    pub used: bool,
}

/// A refresh token's grant.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub client_id: String,
    pub tenant_id: String,
    /// The user for delegated grants; `None` for OAuth-proxy app grants.
    pub user_oid: Option<String>,
    pub scopes: Vec<String>,
    pub issued_ms: i64,
    pub last_used_ms: i64,
    pub revoked: bool,
    pub rotated: bool,
}

/// Where a device code stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved(String),
    Denied,
    Redeemed,
}

/// A device code.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub user_code: String,
    pub client_id: String,
    pub tenant_id: String,
    pub scopes: Vec<String>,
    /// The v1 `resource`, when the v1 endpoint started the flow.
    pub resource: Option<String>,
    pub expires_ms: i64,
    pub interval_ms: i64,
    pub last_poll_ms: Option<i64>,
    pub status: DeviceStatus,
}

/// Codes, refresh tokens and device codes, keyed by their (secret) value.
#[derive(Debug, Default)]
pub struct Grants {
    pub codes: HashMap<String, AuthCode>,
    pub refresh: HashMap<String, RefreshGrant>,
    pub devices: HashMap<String, DeviceCode>,
}

/// One logged request. Secrets are never logged: only method, host, path, status and, for token
/// requests, the grant type and client id.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub seq: u64,
    pub at_ms: i64,
    pub method: String,
    pub host: String,
    pub path: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// A note a handler attaches to its response for the request log.
#[derive(Debug, Clone, Default)]
pub struct LogNote {
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
}

const LOG_CAPACITY: usize = 20_000;

/// The request log (the most recent 20,000 requests, plus totals that never roll over).
#[derive(Clone, Default)]
pub struct RequestLog(Arc<LogInner>);

#[derive(Default)]
struct LogInner {
    seq: AtomicU64,
    token_requests: AtomicU64,
    entries: Mutex<VecDeque<LogEntry>>,
}

impl std::fmt::Debug for RequestLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestLog").field("total", &self.total()).finish()
    }
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, VecDeque<LogEntry>> {
        self.0.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn push(&self, mut entry: LogEntry) {
        entry.seq = self.0.seq.fetch_add(1, Ordering::Relaxed) + 1;
        if entry.grant_type.is_some() {
            self.0.token_requests.fetch_add(1, Ordering::Relaxed);
        }
        let mut entries = self.lock();
        if entries.len() >= LOG_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// Every request seen so far.
    pub fn total(&self) -> u64 {
        self.0.seq.load(Ordering::Relaxed)
    }

    /// Token-endpoint requests seen so far (all grants, success or not).
    pub fn token_requests(&self) -> u64 {
        self.0.token_requests.load(Ordering::Relaxed)
    }

    /// The retained entries, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.lock().iter().cloned().collect()
    }

    /// Retained entries whose path starts with `prefix`.
    pub fn count_path(&self, prefix: &str) -> usize {
        self.lock().iter().filter(|e| e.path.starts_with(prefix)).count()
    }

    /// Retained token requests by `client_id`.
    pub fn token_requests_by(&self, client_id: &str) -> usize {
        self.lock()
            .iter()
            .filter(|e| e.grant_type.is_some() && e.client_id.as_deref() == Some(client_id))
            .count()
    }

    /// Forgets the retained entries and totals.
    pub fn clear(&self) {
        self.lock().clear();
        self.0.seq.store(0, Ordering::Relaxed);
        self.0.token_requests.store(0, Ordering::Relaxed);
    }
}

/// The emulator's state, cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct EmulatorState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub config: EmulatorConfig,
    pub signing: RsaKey,
    pub app_certs: HashMap<String, Vec<RegisteredCert>>,
    pub generated: Vec<GeneratedCert>,
    pub clock: Arc<dyn Clock>,
    pub grants: Mutex<Grants>,
    pub log: RequestLog,
    pub faults: FaultHandle,
    pub store: Store,
    pub seeded: Seeded,
    pub token_cache: Mutex<HashMap<String, (i64, String)>>,
    pub user_denies: AtomicBool,
    /// Access tokens whose signature [`EmulatorState::signed_by_us`] has checked.
    pub signed_tokens: Mutex<HashSet<String>>,
}

/// The most tokens [`EmulatorState::signed_by_us`] remembers (then it starts again).
const SIGNED_TOKENS_CAPACITY: usize = 4096;

impl std::fmt::Debug for EmulatorState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorState").field("tenants", &self.0.config.tenants.len()).finish_non_exhaustive()
    }
}

impl EmulatorState {
    /// Builds the state with the real clock.
    pub fn new(config: EmulatorConfig) -> Result<EmulatorState, Error> {
        EmulatorState::with_clock(config, Arc::new(SystemClock))
    }

    /// Builds the state with a given clock (tests use [`ManualClock`]).
    pub fn with_clock(config: EmulatorConfig, clock: Arc<dyn Clock>) -> Result<EmulatorState, Error> {
        config.validate()?;
        let signing = load_or_generate(&config, "signing", "soar-emulator token signing")?;
        let mut app_certs: HashMap<String, Vec<RegisteredCert>> = HashMap::new();
        let mut generated = Vec::new();
        for app in &config.apps {
            for cert in &app.certificates {
                let registered = match (&cert.generate, &cert.pem_path) {
                    (Some(name), _) => {
                        let key = load_or_generate(&config, name, name)?;
                        let reg = RegisteredCert::from_der(key.cert_der())?;
                        generated.push(GeneratedCert {
                            name: name.clone(),
                            client_id: app.client_id.clone(),
                            key_pem: key.key_pem(),
                            cert_pem: key.cert_pem(),
                            thumbprint_hex: reg.hex_thumbprint.clone(),
                        });
                        reg
                    }
                    (None, Some(path)) => RegisteredCert::from_pem(&read_text(path)?)?,
                    (None, None) => {
                        return Err(Error::Config(format!(
                            "app {}: a certificate needs `generate` or `pem_path`",
                            app.client_id
                        )));
                    }
                };
                app_certs.entry(app.client_id.to_ascii_lowercase()).or_default().push(registered);
            }
        }
        let store = Store::default();
        for dir in &config.seed_dirs {
            store.load_dir(dir)?;
        }
        // After the seed dirs: a seeded collection's items are its own, whatever a dir holds.
        let seeded = Seeded::load(&config.extra_seeds, &store)?;
        let user_denies = AtomicBool::new(config.behaviour.user_denies);
        Ok(EmulatorState(Arc::new(Inner {
            config,
            signing,
            app_certs,
            generated,
            clock,
            grants: Mutex::new(Grants::default()),
            log: RequestLog::default(),
            faults: FaultHandle::default(),
            store,
            seeded,
            token_cache: Mutex::new(HashMap::new()),
            signed_tokens: Mutex::new(HashSet::new()),
            user_denies,
        })))
    }

    /// The configuration.
    pub fn config(&self) -> &EmulatorConfig {
        &self.0.config
    }

    /// Now, in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.0.clock.now_ms()
    }

    /// Now, in whole seconds since the epoch.
    pub fn now_secs(&self) -> i64 {
        self.0.clock.now_ms().div_euclid(1000)
    }

    /// The request log.
    pub fn request_log(&self) -> RequestLog {
        self.0.log.clone()
    }

    /// The fault handle.
    pub fn faults(&self) -> FaultHandle {
        self.0.faults.clone()
    }

    /// The resource-API data store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The seeded collections this instance serves (`test-data/*/emulator-seed.json` and
    /// [`EmulatorConfig::extra_seeds`]).
    pub fn seeded(&self) -> &Seeded {
        &self.0.seeded
    }

    /// Certificates generated for certificate apps.
    pub fn generated_certs(&self) -> &[GeneratedCert] {
        &self.0.generated
    }

    /// The token-signing key.
    pub fn signing_key(&self) -> &RsaKey {
        &self.0.signing
    }

    /// Whether `jwt` (parsed from `token`) carries a valid signature of [`Self::signing_key`].
    /// The key never changes, so a token checked once is remembered (up to
    /// `SIGNED_TOKENS_CAPACITY`): an RSA verification was most of the CPU the emulator spent
    /// on a small API call. Every other check (expiry, audience, roles) is still made per call.
    pub fn signed_by_us(&self, token: &str, jwt: &Jwt) -> bool {
        let lock = || self.0.signed_tokens.lock().unwrap_or_else(|p| p.into_inner());
        if lock().contains(token) {
            return true;
        }
        if !jwt.verify_rsa(&self.signing_key().public_pkcs1()) {
            return false;
        }
        let mut signed = lock();
        if signed.len() >= SIGNED_TOKENS_CAPACITY {
            signed.clear();
        }
        signed.insert(token.to_owned());
        true
    }

    pub(crate) fn grants(&self) -> MutexGuard<'_, Grants> {
        self.0.grants.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the test user currently declines consent.
    pub fn user_denies(&self) -> bool {
        self.0.user_denies.load(Ordering::Relaxed)
    }

    /// Makes the test user decline (or accept) at /authorize and in the device flow.
    pub fn set_user_denies(&self, deny: bool) {
        self.0.user_denies.store(deny, Ordering::Relaxed);
    }

    /// Approves a pending device code by its user code, signing in the first configured user.
    /// Returns false when no pending code has that user code.
    pub fn approve_device_code(&self, user_code: &str) -> bool {
        let Some(user) = self.0.config.users.first().map(|u| u.object_id.clone()) else { return false };
        self.decide_device_code(user_code, DeviceStatus::Approved(user))
    }

    /// Approves a pending device code by its user code, signing in the configured user `upn`
    /// (case-insensitive). False when no pending code has that user code or no user that name.
    pub fn approve_device_code_as(&self, user_code: &str, upn: &str) -> bool {
        let user = self.0.config.users.iter().find(|u| u.upn.eq_ignore_ascii_case(upn));
        let Some(user) = user.map(|u| u.object_id.clone()) else { return false };
        self.decide_device_code(user_code, DeviceStatus::Approved(user))
    }

    /// Denies a pending device code by its user code.
    pub fn deny_device_code(&self, user_code: &str) -> bool {
        self.decide_device_code(user_code, DeviceStatus::Denied)
    }

    fn decide_device_code(&self, user_code: &str, status: DeviceStatus) -> bool {
        let want = normalize_user_code(user_code);
        let mut grants = self.grants();
        match grants.devices.values_mut().find(|d| d.user_code == want && d.status == DeviceStatus::Pending) {
            Some(d) => {
                d.status = status;
                true
            }
            None => false,
        }
    }

    /// Revokes refresh tokens (all of them, or one user's): the next use answers AADSTS50173.
    /// Returns how many were revoked.
    pub fn revoke_refresh_tokens(&self, user_oid: Option<&str>) -> usize {
        let mut grants = self.grants();
        let mut n = 0;
        for g in grants.refresh.values_mut() {
            if user_oid.is_none_or(|u| g.user_oid.as_deref() == Some(u)) && !g.revoked {
                g.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Makes refresh tokens look inactive for longer than allowed: next use answers AADSTS700082.
    pub fn expire_refresh_tokens(&self) -> usize {
        let limit = self.0.config.behaviour.refresh_token_max_inactive_secs as i64 * 1000;
        let mut grants = self.grants();
        for g in grants.refresh.values_mut() {
            g.last_used_ms -= limit + 1000;
        }
        grants.refresh.len()
    }
}

/// Reuses `{data_dir}/{slot}.key.pem` + `.cert.pem` when both exist (so thumbprints survive a
/// restart), else generates (and, with a data dir, saves) a key and certificate.
fn load_or_generate(config: &EmulatorConfig, slot: &str, subject: &str) -> Result<RsaKey, Error> {
    if let Some(dir) = &config.data_dir {
        let (kp, cp) = (dir.join(format!("{slot}.key.pem")), dir.join(format!("{slot}.cert.pem")));
        if kp.is_file() && cp.is_file() {
            // A key written by an older version may be world-readable: narrow it to 0600.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(&kp, std::fs::Permissions::from_mode(0o600))
                    .map_err(|source| Error::Io { context: format!("narrowing {}", kp.display()), source })?;
            }
            return RsaKey::from_pems(&read_text(&kp)?, &read_text(&cp)?);
        }
        let key = RsaKey::from_pkcs8(cached_rsa_pkcs8(slot)?, subject)?;
        std::fs::create_dir_all(dir)
            .map_err(|source| Error::Io { context: format!("creating {}", dir.display()), source })?;
        crate::server::write_private(&kp, &key.key_pem())
            .map_err(|source| Error::Io { context: format!("writing {}", kp.display()), source })?;
        std::fs::write(&cp, key.cert_pem())
            .map_err(|source| Error::Io { context: format!("writing {}", cp.display()), source })?;
        return Ok(key);
    }
    RsaKey::from_pkcs8(cached_rsa_pkcs8(slot)?, subject)
}

/// Upper-cases and strips separators from a user code, as typed by a person.
pub fn normalize_user_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|source| Error::Io { context: format!("reading {}", path.display()), source })
}
