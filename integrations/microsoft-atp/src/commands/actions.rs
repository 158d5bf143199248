//! Machine actions: isolate, unisolate, antivirus scan, app restriction, stop and quarantine,
//! offboard, investigation packages, and the action list. The actions that change a machine
//! poll by default (a soar-rt addition: the reference only submits them): the first run submits
//! them as the reference does and answers with a schedule whose `action_ids` the later runs
//! check, until every action succeeded, one failed, or the engine's timeout passes.

use serde_json::{Map, Value, json};
use soar_integration_kit::{
    Args, BOOL, CommandContext, Entry, Error, Handler, Outcome, OutputSpec, Request, async_trait, file_entry,
    out,
};

use super::{Failures, dedup, output, outputs, results, seg, table};
use crate::client::Atp;
use crate::outputs::{ACTION_HEADERS, action, action_paths, values};
use crate::polling::{Schedule, State, next_args, state, with_schedule};

/// The polling arguments of the machine-action commands.
#[derive(Args)]
pub struct ActionPoll {
    /// Wait for the actions to finish (the engine runs the command again every interval_in_seconds).
    #[arg(default = "true", options = BOOL)]
    polling: bool,
    /// Seconds between two checks of the actions.
    #[arg(default = "10")]
    interval_in_seconds: u64,
    /// Seconds after which the engine stops waiting.
    #[arg(default = "600")]
    timeout_in_seconds: u64,
    /// Set by the first run: the machine action IDs the later runs check.
    action_ids: Vec<String>,
}

/// One `machineactions/{id}` answer.
async fn get_action(atp: &Atp, ctx: &mut CommandContext, id: &str) -> Result<Value, Error> {
    atp.json(ctx, Request::get(format!("api/machineactions/{}", seg(id)))).await
}

/// A later run: checks every action; all succeeded ends it, one failed is an error, else the
/// same command is scheduled again.
async fn check_actions(
    atp: &Atp,
    ctx: &mut CommandContext,
    command: &str,
    p: &ActionPoll,
) -> Result<Outcome, Error> {
    let mut done = Vec::new();
    let mut waiting = Vec::new();
    for id in &p.action_ids {
        let answer = get_action(atp, ctx, id).await?;
        match state(&answer) {
            State::Succeeded => done.push(action(&answer)),
            State::Failed(msg) => {
                return Err(Error::Command(format!("{msg} Machine action {id} did not succeed.")));
            }
            State::Running => {
                let status = answer.get("status").and_then(Value::as_str).unwrap_or("Pending").to_owned();
                waiting.push(format!("{id} ({status})"));
            }
        }
    }
    if waiting.is_empty() {
        let md = table("The machine actions have completed:", Value::Array(done.clone()), ACTION_HEADERS)?;
        return output(
            md,
            "MicrosoftATP.MachineAction(val.ID === obj.ID)",
            Value::Array(done.clone()),
            Value::Array(done),
        );
    }
    let text = format!(
        "Waiting for the machine actions to finish: {}. Checking again in {} seconds.",
        waiting.join(", "),
        p.interval_in_seconds.max(10)
    );
    let entry = soar_integration_kit::Results::readable(text).entry()?;
    let schedule = Schedule {
        command: command.to_owned(),
        next_run_seconds: p.interval_in_seconds,
        args: ctx.args.clone(),
        timeout_seconds: Some(p.timeout_in_seconds),
        items_remaining: Some(waiting.len() as u64),
    };
    Ok(with_schedule(entry, &schedule).into())
}

/// A first run's entries, with the schedule on the last one when polling.
fn first_run(
    ctx: &CommandContext,
    command: &str,
    p: &ActionPoll,
    mut entries: Vec<Entry>,
    ids: Vec<String>,
) -> Outcome {
    if p.polling
        && !ids.is_empty()
        && let Some(last) = entries.pop()
    {
        let args =
            next_args(&ctx.args, &[("action_ids", Value::String(ids.join(","))), ("polling", json!(true))]);
        let schedule = Schedule {
            command: command.to_owned(),
            next_run_seconds: p.interval_in_seconds,
            args,
            timeout_seconds: Some(p.timeout_in_seconds),
            items_remaining: Some(ids.len() as u64),
        };
        entries.push(with_schedule(last, &schedule));
    }
    entries.into()
}

/// The ids of submitted actions.
fn ids_of(actions: &[Value]) -> Vec<String> {
    actions.iter().filter_map(|a| a.get("ID").and_then(Value::as_str)).map(str::to_owned).collect()
}

