//! The four mirroring commands. Their arguments are XSOAR's (`lastUpdate`, `id`, `remoteId`,
//! `data`, `delta`, `status`, `incidentChanged`, `entries`), read with the protocol's typed
//! readers; their answers go in `Outcome::mirror`. The logic is in `fetch.rs`.

use serde_json::Value;
use soar_integration_kit::mirror::{ModifiedRemoteDataArgs, RemoteDataArgs, UpdateRemoteSystemArgs};
use soar_integration_kit::{Args, CommandContext, Error, Handler, Mirror, Outcome, Results, async_trait};

use crate::client::Sentinel;
use crate::fetch::{Outgoing, mapping_schemes, modified_ids, remote_data, update_remote};

fn bad_args(e: String) -> Error {
    Error::Command(format!("The mirroring arguments are not valid: {e}"))
}

/// Gets the IDs of the incidents modified since the last update.
#[derive(Args)]
#[allow(dead_code)]
pub struct GetModifiedRemoteData {
    /// When the engine last mirrored (ISO 8601).
    #[arg(name = "lastUpdate")]
    last_update: Option<Value>,
}

#[async_trait]
impl Handler<Sentinel> for GetModifiedRemoteData {
    const NAME: &'static str = "get-modified-remote-data";

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let args = ModifiedRemoteDataArgs::from_args(&ctx.args).map_err(bad_args)?;
        let ids = modified_ids(s, ctx, &args.last_update).await?;
        Ok(Outcome { mirror: Some(Mirror::ModifiedIds { ids }), ..Outcome::default() })
    }
}

/// Gets an incident's mirrored fields, and the close or reopen entries.
#[derive(Args)]
#[allow(dead_code)]
pub struct GetRemoteData {
    /// The remote incident ID.
    id: Option<Value>,
    /// When the engine last mirrored this incident.
    #[arg(name = "lastUpdate")]
    last_update: Option<Value>,
}

#[async_trait]
impl Handler<Sentinel> for GetRemoteData {
    const NAME: &'static str = "get-remote-data";

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let args = RemoteDataArgs::from_args(&ctx.args).map_err(bad_args)?;
        let (object, entries) = remote_data(s, ctx, &args.remote_id).await?;
        Ok(Outcome { mirror: Some(Mirror::RemoteData { object, entries }), ..Outcome::default() })
    }
}

/// Mirrors local changes of an incident out to Microsoft Sentinel.
#[derive(Args)]
#[allow(dead_code)]
pub struct UpdateRemoteSystem {
    /// The remote incident ID.
    #[arg(name = "remoteId")]
    remote_id: Option<Value>,
    /// The local incident's fields.
    data: Option<Value>,
    /// The fields changed since the last mirror.
    delta: Option<Value>,
    /// The local status (0 pending, 1 active, 2 done, 3 archive).
    status: Option<Value>,
    /// Whether the incident changed.
    #[arg(name = "incidentChanged")]
    incident_changed: Option<Value>,
    /// New local entries.
    entries: Option<Value>,
}

#[async_trait]
impl Handler<Sentinel> for UpdateRemoteSystem {
    const NAME: &'static str = "update-remote-system";

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let args = UpdateRemoteSystemArgs::from_args(&ctx.args).map_err(bad_args)?;
        let id = args.remote_id.clone();
        // The reference only logs an outgoing failure; here the engine is told (its next cycle
        // retries), in the reference's words.
        let done = update_remote(s, ctx, &id, &args.data, &args.delta, args.status, args.incident_changed)
            .await
            .map_err(|e| {
                Error::Command(format!(
                    "Error in Microsoft Sentinel outgoing mirror for incident {id}. Error message: {e}"
                ))
            })?;
        let note = match done {
            Outgoing::Skipped(why) => why,
            Outgoing::Updated(true) => format!("Closed incident {id} in Microsoft Sentinel."),
            Outgoing::Updated(false) => format!("Updated incident {id} in Microsoft Sentinel."),
        };
        let mut out: Outcome = Results::readable(note).outcome()?;
        out.mirror = Some(Mirror::Updated { id });
        Ok(out)
    }
}

/// Gets the outgoing mapping fields.
#[derive(Args)]
pub struct GetMappingFields;

#[async_trait]
impl Handler<Sentinel> for GetMappingFields {
    const NAME: &'static str = "get-mapping-fields";

    async fn run(self, _: &Sentinel, _: &mut CommandContext) -> Result<Outcome, Error> {
        Ok(Outcome { mirror: Some(Mirror::Mapping { schemes: mapping_schemes() }), ..Outcome::default() })
    }
}
