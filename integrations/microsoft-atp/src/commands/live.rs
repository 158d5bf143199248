//! Live response: run a script, get a file, put a file (polling commands: the first run starts
//! the action, later runs check it and, once it succeeded, fetch its result), a command's
//! result by index, and cancelling an action.

use serde_json::{Value, json};
use soar_integration_kit::format::{TableOptions, table_to_markdown};
use soar_integration_kit::{
    Args, CommandContext, Error, Handler, Outcome, OutputSpec, Request, Results, async_trait, file_entry, out,
};

use super::actions::{LivePoll, Poll, first_poll, poll_action, processing};
use super::seg;
use crate::client::Atp;

const PREFIX: &str = "MicrosoftATP.LiveResponseAction";

/// `POST machines/{id}/runliveresponse` with one command; the new action's ID.
async fn start(
    atp: &Atp,
    ctx: &mut CommandContext,
    machine: &str,
    kind: &str,
    params: Value,
    comment: &str,
) -> Result<String, Error> {
    let body = json!({"Commands": [{"type": kind, "params": params}], "Comment": comment});
    let answer = atp
        .json(ctx, Request::post(format!("api/machines/{}/runliveresponse", seg(machine))).json(&body))
        .await?;
    Ok(answer.get("id").map(soar_integration_kit::value_text).unwrap_or_default())
}

/// The download link of a command's result.
async fn result_link(atp: &Atp, ctx: &mut CommandContext, action: &str, index: i64) -> Result<String, Error> {
    let path = format!("api/machineactions/{}/GetLiveResponseResultDownloadLink(index={index})", seg(action));
    let answer = atp.json(ctx, Request::get(path)).await?;
    answer.get("value").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
        Error::Command(format!(
            "The API gave no download link for command {index} of machine action {action}."
        ))
    })
}

/// A table rendered with `is_auto_json_transform=True`.
fn auto_table(title: &str, rows: &Value) -> Result<String, Error> {
    let opts = TableOptions { is_auto_json_transform: true, ..TableOptions::default() };
    table_to_markdown(title, rows, &opts)
}

/// The reference's summary of a finished action.
fn summary(res: &Value) -> Value {
    json!({
        "Machine Action Id": res.get("id"),
        "MachineId": res.get("machineId"),
        "Hostname": res.get("computerDnsName"),
        "Status": res.get("status"),
        "Creation time": res.get("creationDateTimeUtc"),
        "Commands": res.get("commands"),
    })
}

fn action_outputs() -> Vec<OutputSpec> {
    let f = |p: &'static str, t: &'static str, d: &'static str| out(p, t, d);
    vec![
        f("MicrosoftATP.LiveResponseAction.id", "String", "The machine action ID."),
        f("MicrosoftATP.LiveResponseAction.type", "String", "The type of the machine action."),
        f(
            "MicrosoftATP.LiveResponseAction.requestor",
            "String",
            "The ID of the user that executed the action.",
        ),
        f(
            "MicrosoftATP.LiveResponseAction.requestorComment",
            "String",
            "The comment written when issuing the action.",
        ),
        f("MicrosoftATP.LiveResponseAction.status", "String", "The current status of the command."),
        f(
            "MicrosoftATP.LiveResponseAction.machineId",
            "String",
            "The machine ID on which the action was executed.",
        ),
        f(
            "MicrosoftATP.LiveResponseAction.computerDnsName",
            "String",
            "The machine DNS name on which the action was executed.",
        ),
        f(
            "MicrosoftATP.LiveResponseAction.creationDateTimeUtc",
            "Date",
            "The date and time the action was created.",
        ),
        f(
            "MicrosoftATP.LiveResponseAction.lastUpdateDateTimeUtc",
            "Date",
            "The last date and time the action status was updated.",
        ),
        f("MicrosoftATP.LiveResponseAction.commands.index", "Number", "The index of the command."),
        f("MicrosoftATP.LiveResponseAction.commands.commandStatus", "String", "The status of the command."),
        f("MicrosoftATP.LiveResponseAction.commands.errors", "String", "The errors of the command."),
        f("MicrosoftATP.LiveResponseAction.commands.command.type", "String", "The type of the command."),
        f(
            "MicrosoftATP.LiveResponseAction.commands.command.params.key",
            "String",
            "The key of a command parameter.",
        ),
        f(
            "MicrosoftATP.LiveResponseAction.commands.command.params.value",
            "String",
            "The value of a command parameter.",
        ),
    ]
}

