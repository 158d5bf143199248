//! The network server: [`Emulator::start`] binds loopback ports for HTTP (IMDS, App Service, plain
//! base URLs) and HTTPS (everything, with the generated test CA), writes the CA, the server
//! certificate, the certificate apps' keys and `endpoints.json` into the data dir, and serves
//! [`crate::app`] on both until dropped or shut down.
//!
//! Files holding a private key (`server.key.pem`, `<app>.key.pem`, `<app>.pem`) are written
//! with mode 0600 (also when they already existed), and a data dir the emulator creates is 0700:
//! test keys are still keys, and other users of the machine must not read them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::Error;
use crate::clouds;
use crate::config::EmulatorConfig;
use crate::faults::{ConnDrop, FaultHandle};
use crate::keys::TlsMaterial;
use crate::meta::Scheme;
use crate::state::{EmulatorState, RequestLog};

/// Where to listen.
#[derive(Debug, Clone, Copy)]
pub struct Bind {
    /// A loopback address.
    pub ip: IpAddr,
    /// HTTPS port (0 = any free one).
    pub https_port: u16,
    /// HTTP port (0 = any free one).
    pub http_port: u16,
}

impl Default for Bind {
    fn default() -> Self {
        Bind { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), https_port: 0, http_port: 0 }
    }
}

/// Paths of a certificate app's generated files.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The app's client id.
    pub client_id: String,
    /// PKCS#8 private key PEM.
    pub key: PathBuf,
    /// Certificate PEM.
    pub cert: PathBuf,
    /// Key followed by certificate (what azure-identity's CertificateCredential reads).
    pub combined: PathBuf,
    /// Upper-case hex SHA-1 thumbprint.
    pub thumbprint: String,
}

/// A running emulator. Dropping it stops the servers (and removes a temporary data dir).
pub struct Emulator {
    state: EmulatorState,
    http_addr: SocketAddr,
    https_addr: SocketAddr,
    data_dir: PathBuf,
    temp_dir: bool,
    ca_pem: PathBuf,
    certs: Vec<CertFiles>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("http", &self.http_addr).field("https", &self.https_addr).finish()
    }
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Writes a file only its owner may read or write (0600 on Unix), also when it already
/// existed with a wider mode.
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write as _;
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let mut f =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
        // `mode` applies only when the file is created: narrow an existing one too.
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(text.as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, text)
    }
}

/// Creates a directory (and its parents) that only its owner may enter (0700 on Unix).
pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        b.mode(0o700);
    }
    b.create(path)
}

impl Emulator {
    /// Starts on 127.0.0.1 with free ports.
    pub async fn start(config: EmulatorConfig) -> Result<Emulator, Error> {
        Emulator::start_on(config, Bind::default()).await
    }

    /// Starts with an existing state (a custom clock, for instance).
    pub async fn start_with_state(state: EmulatorState, bind: Bind) -> Result<Emulator, Error> {
        Emulator::launch(state, bind).await
    }

    /// Starts on the given loopback address and ports.
    pub async fn start_on(config: EmulatorConfig, bind: Bind) -> Result<Emulator, Error> {
        let state = EmulatorState::new(config)?;
        Emulator::launch(state, bind).await
    }

