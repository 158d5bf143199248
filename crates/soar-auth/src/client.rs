//! [`Shared`] (process-wide: transport, seams, single-flight table) and [`MsClient`] (one per
//! request: the configured flow, cloud and HTTP options).

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use serde_json::Value;
use soar_protocol::{AuthFlow, IntegrationContext, Params, Secret};

use crate::Error;
use crate::cache::{self, CacheKeys, MemToken};
use crate::cloud::CloudEndpoints;
use crate::flows::{
    AuthorizationCode, CTX_CODE_VERIFIER, CTX_DEVICE_INTERVAL, ClientAuth, ClientCredentials, CortexApp,
    Credential, DeviceCode, DeviceStart, FlowCx, ManagedIdentity, OPROXY_URL, Poll, Target, TokenResponse,
    login_url, pkce_pair,
};
use crate::http::{
    Clock, DEFAULT_TIMEOUT, HttpConfig, HttpRequest, HttpResponse, ReqwestTransport, Sleeper, SystemClock,
    TokioSleeper, Transport,
};
use crate::spec::{ApiKind, AuthSpec, first};

type Slot = Arc<tokio::sync::Mutex<Option<MemToken>>>;

/// The table size at which a new slot first prunes dead ones (see [`Shared::prune`]).
const PRUNE_AT: usize = 256;

/// Shards of the single-flight table (a power of two, as dashmap requires).
const FLIGHT_SHARDS: usize = 16;

/// Process-wide state: the HTTP transport (connection pools), the clock and sleep seams, the
/// emulator hook-up configuration and the single-flight token table. Create once per process.
pub struct Shared {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) config: HttpConfig,
    config_error: Option<String>,
    flights: DashMap<String, Slot>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("config", &self.config).field("flights", &self.flights.len()).finish()
    }
}

impl Shared {
    /// Reads [`HttpConfig::from_env`] and uses reqwest, the system clock and tokio's sleep.
    /// A bad environment value is reported by the first [`MsClient::from_params`].
    pub fn new() -> Arc<Self> {
        match HttpConfig::from_env() {
            Ok(c) => Shared::with_config(c),
            Err(e) => {
                let mut s = Shared::build(
                    Arc::new(ReqwestTransport::new(HttpConfig::default())),
                    Arc::new(SystemClock),
                    Arc::new(TokioSleeper),
                    HttpConfig::default(),
                );
                s.config_error = Some(e.to_string());
                Arc::new(s)
            }
        }
    }

    /// reqwest with `config`, the system clock and tokio's sleep.
    pub fn with_config(config: HttpConfig) -> Arc<Self> {
        Arc::new(Shared::build(
            Arc::new(ReqwestTransport::new(config.clone())),
            Arc::new(SystemClock),
            Arc::new(TokioSleeper),
            config,
        ))
    }

    /// Every seam given (tests).
    pub fn with_parts(
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
        config: HttpConfig,
    ) -> Arc<Self> {
        Arc::new(Shared::build(transport, clock, sleeper, config))
    }

    fn build(
        transport: Arc<dyn Transport>,
        clock: Arc<dyn Clock>,
        sleeper: Arc<dyn Sleeper>,
        config: HttpConfig,
    ) -> Self {
        // A fixed shard count: `DashMap::new` sizes it from the CPU count, which reads cgroup
        // files on Linux, a dozen system calls on every one-shot run. The table holds a few
        // identities, so 16 shards are plenty on any machine.
        let flights = DashMap::with_shard_amount(FLIGHT_SHARDS);
        Shared { transport, clock, sleeper, config, config_error: None, flights }
    }

    /// The configuration in use.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// The slot of one identity+scope; the dashmap guard is dropped before returning.
    fn slot(&self, key: &str) -> Slot {
        if let Some(s) = self.flights.get(key) {
            return s.clone();
        }
        if self.flights.len() >= PRUNE_AT {
            self.prune();
        }
        self.flights.entry(key.to_owned()).or_default().clone()
    }

    /// Drops the slots nobody holds whose token is gone or expired. Keys include a hash of the
    /// refresh token, so without this a long `--serve` process whose refresh tokens rotate would
    /// keep one dead slot per rotation.
    fn prune(&self) {
        let now = self.clock.epoch();
        self.flights.retain(|_, slot| {
            // Held elsewhere: a request is using it (or about to); keep it.
            if Arc::strong_count(slot) > 1 {
                return true;
            }
            match slot.try_lock() {
                Ok(token) => token.as_ref().is_some_and(|t| t.valid_until > now),
                Err(_) => true,
            }
        });
    }

    /// How many identity+scope slots are kept (tests).
    #[doc(hidden)]
    pub fn slot_count(&self) -> usize {
        self.flights.len()
    }

    /// Drops every in-memory token whose key starts with `prefix`.
    fn forget(&self, prefix: &str) {
        self.flights.retain(|k, _| !k.starts_with(prefix));
    }
}

/// Requests sent as they are through an instance's transport (see [`MsClient::plain`]).
#[derive(Clone)]
pub struct PlainHttp {
    shared: Arc<Shared>,
    insecure: bool,
    proxy: bool,
    timeout: Duration,
}

