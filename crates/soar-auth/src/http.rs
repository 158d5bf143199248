//! HTTP behind a seam: the [`Transport`] trait, the reqwest implementation (rustls, host map,
//! extra CA, proxy switch, a timeout on every request), the emulator hook-up configuration, and
//! the clock/sleep seams.
//!
//! - The transport never follows a redirect: a 3xx is returned as it is. API calls follow them
//!   in [`crate::MsClient::follow`], which decides hop by hop whether the token goes along.
//! - An answer is held in memory only up to [`MAX_RESPONSE_BYTES`] (64 MiB): a larger declared
//!   `Content-Length` is refused before the body is read, and a body (chunked or not) that grows
//!   past it is dropped at that point, with an error naming the limit.
//! - Errors are texts without URLs or secrets. A text starting with [`DROPPED`] means the
//!   connection was closed or reset before a whole answer arrived; callers retry those only for
//!   idempotent requests.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use soar_protocol::Secret;

use crate::Error;

/// One HTTP request as the auth crate sends it.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: http::Method,
    /// Absolute URL (never carries a secret: secrets go in the body or headers).
    pub url: String,
    /// Headers. Values may be secrets (`Authorization`); never log them.
    pub headers: Vec<(String, String)>,
    /// Body bytes (form or JSON).
    pub body: Option<Vec<u8>>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Skip TLS verification (the instance's `insecure`).
    pub insecure: bool,
    /// Use the system proxy (the instance's `proxy`); otherwise no proxy at all.
    pub proxy: bool,
}

impl HttpRequest {
    /// A request with the defaults: 60 s timeout, no redirects, TLS verified, no proxy.
    pub fn new(method: http::Method, url: impl Into<String>) -> Self {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: DEFAULT_TIMEOUT,
            insecure: false,
            proxy: false,
        }
    }

    /// The value of a header (case-insensitive), for tests.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text, for tests.
    pub fn body_text(&self) -> String {
        self.body.as_deref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
    }

    /// The form fields of a form body, in order, for tests.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_deref().unwrap_or_default()).into_owned().collect()
    }
}

/// The default timeout of every request (the reference's BaseClient uses 60 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest answer (API or token endpoint) held in memory: 64 MiB. Larger answers are
/// refused with an error naming the limit.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// The start of a transport error text for a connection closed or reset before a whole answer
/// arrived (see [`is_dropped`]).
pub const DROPPED: &str = "connection dropped";

/// True when a transport error text says the connection was dropped (see [`DROPPED`]).
pub fn is_dropped(error: &str) -> bool {
    error.starts_with(DROPPED)
}

/// The error text for an answer over [`MAX_RESPONSE_BYTES`].
fn too_large(what: &str) -> String {
    format!(
        "the answer is larger than {MAX_RESPONSE_BYTES} bytes (64 MiB), the most soar-rt holds for one answer ({what}); ask for less (smaller pages, a filter or select)."
    )
}

/// One HTTP response.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response with a JSON body.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A header value (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// True for 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Retry-After` in seconds (HTTP dates are ignored). Saturates: a value beyond what a
    /// [`Duration`] holds (`1e300`, `inf`) is [`Duration::MAX`]; callers clamp it to their own
    /// longest wait. Negative or `NaN` is ignored.
    pub fn retry_after(&self) -> Option<Duration> {
        let v = self.header("retry-after")?.trim();
        let secs = v.parse::<f64>().ok().filter(|s| *s >= 0.0)?;
        Some(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
    }
}

/// The HTTP seam. Errors are texts without URLs or secrets; one starting with [`DROPPED`] is a
/// connection closed before a whole answer arrived. Redirects are returned, never followed.
#[async_trait]
pub trait Transport: Send + Sync {
    /// Sends one request.
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, String>;
}

/// Wall-clock seam: Unix seconds.
pub trait Clock: Send + Sync {
    /// Now, in Unix seconds (fractional).
    fn now(&self) -> f64;
    /// The reference's `epoch_seconds()`: integer seconds, truncated.
    fn epoch(&self) -> i64 {
        self.now() as i64
    }
}

