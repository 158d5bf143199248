//! The emulator, as the runner uses it: the built-in registrations plus one read-only Graph
//! app (`User.Read.All` only) for the "write without permission" case.

use soar_emulator::config::{self, AppConfig, SecretConfig};
use tower::ServiceExt;

use super::{Error, Placeholders, Result, io, json};

/// Client id of the read-only Graph app the runner adds.
pub const READER_APP_ID: &str = "22222222-2222-4222-8222-000000000101";
/// Its secret.
pub const READER_APP_SECRET: &str = "emulator-reader-secret-101";

/// A running emulator.
pub struct Emu {
    inner: soar_emulator::Emulator,
}

impl Emu {
    /// Starts one.
    pub async fn start() -> Result<Emu> {
        let mut cfg = soar_emulator::EmulatorConfig::default();
        cfg.apps.push(AppConfig {
            client_id: READER_APP_ID.into(),
            display_name: "soar-reader-app".into(),
            object_id: "22222222-2222-4222-8222-0000000001a1".into(),
            secrets: vec![SecretConfig { value: READER_APP_SECRET.into(), expired: false }],
            roles: [("graph".to_string(), vec!["User.Read.All".to_string()])].into_iter().collect(),
            ..AppConfig::default()
        });
        let inner = soar_emulator::Emulator::start(cfg)
            .await
            .map_err(|e| Error::Emulator(format!("starting the emulator: {e}")))?;
        Ok(Emu { inner })
    }

    /// The environment that points a binary at it.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("SOAR_HOST_MAP".into(), self.inner.host_map()),
            ("SOAR_EXTRA_CA".into(), self.inner.ca_pem_path().display().to_string()),
            ("SOAR_IMDS_ENDPOINT".into(), self.inner.http_base()),
            ("SOAR_OPROXY_URL".into(), format!("{}/obtain-token", self.inner.https_base())),
        ]
    }

    /// How many token requests the emulator has answered so far (every grant, IMDS, proxy).
    pub fn token_requests(&self) -> u64 {
        self.inner.request_log().token_requests()
    }

    /// `${NAME}` values for params.
    pub fn placeholders(&self) -> Result<Placeholders> {
        let mut p = Placeholders::new();
        let mut put = |k: &str, v: &str| {
            p.insert(k.to_string(), v.to_string());
        };
        put("EMU_HTTPS_PORT", &self.inner.https_port().to_string());
        put("TENANT_ID", config::DEFAULT_TENANT_ID);
        put("SUBSCRIPTION_ID", config::DEFAULT_SUBSCRIPTION_ID);
        put("SECRET_APP_ID", config::SECRET_APP_ID);
        put("SECRET_APP_SECRET", config::SECRET_APP_SECRET);
        put("CERT_APP_ID", config::CERT_APP_ID);
        put("PUBLIC_APP_ID", config::PUBLIC_APP_ID);
        put("LIMITED_APP_ID", config::LIMITED_APP_ID);
        put("LIMITED_APP_SECRET", config::LIMITED_APP_SECRET);
        put("READER_APP_ID", READER_APP_ID);
        put("READER_APP_SECRET", READER_APP_SECRET);
        put("SYSTEM_MI_CLIENT_ID", config::SYSTEM_MI_CLIENT_ID);
        put("USER_MI_CLIENT_ID", config::USER_MI_CLIENT_ID);
        put("PROXY_REGISTRATION_ID", config::PROXY_REGISTRATION_ID);
        put("PROXY_TOKEN", config::PROXY_TOKEN);
        put("PROXY_KEY", config::PROXY_KEY_B64);
        put("OPROXY_URL", &format!("{}/obtain-token", self.inner.https_base()));
        let cert =
            self.inner.cert_files().iter().find(|c| c.client_id == config::CERT_APP_ID).ok_or_else(|| {
                Error::Emulator("the emulator wrote no certificate for the certificate app".into())
            })?;
        put("CERT_THUMBPRINT", &cert.thumbprint);
        let key =
            std::fs::read_to_string(&cert.key).map_err(io(format!("reading {}", cert.key.display())))?;
        put("CERT_KEY_PEM", &key);
        Ok(p)
    }

    /// Applies a case's `before` actions and fault rules.
    pub fn prepare(&self, before: &[String], faults: &[serde_json::Value]) -> Result<()> {
        for action in before {
            match action.as_str() {
                "revoke-refresh-tokens" => {
                    self.inner.state().revoke_refresh_tokens(None);
                }
                other => {
                    return Err(Error::Suite(format!(
                        "unknown emulator action {other} (known: revoke-refresh-tokens)"
                    )));
                }
            }
        }
        for f in faults {
            let rule: soar_emulator::FaultRule =
                serde_json::from_value(f.clone()).map_err(json("a fault rule"))?;
            self.inner.faults().add(rule);
        }
        Ok(())
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.inner.faults().clear();
    }

    /// Approves a pending device code.
    pub async fn approve(&self, user_code: &str) -> Result<()> {
        if !self.inner.approve_device_code(user_code) {
            return Err(Error::Emulator(format!("the emulator has no pending device code {user_code}")));
        }
        Ok(())
    }

    /// An authorization code: the test user signs in at the emulator's /authorize (in
    /// process) for `client_id`, `redirect_uri` and `scope`, and the code is read from the
    /// redirect, as a person would copy it from the browser.
    pub async fn auth_code(
        &self,
        login_host: &str,
        tenant: &str,
        client_id: &str,
        redirect_uri: &str,
        scope: &str,
    ) -> Result<String> {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scope)
            .append_pair("response_mode", "query")
            .finish();
        let req = http::Request::builder()
            .uri(format!("/{tenant}/oauth2/v2.0/authorize?{query}"))
            .header(http::header::HOST, login_host)
            .body(axum::body::Body::empty())
            .map_err(|e| Error::Emulator(format!("building the /authorize request: {e}")))?;
        // The router's error type is `Infallible`.
        let resp = match soar_emulator::app(self.inner.state().clone()).oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        };
        let location =
            resp.headers().get(http::header::LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                Error::Emulator(format!("/authorize did not redirect (status {})", resp.status()))
            })?;
        let url = url::Url::parse(location)
            .map_err(|e| Error::Emulator(format!("the /authorize redirect {location} is not a URL: {e}")))?;
        url.query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| Error::Emulator(format!("no code in the redirect {location}")))
    }
}