/// Submits one action per machine (`POST machines/{id}/{verb}` with `body`), collecting the
/// failures as the reference does; `(actions, raw answers, note)`.
async fn per_machine(
    atp: &Atp,
    ctx: &mut CommandContext,
    machines: &[String],
    verb: &str,
    body: &Value,
) -> Result<(Vec<Value>, Vec<Value>, String), Error> {
    let mut data = Vec::new();
    let mut raw = Vec::new();
    let mut failed = Failures::default();
    for m in machines {
        match atp.json(ctx, Request::post(format!("api/machines/{}/{verb}", seg(m))).json(body)).await {
            Ok(answer) => {
                data.push(action(&answer));
                raw.push(answer);
            }
            Err(e) => failed.0.push((m.clone(), e)),
        }
    }
    let note = failed.note(machines.len())?;
    Ok((data, raw, note))
}

/// What the multi-machine action commands share.
/// What one machine-action command submits: the URL verb, its body, the table title and the
/// context key.
struct Act<'a> {
    command: &'a str,
    verb: &'a str,
    body: Value,
    title: String,
    key: &'a str,
}

async fn machine_action(
    atp: &Atp,
    ctx: &mut CommandContext,
    poll: &ActionPoll,
    machine_ids: Vec<String>,
    act: Act<'_>,
) -> Result<Outcome, Error> {
    let Act { command, verb, body, title, key: context_key } = act;
    if !poll.action_ids.is_empty() {
        return check_actions(atp, ctx, command, poll).await;
    }
    let machines = dedup(machine_ids);
    let (data, raw, note) = per_machine(atp, ctx, &machines, verb, &body).await?;
    let md = table(&title, Value::Array(data.clone()), ACTION_HEADERS)? + &note;
    let ids = ids_of(&data);
    let mut m = Map::new();
    m.insert(context_key.to_owned(), Value::Array(data));
    let entry = outputs(md, m, Value::Array(raw))?;
    Ok(first_run(ctx, command, poll, vec![entry], ids))
}

const MA_KEY: &str = "MicrosoftATP.MachineAction(val.ID === obj.ID)";

fn action_outputs() -> Vec<OutputSpec> {
    action_paths!("MicrosoftATP.MachineAction")
}

/// Isolates machines from accessing the external network.
#[derive(Args)]
pub struct Isolate {
    /// A comma-separated list of machine IDs to isolate.
    machine_id: Vec<String>,
    /// A comment to associate with the action.
    comment: String,
    /// Full isolation or selective isolation (restricts only limited set of applications from accessing the network).
    #[arg(options = ["Full", "Selective"])]
    isolation_type: String,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for Isolate {
    const NAME: &'static str = "microsoft-atp-isolate-machine";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-isolate-machine machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=test isolation_type=Full polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = json!({"Comment": self.comment, "IsolationType": self.isolation_type});
        let title = "The isolation request has been submitted successfully:";
        machine_action(
            atp,
            ctx,
            &self.poll,
            self.machine_id,
            Act { command: Self::NAME, verb: "isolate", body, title: title.into(), key: MA_KEY },
        )
        .await
    }
}

/// Undoes the isolation of machines.
#[derive(Args)]
pub struct Unisolate {
    /// A comma-separated list of machine IDs to release from isolation.
    machine_id: Vec<String>,
    /// A comment to associate with the action.
    comment: String,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for Unisolate {
    const NAME: &'static str = "microsoft-atp-unisolate-machine";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-unisolate-machine machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=done polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = json!({"Comment": self.comment});
        let title = "The request to stop the isolation has been submitted successfully.";
        machine_action(
            atp,
            ctx,
            &self.poll,
            self.machine_id,
            Act { command: Self::NAME, verb: "unisolate", body, title: title.into(), key: MA_KEY },
        )
        .await
    }
}

/// Initiates a Microsoft Defender Antivirus scan on machines.
#[derive(Args)]
pub struct RunAntivirusScan {
    /// A comma-separated list of machine IDs to run the scan on.
    machine_id: Vec<String>,
    /// A comment to associate with the action.
    comment: String,
    /// The scan type.
    #[arg(default = "Quick", options = ["Quick", "Full"])]
    scan_type: String,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for RunAntivirusScan {
    const NAME: &'static str = "microsoft-atp-run-antivirus-scan";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-run-antivirus-scan machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=scan scan_type=Quick polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = json!({"Comment": self.comment, "ScanType": self.scan_type});
        let title = "Antivirus scan successfully triggered";
        machine_action(
            atp,
            ctx,
            &self.poll,
            self.machine_id,
            Act { command: Self::NAME, verb: "runAntiVirusScan", body, title: title.into(), key: MA_KEY },
        )
        .await
    }
}