impl std::fmt::Debug for PlainHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainHttp").field("insecure", &self.insecure).field("proxy", &self.proxy).finish()
    }
}

impl PlainHttp {
    /// The same handle with another whole-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends one request; the answer comes back whatever its status. Header values may be
    /// secrets: they are never logged.
    pub async fn send(
        &self,
        method: http::Method,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, Error> {
        let req = HttpRequest {
            method,
            url: url.to_owned(),
            headers,
            body,
            timeout: self.timeout,
            insecure: self.insecure,
            proxy: self.proxy,
        };
        self.shared.transport.send(req).await.map_err(Error::Transport)
    }
}

/// The Microsoft client of one request: the configured flow, the cloud, HTTP options.
pub struct MsClient {
    spec: &'static AuthSpec,
    shared: Arc<Shared>,
    flow: AuthFlow,
    cred: Box<dyn Credential>,
    device_cred: Option<DeviceCode>,
    endpoints: CloudEndpoints,
    tenant: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    insecure: bool,
    proxy: bool,
    timeout: Duration,
}

impl std::fmt::Debug for MsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsClient")
            .field("prefix", &self.spec.prefix)
            .field("flow", &self.flow)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

/// Accepted values of the auth-type param, for messages.
const AUTH_TYPES: &str =
    "Client Credentials, Authorization Code, Device Code, Azure Managed Identities, Cortex XSOAR application";

fn parse_auth_type(v: &str) -> Option<AuthFlow> {
    let n = v.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    Some(match n.as_str() {
        "client-credentials" | "client-secret" => AuthFlow::ClientSecret,
        "client-certificate" | "certificate" => AuthFlow::ClientCertificate,
        "authorization-code" | "auth-code" => AuthFlow::AuthorizationCode,
        "device-code" => AuthFlow::DeviceCode,
        "azure-managed-identities" | "managed-identity" | "managed-identities" => AuthFlow::ManagedIdentity,
        "cortex-xsoar-application" | "cortex-app" | "oproxy" => AuthFlow::CortexApp,
        _ => return None,
    })
}

/// The longest request timeout the `timeout` param may ask for (one hour); longer values are
/// clamped to it.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// The longest device-code poll interval believed (from the context or `slow_down`).
const MAX_DEVICE_INTERVAL: i64 = 300;

/// The `timeout` param: seconds, fractional allowed. Longer than [`MAX_TIMEOUT`] (`1e300`,
/// `inf`) is clamped to it; zero, negative, `NaN` or not a number is an error naming the param.
fn parse_timeout(text: &str) -> Result<Duration, Error> {
    let bad = || {
        Error::Config(format!(
            "The timeout param '{text}' is not a usable number of seconds: give a number greater than 0 (at most {} is used).",
            MAX_TIMEOUT.as_secs()
        ))
    };
    let secs = text.trim().parse::<f64>().map_err(|_| bad())?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(bad());
    }
    Ok(Duration::try_from_secs_f64(secs).unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT))
}

fn missing(what: &str) -> Error {
    Error::Config(format!("{what} must be provided."))
}

