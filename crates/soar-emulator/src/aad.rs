//! Entra ID (AADSTS) error bodies, in Microsoft's exact shape and field order:
//! `error`, `error_description` (`AADSTS{n}: {msg}` + Trace ID / Correlation ID / Timestamp
//! trailers), `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`, then the
//! optional `suberror`. `invalid_client` is 401, everything else 400 unless stated.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::meta::RequestMeta;
use crate::state::EmulatorState;

/// An AADSTS error ready to be rendered.
#[derive(Debug, Clone)]
pub struct AadError {
    /// HTTP status.
    pub status: StatusCode,
    /// OAuth `error`.
    pub error: &'static str,
    /// The AADSTS number.
    pub code: u32,
    /// The message after `AADSTS{code}: `.
    pub message: String,
    /// `suberror`, when Entra sends one.
    pub suberror: Option<&'static str>,
}

impl AadError {
    /// An error with status 400, or 401 for `invalid_client`.
    pub fn new(error: &'static str, code: u32, message: impl Into<String>) -> AadError {
        let status =
            if error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        AadError { status, error, code, message: message.into(), suberror: None }
    }

    /// Adds a `suberror`.
    pub fn with_suberror(mut self, suberror: &'static str) -> AadError {
        self.suberror = Some(suberror);
        self
    }

    /// Overrides the status.
    pub fn with_status(mut self, status: StatusCode) -> AadError {
        self.status = status;
        self
    }

    /// The body as JSON.
    pub fn body(&self, state: &EmulatorState, meta: &RequestMeta) -> Value {
        let sep = &state.config().behaviour.error_trailer_separator;
        let ts = aad_timestamp(state.now_secs());
        let mut m = Map::new();
        m.insert("error".into(), json!(self.error));
        m.insert(
            "error_description".into(),
            json!(format!(
                "AADSTS{}: {}{sep}Trace ID: {}{sep}Correlation ID: {}{sep}Timestamp: {ts}",
                self.code, self.message, meta.request_id, meta.correlation_id
            )),
        );
        m.insert("error_codes".into(), json!([self.code]));
        m.insert("timestamp".into(), json!(ts));
        m.insert("trace_id".into(), json!(meta.request_id));
        m.insert("correlation_id".into(), json!(meta.correlation_id));
        m.insert(
            "error_uri".into(),
            json!(format!("https://login.microsoftonline.com/error?code={}", self.code)),
        );
        if let Some(s) = self.suberror {
            m.insert("suberror".into(), json!(s));
        }
        Value::Object(m)
    }

    /// Renders the response with Entra's no-cache headers.
    pub fn respond(&self, state: &EmulatorState, meta: &RequestMeta) -> Response {
        json_response(self.status, &self.body(state, meta))
    }
}

/// A JSON response with `/token`'s headers (`application/json; charset=utf-8`, no caching).
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(header::EXPIRES, HeaderValue::from_static("-1"));
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert("p3p", HeaderValue::from_static("CP=\"DSP CUR OTPi IND OTRi ONL FIN\""));
    h.insert("x-ms-ests-server", HeaderValue::from_static("2.1.0 - EMU ProdSlices"));
    resp
}

/// `2016-01-09 02:02:12Z`: space, no `T`, no fraction.
pub fn aad_timestamp(secs: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(secs).ok().and_then(|t| t.format(&fmt).ok()).unwrap_or_default()
}

/// ISO 8601 with seven fraction digits, as AADSTS700024 and 700082 messages print times.
pub fn iso7(ms: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok();
    let base = t.and_then(|t| t.format(&fmt).ok()).unwrap_or_default();
    format!("{base}.{:03}0000Z", ms.rem_euclid(1000))
}

/// The catalogue of messages, so each code's wording lives in one place.
pub mod msg {
    use super::AadError;