/// Offboards machines from Microsoft Defender for Endpoint.
#[derive(Args)]
pub struct Offboard {
    /// A comma-separated list of machine IDs to offboard.
    machine_id: Vec<String>,
    /// A comment to associate with the action.
    comment: String,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for Offboard {
    const NAME: &'static str = "microsoft-atp-offboard-machine";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-offboard-machine machine_id=4899036531e374137f63289c3267bad772c13fef comment=leaving polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_paths!("MicrosoftATP.OffboardMachine")
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = json!({"Comment": self.comment});
        let title = "The offboards request has been submitted successfully:";
        let key = "MicrosoftATP.OffboardMachine(val.ID && val.ID == obj.ID && val.MachineID && val.MachineID == obj.MachineID)";
        machine_action(
            atp,
            ctx,
            &self.poll,
            self.machine_id,
            Act { command: Self::NAME, verb: "offboard", body, title: title.into(), key },
        )
        .await
    }
}

/// One-machine actions: restrict and unrestrict code execution, collect an investigation package.
async fn single(
    atp: &Atp,
    ctx: &mut CommandContext,
    poll: &ActionPoll,
    machine: &str,
    act: Act<'_>,
) -> Result<Outcome, Error> {
    let Act { command, verb, body, title, .. } = act;
    if !poll.action_ids.is_empty() {
        return check_actions(atp, ctx, command, poll).await;
    }
    let answer =
        atp.json(ctx, Request::post(format!("api/machines/{}/{verb}", seg(machine))).json(&body)).await?;
    let data = action(&answer);
    let md = table(&title, data.clone(), ACTION_HEADERS)?;
    let ids = ids_of(std::slice::from_ref(&data));
    let mut m = Map::new();
    m.insert(MA_KEY.to_owned(), data);
    let entry = outputs(md, m, answer)?;
    Ok(first_run(ctx, command, poll, vec![entry], ids))
}

/// Restricts the execution of all applications on a machine except a predefined set.
#[derive(Args)]
pub struct RestrictAppExecution {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the action.
    comment: Option<String>,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for RestrictAppExecution {
    const NAME: &'static str = "microsoft-atp-restrict-app-execution";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-restrict-app-execution machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=test polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let title = format!(
            "Initiating Restrict execution of all applications on the machine {} except a predefined set:",
            self.machine_id
        );
        single(
            atp,
            ctx,
            &self.poll,
            &self.machine_id,
            Act {
                command: Self::NAME,
                verb: "restrictCodeExecution",
                body: json!({"Comment": self.comment}),
                title,
                key: MA_KEY,
            },
        )
        .await
    }
}

/// Enables the execution of any application on a machine.
#[derive(Args)]
pub struct RemoveAppRestriction {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the action.
    comment: String,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for RemoveAppRestriction {
    const NAME: &'static str = "microsoft-atp-remove-app-restriction";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-remove-app-restriction machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=test polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let title = format!("Removing applications restriction on the machine {}:", self.machine_id);
        single(
            atp,
            ctx,
            &self.poll,
            &self.machine_id,
            Act {
                command: Self::NAME,
                verb: "unrestrictCodeExecution",
                body: json!({"Comment": Some(self.comment)}),
                title,
                key: MA_KEY,
            },
        )
        .await
    }
}

/// Collects an investigation package from a machine.
#[derive(Args)]
pub struct CollectInvestigationPackage {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the action.
    comment: String,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for CollectInvestigationPackage {
    const NAME: &'static str = "microsoft-atp-collect-investigation-package";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-collect-investigation-package machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=test polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let title = format!("Initiating collect investigation package from {} machine :", self.machine_id);
        single(
            atp,
            ctx,
            &self.poll,
            &self.machine_id,
            Act {
                command: Self::NAME,
                verb: "collectInvestigationPackage",
                body: json!({"Comment": Some(self.comment)}),
                title,
                key: MA_KEY,
            },
        )
        .await
    }
}

/// Stops the execution of a file on machines and deletes it.
#[derive(Args)]
pub struct StopAndQuarantineFile {
    /// A comma-separated list of machine IDs.
    machine_id: Vec<String>,
    /// A comma-separated list of SHA1 hashes of the files to stop and quarantine.
    file_hash: Vec<String>,
    /// A comment to associate with the action.
    comment: String,
    #[arg(flatten)]
    poll: ActionPoll,
}