/// Sleep seam.
#[async_trait]
pub trait Sleeper: Send + Sync {
    /// Waits `d`.
    async fn sleep(&self, d: Duration);
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> f64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
    }
}

/// `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// Process-level configuration of the HTTP layer; this is also how soar-rt is pointed at the
/// emulator. Read from the environment by [`HttpConfig::from_env`]:
///
/// | variable | meaning |
/// |---|---|
/// | `SOAR_HOST_MAP` | `host=ip:port,host2=ip:port`: connect to that address for that host name (TLS still checks the name) |
/// | `SOAR_EXTRA_CA` | path of a PEM file with extra trusted CA certificates |
/// | `SOAR_IMDS_ENDPOINT` | base URL replacing `http://169.254.169.254` for managed identities |
/// | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` | App Service managed identity endpoint (as azure-identity) |
/// | `SOAR_OPROXY_URL` | the OAuth proxy URL (an `@<url>` suffix on the ID param wins) |
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Host name -> socket address.
    pub host_map: Vec<(String, SocketAddr)>,
    /// Extra trusted CA certificates (PEM bytes).
    pub extra_ca_pem: Option<Vec<u8>>,
    /// IMDS base URL override.
    pub imds_endpoint: Option<String>,
    /// App Service managed identity endpoint and header.
    pub identity_endpoint: Option<(String, Secret)>,
    /// OAuth proxy URL override.
    pub oproxy_url: Option<String>,
}

impl HttpConfig {
    /// Reads the configuration through `lookup` (an environment seam).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<HttpConfig, Error> {
        let get = |k: &str| lookup(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let host_map = match get("SOAR_HOST_MAP") {
            Some(v) => parse_host_map(&v)?,
            None => Vec::new(),
        };
        let extra_ca_pem = match get("SOAR_EXTRA_CA") {
            Some(path) => Some(std::fs::read(&path).map_err(|e| {
                Error::Config(format!(
                    "SOAR_EXTRA_CA: cannot read the CA file {path}: {e}. Give the path of a PEM file."
                ))
            })?),
            None => None,
        };
        let identity_endpoint = match (get("IDENTITY_ENDPOINT"), get("IDENTITY_HEADER")) {
            (Some(e), Some(h)) => Some((e, Secret::new(h))),
            _ => None,
        };
        Ok(HttpConfig {
            host_map,
            extra_ca_pem,
            imds_endpoint: get("SOAR_IMDS_ENDPOINT").map(|s| s.trim_end_matches('/').to_owned()),
            identity_endpoint,
            oproxy_url: get("SOAR_OPROXY_URL"),
        })
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<HttpConfig, Error> {
        HttpConfig::from_lookup(|k| std::env::var(k).ok())
    }
}

/// Parses `host=ip:port,host2=ip:port` (`ip:port` may also be `localhost:port`).
pub fn parse_host_map(v: &str) -> Result<Vec<(String, SocketAddr)>, Error> {
    let mut out = Vec::new();
    for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || {
            Error::Config(format!(
                "SOAR_HOST_MAP: '{item}' is not host=address:port (example: login.microsoftonline.com=127.0.0.1:8443)."
            ))
        };
        let (host, addr) = item.split_once('=').ok_or_else(bad)?;
        let addr = addr.trim();
        // An `ip:port` parses without the resolver (a host map lists every cloud's hosts).
        let addr = match addr.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(_) => addr.to_socket_addrs().map_err(|_| bad())?.next().ok_or_else(bad)?,
        };
        out.push((host.trim().to_ascii_lowercase(), addr));
    }
    Ok(out)
}

/// The reqwest transport: one client per (insecure, proxy) combination, built on first use and
/// then shared (connection pool). It never follows redirects and holds at most
/// [`MAX_RESPONSE_BYTES`] of an answer.
pub struct ReqwestTransport {
    config: HttpConfig,
    clients: [OnceLock<Result<reqwest::Client, String>>; 4],
    max_response_bytes: usize,
}