impl MsClient {
    /// Reads the flow, cloud and credentials from the instance params. Errors name the param
    /// that is missing or wrong; a flow the integration does not declare names the ones it does.
    pub fn from_params(
        spec: &'static AuthSpec,
        params: &Params,
        shared: Arc<Shared>,
    ) -> Result<MsClient, Error> {
        if let Some(e) = &shared.config_error {
            return Err(Error::Config(e.clone()));
        }
        let n = &spec.param_names;
        let endpoints = CloudEndpoints::from_params(params, n, spec.resource == ApiKind::Defender)?;
        let tenant = first(params, n.tenant_id);
        let client_id = first(params, n.client_id);
        let secret = first(params, n.client_secret);
        let thumb = first(params, n.certificate_thumbprint);
        let key = first(params, n.private_key);
        let cert = first(params, n.certificate);
        let auth_code = first(params, n.auth_code);
        let redirect_uri = first(params, n.redirect_uri).map(|s| s.expose().to_owned());
        let has_cert = thumb.is_some() && key.is_some();

        let explicit = n.auth_type.iter().find_map(|k| params.str(k));
        let flow = match explicit.as_deref() {
            Some(v) => {
                let f = parse_auth_type(v).ok_or_else(|| {
                    Error::Config(format!("Unknown authentication type '{v}'. Use one of: {AUTH_TYPES}."))
                })?;
                if f == AuthFlow::ClientSecret && has_cert { AuthFlow::ClientCertificate } else { f }
            }
            None if params.bool(n.use_managed_identities, false) => AuthFlow::ManagedIdentity,
            None if spec.supports(AuthFlow::CortexApp) && !params.bool(n.self_deployed, false) => {
                AuthFlow::CortexApp
            }
            None if auth_code.is_some() && redirect_uri.is_some() => AuthFlow::AuthorizationCode,
            None if has_cert => AuthFlow::ClientCertificate,
            None if spec.flows.len() == 1 => spec.flows[0],
            None => AuthFlow::ClientSecret,
        };
        if !spec.supports(flow) {
            return Err(Error::UnsupportedFlow {
                flow: flow.display_name().to_owned(),
                supported: spec.supported_names(),
            });
        }

        let tenant_s = tenant.as_ref().map(|s| s.expose().to_owned());
        let client_id_s = client_id.as_ref().map(|s| s.expose().to_owned());
        let token_url = |t: &str| format!("{}/{}/oauth2/v2.0/token", endpoints.login, t);
        let user_tenant = spec.user_flow_tenant.map(str::to_owned).or_else(|| tenant_s.clone());
        let client_auth = || -> Result<ClientAuth, Error> {
            if let (Some(t), Some(k)) = (&thumb, &key) {
                let c = crate::flows::CertificateKey::parse(
                    t.expose(),
                    k.expose(),
                    cert.as_ref().map(|c| c.expose()),
                )?;
                return Ok(ClientAuth::Certificate(Box::new(c)));
            }
            match &secret {
                Some(s) => Ok(ClientAuth::Secret(s.clone())),
                None => Err(missing("Key or Certificate Thumbprint and Private Key")),
            }
        };

        let mut device_cred = None;
        let cred: Box<dyn Credential> = match flow {
            AuthFlow::ClientSecret | AuthFlow::ClientCertificate => {
                let t = tenant_s.clone().ok_or_else(|| missing("Tenant ID"))?;
                let id = client_id_s.clone().ok_or_else(|| missing("Authentication ID"))?;
                let auth = client_auth()?;
                Box::new(ClientCredentials { client_id: id, auth, token_url: token_url(&t) })
            }
            AuthFlow::AuthorizationCode => {
                let t = user_tenant.clone().ok_or_else(|| missing("Tenant ID"))?;
                let id = client_id_s.clone().ok_or_else(|| missing("Authentication ID"))?;
                let ru = redirect_uri.clone().ok_or_else(|| {
                    Error::Config("Please provide both Application redirect URI and Authorization code for Authorization Code flow, or None for the Client Credentials flow".into())
                })?;
                let auth = match (&secret, has_cert) {
                    (None, false) => ClientAuth::None,
                    _ => client_auth()?,
                };
                Box::new(AuthorizationCode {
                    client_id: id,
                    auth,
                    auth_code: auth_code.clone(),
                    redirect_uri: ru,
                    token_url: token_url(&t),
                })
            }
            AuthFlow::DeviceCode => {
                let t = user_tenant.clone().unwrap_or_else(|| "organizations".into());
                let id = client_id_s.clone().ok_or_else(|| missing("Authentication ID"))?;
                let dc = DeviceCode {
                    client_id: id,
                    devicecode_url: format!("{}/{}/oauth2/v2.0/devicecode", endpoints.login, t),
                    token_url: token_url(&t),
                };
                device_cred = Some(dc.clone());
                Box::new(dc)
            }
            AuthFlow::ManagedIdentity => {
                let id = first(params, n.managed_identities_client_id)
                    .map(|s| s.expose().to_owned())
                    .filter(|s| s != "SYSTEM_ASSIGNED");
                Box::new(ManagedIdentity { client_id: id })
            }
            AuthFlow::CortexApp => {
                let raw = client_id_s.clone().ok_or_else(|| missing("ID"))?;
                let (reg, url) = match raw.split('@').collect::<Vec<_>>().as_slice() {
                    [id, url] => ((*id).to_owned(), (*url).to_owned()),
                    _ => (
                        raw.split('@').next().unwrap_or_default().to_owned(),
                        shared.config.oproxy_url.clone().unwrap_or_else(|| OPROXY_URL.to_owned()),
                    ),
                };
                let key = secret.clone().ok_or_else(|| {
                    Error::Config("Key must be provided. For further information see https://xsoar.pan.dev/docs/reference/articles/microsoft-integrations---authentication".into())
                })?;
                let token = tenant.clone().ok_or_else(|| missing("Token"))?;
                // A Key that is no AES key is nearly always a client secret: the person filled
                // in their own application's credentials and left the self-deployed box unticked,
                // so they would go to Cortex's OAuth proxy. Say so before any request.
                if let Some(why) = crate::flows::oproxy_key_problem(key.expose()) {
                    return Err(Error::AuthorizationOther(format!(
                        "{why} Please check authentication related parameters.\n{}",
                        self_deployed_hint(spec)
                    )));
                }
                if spec.oproxy_app_name.is_empty() {
                    return Err(Error::Config(format!(
                        "The {} integration declares the Cortex XSOAR application flow but no OAuth proxy app name (AuthSpec::oproxy_app_name). This is a bug in the integration.",
                        spec.prefix
                    )));
                }
                Box::new(CortexApp {
                    registration_id: reg,
                    token_url: url,
                    app_name: spec.oproxy_app_name.to_owned(),
                    token,
                    key,
                    // A government Defender endpoint type needs its own resource too.
                    always_send_resource: endpoints.cloud != crate::Cloud::Com
                        || matches!(
                            endpoints.defender_type,
                            crate::DefenderEndpoint::Gcc
                                | crate::DefenderEndpoint::GccHigh
                                | crate::DefenderEndpoint::Dod
                        ) && spec.resource == ApiKind::Defender,
                })
            }
        };

        let timeout = match params.str(n.timeout) {
            Some(t) => parse_timeout(&t)?,
            None => DEFAULT_TIMEOUT,
        };
        Ok(MsClient {
            spec,
            shared,
            flow,
            cred,
            device_cred,
            endpoints,
            tenant: tenant_s,
            client_id: client_id_s,
            redirect_uri,
            insecure: params.bool(n.insecure, false),
            proxy: params.bool(n.proxy, false),
            timeout,
        })
    }