    async fn launch(state: EmulatorState, bind: Bind) -> Result<Emulator, Error> {
        if !bind.ip.is_loopback() {
            return Err(Error::Config(format!(
                "refusing to bind {}: the emulator serves loopback only (use 127.0.0.1 or ::1)",
                bind.ip
            )));
        }
        let config = state.config();
        let (data_dir, temp_dir) = match &config.data_dir {
            Some(d) => (d.clone(), false),
            None => (std::env::temp_dir().join(format!("soar-emulator-{}", uuid::Uuid::new_v4())), true),
        };
        create_private_dir(&data_dir).map_err(io(format!("creating data dir {}", data_dir.display())))?;
        let write = |name: &str, text: &str| -> Result<PathBuf, Error> {
            let p = data_dir.join(name);
            std::fs::write(&p, text).map_err(io(format!("writing {}", p.display())))?;
            Ok(p)
        };
        let write_key = |name: &str, text: &str| -> Result<PathBuf, Error> {
            let p = data_dir.join(name);
            write_private(&p, text).map_err(io(format!("writing {}", p.display())))?;
            Ok(p)
        };
        let (chain_pem, key_pem, ca_pem) = match (&config.tls_cert, &config.tls_key) {
            (Some(c), Some(k)) => {
                let chain =
                    std::fs::read_to_string(c).map_err(io(format!("reading --tls-cert {}", c.display())))?;
                let key =
                    std::fs::read_to_string(k).map_err(io(format!("reading --tls-key {}", k.display())))?;
                (chain, key, c.clone())
            }
            (None, None) => {
                let tls = TlsMaterial::generate(&clouds::all_hosts())?;
                let ca = write("ca.pem", &tls.ca_pem)?;
                write("server.pem", &tls.chain_pem)?;
                write_key("server.key.pem", &tls.key_pem)?;
                (tls.chain_pem, tls.key_pem, ca)
            }
            _ => {
                return Err(Error::Config(
                    "--tls-cert and --tls-key go together: give both or neither".into(),
                ));
            }
        };
        let mut certs = Vec::new();
        for g in state.generated_certs() {
            let key = write_key(&format!("{}.key.pem", g.name), &g.key_pem)?;
            let cert = write(&format!("{}.cert.pem", g.name), &g.cert_pem)?;
            let combined = write_key(&format!("{}.pem", g.name), &format!("{}{}", g.key_pem, g.cert_pem))?;
            certs.push(CertFiles {
                client_id: g.client_id.clone(),
                key,
                cert,
                combined,
                thumbprint: g.thumbprint_hex.clone(),
            });
        }
        let acceptor = tls_acceptor(&chain_pem, &key_pem)?;
        let https = TcpListener::bind((bind.ip, bind.https_port))
            .await
            .map_err(io(format!("binding HTTPS on {}:{}", bind.ip, bind.https_port)))?;
        let http = TcpListener::bind((bind.ip, bind.http_port))
            .await
            .map_err(io(format!("binding HTTP on {}:{}", bind.ip, bind.http_port)))?;
        let https_addr = https.local_addr().map_err(io("reading the HTTPS address".into()))?;
        let http_addr = http.local_addr().map_err(io("reading the HTTP address".into()))?;
        let (tx, rx) = watch::channel(false);
        let router = crate::app(state.clone());
        let tasks = vec![
            tokio::spawn(accept_loop(https, router.clone(), Some(acceptor), Scheme::Https, rx.clone())),
            tokio::spawn(accept_loop(http, router, None, Scheme::Http, rx)),
        ];
        let endpoints_path = data_dir.join("endpoints.json");
        let emu =
            Emulator { state, http_addr, https_addr, data_dir, temp_dir, ca_pem, certs, shutdown: tx, tasks };
        let endpoints = serde_json::to_string_pretty(&emu.endpoints_json()).unwrap_or_default();
        std::fs::write(&endpoints_path, endpoints)
            .map_err(io(format!("writing {}", endpoints_path.display())))?;
        Ok(emu)
    }