impl std::fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestTransport").field("config", &self.config).finish()
    }
}

impl ReqwestTransport {
    /// A transport using `config`.
    pub fn new(config: HttpConfig) -> Self {
        ReqwestTransport { config, clients: Default::default(), max_response_bytes: MAX_RESPONSE_BYTES }
    }

    /// The same transport with a lower answer limit (tests; never above [`MAX_RESPONSE_BYTES`]).
    pub fn with_max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit.min(MAX_RESPONSE_BYTES);
        self
    }

    fn client(&self, insecure: bool, proxy: bool) -> Result<reqwest::Client, String> {
        let i = usize::from(insecure) | (usize::from(proxy) << 1);
        self.clients[i].get_or_init(|| self.build(insecure, proxy)).clone()
    }

    /// `resolve()` only applies to names that go through DNS; an IP literal in the host map
    /// (IMDS's `169.254.169.254`) is rewritten in the URL instead.
    fn map_ip_literal(&self, url: &str) -> Option<String> {
        let mut u = url::Url::parse(url).ok()?;
        let host = match u.host()? {
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => ip.to_string(),
            url::Host::Domain(_) => return None,
        };
        let (_, addr) = self.config.host_map.iter().find(|(h, _)| *h == host)?;
        u.set_ip_host(addr.ip()).ok()?;
        u.set_port(Some(addr.port())).ok()?;
        Some(u.to_string())
    }

    fn build(&self, insecure: bool, proxy: bool) -> Result<reqwest::Client, String> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_secs(15))
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(insecure);
        if !proxy {
            b = b.no_proxy();
        }
        for (host, addr) in &self.config.host_map {
            b = b.resolve(host, *addr);
        }
        if let Some(pem) = &self.config.extra_ca_pem {
            for cert in
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("SOAR_EXTRA_CA: {e}"))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, String> {
        let client = self.client(req.insecure, req.proxy)?;
        let url = self.map_ip_literal(&req.url);
        let mut rb =
            client.request(req.method.clone(), url.as_deref().unwrap_or(&req.url)).timeout(req.timeout);
        for (k, v) in &req.headers {
            rb = rb.header(k, v);
        }
        if let Some(b) = req.body {
            rb = rb.body(b);
        }
        let mut resp = rb.send().await.map_err(describe)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let limit = self.max_response_bytes;
        if let Some(n) = resp.content_length()
            && n > limit as u64
        {
            return Err(too_large(&format!("status {status}, Content-Length {n}")));
        }
        // Read chunk by chunk so that an answer over the limit never reaches memory whole.
        let mut body = Vec::with_capacity(resp.content_length().map_or(0, |n| n as usize).min(1 << 20));
        while let Some(chunk) = resp.chunk().await.map_err(describe)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large(&format!("status {status}, more than {limit} bytes received")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, headers, body })
    }
}

/// A reqwest error as text, without the URL (which could carry a query a person should not see
/// in an error) and with the cause chain. A connection closed or reset before the whole answer
/// arrived starts with [`DROPPED`].
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if dropped(&e) {
        DROPPED
    } else {
        "request failed"
    };
    let mut msg = kind.to_owned();
    let e = e.without_url();
    if kind == DROPPED {
        msg.push_str(" before the whole answer arrived");
    }
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

/// True when the cause chain says the peer closed or reset the connection mid-exchange (hyper's
/// "connection closed before message completed" / "end of file before message length reached",
/// or an I/O reset, abort, broken pipe or unexpected end of file).
fn dropped(e: &reqwest::Error) -> bool {
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        {
            return true;
        }
        let text = s.to_string();
        if text.contains("connection closed before message completed")
            || text.contains("end of file before message length reached")
            || text.contains("connection reset")
        {
            return true;
        }
        src = s.source();
    }
    false
}