    /// The configured flow.
    pub fn flow(&self) -> AuthFlow {
        self.flow
    }

    /// The integration's declaration.
    pub fn spec(&self) -> &'static AuthSpec {
        self.spec
    }

    /// The cloud's base URLs.
    pub fn endpoints(&self) -> &CloudEndpoints {
        &self.endpoints
    }

    /// The instance's tenant, when its flow names one.
    pub fn tenant(&self) -> Option<&str> {
        self.tenant.as_deref()
    }

    /// A handle that sends requests as they are through this instance's transport (its host
    /// map, extra CA, `insecure`, `proxy` and timeout), without a token, retries or redirects:
    /// for the few calls to Microsoft endpoints that take credentials of their own (msgraph-user's
    /// MFA connector).
    pub fn plain(&self) -> PlainHttp {
        PlainHttp {
            shared: self.shared.clone(),
            insecure: self.insecure,
            proxy: self.proxy,
            timeout: self.timeout,
        }
    }

    fn cx<'a>(&'a self, ctx: &'a mut IntegrationContext) -> FlowCx<'a> {
        FlowCx {
            shared: &self.shared,
            ctx,
            insecure: self.insecure,
            proxy: self.proxy,
            timeout: self.timeout,
            prefix: self.spec.prefix,
        }
    }

    /// The delegated scope string of the user flows (`offline_access` is added by the flows
    /// that need it): the spec's scopes qualified with the primary API's resource, or its `.default`.
    pub fn delegated_scope(&self, api: ApiKind) -> Result<String, Error> {
        if self.spec.scopes.is_empty() || api != self.spec.resource {
            return self.endpoints.default_scope(api);
        }
        let prefix = self.endpoints.scope_prefix(api)?;
        Ok(self
            .spec
            .scopes
            .iter()
            .map(|s| {
                let oidc = matches!(*s, "offline_access" | "openid" | "profile" | "email");
                if oidc || s.contains("://") { (*s).to_owned() } else { format!("{prefix}/{s}") }
            })
            .collect::<Vec<_>>()
            .join(" "))
    }

    /// What a token for `api` is requested as.
    pub fn target(&self, api: ApiKind) -> Result<Target, Error> {
        let scope = match self.flow {
            AuthFlow::AuthorizationCode | AuthFlow::DeviceCode => self.delegated_scope(api)?,
            _ => self.endpoints.default_scope(api)?,
        };
        Ok(Target { scope, resource: self.endpoints.resource_id(api)?, primary: api == self.spec.resource })
    }

    fn keys(&self, api: ApiKind, target: &Target) -> CacheKeys {
        CacheKeys::for_scope(if api == self.spec.resource { None } else { Some(&target.scope) })
    }

    /// The single-flight key and the grant hash in it: identity, the hash of every value that
    /// identifies the user's grant ([`Credential::grant`]: auth code, PKCE verifier, device code,
    /// refresh token) and the scope.
    fn flight_key(&self, ctx: &IntegrationContext, target: &Target) -> (String, String) {
        let grant = self.cred.grant(ctx);
        (format!("{}|{}|{}", self.cred.identity(), grant, target.scope), grant)
    }

    /// A bearer token for `api`: from the context when valid (no I/O), else from the process's
    /// in-memory copy, else from the identity platform (one request per identity+scope however
    /// many commands ask at once). The context is updated with the reference's keys.
    pub async fn token(&self, ctx: &mut IntegrationContext, api: ApiKind) -> Result<Secret, Error> {
        let target = self.target(api)?;
        let keys = self.keys(api, &target);
        if let Some(t) = cache::lookup(ctx, &keys, self.shared.clock.epoch()) {
            return Ok(t);
        }
        self.fetch(ctx, api, &target, &keys, None).await
    }

    /// Gets a new token even though one is cached (after a 401 with `rejected`).
    pub async fn refresh_token(
        &self,
        ctx: &mut IntegrationContext,
        api: ApiKind,
        rejected: &Secret,
    ) -> Result<Secret, Error> {
        let target = self.target(api)?;
        let keys = self.keys(api, &target);
        self.fetch(ctx, api, &target, &keys, Some(rejected)).await
    }

    async fn fetch(
        &self,
        ctx: &mut IntegrationContext,
        _api: ApiKind,
        target: &Target,
        keys: &CacheKeys,
        rejected: Option<&Secret>,
    ) -> Result<Secret, Error> {
        let (key, grant) = self.flight_key(ctx, target);
        let slot = self.shared.slot(&key);
        let mut guard = slot.lock().await;
        let now = self.shared.clock.epoch();
        // A copy is only ever written into a context that presents the grant it came from (the
        // key already says so; this is the check at the one place tokens cross contexts).
        if let Some(m) = guard.as_ref()
            && m.grant == grant
            && m.fresh_at(now)
            && rejected.is_none_or(|r| r.expose() != m.token.expose())
        {
            cache::store(ctx, keys, &m.token, m.valid_until, &m.refresh);
            return Ok(m.token.clone());
        }
        let resp: TokenResponse = {
            let mut cx = self.cx(ctx);
            self.cred.acquire(&mut cx, target).await?
        };
        let now = self.shared.clock.epoch();
        let until = cache::valid_until(now, resp.expires_in);
        cache::store(ctx, keys, &resp.access_token, until, &resp.refresh_token);
        tracing::debug!(flow = ?self.flow, scope = %target.scope, valid_until = until, "token acquired");
        *guard = Some(MemToken {
            token: resp.access_token.clone(),
            valid_until: until,
            refresh: resp.refresh_token,
            obtained: now,
            grant,
        });
        Ok(resp.access_token)
    }

    /// Clears the context (reference `reset_auth`) and this identity's in-memory tokens.
    pub fn reset(&self, ctx: &mut IntegrationContext) {
        ctx.replace(soar_protocol::Object::new());
        self.shared.forget(&format!("{}|", self.cred.identity()));
    }

    /// The authorization-code login URL (reference shape). With `pkce`, a verifier is kept in
    /// the context and `&code_challenge=...&code_challenge_method=S256` is appended.
    pub fn login_url(&self, ctx: &mut IntegrationContext, pkce: bool) -> Result<String, Error> {
        let scope = self.endpoints.default_scope(self.spec.resource)?;
        let scope =
            if self.spec.scopes.is_empty() { scope } else { self.delegated_scope(self.spec.resource)? };
        let scope = scope.split(' ').filter(|s| *s != "offline_access").collect::<Vec<_>>().join(" ");
        let tenant = self.spec.user_flow_tenant.map(str::to_owned).or_else(|| self.tenant.clone());
        let mut miss = Vec::new();
        if self.client_id.is_none() {
            miss.push("client_id");
        }
        if tenant.is_none() {
            miss.push("tenant_id");
        }
        if scope.is_empty() {
            miss.push("scope");
        }
        if self.redirect_uri.is_none() {
            miss.push("redirect_uri");
        }
        if !miss.is_empty() {
            return Err(Error::Config(format!(
                "Please make sure you entered the Authorization configuration correctly. Missing:{}",
                miss.join(",")
            )));
        }
        let mut url = login_url(
            &self.endpoints.login,
            tenant.as_deref().unwrap_or_default(),
            &scope,
            self.client_id.as_deref().unwrap_or_default(),
            self.redirect_uri.as_deref().unwrap_or_default(),
        );
        if pkce {
            let (verifier, challenge) = pkce_pair();
            ctx.set(CTX_CODE_VERIFIER, Value::String(verifier));
            url.push_str(&format!("&code_challenge={challenge}&code_challenge_method=S256"));
        }
        Ok(url)
    }

    fn device(&self) -> Result<&DeviceCode, Error> {
        if self.flow != AuthFlow::DeviceCode {
            return Err(Error::Config(format!(
                "This command is for the Device Code flow; the instance is configured for {}.",
                self.flow.display_name()
            )));
        }
        self.device_cred.as_ref().ok_or_else(|| Error::Config("device code flow not configured".into()))
    }

    /// Device code, step 1: asks for a code; the context is replaced with it.
    pub async fn device_start(&self, ctx: &mut IntegrationContext) -> Result<DeviceStart, Error> {
        let dc = self.device()?;
        let scope = self.delegated_scope(self.spec.resource)?;
        let scope = with_offline(&scope);
        let mut cx = self.cx(ctx);
        dc.start(&mut cx, &scope).await
    }

    /// Device code, step 2: polls per RFC 8628 until tokens arrive, the person declines, the
    /// code expires, or `max_wait` passes; then stores the tokens like [`MsClient::token`].
    pub async fn device_complete(
        &self,
        ctx: &mut IntegrationContext,
        max_wait: Duration,
    ) -> Result<(), Error> {
        let dc = self.device()?;
        let target = self.target(self.spec.resource)?;
        let keys = self.keys(self.spec.resource, &target);
        let scope = with_offline(&target.scope);
        // The context is data: an interval outside 1..=300 s is not believed.
        let mut interval = ctx
            .get(CTX_DEVICE_INTERVAL)
            .and_then(Value::as_i64)
            .filter(|i| (1..=MAX_DEVICE_INTERVAL).contains(i))
            .unwrap_or(5);
        let start = self.shared.clock.now();
        loop {
            let poll = {
                let mut cx = self.cx(ctx);
                dc.poll(&mut cx, &scope).await?
            };
            match poll {
                Poll::Done(resp) => {
                    let now = self.shared.clock.epoch();
                    let until = cache::valid_until(now, resp.expires_in);
                    cache::store(ctx, &keys, &resp.access_token, until, &resp.refresh_token);
                    return Ok(());
                }
                Poll::Pending => {}
                Poll::SlowDown => interval = (interval + 5).min(MAX_DEVICE_INTERVAL),
            }
            let waited = self.shared.clock.now() - start;
            if waited + interval as f64 > max_wait.as_secs_f64() {
                return Err(Error::AuthorizationPending(format!("!{}-auth-complete", self.spec.prefix)));
            }
            self.shared.sleeper.sleep(Duration::from_secs(interval as u64)).await;
        }
    }
}

