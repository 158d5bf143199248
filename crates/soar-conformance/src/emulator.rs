//! The emulator, as the runner uses it: the built-in registrations plus one read-only Graph
//! app (`User.Read.All` only) for the "write without permission" case. The `${NAME}` table is the
//! emulator's ([`soar_emulator::Emulator::placeholders`]); the runner adds its reader app's values.

use soar_emulator::config::{AppConfig, SecretConfig};
use tower::ServiceExt;

use super::{Error, Placeholders, Result, json};

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
            // An ARM Reader everywhere: reads pass, writes get ARM's 403.
            arm_scopes: vec!["reader:/".to_string()],
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

    /// `${NAME}` values for params: the emulator's own table ([`soar_emulator::Emulator::placeholders`])
    /// plus the runner's read-only app (`READER_APP_ID`, `READER_APP_SECRET`) and `EMU_HTTP_PORT`.
    pub fn placeholders(&self) -> Result<Placeholders> {
        let mut p =
            self.inner.placeholders().map_err(|e| Error::Emulator(format!("its placeholders: {e}")))?;
        p.insert("READER_APP_ID".into(), READER_APP_ID.into());
        p.insert("READER_APP_SECRET".into(), READER_APP_SECRET.into());
        // The plain-HTTP port (IMDS, App Service), which messages may name.
        p.insert("EMU_HTTP_PORT".into(), self.inner.http_port().to_string());
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