#[async_trait]
impl Handler<Atp> for StopAndQuarantineFile {
    const NAME: &'static str = "microsoft-atp-stop-and-quarantine-file";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-stop-and-quarantine-file machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa file_hash=abe2c8f5f4e4e2c8b4f3a1f2e9d7c6b5a4938271 comment=test polling=false",
    ];

    fn outputs() -> Vec<OutputSpec> {
        action_outputs()
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if !self.poll.action_ids.is_empty() {
            return check_actions(atp, ctx, Self::NAME, &self.poll).await;
        }
        let mut entries = Vec::new();
        let mut ids = Vec::new();
        for m in &self.machine_id {
            for sha1 in &self.file_hash {
                let body = json!({"Comment": self.comment, "Sha1": sha1});
                let answer = atp
                    .json(
                        ctx,
                        Request::post(format!("api/machines/{}/stopAndQuarantineFile", seg(m))).json(&body),
                    )
                    .await?;
                let data = action(&answer);
                ids.extend(ids_of(std::slice::from_ref(&data)));
                let md = table(
                    &format!("Stopping the execution of a file on {m} machine and deleting it:"),
                    data.clone(),
                    ACTION_HEADERS,
                )?;
                entries.push(results(md, "MicrosoftATP.MachineAction", Some("id"), data, answer)?);
            }
        }
        Ok(first_run(ctx, Self::NAME, &self.poll, entries, ids))
    }
}

/// `reformat_filter`: `key eq 'value'` for every given field, joined with ` and `.
pub fn reformat_filter(fields: &[(&str, String)]) -> String {
    fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k} eq '{v}'"))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// `reformat_filter_with_list_arg`: one parenthesised ` and ` group per value of the list