fn with_offline(scope: &str) -> String {
    if scope.split(' ').any(|s| s == "offline_access") {
        scope.to_owned()
    } else {
        format!("{scope} offline_access")
    }
}

/// How many times an idempotent API call is retried on 429/5xx.
pub const API_RETRIES: u32 = 3;
/// The longest wait between retries, whatever `Retry-After` says.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(60);

/// One API call: the one request builder from a command handler to the wire. Which API it goes
/// to (base URL and token audience) is given to [`MsClient::send`], so a handler builds a
/// request without knowing the cloud or the flow.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// Method.
    pub method: http::Method,
    /// A path appended to the API's base URL, or an absolute URL (next links).
    pub path_or_url: String,
    /// Query parameters (appended, encoded).
    pub query: Vec<(String, String)>,
    /// Extra headers (over the defaults `Content-Type`/`Accept: application/json`).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Option<Vec<u8>>,
    /// Extra statuses that are not errors (e.g. 404 for "exists?" checks).
    pub ok_statuses: Vec<u16>,
    /// The whole-request timeout of this call (a command's own `timeout` argument), instead of
    /// the instance's; clamped to [`MAX_TIMEOUT`] when sent. `None`: the instance's.
    pub timeout: Option<Duration>,
}

impl ApiRequest {
    /// A request without query, headers or body.
    pub fn new(method: http::Method, path_or_url: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path_or_url: path_or_url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            ok_statuses: Vec::new(),
            timeout: None,
        }
    }

    /// Sends this call with its own whole-request timeout instead of the instance's (at most
    /// [`MAX_TIMEOUT`]; a zero timeout is raised to one millisecond).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A GET of `path_or_url`.
    pub fn get(path_or_url: impl Into<String>) -> Self {
        Self::new(http::Method::GET, path_or_url)
    }

    /// A POST to `path_or_url`.
    pub fn post(path_or_url: impl Into<String>) -> Self {
        Self::new(http::Method::POST, path_or_url)
    }

    /// A PUT to `path_or_url`.
    pub fn put(path_or_url: impl Into<String>) -> Self {
        Self::new(http::Method::PUT, path_or_url)
    }

    /// A PATCH of `path_or_url`.
    pub fn patch(path_or_url: impl Into<String>) -> Self {
        Self::new(http::Method::PATCH, path_or_url)
    }

    /// A DELETE of `path_or_url`.
    pub fn delete(path_or_url: impl Into<String>) -> Self {
        Self::new(http::Method::DELETE, path_or_url)
    }

    /// Adds a query parameter.
    pub fn query(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.query.push((k.into(), v.into()));
        self
    }

    /// Adds a header.
    pub fn header(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    /// The JSON body, parsed back (tests and fakes read what a handler sent).
    pub fn json_body(&self) -> Option<Value> {
        self.body.as_deref().and_then(|b| serde_json::from_slice(b).ok())
    }

    /// True when the path is an absolute URL (a next link) rather than a path below the base.
    pub fn is_absolute(&self) -> bool {
        self.path_or_url.starts_with("https://") || self.path_or_url.starts_with("http://")
    }
}