/// Runs a live response script from the library on a machine and returns its output.
#[derive(Args)]
pub struct LiveResponseRunScript {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the action.
    comment: String,
    /// The name of the script in the library.
    #[arg(name = "scriptName")]
    script_name: String,
    /// The script's arguments.
    arguments: Option<String>,
    #[arg(flatten)]
    poll: LivePoll,
}

#[async_trait]
impl Handler<Atp> for LiveResponseRunScript {
    const NAME: &'static str = "microsoft-atp-live-response-run-script";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-live-response-run-script machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa scriptName=test.ps1 comment=test",
    ];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.LiveResponseAction.script_name", "String", "The script name."),
            out("MicrosoftATP.LiveResponseAction.exit_code", "Number", "The script exit code."),
            out("MicrosoftATP.LiveResponseAction.script_output", "String", "The script output."),
            out("MicrosoftATP.LiveResponseAction.script_errors", "String", "The script errors."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let Some(id) = self.poll.machine_action_id.clone().filter(|s| !s.is_empty()) else {
            let mut params = vec![json!({"key": "ScriptName", "value": self.script_name})];
            if let Some(a) = self.arguments.filter(|s| !s.is_empty()) {
                params.push(json!({"key": "Args", "value": a}));
            }
            let id =
                start(atp, ctx, &self.machine_id, "RunScript", Value::Array(params), &self.comment).await?;
            return Ok(first_poll(ctx, Self::NAME, &self.poll, processing(PREFIX, &id)?, &id));
        };
        let res = match poll_action(atp, ctx, Self::NAME, &self.poll, &id).await? {
            Poll::Wait(o) => return Ok(o),
            Poll::Done(res) => res,
        };
        let link = result_link(atp, ctx, &id, 0).await?;
        let bytes = atp.downloads.get(&link).await?;
        let script: Option<Value> = serde_json::from_slice(&bytes).ok().filter(|v: &Value| !v.is_null());
        let info = match &script {
            Some(s) => Results {
                readable: Some(auto_table("Script Results:", s)?),
                prefix: Some(PREFIX),
                outputs: Some(s.clone()),
                ..Default::default()
            },
            None => Results {
                readable: Some("Could not retrieve script results.".into()),
                prefix: Some(PREFIX),
                outputs: Some(res),
                ..Default::default()
            },
        }
        .entry()?;
        let mut file = file_entry("Response Result", &bytes);
        // The reference's `EntryType.ENTRY_INFO_FILE`.
        file.entry_type = 9;
        Ok(vec![info, file].into())
    }
}

/// Collects a file from a machine (live response) and returns it as a file entry.
#[derive(Args)]
pub struct LiveResponseGetFile {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the action.
    comment: String,
    /// The path of the file on the machine.
    path: String,
    #[arg(flatten)]
    poll: LivePoll,
}

#[async_trait]
impl Handler<Atp> for LiveResponseGetFile {
    const NAME: &'static str = "microsoft-atp-live-response-get-file";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-live-response-get-file machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa path=C:\\test.txt comment=test",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let Some(id) = self.poll.machine_action_id.clone().filter(|s| !s.is_empty()) else {
            let params = json!([{"key": "Path", "value": self.path}]);
            let id = start(atp, ctx, &self.machine_id, "GetFile", params, &self.comment).await?;
            return Ok(first_poll(ctx, Self::NAME, &self.poll, processing(PREFIX, &id)?, &id));
        };
        let res = match poll_action(atp, ctx, Self::NAME, &self.poll, &id).await? {
            Poll::Wait(o) => return Ok(o),
            Poll::Done(res) => res,
        };
        let link = result_link(atp, ctx, &id, 0).await?;
        let bytes = atp.downloads.get(&link).await?;
        let info = Results {
            readable: Some(auto_table("Machine Action:", &summary(&res))?),
            prefix: Some(PREFIX),
            outputs: Some(res.clone()),
            raw: Some(res),
            ..Default::default()
        }
        .entry()?;
        Ok(vec![file_entry("Response Result.gz", &bytes), info].into())
    }
}

