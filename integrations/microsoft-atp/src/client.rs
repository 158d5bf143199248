//! What every handler gets ([`Atp`]): the Defender for Endpoint API, Microsoft Graph (the
//! deprecated TI indicator commands), plain downloads of the pre-authenticated links the API
//! hands out, and the instance's choices. Each is a seam, so handler tests put fakes behind it.

use std::sync::Arc;

use serde_json::Value;
use soar_integration_kit::{
    Api, ApiKind, AuthFlow, CommandContext, Error, MsApi, MsClient, Request, async_trait, core_error,
};

/// Plain GETs of pre-authenticated download links (investigation packages, live-response
/// results): no bearer token goes with them.
#[async_trait]
pub trait Downloads: Send + Sync {
    /// The bytes at `url`.
    async fn get(&self, url: &str) -> Result<Vec<u8>, Error>;
}

struct MsDownloads(Arc<MsClient>);

#[async_trait]
impl Downloads for MsDownloads {
    async fn get(&self, url: &str) -> Result<Vec<u8>, Error> {
        let resp = self.0.download(url).await.map_err(core_error)?;
        Ok(resp.body)
    }
}

/// The fetch settings of the instance.
#[derive(Debug, Clone, Default)]
pub struct FetchParams {
    /// `fetch_status`, comma-separated.
    pub status: String,
    /// `fetch_severity`, comma-separated.
    pub severity: String,
    /// `fetch_detectionsource`, comma-separated display names.
    pub detection_source: String,
    /// `max_fetch`.
    pub max_fetch: String,
    /// `fetch_evidence`.
    pub evidence: bool,
    /// `first_fetch_timestamp`.
    pub first_fetch: String,
}

/// The environment of one request.
pub struct Atp {
    /// Defender for Endpoint; paths start with `api/`.
    pub api: Box<dyn Api>,
    /// Microsoft Graph `beta` (the deprecated TI indicators).
    pub graph: Box<dyn Api>,
    /// Plain downloads.
    pub downloads: Box<dyn Downloads>,
    /// The configured flow.
    pub flow: AuthFlow,
    /// Fetch settings.
    pub fetch: FetchParams,
}

impl Atp {
    /// The environment of one request.
    pub fn from_client(ms: MsClient, ctx: &CommandContext) -> Result<Atp, Error> {
        let flow = ms.flow();
        let ms = Arc::new(ms);
        let p = &ctx.params;
        let text = |k: &str, d: &str| p.str(k).unwrap_or_else(|| d.to_owned());
        Ok(Atp {
            api: Box::new(MsApi::new(ms.clone(), ApiKind::Defender, None)),
            graph: Box::new(MsApi::new(ms.clone(), ApiKind::Graph, Some("beta"))),
            downloads: Box::new(MsDownloads(ms)),
            flow,
            fetch: FetchParams {
                status: text("fetch_status", "New"),
                severity: text("fetch_severity", "Informational,Low,Medium,High"),
                detection_source: text("fetch_detectionsource", ""),
                max_fetch: text("max_fetch", "50"),
                evidence: p.bool("fetch_evidence", false),
                first_fetch: text("first_fetch_timestamp", "3 days"),
            },
        })
    }

    /// The Defender API's answer body.
    pub async fn json(&self, ctx: &mut CommandContext, req: Request) -> Result<Value, Error> {
        self.api.json(&mut ctx.integration_context, req).await
    }

    /// Graph's answer body.
    pub async fn graph_json(&self, ctx: &mut CommandContext, req: Request) -> Result<Value, Error> {
        self.graph.json(&mut ctx.integration_context, req).await
    }
}