fn idempotent(m: &http::Method) -> bool {
    matches!(
        *m,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::PUT
            | http::Method::DELETE
            | http::Method::OPTIONS
    )
}

impl MsClient {
    /// The full URL of an API path (absolute URLs are kept as they are).
    pub fn api_url(
        &self,
        api: ApiKind,
        path_or_url: &str,
        query: &[(String, String)],
    ) -> Result<String, Error> {
        let mut url = if path_or_url.starts_with("https://") || path_or_url.starts_with("http://") {
            path_or_url.to_owned()
        } else {
            format!("{}/{}", self.endpoints.base(api)?, path_or_url.trim_start_matches('/'))
        };
        if !query.is_empty() {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in query {
                ser.append_pair(k, v);
            }
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&ser.finish());
        }
        Ok(url)
    }

    /// One API call returning parsed JSON (`Value::Null` for an empty body). See [`MsClient::send`].
    pub async fn request(
        &self,
        ctx: &mut IntegrationContext,
        api: ApiKind,
        method: http::Method,
        path_or_url: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, Error> {
        let mut req = ApiRequest::new(method, path_or_url);
        req.query = query.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        req.body = body.map(|b| b.to_string().into_bytes());
        let resp = self.send(ctx, api, req).await?;
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&resp.body)
            .map_err(|_| Error::Parse(String::from_utf8_lossy(&resp.body).into_owned()))
    }

    /// One API call: bearer token for the API, `Content-Type`/`Accept: application/json`, retries
    /// with back-off on 429 (honouring `Retry-After`), 5xx and dropped connections for idempotent
    /// methods, one token refresh and retry on 401. Redirects are followed by
    /// [`MsClient::follow`] (see the crate docs for the policy). A status that is not 2xx (or
    /// listed as OK) is an [`Error::Api`].
    pub async fn send(
        &self,
        ctx: &mut IntegrationContext,
        api: ApiKind,
        req: ApiRequest,
    ) -> Result<HttpResponse, Error> {
        let url = self.api_url(api, &req.path_or_url, &req.query)?;
        let mut token = self.token(ctx, api).await?;
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            let (resp, with_token) = match self.follow(&req, &url, &token).await {
                Ok(r) => r,
                Err(Error::Transport(e))
                    if crate::http::is_dropped(&e) && idempotent(&req.method) && attempt < API_RETRIES =>
                {
                    let wait = Duration::from_secs(1 << attempt);
                    tracing::debug!(
                        wait_ms = wait.as_millis() as u64,
                        "connection dropped: retrying API call"
                    );
                    self.shared.sleeper.sleep(wait).await;
                    attempt += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if resp.status == 401 && with_token && !refreshed {
                // The cached token was refused (revoked, or expired early): refresh once, retry once.
                refreshed = true;
                tracing::debug!(api = api.name(), "401 from the API: refreshing the token once");
                token = self.refresh_token(ctx, api, &token).await?;
                continue;
            }
            let retryable = resp.status == 429 || resp.status >= 500;
            if retryable && idempotent(&req.method) && attempt < API_RETRIES {
                let wait =
                    resp.retry_after().unwrap_or(Duration::from_secs(1 << attempt)).min(MAX_RETRY_WAIT);
                tracing::debug!(status = resp.status, wait_ms = wait.as_millis() as u64, "retrying API call");
                self.shared.sleeper.sleep(wait).await;
                attempt += 1;
                continue;
            }
            if resp.ok() || req.ok_statuses.contains(&resp.status) {
                return Ok(resp);
            }
            return Err(api_error(&resp));
        }
    }

    /// Sends `req` to `url` and follows redirects ourselves (the transport never does), at most
    /// [`MAX_REDIRECTS`] hops (a redirect status listed in `req.ok_statuses` is returned, not
    /// followed). The bearer token goes only to `url`'s origin over https: a hop is
    /// sent with it while every hop so far, this one included, is https on that origin. Any other
    /// hop is sent without it, and only when it is a GET or HEAD (a 303, or a 301/302 of a POST,
    /// turns the request into a GET without body, as browsers do); a hop that would re-send a
    /// body elsewhere, and any https -> http downgrade, is refused with [`Error::Redirect`].
    /// Returns the final answer and whether it was asked with the token.
    pub async fn follow(
        &self,
        req: &ApiRequest,
        url: &str,
        token: &Secret,
    ) -> Result<(HttpResponse, bool), Error> {
        let origin = url::Url::parse(url).ok().map(|u| u.origin());
        let mut current = url.to_owned();
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut with_token = true;
        for hop in 0..=MAX_REDIRECTS {
            let mut h = HttpRequest::new(method.clone(), current.clone());
            h.insecure = self.insecure;
            h.proxy = self.proxy;
            h.timeout = req.timeout.map_or(self.timeout, |t| t.clamp(Duration::from_millis(1), MAX_TIMEOUT));
            if with_token {
                h.headers.push(("authorization".into(), format!("Bearer {}", token.expose())));
            }
            h.headers.push(("content-type".into(), "application/json".into()));
            h.headers.push(("accept".into(), "application/json".into()));
            for (k, v) in &req.headers {
                if k.eq_ignore_ascii_case("authorization") && !with_token {
                    continue;
                }
                h.headers.retain(|(hk, _)| !hk.eq_ignore_ascii_case(k));
                h.headers.push((k.clone(), v.clone()));
            }
            h.body = body.clone();
            let resp = self.shared.transport.send(h).await.map_err(Error::Transport)?;
            // A redirect the caller lists in `ok_statuses` is its answer (it wants the Location).
            let Some(location) = redirect_location(&resp).filter(|_| !req.ok_statuses.contains(&resp.status))
            else {
                return Ok((resp, with_token));
            };
            if hop == MAX_REDIRECTS {
                return Err(Error::Redirect(format!(
                    "the API answered with more than {MAX_REDIRECTS} redirects in a row."
                )));
            }
            let here = url::Url::parse(&current)
                .map_err(|_| Error::Redirect("the request URL is not a valid URL.".into()))?;
            let next = here.join(location).map_err(|_| {
                Error::Redirect(format!(
                    "{} answered {} with a Location that is not a URL.",
                    show_origin(&here),
                    resp.status
                ))
            })?;
            if here.scheme() == "https" && next.scheme() != "https" {
                return Err(Error::Redirect(format!(
                    "{} redirected to {} (not https); credentials and data are never sent over plain HTTP.",
                    show_origin(&here),
                    show_origin(&next)
                )));
            }
            if !matches!(next.scheme(), "https" | "http") {
                return Err(Error::Redirect(format!(
                    "{} redirected to a {} URL; only https is followed.",
                    show_origin(&here),
                    next.scheme()
                )));
            }
            // 303 (any method but HEAD), and 301/302 of a POST, become a GET without body.
            if (resp.status == 303 && method != http::Method::HEAD)
                || (matches!(resp.status, 301 | 302) && method == http::Method::POST)
            {
                method = http::Method::GET;
                body = None;
            }
            let same_origin = next.scheme() == "https" && Some(next.origin()) == origin;
            with_token = with_token && same_origin;
            if !same_origin && (body.is_some() || !matches!(method, http::Method::GET | http::Method::HEAD)) {
                return Err(Error::Redirect(format!(
                    "{} redirected a {method} request to another origin ({}); only GET and HEAD requests are followed there.",
                    show_origin(&here),
                    show_origin(&next)
                )));
            }
            tracing::debug!(status = resp.status, with_token, "following a redirect");
            current = next.to_string();
        }
        Err(Error::Redirect(format!("the API answered with more than {MAX_REDIRECTS} redirects in a row.")))
    }
}