/// Puts a file from the library on a machine (live response).
#[derive(Args)]
pub struct LiveResponsePutFile {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the action.
    comment: String,
    /// The name of the file in the library.
    file_name: String,
    #[arg(flatten)]
    poll: LivePoll,
}

#[async_trait]
impl Handler<Atp> for LiveResponsePutFile {
    const NAME: &'static str = "microsoft-atp-live-response-put-file";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-live-response-put-file machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa file_name=test.txt comment=test",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let Some(id) = self.poll.machine_action_id.clone().filter(|s| !s.is_empty()) else {
            let params = json!([{"key": "FileName", "value": self.file_name}]);
            let id = start(atp, ctx, &self.machine_id, "PutFile", params, &self.comment).await?;
            return Ok(first_poll(ctx, Self::NAME, &self.poll, processing(PREFIX, &id)?, &id));
        };
        let res = match poll_action(atp, ctx, Self::NAME, &self.poll, &id).await? {
            Poll::Wait(o) => return Ok(o),
            Poll::Done(res) => res,
        };
        Results {
            readable: Some(auto_table("Machine Action:", &summary(&res))?),
            prefix: Some(PREFIX),
            outputs: Some(res.clone()),
            raw: Some(res),
            ..Default::default()
        }
        .outcome()
    }
}

/// Gets the result of one command of a live response action, as a file.
#[derive(Args)]
pub struct LiveResponseResult {
    /// The machine action ID.
    machine_action_id: String,
    /// The index of the command in the action (from 0).
    command_index: i64,
}

#[async_trait]
impl Handler<Atp> for LiveResponseResult {
    const NAME: &'static str = "microsoft-atp-live-response-result";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-live-response-result machine_action_id=7327b54fd718525cbca07dacde913b5ac3c85673 command_index=0",
    ];

    fn outputs() -> Vec<OutputSpec> {
        vec![out("MicrosoftATP.LiveResponseResult.value", "String", "The download link of the result file.")]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if self.command_index < 0 {
            return Err(Error::InvalidArg {
                name: "command_index".into(),
                reason: "give 0 or a positive number.".into(),
            });
        }
        let link = result_link(atp, ctx, &self.machine_action_id, self.command_index).await?;
        let bytes = atp.downloads.get(&link).await?;
        let outputs = serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|_| json!({"value": link}));
        let info = Results {
            readable: Some(format!("file_link: {link}")),
            prefix: Some("MicrosoftATP.LiveResponseResult"),
            outputs: Some(outputs),
            ..Default::default()
        }
        .entry()?;
        Ok(vec![file_entry("Response Result", &bytes), info].into())
    }
}

/// Cancels a machine action (e.g. a live response action) that has not finished.
#[derive(Args)]
pub struct LiveResponseCancel {
    /// The machine action ID.
    machine_action_id: String,
    /// A comment to associate with the cancellation.
    comment: String,
}

#[async_trait]
impl Handler<Atp> for LiveResponseCancel {
    const NAME: &'static str = "microsoft-atp-live-response-cancel-action";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-live-response-cancel-action machine_action_id=7327b54fd718525cbca07dacde913b5ac3c85673 comment=stop",
    ];

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let path = format!("api/machineactions/{}/cancel", seg(&self.machine_action_id));
        match atp.json(ctx, Request::post(path).json(&json!({"Comment": self.comment}))).await {
            Ok(_) => Results::readable("Action was cancelled successfully.").outcome(),
            Err(e) if e.is_not_found() => Err(Error::Command(format!(
                "Action ID {} could not be found. Make sure you entered the correct ID.",
                self.machine_action_id
            ))),
            Err(e) => Err(e),
        }
    }
}