    /// The state (config, grants, log, faults, store).
    pub fn state(&self) -> &EmulatorState {
        &self.state
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http_base(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn https_base(&self) -> String {
        format!("https://{}", self.https_addr)
    }

    /// The HTTP port.
    pub fn http_port(&self) -> u16 {
        self.http_addr.port()
    }

    /// The HTTPS port.
    pub fn https_port(&self) -> u16 {
        self.https_addr.port()
    }

    /// The test CA certificate (PEM) clients must trust.
    pub fn ca_pem_path(&self) -> &Path {
        &self.ca_pem
    }

    /// The data dir (generated certificates, keys, `endpoints.json`).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Files of the generated certificate apps.
    pub fn cert_files(&self) -> &[CertFiles] {
        &self.certs
    }

    /// `host=127.0.0.1:PORT,...` for every cloud host (HTTPS port) and IMDS's
    /// `169.254.169.254` (HTTP port): the value for `SOAR_HOST_MAP`.
    pub fn host_map(&self) -> String {
        let mut parts: Vec<String> = clouds::all_hosts()
            .into_iter()
            .filter(|h| !h.starts_with('*'))
            .map(|h| format!("{h}={}", self.https_addr))
            .collect();
        parts.push(format!("169.254.169.254={}", self.http_addr));
        parts.join(",")
    }

    /// The request log.
    pub fn request_log(&self) -> RequestLog {
        self.state.request_log()
    }

    /// The fault handle.
    pub fn faults(&self) -> FaultHandle {
        self.state.faults()
    }

    /// Approves a pending device code (false when none has that user code).
    pub fn approve_device_code(&self, user_code: &str) -> bool {
        self.state.approve_device_code(user_code)
    }

    /// Approves a pending device code as the configured user `upn` (false when no pending code
    /// has that user code or no user has that name).
    pub fn approve_device_code_as(&self, user_code: &str, upn: &str) -> bool {
        self.state.approve_device_code_as(user_code, upn)
    }

    /// Denies a pending device code.
    pub fn deny_device_code(&self, user_code: &str) -> bool {
        self.state.deny_device_code(user_code)
    }

    /// What `endpoints.json` holds: addresses, CA, host map, built-in registrations.
    pub fn endpoints_json(&self) -> serde_json::Value {
        let cfg = self.state.config();
        json!({
            "http_base": self.http_base(),
            "https_base": self.https_base(),
            "ca_pem": self.ca_pem,
            "host_map": self.host_map(),
            "imds_endpoint": self.http_base(),
            "app_service_identity_endpoint": format!("{}/msi/token", self.http_base()),
            "app_service_identity_header": cfg.app_service_identity_header,
            "oproxy_url": format!("{}/obtain-token", self.https_base()),
            "tenant_id": cfg.tenants.first().map(|t| t.id.clone()),
            "cert_apps": self.certs.iter().map(|c| json!({"client_id": c.client_id, "key": c.key, "cert": c.cert, "combined": c.combined, "thumbprint": c.thumbprint})).collect::<Vec<_>>(),
        })
    }

    /// Stops the servers and waits for the accept loops to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
        if self.temp_dir {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

fn tls_acceptor(chain_pem: &str, key_pem: &str) -> Result<TlsAcceptor, Error> {
    let chain: Vec<_> = rustls_pemfile::certs(&mut chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Config(format!("the TLS certificate PEM does not parse: {e}")))?;
    if chain.is_empty() {
        return Err(Error::Config("the TLS certificate PEM has no CERTIFICATE block".into()));
    }
    let key = rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .map_err(|e| Error::Config(format!("the TLS key PEM does not parse: {e}")))?
        .ok_or_else(|| Error::Config("the TLS key PEM has no private key".into()))?;
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Crypto(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| Error::Config(format!("the TLS certificate and key do not fit together: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

async fn accept_loop(
    listener: TcpListener,
    router: Router,
    tls: Option<TlsAcceptor>,
    scheme: Scheme,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let tls = tls.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(s) = acceptor.accept(stream).await {
                                serve_conn(s, router, scheme, shutdown).await;
                            }
                        }
                        None => serve_conn(stream, router, scheme, shutdown).await,
                    }
                });
            }
        }
    }
}

async fn serve_conn<I>(io: I, router: Router, scheme: Scheme, mut shutdown: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let trigger = ConnDrop::default();
    let notify = trigger.0.clone();
    let svc = tower::service_fn(move |mut req: http::Request<Incoming>| {
        req.extensions_mut().insert(scheme);
        req.extensions_mut().insert(trigger.clone());
        router.clone().oneshot(req)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let conn = builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(svc));
    tokio::select! {
        _ = conn => {}
        // A `Drop` fault: dropping the connection future closes the socket unanswered.
        _ = notify.notified() => {}
        _ = shutdown.changed() => {}
    }
}