    pub fn missing_param(name: &str) -> AadError {
        AadError::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }
    pub fn unknown_client(client_id: &str, tenant: &str) -> AadError {
        AadError::new(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }
    pub fn bad_secret(client_id: &str) -> AadError {
        AadError::new(
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    }
    pub fn expired_secret(client_id: &str) -> AadError {
        AadError::new(
            "invalid_client",
            7000222,
            format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
            ),
        )
    }
    pub fn no_credential() -> AadError {
        AadError::new(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    }
    pub fn public_with_credential() -> AadError {
        AadError::new(
            "invalid_client",
            700025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        )
    }
    pub fn assertion_key_not_found(thumb: &str, client_id: &str) -> AadError {
        AadError::new(
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '{thumb}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/{client_id}']"
            ),
        )
    }
    pub fn assertion_bad_signature(thumb: &str, client_id: &str) -> AadError {
        AadError::new(
            "invalid_client",
            700027,
            format!(
                "Client assertion contains an invalid signature. [Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '{thumb}', Found key 'Start=01/01/2024 00:00:00, End=01/01/2034 00:00:00', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
            ),
        )
    }
    pub fn assertion_invalid(detail: &str) -> AadError {
        AadError::new(
            "invalid_client",
            700027,
            format!("Client assertion failed signature validation. [Reason - {detail}]"),
        )
    }
    pub fn assertion_time(now_iso: &str, nbf_iso: &str, exp_iso: &str) -> AadError {
        AadError::new(
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {now_iso}, assertion valid from {nbf_iso}, expiry time of assertion {exp_iso}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."
            ),
        )
    }
    pub fn assertion_sub_mismatch() -> AadError {
        AadError::new("invalid_client", 50048, "Subject mismatches Issuer claim in the client assertion.")
    }
    pub fn assertion_audience(aud: &str) -> AadError {
        AadError::new(
            "invalid_client",
            700027,
            format!(
                "Client assertion failed signature validation. [Reason - The audience '{aud}' of the client assertion is not the token endpoint of this tenant.]"
            ),
        )
    }
    pub fn invalid_scope(scope: &str) -> AadError {
        AadError::new(
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' isn't valid. The scope {scope} isn't valid."
            ),
        )
    }
    pub fn unknown_resource(resource: &str, tenant: &str) -> AadError {
        AadError::new(
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        )
    }
    pub fn no_resource() -> AadError {
        AadError::new("invalid_resource", 50001, "Resource identifier is not provided.")
    }
    pub fn unknown_tenant(tenant: &str) -> AadError {
        AadError::new(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }
    pub fn cc_on_common() -> AadError {
        AadError::new(
            "invalid_request",
            9001023,
            "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
        )
    }
    pub fn not_multi_tenant(client_id: &str, name: &str) -> AadError {
        AadError::new(
            "invalid_request",
            50194,
            format!(
                "Application '{client_id}'({name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant."
            ),
        )
    }
    pub fn disabled_app(client_id: &str, name: &str) -> AadError {
        AadError::new(
            "unauthorized_client",
            7000112,
            format!("Application '{client_id}'({name}) is disabled."),
        )
    }
    pub fn unsupported_grant(grant: &str) -> AadError {
        AadError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }
    pub fn code_redeemed() -> AadError {
        AadError::new(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        )
    }
    pub fn code_expired() -> AadError {
        AadError::new(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        )
    }
    pub fn grant_malformed() -> AadError {
        AadError::new("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
            .with_suberror("bad_token")
    }
    pub fn grant_other_client() -> AadError {
        AadError::new("invalid_grant", 70000, "The provided access grant is invalid or malformed.")
    }
    pub fn redirect_mismatch(uri: &str, client_id: &str) -> AadError {
        AadError::new(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
            ),
        )
    }
    pub fn pkce_mismatch() -> AadError {
        AadError::new(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        )
    }
    pub fn refresh_inactive(issued_iso: &str) -> AadError {
        AadError::new("invalid_grant", 700082, format!("The refresh token has expired due to inactivity.\u{a0}The token was issued on {issued_iso} and was inactive for 90.00:00:00."))
            .with_suberror("bad_token")
    }
    pub fn refresh_revoked() -> AadError {
        AadError::new(
            "invalid_grant",
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '2024-01-01T00:00:00.0000000Z' and the TokensValidFrom date (before which tokens are not valid) for this user is '2024-01-02T00:00:00.0000000Z'.",
        )
    }
    pub fn device_pending() -> AadError {
        AadError::new(
            "authorization_pending",
            70016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    }
    pub fn device_slow_down(interval: u64) -> AadError {
        AadError::new(
            "slow_down",
            70016,
            format!(
                "OAuth 2.0 device flow error. Polling too frequently: wait {interval} seconds between polls."
            ),
        )
    }
    pub fn device_expired(code: u32) -> AadError {
        AadError::new(
            "expired_token",
            code,
            "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
        )
    }
    pub fn device_denied(error: &str) -> AadError {
        let error: &'static str =
            if error == "access_denied" { "access_denied" } else { "authorization_declined" };
        AadError::new(error, 70000, "The user declined the authentication request.")
    }
    pub fn device_unknown() -> AadError {
        AadError::new(
            "bad_verification_code",
            70000,
            "The provided value for the input parameter 'device_code' is not valid.",
        )
    }
    pub fn device_on_common() -> AadError {
        AadError::new(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microsofts_layouts() {
        assert_eq!(aad_timestamp(1_621_142_504), "2021-05-16 05:21:44Z");
        assert_eq!(iso7(1_675_686_374_644), "2023-02-06T12:26:14.6440000Z");
    }
}