/// field (which goes last in each group), joined with ` or `.
pub fn filter_with_list(fields: &[(&str, String)], list_key: &str, list: &[String]) -> String {
    match list {
        [] => reformat_filter(fields),
        [one] => {
            let mut all = fields.to_vec();
            all.push((list_key, one.clone()));
            // The reference keeps the dict's order: the list field stands where it was declared.
            reformat_filter(&all)
        }
        many => many
            .iter()
            .map(|v| {
                let mut group: Vec<(&str, String)> = fields.to_vec();
                group.push((list_key, v.clone()));
                format!("({})", reformat_filter(&group))
            })
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// Returns machine actions: one by ID, or a list filtered by status, machine, type and requestor.
#[derive(Args)]
pub struct ListMachineActions {
    /// The machine action ID.
    id: Option<String>,
    /// The machine action status.
    #[arg(options = ["Pending", "InProgress", "Succeeded", "Failed", "TimeOut", "Cancelled"])]
    status: Option<String>,
    /// A comma-separated list of machine IDs on which the actions were executed.
    machine_id: Vec<String>,
    /// The machine action type.
    #[arg(name = "type", options = ["RunAntiVirusScan", "Offboard", "CollectInvestigationPackage", "Isolate", "Unisolate", "StopAndQuarantineFile", "RestrictCodeExecution", "UnrestrictCodeExecution"])]
    kind: Option<String>,
    /// The ID of the user that executed the action.
    requestor: Option<String>,
    /// The most machine actions to return.
    #[arg(default = "50")]
    limit: u64,
    /// An OData $filter to use instead of the other filter arguments.
    filters: Option<String>,
}

#[async_trait]
impl Handler<Atp> for ListMachineActions {
    const NAME: &'static str = "microsoft-atp-list-machine-actions-details";
    const EXAMPLES: &'static [&'static str] =
        &["!microsoft-atp-list-machine-actions-details type=Isolate limit=5"];

    fn outputs() -> Vec<OutputSpec> {
        let mut v = action_outputs();
        v.push(out(
            "MicrosoftATP.MachineAction.Commands",
            "Unknown",
            "The commands of the action (live response).",
        ));
        v
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        if let Some(id) = self.id.filter(|s| !s.is_empty()) {
            let answer = match get_action(atp, ctx, &id).await {
                Ok(a) => a,
                Err(e) if e.is_not_found() => {
                    return Err(Error::Command(format!("Machine action {id} was not found")));
                }
                Err(e) => return Err(e),
            };
            let data = action(&answer);
            let md = table(&format!("Action {id} Info:"), data.clone(), ACTION_HEADERS)?;
            return output(md, MA_KEY, data, answer);
        }
        let machines = dedup(self.machine_id);
        let filter = match self.filters.filter(|s| !s.is_empty()) {
            Some(f) => f,
            None => {
                let fields = [
                    ("status", self.status.unwrap_or_default()),
                    ("type", self.kind.unwrap_or_default()),
                    ("requestor", self.requestor.unwrap_or_default()),
                ];
                machine_action_filter(&fields, &machines)
            }
        };
        let mut req = Request::get("api/machineactions").query("$top", self.limit.to_string());
        if !filter.is_empty() {
            req = req.query("$filter", filter);
        }
        let answer = atp.json(ctx, req).await?;
        let list: Vec<Value> = values(&answer).iter().map(action).collect();
        let md = table(
            &format!("Machine actions Info with limit of {}:", self.limit),
            Value::Array(list.clone()),
            ACTION_HEADERS,
        )?;
        output(md, MA_KEY, Value::Array(list), answer)
    }
}

/// The action list's filter: `status`, `machineId`, `type`, `requestor` in the reference's
/// order, `machineId` expanded over its values.
fn machine_action_filter(fields: &[(&str, String); 3], machines: &[String]) -> String {
    let [status, kind, requestor] = fields;
    match machines {
        [] | [_] => {
            let m = machines.first().cloned().unwrap_or_default();
            reformat_filter(&[status.clone(), ("machineId", m), kind.clone(), requestor.clone()])
        }
        _ => filter_with_list(&[status.clone(), kind.clone(), requestor.clone()], "machineId", machines),
    }
}

/// Gets a link to download an investigation package.
#[derive(Args)]
pub struct GetInvestigationPackageSasUri {
    /// The ID of the collect-investigation-package action.
    action_id: String,
}

#[async_trait]
impl Handler<Atp> for GetInvestigationPackageSasUri {
    const NAME: &'static str = "microsoft-atp-get-investigation-package-sas-uri";
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-get-investigation-package-sas-uri action_id=7327b54fd718525cbca07dacde913b5ac3c85673",
    ];

    fn outputs() -> Vec<OutputSpec> {
        vec![out("MicrosoftATP.InvestigationURI.Link", "String", "The investigation package URI.")]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let answer = atp
            .json(ctx, Request::get(format!("api/machineactions/{}/getPackageUri", seg(&self.action_id))))
            .await?;
        let link = answer.get("value").and_then(Value::as_str).unwrap_or_default().to_owned();
        let md = format!(
            "Success. This link is valid for a very short time and should be used immediately for downloading the package to a local storage{link}"
        );
        output(md, "MicrosoftATP.InvestigationURI(val.Link === obj.Link)", json!({"Link": link}), answer)
    }
}

/// The polling arguments of the live-response style commands (the reference's names).
#[derive(Args)]
pub struct LivePoll {
    /// Set by the first run: the machine action the later runs check.
    pub machine_action_id: Option<String>,
    /// Seconds between two checks.
    #[arg(default = "10")]
    pub interval_in_seconds: u64,
    /// Seconds after which the engine stops waiting.
    #[arg(default = "600")]
    pub timeout_in_seconds: u64,
    /// Set by the first run (the reference's polling flag).
    #[arg(options = BOOL)]
    pub polling: Option<bool>,
}

/// What a later run of a live-response style command found.
pub enum Poll {
    /// The action succeeded: its answer.
    Done(Value),
    /// Still running: the outcome that schedules the next check.
    Wait(Outcome),
}

/// The reference's `run_polling_command` after the first run.
pub async fn poll_action(
    atp: &Atp,
    ctx: &mut CommandContext,
    command: &str,
    p: &LivePoll,
    id: &str,
) -> Result<Poll, Error> {
    let answer = get_action(atp, ctx, id).await?;
    match state(&answer) {
        State::Succeeded => Ok(Poll::Done(answer)),
        State::Failed(msg) => Err(Error::Command(msg)),
        State::Running => {
            let status = answer.get("status").and_then(Value::as_str).unwrap_or("Pending");
            let text = format!(
                "Machine action {id} is {status}; checking again in {} seconds.",
                p.interval_in_seconds.max(10)
            );
            let args = next_args(
                &ctx.args,
                &[("interval_in_seconds", json!(p.interval_in_seconds)), ("polling", json!(true))],
            );
            let schedule = Schedule {
                command: command.to_owned(),
                next_run_seconds: p.interval_in_seconds,
                args,
                timeout_seconds: Some(p.timeout_in_seconds),
                items_remaining: None,
            };
            Ok(Poll::Wait(
                with_schedule(soar_integration_kit::Results::readable(text).entry()?, &schedule).into(),
            ))
        }
    }
}