impl MsClient {
    /// A plain GET of a pre-authenticated download link (a Defender investigation package or
    /// live-response result): https only, never with a token, redirects followed (https only)
    /// up to [`MAX_REDIRECTS`], with the instance's TLS, proxy and timeout settings. A status
    /// that is not 2xx is an [`Error::Api`].
    pub async fn download(&self, url: &str) -> Result<HttpResponse, Error> {
        let mut current = url::Url::parse(url)
            .map_err(|_| Error::Redirect("the download link is not a valid URL.".into()))?;
        for _ in 0..=MAX_REDIRECTS {
            if current.scheme() != "https" {
                return Err(Error::Redirect(format!(
                    "the download link {} is not https; files are only downloaded over https.",
                    show_origin(&current)
                )));
            }
            let mut h = HttpRequest::new(http::Method::GET, current.to_string());
            h.insecure = self.insecure;
            h.proxy = self.proxy;
            h.timeout = self.timeout;
            let resp = self.shared.transport.send(h).await.map_err(Error::Transport)?;
            match redirect_location(&resp) {
                Some(location) => {
                    current = current.join(location).map_err(|_| {
                        Error::Redirect(format!(
                            "{} answered {} with a Location that is not a URL.",
                            show_origin(&current),
                            resp.status
                        ))
                    })?;
                }
                None if resp.ok() => return Ok(resp),
                None => return Err(api_error(&resp)),
            }
        }
        Err(Error::Redirect(format!(
            "the download answered with more than {MAX_REDIRECTS} redirects in a row."
        )))
    }
}

