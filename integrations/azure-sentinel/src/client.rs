//! The Sentinel environment of one request: the ARM client, the workspace's base path (with the
//! command's `subscription_id` / `resource_group_name` overriding the instance's, as the
//! reference's `main()` does), and the reference's request conventions (`api-version` on every
//! call that is not a next link, its `User-Agent`, its `[code status] message` errors).

use serde_json::Value;
use soar_integration_kit::{Api, ApiKind, CommandContext, Error, Method, MsApi, MsClient, Reply, Request};

/// The Sentinel REST API version of every call (the reference's `API_VERSION`).
pub const API_VERSION: &str = "2024-03-01";
/// The reference's partner `User-Agent`.
pub const USER_AGENT: &str = "SentinelPartner-PaloAltoNetworks-CortexXsoar/1.0.0";

/// What every handler gets.
pub struct Sentinel {
    /// ARM (no version segment; the version is the `api-version` query).
    pub api: Box<dyn Api>,
    /// `subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights`.
    pub base: String,
    /// The subscription the command works in (argument, else instance).
    pub subscription_id: String,
}

/// A string argument of the request, when given and not blank.
fn arg_str(ctx: &CommandContext, name: &str) -> Option<String> {
    ctx.args.get(name).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A string param, when set and not blank.
pub fn param_str(ctx: &CommandContext, name: &str) -> Option<String> {
    ctx.params.str(name).map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Sentinel {
    /// The environment of one request (the reference's start-up checks first).
    pub fn from_client(ms: MsClient, ctx: &CommandContext) -> Result<Sentinel, Error> {
        let subscription_id = arg_str(ctx, "subscription_id")
            .or_else(|| param_str(ctx, "subscriptionID"))
            .ok_or_else(|| Error::MissingParam("subscriptionID (Subscription ID)".to_owned()))?;
        let resource_group = arg_str(ctx, "resource_group_name")
            .or_else(|| param_str(ctx, "resourceGroupName"))
            .ok_or_else(|| Error::MissingParam("resourceGroupName (Resource Group Name)".to_owned()))?;
        let workspace = param_str(ctx, "workspaceName")
            .ok_or_else(|| Error::MissingParam("workspaceName (Workspace Name)".to_owned()))?;
        let base = workspace_base(&subscription_id, &resource_group, &workspace);
        Ok(Sentinel { api: Box::new(MsApi::new(ms, ApiKind::Arm, None)), base, subscription_id })
    }

    /// A request below the workspace's Sentinel provider, with the `api-version`.
    pub fn req(&self, method: Method, suffix: &str) -> Request {
        Request::new(method, format!("{}/{suffix}", self.base))
            .query("api-version", API_VERSION)
            .header("User-Agent", USER_AGENT)
    }

    /// A request on a full URL (a next link): sent as it is, without an `api-version`.
    pub fn url(&self, method: Method, url: &str) -> Request {
        Request::new(method, url).header("User-Agent", USER_AGENT)
    }

    /// A request on a path below ARM's root (subscriptions, resource groups).
    pub fn arm(&self, path: &str) -> Request {
        Request::get(path.to_owned()).header("User-Agent", USER_AGENT)
    }

    /// Runs a call; errors in the reference's words.
    pub async fn send(&self, ctx: &mut CommandContext, req: Request) -> Result<Reply, Error> {
        self.api.send(&mut ctx.integration_context, req).await.map_err(sentinel_error)
    }

    /// Runs a call and returns its body (`Value::Null` when empty).
    pub async fn call(&self, ctx: &mut CommandContext, req: Request) -> Result<Value, Error> {
        Ok(self.send(ctx, req).await?.body)
    }
}

/// The base path of a workspace's Sentinel API.
pub fn workspace_base(sub: &str, rg: &str, ws: &str) -> String {
    format!(
        "subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/workspaces/{ws}/providers/Microsoft.SecurityInsights"
    )
}

/// The reference's `error_handler`: a 400/401/403/404 answer becomes `[{code} {status}] {message}`
/// (the body's `error.code` and `error.message`; a body that is not JSON gives the status's kind
/// and the raw text). Other failures keep the shared client's text.
pub fn sentinel_error(e: Error) -> Error {
    let Error::Api(f) = &e else { return e };
    let kind = match f.status {
        400 => "BadRequest",
        401 => "UnAuthorized",
        403 => "Forbidden",
        404 => "NotFound",
        _ => return e,
    };
    let (code, message) = match serde_json::from_str::<Value>(&f.body) {
        Ok(body) => {
            let err = body.get("error");
            let code =
                err.and_then(|e| e.get("code")).and_then(Value::as_str).unwrap_or("BadRequest").to_owned();
            let message = match err.and_then(|e| e.get("message")) {
                Some(Value::String(m)) => m.clone(),
                Some(other) => other.to_string(),
                None => f.body.clone(),
            };
            (code, message)
        }
        Err(_) => (kind.to_owned(), f.body.clone()),
    };
    Error::Command(format!("[{code} {}] {message}", f.status))
}

#[cfg(test)]
mod tests {
    use soar_integration_kit::ApiFailure;

    use super::*;

    fn api_error(status: u16, body: &str) -> Error {
        Error::Api(ApiFailure {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
            text: format!("Error in API call [{status}] - x\n{body}"),
        })
    }

    /// (status, body, text): the reference's wording for 400-404, the shared text otherwise.
    #[test]
    fn errors_take_the_reference_form() {
        let cases = [
            (
                404,
                r#"{"error": {"code": "NotFound", "message": "Incident x not found"}}"#,
                "[NotFound 404] Incident x not found",
            ),
            (
                403,
                r#"{"error": {"code": "AuthorizationFailed", "message": "no"}}"#,
                "[AuthorizationFailed 403] no",
            ),
            (400, "plain text", "[BadRequest 400] plain text"),
            (401, "oops", "[UnAuthorized 401] oops"),
            (
                412,
                r#"{"error": {"code": "PreconditionFailed"}}"#,
                "Error in API call [412] - x\n{\"error\": {\"code\": \"PreconditionFailed\"}}",
            ),
        ];
        for (status, body, want) in cases {
            assert_eq!(sentinel_error(api_error(status, body)).to_string(), want, "{status}");
        }
    }
}