/// The reference's first run of a polling command: the entry of the started action and the
/// schedule of the first check.
pub fn first_poll(ctx: &CommandContext, command: &str, p: &LivePoll, entry: Entry, id: &str) -> Outcome {
    let args = next_args(
        &ctx.args,
        &[
            ("machine_action_id", Value::String(id.to_owned())),
            ("interval_in_seconds", json!(p.interval_in_seconds)),
            ("polling", json!(true)),
        ],
    );
    let schedule = Schedule {
        command: command.to_owned(),
        next_run_seconds: p.interval_in_seconds,
        args,
        timeout_seconds: Some(p.timeout_in_seconds),
        items_remaining: None,
    };
    with_schedule(entry, &schedule).into()
}

/// The reference's "Processing action" entry: `{prefix}.action_id`.
pub fn processing(prefix: &'static str, id: &str) -> Result<Entry, Error> {
    let md = soar_integration_kit::Table::new(
        "Processing action. This may take a few minutes.",
        Value::String(id.to_owned()),
    )
    .headers(["id"])
    .render()?;
    soar_integration_kit::Results {
        readable: Some(md),
        prefix: Some(prefix),
        outputs: Some(json!({"action_id": id})),
        ..Default::default()
    }
    .entry()
}

/// Collects an investigation package, waits for it and downloads it as a file.
#[derive(Args)]
pub struct RequestAndDownloadInvestigationPackage {
    /// The machine ID.
    machine_id: String,
    /// A comment to associate with the action.
    comment: String,
    #[arg(flatten)]
    poll: LivePoll,
}

#[async_trait]
impl Handler<Atp> for RequestAndDownloadInvestigationPackage {
    const NAME: &'static str = "microsoft-atp-request-and-download-investigation-package";
    const POLLING: bool = true;
    const EXAMPLES: &'static [&'static str] = &[
        "!microsoft-atp-request-and-download-investigation-package machine_id=f3bba49af4d3bacedc62ca0fe580a4d5925af8aa comment=collect",
    ];

    fn outputs() -> Vec<OutputSpec> {
        vec![
            out("MicrosoftATP.MachineAction.ID", "String", "The machine action ID."),
            out("MicrosoftATP.MachineAction.Status", "String", "The status of the action."),
            out("MicrosoftATP.MachineAction.MachineID", "String", "The machine ID."),
        ]
    }

    async fn run(self, atp: &Atp, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let Some(id) = self.poll.machine_action_id.clone().filter(|s| !s.is_empty()) else {
            let body = json!({"Comment": self.comment});
            let path = format!("api/machines/{}/collectInvestigationPackage", seg(&self.machine_id));
            let answer = atp.json(ctx, Request::post(path).json(&body)).await?;
            let id = answer.get("id").and_then(Value::as_str).unwrap_or_default().to_owned();
            let entry = processing("MicrosoftATP.MachineAction", &id)?;
            return Ok(first_poll(ctx, Self::NAME, &self.poll, entry, &id));
        };
        let res = match poll_action(atp, ctx, Self::NAME, &self.poll, &id).await? {
            Poll::Wait(o) => return Ok(o),
            Poll::Done(res) => res,
        };
        let uri =
            atp.json(ctx, Request::get(format!("api/machineactions/{}/getPackageUri", seg(&id)))).await?;
        let link = uri.get("value").and_then(Value::as_str).unwrap_or_default();
        let bytes = atp.downloads.get(link).await?;
        let md_rows = json!({
            "Machine Action Id": res.get("id"),
            "MachineId": res.get("machineId"),
            "Status": res.get("status"),
        });
        let md = soar_integration_kit::Table::new("Machine Action:", md_rows).render()?;
        // The documented outputs (fact sheet §3.4): the action's ID, Status and MachineID.
        let outputs = json!({
            "ID": res.get("id"),
            "Status": res.get("status"),
            "MachineID": res.get("machineId"),
        });
        let info = soar_integration_kit::Results {
            readable: Some(md),
            prefix: Some("MicrosoftATP.MachineAction"),
            outputs: Some(outputs),
            raw: Some(res),
            ..Default::default()
        }
        .entry()?;
        Ok(vec![file_entry("Response Result.gz", &bytes), info].into())
    }
}