/// The troubleshooting hint for self-deployed credentials sent to the OAuth proxy.
pub fn self_deployed_hint(spec: &AuthSpec) -> String {
    format!(
        "A Cortex XSOAR application Key is the base64 value the consent page at \
         https://oproxy.demisto.ninja/{app} shows. If the ID and Key you entered are your own Azure \
         application's client ID and client secret, tick the self-deployed box (`{box}`) so that \
         they go to Microsoft directly instead of the Cortex OAuth proxy, save, and run \
         `!{prefix}-auth-reset`.",
        app = spec.oproxy_app_name,
        box = spec.param_names.self_deployed,
        prefix = spec.prefix
    )
}

/// The most redirects one API call follows.
pub const MAX_REDIRECTS: usize = 10;

/// The `Location` of a redirect status (301, 302, 303, 307, 308), when there is one.
fn redirect_location(resp: &HttpResponse) -> Option<&str> {
    matches!(resp.status, 301 | 302 | 303 | 307 | 308).then(|| resp.header("location")).flatten()
}

/// `scheme://host[:port]` of a URL, for error texts (no path or query: they may carry a
/// pre-authenticated signature).
fn show_origin(u: &url::Url) -> String {
    u.origin().ascii_serialization()
}

/// The reference's `Error in API call [status] - reason\n<body>`.
pub fn api_error(resp: &HttpResponse) -> Error {
    let reason = http::StatusCode::from_u16(resp.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown")
        .to_owned();
    // `json.dumps(body)` as the reference writes it (`{"a": 1}`, ASCII-escaped); raw text stays raw.
    let body = match serde_json::from_slice::<Value>(&resp.body) {
        Ok(v) => soar_pyjson::json_dumps(&v, true),
        Err(_) => String::from_utf8_lossy(&resp.body).into_owned(),
    };
    Error::Api { status: resp.status, reason, headers: resp.headers.clone(), body }
}
