//! The user commands, one place each: the arguments struct (its doc comment is the command's
//! description) and the [`Handler`] impl that calls the workspace's Sentinel API and turns the
//! answer into the reference's table and context.

use serde_json::{Map, Value, json};
use soar_integration_kit::format::transforms::{
    pascal_to_space, string_to_table_header, underscore_to_camel_case,
};
use soar_integration_kit::format::{CommandResults, HeaderTransform, TableOptions, table_to_markdown};
use soar_integration_kit::{
    Args, BOOL, CommandContext, Error, Handler, Method, Outcome, OutputSpec, Results, async_trait,
    check_next_link,
};

use crate::client::Sentinel;
use crate::convert::{self, format_date};
use crate::tables::{
    ALERT, ALERT_RULE, ALERT_RULE_TEMPLATE, COMMENT, ENTITY, ENTITY_KINDS, INCIDENT, INCIDENT_DELETED,
    INDICATOR, INDICATOR_DELETED, INDICATOR_TYPES, NEXT_LINK, RELATION, RESOURCE_GROUP, SUBSCRIPTION,
    THREAT_TYPES, WATCHLIST, WATCHLIST_ITEM,
};

/// The reference's `DEFAULT_LIMIT`: the most incidents and comments one list call returns.
pub const DEFAULT_LIMIT: u32 = 20;
/// The text of the `AzureSentinel.NextLink` item.
pub const NEXT_LINK_DESCRIPTION: &str = "NextLink for listing commands";
/// The source of indicators created here (the reference's `DEFAULT_SOURCE`).
pub const DEFAULT_SOURCE: &str = "Microsoft Sentinel";

/// The incident table's columns.
pub const INCIDENT_HEADERS: &[&str] = &[
    "ID",
    "IncidentNumber",
    "Title",
    "Description",
    "Severity",
    "Status",
    "IncidentUrl",
    "ProviderIncidentUrl",
    "AssigneeName",
    "AssigneeEmail",
    "AssigneeObjectID",
    "AssigneeUPN",
    "Label",
    "FirstActivityTimeUTC",
    "LastActivityTimeUTC",
    "LastModifiedTimeUTC",
    "CreatedTimeUTC",
    "AlertsCount",
    "BookmarksCount",
    "CommentsCount",
    "AlertProductNames",
    "Tactics",
    "FirstActivityTimeGenerated",
    "LastActivityTimeGenerated",
];
const COMMENT_HEADERS: &[&str] =
    &["ID", "IncidentID", "Message", "AuthorName", "AuthorEmail", "CreatedTimeUTC"];
const INDICATOR_HEADERS: &[&str] =
    &["Name", "DisplayName", "Values", "Types", "Source", "Confidence", "Tags"];

// ---- shared arguments and helpers --------------------------------------------------------------

/// The subscription and resource group a command may override (read by the environment, which
/// builds the workspace path from them before the handler runs).
#[derive(Args)]
#[allow(dead_code)]
pub struct Scope {
    /// The subscription ID; overrides the instance's Subscription ID.
    subscription_id: Option<String>,
    /// The resource group name; overrides the instance's Resource Group Name.
    resource_group_name: Option<String>,
}

/// A `tableToMarkdown` with `pascalToSpace` headers and `removeNull`, as most commands call it.
pub fn table(title: &str, rows: &Value, headers: &[&str], url_keys: &[&str]) -> Result<String, Error> {
    let opts = TableOptions::default()
        .headers(headers.iter().copied())
        .header_transform(HeaderTransform::PascalToSpace)
        .remove_null(true)
        .url_keys(url_keys.iter().copied());
    table_to_markdown(title, rows, &opts)
}

fn plain_table(title: &str, rows: &Value) -> Result<String, Error> {
    table_to_markdown(title, rows, &TableOptions::default().sort_headers(false))
}

/// `CommandResults` with any key fields.
fn results(
    readable: String,
    prefix: Option<&str>,
    keys: &[&str],
    outputs: Value,
    raw: Value,
) -> Result<Outcome, Error> {
    CommandResults {
        readable_output: Some(Value::String(readable)),
        outputs_prefix: prefix.map(str::to_owned),
        outputs_key_field: keys.iter().map(|k| (*k).to_owned()).collect(),
        outputs: Some(outputs),
        raw_response: Some(raw),
        ..CommandResults::default()
    }
    .into_entry()
    .map(Outcome::from)
}

/// `reply.value` as a list (absent: empty).
fn values(reply: &Value, key: &str) -> Vec<Value> {
    reply.get(key).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The reference's `update_next_link_in_context`: the next link, spaces as `%20`, under
/// `AzureSentinel.NextLink`.
fn add_next_link(reply: &Value, outputs: &mut Map<String, Value>) {
    if let Some(link) = reply.get("nextLink").and_then(Value::as_str).filter(|l| !l.is_empty()) {
        outputs.insert(
            format!("AzureSentinel.NextLink(val.Description == \"{NEXT_LINK_DESCRIPTION}\")"),
            json!({"Description": NEXT_LINK_DESCRIPTION, "URL": link.replace(' ', "%20")}),
        );
    }
}

/// A next link given back by a person: `%20` back to spaces, and only on ARM's own origin.
fn next_link_url(s: &Sentinel, link: &str) -> Result<String, Error> {
    let url = link.replace("%20", " ");
    let base = s.api.base_url()?;
    check_next_link(&base, &url).map_err(|_| Error::InvalidArg {
        name: "next_link".to_owned(),
        reason: format!(
            "the link must be an https URL on this instance's ARM endpoint ({}); give the AzureSentinel.NextLink.URL a previous list command returned.",
            base.trim_end_matches('/')
        ),
    })?;
    Ok(url)
}

/// The reference's `argToList` of a comma-separated text.
pub fn split_list(text: Option<&str>) -> Vec<String> {
    text.map(|t| t.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default()
}

/// The reference's `remove_nulls_from_dictionary`: drops `null`, `""`, `[]` and `{}`.
pub fn remove_empty(map: &mut Map<String, Value>) {
    map.retain(|_, v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    });
}

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

// ---- test-module -------------------------------------------------------------------------------

/// Tests the connection: lists one incident.
#[derive(Args)]
pub struct TestModule;

#[async_trait]
impl Handler<Sentinel> for TestModule {
    const NAME: &'static str = "test-module";

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        s.call(ctx, s.req(Method::GET, "incidents").query("$top", "1")).await?;
        Ok(soar_integration_kit::ok_outcome())
    }
}

// ---- incidents ---------------------------------------------------------------------------------

/// Gets a single incident from Microsoft Sentinel.
#[derive(Args)]
pub struct GetIncident {
    /// The incident ID.
    incident_id: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for GetIncident {
    const NAME: &'static str = "azure-sentinel-get-incident-by-id";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-get-incident-by-id incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742"];

    fn outputs() -> Vec<OutputSpec> {
        INCIDENT.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = self.incident_id;
        let raw = s.call(ctx, s.req(Method::GET, &format!("incidents/{id}"))).await?;
        let inc = convert::incident(&raw, false);
        let md = table(&format!("Incident {id} details"), &inc, INCIDENT_HEADERS, &["IncidentUrl"])?;
        results(md, Some("AzureSentinel.Incident"), &["ID"], inc, raw)
    }
}

/// Gets a list of incidents from Microsoft Sentinel.
#[derive(Args)]
pub struct ListIncidents {
    /// The maximum number of incidents to return (at most 20 per call, as the reference).
    #[arg(default = "50")]
    limit: u32,
    /// Filter results using OData syntax, e.g. properties/createdTimeUtc gt 2020-02-02T14:00:00Z.
    filter: Option<String>,
    /// A link that specifies a starting point to use for subsequent calls (AzureSentinel.NextLink.URL).
    next_link: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

/// One `GET incidents` page, as the list command and fetch make it.
pub async fn incidents_page(
    s: &Sentinel,
    ctx: &mut CommandContext,
    top: u32,
    filter: Option<&str>,
    orderby: &str,
) -> Result<Value, Error> {
    let mut req = s.req(Method::GET, "incidents").query("$top", top.to_string());
    if let Some(f) = filter {
        req = req.query("$filter", f);
    }
    s.call(ctx, req.query("$orderby", orderby)).await
}

#[async_trait]
impl Handler<Sentinel> for ListIncidents {
    const NAME: &'static str = "azure-sentinel-list-incidents";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-list-incidents limit=5"];

    fn outputs() -> Vec<OutputSpec> {
        [INCIDENT, NEXT_LINK].concat()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let reply = match &self.next_link {
            Some(link) => s.call(ctx, s.url(Method::GET, &next_link_url(s, link)?)).await?,
            None => {
                let top = DEFAULT_LIMIT.min(self.limit);
                incidents_page(s, ctx, top, self.filter.as_deref(), "properties/createdTimeUtc asc").await?
            }
        };
        let incidents: Vec<Value> =
            values(&reply, "value").iter().map(|i| convert::incident(i, false)).collect();
        let md = table(
            &format!("Incidents List ({} results)", incidents.len()),
            &Value::Array(incidents.clone()),
            INCIDENT_HEADERS,
            &[],
        )?;
        let mut outputs = Map::new();
        outputs.insert("AzureSentinel.Incident(val.ID === obj.ID)".into(), Value::Array(incidents));
        add_next_link(&reply, &mut outputs);
        results(md, None, &[], Value::Object(outputs), reply)
    }
}

/// Updates a single incident in Microsoft Sentinel.
#[derive(Args)]
pub struct UpdateIncident {
    /// The incident ID.
    incident_id: String,
    /// The incident's title.
    title: Option<String>,
    /// Description of the incident.
    description: Option<String>,
    /// The incident severity.
    #[arg(options = ["High", "Medium", "Low", "Informational"])]
    severity: Option<String>,
    /// The incident status.
    #[arg(options = ["New", "Active", "Closed"])]
    status: Option<String>,
    /// The reason the incident was closed (required when closing).
    #[arg(options = ["BenignPositive", "FalsePositive", "TruePositive", "Undetermined"])]
    classification: Option<String>,
    /// Describes the reason the incident was closed.
    classification_comment: Option<String>,
    /// The classification reason the incident was closed with.
    #[arg(options = ["InaccurateData", "IncorrectAlertLogic", "SuspiciousActivity", "SuspiciousButExpected"])]
    classification_reason: Option<String>,
    /// The email address of the incident assignee.
    assignee_email: Option<String>,
    /// The user principal name of the incident assignee.
    user_principal_name: Option<String>,
    /// The object ID of the incident assignee.
    assignee_objectid: Option<String>,
    /// Whether to remove the current assignee (true/false).
    #[arg(options = BOOL)]
    unassign: Option<String>,
    /// Incident labels, comma-separated (replace the existing ones).
    labels: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

impl UpdateIncident {
    /// The PUT body from the current incident (its etag and the values not given).
    pub fn body(&self, current: &Value) -> Value {
        let p = current.get("properties").cloned().unwrap_or_else(|| json!({}));
        let keep = |given: &Option<String>, k: &str| {
            given.as_ref().map(|v| json!(v)).unwrap_or_else(|| p.get(k).cloned().unwrap_or(Value::Null))
        };
        let mut owner = p.get("owner").cloned().filter(Value::is_object).unwrap_or_else(|| json!({}));
        if self.unassign.as_deref() == Some("true") {
            owner = json!({});
        } else if let Some(oid) = &self.assignee_objectid {
            owner = json!({"objectId": oid});
        } else {
            if let Some(upn) = &self.user_principal_name {
                owner = json!({"userPrincipalName": upn});
            }
            if let (Some(email), Some(o)) = (&self.assignee_email, owner.as_object_mut()) {
                o.insert("email".into(), json!(email));
            }
        }
        let labels = split_list(self.labels.as_deref());
        let labels = if labels.is_empty() {
            p.get("labels").cloned().unwrap_or(Value::Null)
        } else {
            Value::Array(labels.iter().map(|l| json!({"labelName": l, "labelType": "User"})).collect())
        };
        let mut props = Map::new();
        props.insert("title".into(), keep(&self.title, "title"));
        props.insert("description".into(), keep(&self.description, "description"));
        props.insert("severity".into(), keep(&self.severity, "severity"));
        props.insert("status".into(), keep(&self.status, "status"));
        props.insert("classification".into(), opt(&self.classification));
        props.insert("classificationComment".into(), opt(&self.classification_comment));
        props.insert("classificationReason".into(), opt(&self.classification_reason));
        props.insert("labels".into(), labels);
        props.insert("owner".into(), owner);
        remove_empty(&mut props);
        json!({"etag": current.get("etag").cloned().unwrap_or(Value::Null), "properties": props})
    }
}

/// PUTs `body(current)` for an incident, sending its etag. A 412 (the incident changed since it
/// was read) is retried once after reading it again; a second 412 is reported clearly.
pub async fn put_incident(
    s: &Sentinel,
    ctx: &mut CommandContext,
    id: &str,
    body: impl Fn(&Value) -> Result<Value, Error> + Send + Sync,
) -> Result<Value, Error> {
    let path = format!("incidents/{id}");
    let mut tries = 0;
    loop {
        let current = s.call(ctx, s.req(Method::GET, &path)).await?;
        let put = s.req(Method::PUT, &path).json(&body(&current)?);
        match s.api.send(&mut ctx.integration_context, put).await {
            Ok(reply) => return Ok(reply.body),
            Err(e) if e.api_status() == Some(412) && tries == 0 => tries += 1,
            Err(e) if e.api_status() == Some(412) => {
                return Err(Error::Command(format!(
                    "The incident {id} was changed in Microsoft Sentinel while it was being updated (HTTP 412 Precondition Failed: its etag no longer matched, also after reading it again). Nothing was changed; run the command again."
                )));
            }
            Err(e) => return Err(crate::client::sentinel_error(e)),
        }
    }
}

#[async_trait]
impl Handler<Sentinel> for UpdateIncident {
    const NAME: &'static str = "azure-sentinel-update-incident";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-update-incident incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742 severity=Medium"];

    fn outputs() -> Vec<OutputSpec> {
        INCIDENT.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = self.incident_id.clone();
        let raw = put_incident(s, ctx, &id, |current| Ok(self.body(current))).await?;
        let inc = convert::incident(&raw, false);
        let md = table(&format!("Updated incidents {id} details"), &inc, INCIDENT_HEADERS, &[])?;
        results(md, Some("AzureSentinel.Incident"), &["ID"], inc, raw)
    }
}

/// Deletes a single incident in Microsoft Sentinel.
#[derive(Args)]
pub struct DeleteIncident {
    /// The incident ID.
    incident_id: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for DeleteIncident {
    const NAME: &'static str = "azure-sentinel-delete-incident";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-delete-incident incident_id=c0a2d3b0-0000-4000-8000-000000000003"];

    fn outputs() -> Vec<OutputSpec> {
        INCIDENT_DELETED.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = self.incident_id;
        s.send(ctx, s.req(Method::DELETE, &format!("incidents/{id}"))).await?;
        let context = json!({"ID": id, "Deleted": true});
        results(
            format!("Incident {id} was deleted successfully."),
            Some("AzureSentinel.Incident"),
            &["ID"],
            context,
            json!({}),
        )
    }
}

// ---- comments, relations, entities, alerts -----------------------------------------------------

/// Gets the comments of an incident from Microsoft Sentinel.
#[derive(Args)]
pub struct ListComments {
    /// The incident ID.
    incident_id: String,
    /// The maximum number of comments to return (at most 20 per call, as the reference).
    #[arg(default = "50")]
    limit: u32,
    /// A link that specifies a starting point to use for subsequent calls (AzureSentinel.NextLink.URL).
    next_link: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListComments {
    const NAME: &'static str = "azure-sentinel-list-incident-comments";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-list-incident-comments incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742"];

    fn outputs() -> Vec<OutputSpec> {
        [COMMENT, NEXT_LINK].concat()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = self.incident_id;
        let reply = match &self.next_link {
            Some(link) => s.call(ctx, s.url(Method::GET, &next_link_url(s, link)?)).await?,
            None => {
                let top = DEFAULT_LIMIT.min(self.limit).to_string();
                s.call(ctx, s.req(Method::GET, &format!("incidents/{id}/comments")).query("$top", top))
                    .await?
            }
        };
        let comments: Vec<Value> = values(&reply, "value").iter().map(|c| convert::comment(c, &id)).collect();
        let md = table(
            &format!("Incident {id} Comments ({} results)", comments.len()),
            &Value::Array(comments.clone()),
            COMMENT_HEADERS,
            &[],
        )?;
        let mut outputs = Map::new();
        outputs.insert(
            format!("AzureSentinel.IncidentComment(val.ID === obj.ID && val.IncidentID === {id})"),
            Value::Array(comments),
        );
        add_next_link(&reply, &mut outputs);
        results(md, None, &[], Value::Object(outputs), reply)
    }
}

/// Adds a comment to an incident in Microsoft Sentinel.
#[derive(Args)]
pub struct AddComment {
    /// The incident ID.
    incident_id: String,
    /// The comment message.
    message: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for AddComment {
    const NAME: &'static str = "azure-sentinel-incident-add-comment";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-incident-add-comment incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742 message=\"Investigating\"",
    ];

    fn outputs() -> Vec<OutputSpec> {
        COMMENT.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = self.incident_id;
        // The reference names a new comment with a random 128-bit integer.
        let comment_id: u128 = rand::random();
        let req = s
            .req(Method::PUT, &format!("incidents/{id}/comments/{comment_id}"))
            .json(&json!({"properties": {"message": self.message}}));
        let raw = s.call(ctx, req).await?;
        let comment = convert::comment(&raw, &id);
        let md = table(&format!("Incident {id} new comment details"), &comment, COMMENT_HEADERS, &[])?;
        results(md, Some("AzureSentinel.IncidentComment"), &["ID", "IncidentID"], comment, raw)
    }
}

/// Deletes a comment from an incident in Microsoft Sentinel.
#[derive(Args)]
pub struct DeleteComment {
    /// The incident ID.
    incident_id: String,
    /// The comment ID.
    comment_id: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for DeleteComment {
    const NAME: &'static str = "azure-sentinel-incident-delete-comment";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-incident-delete-comment incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742 comment_id=1",
    ];

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (id, comment) = (self.incident_id, self.comment_id);
        let reply = s.send(ctx, s.req(Method::DELETE, &format!("incidents/{id}/comments/{comment}"))).await?;
        let text = if reply.status == 204 {
            format!("Comment {comment} does not exist.")
        } else {
            format!("Comment {comment} was deleted successfully.")
        };
        Results::readable(text).outcome()
    }
}

/// Gets a list of an incident's related resources from Microsoft Sentinel.
#[derive(Args)]
pub struct ListRelations {
    /// The incident ID.
    incident_id: String,
    /// The maximum number of related resources to return.
    #[arg(default = "50")]
    limit: u32,
    /// A link that specifies a starting point to use for subsequent calls (AzureSentinel.NextLink.URL).
    next_link: Option<String>,
    /// A comma-separated list of entity kinds to filter by.
    #[arg(array, options = ENTITY_KINDS)]
    entity_kinds: Option<String>,
    /// Filter results using OData syntax.
    filter: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListRelations {
    const NAME: &'static str = "azure-sentinel-list-incident-relations";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-list-incident-relations incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742"];

    fn outputs() -> Vec<OutputSpec> {
        [RELATION, NEXT_LINK].concat()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = self.incident_id;
        let reply = match &self.next_link {
            Some(link) => s.call(ctx, s.url(Method::GET, &next_link_url(s, link)?)).await?,
            None => {
                let mut filter = self.filter.clone().unwrap_or_default();
                if let Some(kinds) = &self.entity_kinds {
                    if !filter.is_empty() {
                        filter.push_str(" and ");
                    }
                    filter.push_str(&format!("search.in(properties/relatedResourceKind, '{kinds}', ',')"));
                }
                let mut req = s
                    .req(Method::GET, &format!("incidents/{id}/relations"))
                    .query("$top", 50.min(self.limit).to_string());
                if !filter.is_empty() {
                    req = req.query("$filter", filter);
                }
                s.call(ctx, req).await?
            }
        };
        let relations: Vec<Value> =
            values(&reply, "value").iter().map(|r| convert::relation(r, &id)).collect();
        let opts = TableOptions::default().header_transform(HeaderTransform::PascalToSpace).remove_null(true);
        let md = table_to_markdown(
            &format!("Incident {id} Relations ({} results)", relations.len()),
            &Value::Array(relations.clone()),
            &opts,
        )?;
        let mut outputs = Map::new();
        outputs.insert(
            format!("AzureSentinel.IncidentRelatedResource(val.ID === obj.ID && val.IncidentID == {id})"),
            Value::Array(relations),
        );
        add_next_link(&reply, &mut outputs);
        results(md, None, &[], Value::Object(outputs), reply)
    }
}

/// The reference's `generic_list_incident_items`: `POST incidents/{id}/{kind}`.
async fn incident_items(
    s: &Sentinel,
    ctx: &mut CommandContext,
    id: &str,
    kind: &str,
    key: &str,
    prefix: &str,
    convert: fn(&Value, &str) -> Value,
) -> Result<Outcome, Error> {
    let reply = s.call(ctx, s.req(Method::POST, &format!("incidents/{id}/{kind}"))).await?;
    let items: Vec<Value> = values(&reply, key).iter().map(|i| convert(i, id)).collect();
    let title = format!("Incident {id} {}{} ({} results)", kind[..1].to_uppercase(), &kind[1..], items.len());
    let md = table(&title, &Value::Array(items.clone()), &["ID", "Kind", "IncidentId"], &[])?;
    results(md, Some(prefix), &["ID", "IncidentId"], Value::Array(items), reply)
}

/// Gets a list of an incident's entities from Microsoft Sentinel.
#[derive(Args)]
pub struct ListEntities {
    /// The incident ID.
    incident_id: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListEntities {
    const NAME: &'static str = "azure-sentinel-list-incident-entities";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-list-incident-entities incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742"];

    fn outputs() -> Vec<OutputSpec> {
        ENTITY.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        incident_items(
            s,
            ctx,
            &self.incident_id,
            "entities",
            "entities",
            "AzureSentinel.IncidentEntity",
            convert::entity,
        )
        .await
    }
}

/// Gets a list of an incident's alerts from Microsoft Sentinel.
#[derive(Args)]
pub struct ListAlerts {
    /// The incident ID.
    incident_id: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListAlerts {
    const NAME: &'static str = "azure-sentinel-list-incident-alerts";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-list-incident-alerts incident_id=8a44b7bb-c8ae-4941-9fa0-3aecc8ef1742"];

    fn outputs() -> Vec<OutputSpec> {
        ALERT.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        incident_items(
            s,
            ctx,
            &self.incident_id,
            "alerts",
            "value",
            "AzureSentinel.IncidentAlert",
            convert::alert,
        )
        .await
    }
}

// ---- watchlists --------------------------------------------------------------------------------

fn watchlist_results(title: &str, watchlists: Value, raw: Value) -> Result<Outcome, Error> {
    let md = table(title, &watchlists, &["Name", "ID", "Description"], &[])?;
    results(md, Some("AzureSentinel.Watchlist"), &["ID"], watchlists, raw)
}

/// Gets a list of watchlists from Microsoft Sentinel.
#[derive(Args)]
pub struct ListWatchlists {
    /// The alias of a specific watchlist to get.
    watchlist_alias: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListWatchlists {
    const NAME: &'static str = "azure-sentinel-list-watchlists";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-list-watchlists"];

    fn outputs() -> Vec<OutputSpec> {
        [WATCHLIST, NEXT_LINK].concat()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let path = match &self.watchlist_alias {
            Some(a) => format!("watchlists/{a}"),
            None => "watchlists".to_owned(),
        };
        let raw = s.call(ctx, s.req(Method::GET, &path)).await?;
        let list = if self.watchlist_alias.is_some() { vec![raw.clone()] } else { values(&raw, "value") };
        let watchlists = Value::Array(list.iter().map(convert::watchlist).collect());
        watchlist_results("Watchlists results", watchlists, raw)
    }
}

/// Deletes a watchlist from Microsoft Sentinel.
#[derive(Args)]
pub struct DeleteWatchlist {
    /// The alias of the watchlist to delete.
    watchlist_alias: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for DeleteWatchlist {
    const NAME: &'static str = "azure-sentinel-delete-watchlist";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-delete-watchlist watchlist_alias=old_list"];

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let alias = self.watchlist_alias;
        s.send(ctx, s.req(Method::DELETE, &format!("watchlists/{alias}"))).await?;
        Results::readable(format!("Watchlist {alias} was deleted successfully.")).outcome()
    }
}

/// Where the files that `file_entry_id` names are read from: `SOAR_FILES_DIR`, else the working
/// directory (the engine's file store, as the reference's `demisto.getFilePath`).
pub const FILES_DIR_ENV: &str = "SOAR_FILES_DIR";

/// Reads the file an entry ID names from the files directory (a plain file name only).
pub fn read_entry_file(entry_id: &str) -> Result<String, Error> {
    let bad = |reason: String| Error::InvalidArg { name: "file_entry_id".to_owned(), reason };
    if entry_id.is_empty() || entry_id.contains(['/', '\\']) || entry_id.starts_with('.') {
        return Err(bad(format!(
            "'{entry_id}' is not a file entry ID; give the entry ID of a CSV file in the War Room."
        )));
    }
    let dir = std::env::var_os(FILES_DIR_ENV).map(std::path::PathBuf::from).unwrap_or_else(|| ".".into());
    let bytes = std::fs::read(dir.join(entry_id))
        .map_err(|e| bad(format!("the file of entry '{entry_id}' could not be read ({e}); give the entry ID of a CSV file in the War Room.")))?;
    String::from_utf8(bytes)
        .map_err(|_| bad(format!("the file of entry '{entry_id}' is not UTF-8 text; give a CSV file.")))
}

/// Creates a new watchlist or updates an existing one.
#[derive(Args)]
pub struct WatchlistCreateUpdate {
    /// The alias of the new watchlist or the watchlist to update.
    watchlist_alias: String,
    /// The display name of the watchlist.
    watchlist_display_name: String,
    /// A description of the watchlist.
    description: Option<String>,
    /// The provider of the watchlist.
    #[arg(default = "XSOAR")]
    provider: String,
    /// The labels of the watchlist, comma-separated.
    labels: Option<String>,
    /// The number of lines in the CSV content to skip before the header.
    #[arg(default = "0")]
    lines_to_skip: i64,
    /// The entry ID of the CSV file with the watchlist items.
    file_entry_id: String,
    /// The search key used to optimize the query performance when using watchlists for joins with other data.
    items_search_key: String,
    /// The content type of the raw content.
    #[arg(default = "Text/Csv")]
    content_type: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for WatchlistCreateUpdate {
    const NAME: &'static str = "azure-sentinel-watchlist-create-update";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-watchlist-create-update watchlist_alias=test_4 watchlist_display_name=test4 file_entry_id=1234 items_search_key=IP",
    ];

    fn outputs() -> Vec<OutputSpec> {
        WATCHLIST.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let raw_content = read_entry_file(&self.file_entry_id)?;
        let alias = self.watchlist_alias;
        let body = json!({"properties": {
            "watchlistAlias": alias,
            "displayName": self.watchlist_display_name,
            "description": self.description.unwrap_or_default(),
            "provider": self.provider,
            "source": "Local file",
            "labels": split_list(self.labels.as_deref()),
            "numberOfLinesToSkip": self.lines_to_skip,
            "rawContent": raw_content,
            "itemsSearchKey": self.items_search_key,
            "contentType": self.content_type,
        }});
        let raw = s.call(ctx, s.req(Method::PUT, &format!("watchlists/{alias}")).json(&body)).await?;
        watchlist_results("Create watchlist results", convert::watchlist(&raw), raw)
    }
}

fn item_results(title: &str, items: Value, raw: Value) -> Result<Outcome, Error> {
    let md = table(title, &items, &["ID", "ItemsKeyValue"], &[])?;
    results(md, Some("AzureSentinel.WatchlistItem"), &["ID"], items, raw)
}

/// Gets a single watchlist item or the list of a watchlist's items.
#[derive(Args)]
pub struct ListWatchlistItems {
    /// The alias of the watchlist.
    watchlist_alias: String,
    /// The ID of a single watchlist item.
    watchlist_item_id: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListWatchlistItems {
    const NAME: &'static str = "azure-sentinel-list-watchlist-items";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-list-watchlist-items watchlist_alias=test_1"];

    fn outputs() -> Vec<OutputSpec> {
        WATCHLIST_ITEM.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let alias = self.watchlist_alias;
        let mut path = format!("watchlists/{alias}/watchlistItems");
        if let Some(item) = &self.watchlist_item_id {
            path.push_str(&format!("/{item}"));
        }
        let raw = s.call(ctx, s.req(Method::GET, &path)).await?;
        let list = if self.watchlist_item_id.is_some() { vec![raw.clone()] } else { values(&raw, "value") };
        let items = Value::Array(list.iter().map(|i| convert::watchlist_item(i, &alias)).collect());
        item_results("Watchlist items results", items, raw)
    }
}

/// Deletes a watchlist item.
#[derive(Args)]
pub struct DeleteWatchlistItem {
    /// The alias of the watchlist.
    watchlist_alias: String,
    /// The ID of the item to delete.
    watchlist_item_id: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for DeleteWatchlistItem {
    const NAME: &'static str = "azure-sentinel-delete-watchlist-item";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-delete-watchlist-item watchlist_alias=test_1 watchlist_item_id=28bd8f5d-0000-4000-8000-000000000001",
    ];

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let (alias, item) = (self.watchlist_alias, self.watchlist_item_id);
        s.send(ctx, s.req(Method::DELETE, &format!("watchlists/{alias}/watchlistItems/{item}"))).await?;
        Results::readable(format!("Watchlist item {item} was deleted successfully.")).outcome()
    }
}

/// Creates a new watchlist item or updates an existing one.
#[derive(Args)]
pub struct WatchlistItemCreateUpdate {
    /// The alias of the watchlist.
    watchlist_alias: String,
    /// The ID of the item to update; empty creates a new item.
    watchlist_item_id: Option<String>,
    /// The item's key-value pairs, as a JSON object.
    item_key_value: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for WatchlistItemCreateUpdate {
    const NAME: &'static str = "azure-sentinel-create-update-watchlist-item";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-create-update-watchlist-item watchlist_alias=test_1 item_key_value=`{\"IP\": \"1.1.1.1\"}`",
    ];

    fn outputs() -> Vec<OutputSpec> {
        WATCHLIST_ITEM.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let kv: Value = serde_json::from_str(&self.item_key_value).map_err(|e| Error::InvalidArg {
            name: "item_key_value".to_owned(),
            reason: format!("not valid JSON ({e}); give a JSON object such as {{\"IP\": \"1.1.1.1\"}}."),
        })?;
        let alias = self.watchlist_alias;
        let item_id = self.watchlist_item_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let req = s
            .req(Method::PUT, &format!("watchlists/{alias}/watchlistItems/{item_id}"))
            .json(&json!({"properties": {"itemsKeyValue": kv}}));
        let raw = s.call(ctx, req).await?;
        item_results("Create watchlist item results", convert::watchlist_item(&raw, &alias), raw)
    }
}

// ---- threat intelligence -----------------------------------------------------------------------

const TI: &str = "threatIntelligence/main";

fn indicators_results(
    title: String,
    indicators: Vec<Value>,
    reply: &Value,
    next: bool,
) -> Result<Outcome, Error> {
    let md = table(&title, &Value::Array(indicators.clone()), INDICATOR_HEADERS, &[])?;
    if next {
        let mut outputs = Map::new();
        outputs.insert("AzureSentinel.ThreatIndicator".into(), Value::Array(indicators));
        add_next_link(reply, &mut outputs);
        results(md, None, &["ID"], Value::Object(outputs), reply.clone())
    } else {
        results(md, Some("AzureSentinel.ThreatIndicator"), &["ID"], Value::Array(indicators), reply.clone())
    }
}

/// Returns a list of threat indicators.
#[derive(Args)]
pub struct ListIndicators {
    /// The name of a specific indicator.
    indicator_name: Option<String>,
    /// The maximum number of indicators to return.
    #[arg(default = "50")]
    limit: u32,
    /// A link that specifies a starting point to use for subsequent calls (AzureSentinel.NextLink.URL).
    next_link: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListIndicators {
    const NAME: &'static str = "azure-sentinel-threat-indicator-list";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-threat-indicator-list limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        [INDICATOR, NEXT_LINK].concat()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let reply = match &self.next_link {
            Some(link) => s.call(ctx, s.url(Method::GET, &next_link_url(s, link)?)).await?,
            None => {
                let mut path = format!("{TI}/indicators");
                if let Some(n) = &self.indicator_name {
                    path.push_str(&format!("/{n}"));
                }
                s.call(ctx, s.req(Method::GET, &path).query("$top", self.limit.to_string())).await?
            }
        };
        // The reference reads only `value`, so a lookup by name showed nothing; here the one
        // indicator is the result.
        let list = if self.indicator_name.is_some() && self.next_link.is_none() {
            vec![reply.clone()]
        } else {
            values(&reply, "value")
        };
        let indicators: Vec<Value> = list.iter().map(convert::indicator).collect();
        indicators_results(
            format!("Threat Indicators ({} results)", indicators.len()),
            indicators,
            &reply,
            true,
        )
    }
}

/// Returns a list of threat indicators with specific entities.
#[derive(Args)]
pub struct QueryIndicators {
    /// The maximum number of indicators to return.
    #[arg(default = "50")]
    limit: u32,
    /// A link that specifies a starting point to use for subsequent calls (AzureSentinel.NextLink.URL).
    next_link: Option<String>,
    /// The minimum confidence (0-100).
    min_confidence: Option<u32>,
    /// The maximum confidence (0-100).
    max_confidence: Option<u32>,
    /// The minimum valid-until date.
    min_valid_until: Option<String>,
    /// The maximum valid-until date.
    max_valid_until: Option<String>,
    /// Whether to include disabled indicators.
    #[arg(options = BOOL, default = "false")]
    include_disabled: String,
    /// The sources of the indicators, comma-separated.
    sources: Option<String>,
    /// The indicator types, comma-separated.
    #[arg(array, options = INDICATOR_TYPES)]
    indicator_types: Option<String>,
    /// The threat types, comma-separated.
    #[arg(array, options = THREAT_TYPES)]
    threat_types: Option<String>,
    /// Keywords to search, comma-separated.
    keywords: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

impl QueryIndicators {
    /// The reference's `build_query_filter`.
    pub fn body(&self) -> Value {
        let pattern_types: Vec<String> = split_list(self.indicator_types.as_deref())
            .into_iter()
            .map(|t| match t.as_str() {
                "ipv4" | "ipv6" => format!("{t}-address"),
                "domain" => format!("{t}-name"),
                _ => t,
            })
            .collect();
        let mut m = Map::new();
        m.insert("minConfidence".into(), self.min_confidence.map_or(Value::Null, |n| json!(n)));
        m.insert("maxConfidence".into(), self.max_confidence.map_or(Value::Null, |n| json!(n)));
        m.insert(
            "minValidUntil".into(),
            format_date(self.min_valid_until.as_ref().map(|s| json!(s)).as_ref()),
        );
        m.insert(
            "maxValidUntil".into(),
            format_date(self.max_valid_until.as_ref().map(|s| json!(s)).as_ref()),
        );
        m.insert("sources".into(), json!(split_list(self.sources.as_deref())));
        m.insert("keywords".into(), json!(split_list(self.keywords.as_deref()).join(" ")));
        m.insert("threatTypes".into(), json!(split_list(self.threat_types.as_deref())));
        m.insert("patternTypes".into(), json!(pattern_types));
        m.insert("includeDisabled".into(), json!(self.include_disabled == "true"));
        remove_empty(&mut m);
        Value::Object(m)
    }
}

#[async_trait]
impl Handler<Sentinel> for QueryIndicators {
    const NAME: &'static str = "azure-sentinel-threat-indicator-query";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-threat-indicator-query max_confidence=80"];

    fn outputs() -> Vec<OutputSpec> {
        [INDICATOR, NEXT_LINK].concat()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = self.body();
        let reply = match &self.next_link {
            Some(link) => s.call(ctx, s.url(Method::POST, &next_link_url(s, link)?).json(&body)).await?,
            None => {
                let req = s
                    .req(Method::POST, &format!("{TI}/queryIndicators"))
                    .query("$top", self.limit.to_string());
                s.call(ctx, req.json(&body)).await?
            }
        };
        let indicators: Vec<Value> = values(&reply, "value").iter().map(convert::indicator).collect();
        indicators_results(
            format!("Threat Indicators ({} results)", indicators.len()),
            indicators,
            &reply,
            true,
        )
    }
}

/// The fields an indicator create or update is built from.
#[derive(Args)]
pub struct IndicatorFields {
    /// The value of the indicator.
    value: String,
    /// The display name of the indicator.
    display_name: String,
    /// The description of the indicator.
    description: Option<String>,
    /// The type of the indicator.
    #[arg(options = INDICATOR_TYPES)]
    indicator_type: String,
    /// The hash type of a file indicator.
    #[arg(options = ["MD5", "SHA-1", "SHA-256", "SHA-512"])]
    hash_type: Option<String>,
    /// The confidence of the indicator (0-100).
    confidence: Option<u32>,
    /// The threat types of the indicator, comma-separated.
    #[arg(array, options = THREAT_TYPES)]
    threat_types: Option<String>,
    /// The kill chain phases of the indicator, comma-separated.
    #[arg(array)]
    kill_chains: Option<String>,
    /// The tags of the indicator, comma-separated.
    tags: Option<String>,
    /// The date from which the indicator is valid.
    valid_from: Option<String>,
    /// The date until which the indicator is valid.
    valid_until: Option<String>,
    /// The creator of the indicator.
    created_by: Option<String>,
}

impl IndicatorFields {
    /// The reference's `build_threat_indicator_data`.
    pub fn data(&self, revoked: Option<&str>, source: Value) -> Result<Map<String, Value>, Error> {
        let t = self.indicator_type.as_str();
        let pattern_type = match t {
            "ipv4" => "ipv4-addr",
            "ipv6" => "ipv6-addr",
            "domain" => "domain-name",
            other => other,
        };
        let date = |name: &str, v: &Option<String>| -> Result<Value, Error> {
            match v {
                None => Ok(json!("")),
                Some(text) => match convert::parse_date(text) {
                    Some(d) => Ok(json!(d.format(convert::DATE_FORMAT).to_string())),
                    None => Err(Error::InvalidArg {
                        name: name.to_owned(),
                        reason: format!(
                            "'{text}' is not a date; give an ISO 8601 date such as 2024-01-31T00:00:00Z."
                        ),
                    }),
                },
            }
        };
        let mut m = Map::new();
        m.insert("displayName".into(), json!(self.display_name));
        m.insert("description".into(), opt(&self.description));
        m.insert("revoked".into(), revoked.map_or(json!(""), |r| json!(r)));
        m.insert("confidence".into(), self.confidence.map_or(Value::Null, |c| json!(c)));
        m.insert("threatTypes".into(), json!(split_list(self.threat_types.as_deref())));
        m.insert("source".into(), source);
        m.insert("threatIntelligenceTags".into(), json!(split_list(self.tags.as_deref())));
        m.insert("validFrom".into(), date("valid_from", &self.valid_from)?);
        m.insert("validUntil".into(), date("valid_until", &self.valid_until)?);
        m.insert("createdByRef".into(), json!(self.created_by.clone().unwrap_or_default()));
        m.insert("patternType".into(), json!(pattern_type));
        if pattern_type == "file" {
            let Some(hash) = &self.hash_type else {
                return Err(Error::InvalidArg {
                    name: "hash_type".to_owned(),
                    reason:
                        "a file indicator needs its hash type; give hash_type=MD5, SHA-1, SHA-256 or SHA-512."
                            .to_owned(),
                });
            };
            m.insert("hashType".into(), json!(hash));
            m.insert("pattern".into(), json!(format!("[file:hashes.'{hash}' = '{}']", self.value)));
        } else {
            m.insert("pattern".into(), json!(format!("[{pattern_type}:value = '{}']", self.value)));
        }
        let phases: Vec<Value> = split_list(self.kill_chains.as_deref())
            .iter()
            .map(|p| json!({"killChainName": p, "phaseName": p}))
            .collect();
        m.insert("killChainPhases".into(), Value::Array(phases));
        remove_empty(&mut m);
        Ok(m)
    }
}

/// Creates a new threat indicator.
#[derive(Args)]
pub struct CreateIndicator {
    #[arg(flatten)]
    fields: IndicatorFields,
    /// Whether the indicator is revoked.
    #[arg(options = BOOL, default = "false")]
    revoked: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for CreateIndicator {
    const NAME: &'static str = "azure-sentinel-threat-indicator-create";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-threat-indicator-create display_name=test value=1.1.1.1 indicator_type=ipv4 threat_types=malicious-activity",
    ];

    fn outputs() -> Vec<OutputSpec> {
        INDICATOR.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let data = self.fields.data(Some(&self.revoked), json!(DEFAULT_SOURCE))?;
        let body = json!({"kind": "indicator", "properties": data});
        let raw = s.call(ctx, s.req(Method::POST, &format!("{TI}/createIndicator")).json(&body)).await?;
        indicators_results(
            "New threat Indicator was created".into(),
            vec![convert::indicator(&raw)],
            &raw,
            false,
        )
    }
}

/// Updates an existing threat indicator.
#[derive(Args)]
pub struct UpdateIndicator {
    /// The name of the indicator.
    indicator_name: String,
    #[arg(flatten)]
    fields: IndicatorFields,
    /// Whether the indicator is revoked.
    #[arg(options = BOOL)]
    revoked: Option<String>,
    #[arg(flatten)]
    _scope: Scope,
}

/// The reference's `extract_original_data_from_indicator`.
fn original_indicator_data(p: &Value) -> Map<String, Value> {
    let get = |k: &str| p.get(k).cloned().unwrap_or(Value::Null);
    let list = |k: &str| match p.get(k) {
        Some(Value::Array(a)) => Value::Array(a.clone()),
        Some(Value::String(s)) => json!(split_list(Some(s))),
        _ => json!([]),
    };
    let mut m = Map::new();
    m.insert("description".into(), p.get("description").cloned().unwrap_or(json!("")));
    m.insert("revoked".into(), p.get("revoked").cloned().unwrap_or(json!("")));
    m.insert("confidence".into(), get("confidence"));
    m.insert("threatTypes".into(), list("threatTypes"));
    m.insert("killChainPhases".into(), list("killChainPhases"));
    m.insert("threatIntelligenceTags".into(), list("threatIntelligenceTags"));
    m.insert("validFrom".into(), p.get("validFrom").cloned().unwrap_or(json!("")));
    m.insert("validUntil".into(), p.get("validUntil").cloned().unwrap_or(json!("")));
    m.insert("createdByRef".into(), p.get("createdByRef").cloned().unwrap_or(json!("")));
    m.insert("created".into(), p.get("created").cloned().unwrap_or(json!("")));
    m.insert("externalId".into(), get("externalId"));
    m.insert("displayName".into(), get("displayName"));
    m.insert("source".into(), p.get("source").cloned().unwrap_or(json!(DEFAULT_SOURCE)));
    remove_empty(&mut m);
    m
}

#[async_trait]
impl Handler<Sentinel> for UpdateIndicator {
    const NAME: &'static str = "azure-sentinel-threat-indicator-update";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-threat-indicator-update indicator_name=a31f2257-1af5-5eb9-bc82-acb8cc10becd display_name=new value=1.1.1.1 indicator_type=ipv4",
    ];

    fn outputs() -> Vec<OutputSpec> {
        INDICATOR.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let name = self.indicator_name;
        let path = format!("{TI}/indicators/{name}");
        let original = s.call(ctx, s.req(Method::GET, &path)).await?;
        let mut data = original_indicator_data(original.get("properties").unwrap_or(&Value::Null));
        // The source never changes on an update.
        let source = data.get("source").cloned().unwrap_or(json!(DEFAULT_SOURCE));
        data.extend(self.fields.data(self.revoked.as_deref(), source)?);
        let raw = s
            .call(ctx, s.req(Method::PUT, &path).json(&json!({"kind": "indicator", "properties": data})))
            .await?;
        indicators_results(
            format!("Threat Indicator {name} was updated"),
            vec![convert::indicator(&raw)],
            &raw,
            false,
        )
    }
}

/// Deletes threat indicators.
#[derive(Args)]
pub struct DeleteIndicators {
    /// The names of the indicators to delete, comma-separated.
    #[arg(array)]
    indicator_names: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for DeleteIndicators {
    const NAME: &'static str = "azure-sentinel-threat-indicator-delete";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-sentinel-threat-indicator-delete indicator_names=a31f2257-1af5-5eb9-bc82-acb8cc10becd"];

    fn outputs() -> Vec<OutputSpec> {
        INDICATOR_DELETED.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let names = split_list(Some(&self.indicator_names));
        let mut outputs = Vec::new();
        for name in &names {
            s.send(ctx, s.req(Method::DELETE, &format!("{TI}/indicators/{name}"))).await?;
            outputs.push(json!({"Name": name, "Deleted": true}));
        }
        let md = format!("Threat Intelligence Indicators {} were deleted successfully", names.join(", "));
        results(md, Some("AzureSentinel.ThreatIndicator"), &["Name"], Value::Array(outputs), json!({}))
    }
}

/// Appends tags to a threat indicator.
#[derive(Args)]
pub struct AppendTags {
    /// The name of the indicator.
    indicator_name: String,
    /// The tags to add, comma-separated.
    #[arg(array)]
    tags: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for AppendTags {
    const NAME: &'static str = "azure-sentinel-threat-indicator-tags-append";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-threat-indicator-tags-append indicator_name=a31f2257-1af5-5eb9-bc82-acb8cc10becd tags=new",
    ];

    fn outputs() -> Vec<OutputSpec> {
        INDICATOR.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let name = self.indicator_name;
        let body = json!({"threatIntelligenceTags": split_list(Some(&self.tags))});
        let raw = s
            .call(ctx, s.req(Method::POST, &format!("{TI}/indicators/{name}/appendTags")).json(&body))
            .await?;
        let ind = Value::Array(vec![convert::indicator(&raw)]);
        results(
            format!("Tags were appended to {name} Threat Indicator."),
            Some("AzureSentinel.ThreatIndicator"),
            &["ID"],
            ind,
            raw,
        )
    }
}

/// Replaces the tags of a threat indicator.
#[derive(Args)]
pub struct ReplaceTags {
    /// The name of the indicator.
    indicator_name: String,
    /// The new tags, comma-separated.
    #[arg(array)]
    tags: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ReplaceTags {
    const NAME: &'static str = "azure-sentinel-threat-indicator-tags-replace";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-threat-indicator-tags-replace indicator_name=a31f2257-1af5-5eb9-bc82-acb8cc10becd tags=only",
    ];

    fn outputs() -> Vec<OutputSpec> {
        INDICATOR.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let name = self.indicator_name;
        let body = json!({"properties": {"threatIntelligenceTags": split_list(Some(&self.tags))}});
        let raw = s
            .call(ctx, s.req(Method::POST, &format!("{TI}/indicators/{name}/replaceTags")).json(&body))
            .await?;
        let ind = Value::Array(vec![convert::indicator(&raw)]);
        results(
            format!("Tags were replaced to {name} Threat Indicator."),
            Some("AzureSentinel.ThreatIndicator"),
            &["ID"],
            ind,
            raw,
        )
    }
}

// ---- alert rules -------------------------------------------------------------------------------

/// `GET {path}` following `nextLink` until `limit` objects (one object when `single`).
async fn collect_rules(
    s: &Sentinel,
    ctx: &mut CommandContext,
    path: &str,
    single: bool,
    limit: usize,
) -> Result<Vec<Value>, Error> {
    let mut out: Vec<Value> = Vec::new();
    let mut req = s.req(Method::GET, path);
    loop {
        let reply = s.call(ctx, req).await?;
        if single {
            out.push(reply.clone());
        } else {
            out.extend(values(&reply, "value"));
        }
        match reply.get("nextLink").and_then(Value::as_str) {
            Some(link) if out.len() < limit && !single => req = s.url(Method::GET, link),
            _ => break,
        }
    }
    out.truncate(limit);
    Ok(out)
}

fn count_title(base: &str, n: usize) -> String {
    if n > 1 { format!("{base} ({n} results)") } else { base.to_owned() }
}

fn prop(v: &Value, k: &str) -> Value {
    v.get("properties").and_then(|p| p.get(k)).cloned().unwrap_or(Value::Null)
}

/// Gets a list of all alert rules, or a specific one.
#[derive(Args)]
pub struct ListAlertRules {
    /// The ID of a specific alert rule.
    rule_id: Option<String>,
    /// The maximum number of rules to return.
    #[arg(default = "50")]
    limit: u32,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListAlertRules {
    const NAME: &'static str = "azure-sentinel-list-alert-rule";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-list-alert-rule limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        ALERT_RULE.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let path = match &self.rule_id {
            Some(id) => format!("alertRules/{id}"),
            None => "alertRules".to_owned(),
        };
        let rules = collect_rules(s, ctx, &path, self.rule_id.is_some(), self.limit as usize).await?;
        let rows: Vec<Value> = rules
            .iter()
            .map(|r| {
                json!({"ID": r.get("name"), "Kind": r.get("kind"), "Severity": prop(r, "severity"),
                       "Display Name": prop(r, "displayName"), "Description": prop(r, "description"), "Enabled": prop(r, "enabled")})
            })
            .collect();
        let md = plain_table(&count_title("Azure Sentinel Alert Rules", rules.len()), &Value::Array(rows))?;
        results(
            md,
            Some("AzureSentinel.AlertRule"),
            &["name"],
            Value::Array(rules.clone()),
            Value::Array(rules),
        )
    }
}

/// Gets a list of all alert rule templates, or a specific one.
#[derive(Args)]
pub struct ListAlertRuleTemplates {
    /// The ID of a specific template.
    template_id: Option<String>,
    /// The maximum number of templates to return.
    #[arg(default = "50")]
    limit: u32,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for ListAlertRuleTemplates {
    const NAME: &'static str = "azure-sentinel-list-alert-rule-template";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-list-alert-rule-template limit=2"];

    fn outputs() -> Vec<OutputSpec> {
        ALERT_RULE_TEMPLATE.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let path = match &self.template_id {
            Some(id) => format!("alertRuleTemplates/{id}"),
            None => "alertRuleTemplates".to_owned(),
        };
        let rules = collect_rules(s, ctx, &path, self.template_id.is_some(), self.limit as usize).await?;
        let rows: Vec<Value> = rules
            .iter()
            .map(|r| {
                json!({"ID": r.get("name"), "Kind": r.get("kind"), "Severity": prop(r, "severity"),
                       "Display Name": prop(r, "displayName"), "Description": prop(r, "description"), "Status": prop(r, "status"),
                       "Created Date UTC": prop(r, "createdDateUTC"), "Last Updated Date UTC": prop(r, "lastUpdatedDateUTC"),
                       "Alert Rules Created By Template Count": prop(r, "alertRulesCreatedByTemplateCount")})
            })
            .collect();
        let md = plain_table(
            &count_title("Azure Sentinel Alert Rule Template", rules.len()),
            &Value::Array(rows),
        )?;
        results(
            md,
            Some("AzureSentinel.AlertRuleTemplate"),
            &["name"],
            Value::Array(rules.clone()),
            Value::Array(rules),
        )
    }
}

/// Deletes an alert rule.
#[derive(Args)]
pub struct DeleteAlertRule {
    /// The ID of the alert rule.
    rule_id: String,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for DeleteAlertRule {
    const NAME: &'static str = "azure-sentinel-delete-alert-rule";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-delete-alert-rule rule_id=rule2"];

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let id = self.rule_id;
        let reply = s.send(ctx, s.req(Method::DELETE, &format!("alertRules/{id}"))).await?;
        let text = if reply.status == 204 {
            format!("Alert rule {id} does not exist.")
        } else {
            format!("Alert rule {id} was deleted successfully.")
        };
        Results::readable(text).outcome()
    }
}

/// The arguments of an alert rule create or update.
#[derive(Args)]
pub struct RuleArgs {
    /// The name of the alert rule.
    rule_name: String,
    /// The kind of the alert rule.
    #[arg(options = ["fusion", "microsoft_security_incident_creation", "scheduled"])]
    kind: Option<String>,
    /// The name of the template the rule is based on (fusion rules).
    template_name: Option<String>,
    /// Whether the rule is enabled.
    #[arg(options = ["yes", "no"])]
    enabled: Option<String>,
    /// The etag of the rule (updates).
    etag: Option<String>,
    /// The display name of the rule.
    #[arg(name = "displayName")]
    display_name: Option<String>,
    /// The product whose alerts create incidents (microsoft_security_incident_creation rules).
    #[arg(options = ["azure_active_directory_identity_protection", "azure_advanced_threat_protection", "azure_security_center", "azure_security_center_for_iot", "microsoft_cloud_app_security"])]
    product_filter: Option<String>,
    /// The description of the rule.
    description: Option<String>,
    /// Alert display names to exclude, comma-separated.
    name_exclude_filter: Option<String>,
    /// Alert display names to include, comma-separated.
    name_include_filter: Option<String>,
    /// Alert severities to include, comma-separated.
    severity_filter: Option<String>,
    /// The query of a scheduled rule.
    query: Option<String>,
    /// How often the query runs (ISO 8601 duration, e.g. PT5H).
    query_frequency: Option<String>,
    /// The time window the query looks at (ISO 8601 duration).
    query_period: Option<String>,
    /// The severity of the alerts the rule creates.
    #[arg(options = ["informational", "low", "medium", "high"])]
    severity: Option<String>,
    /// How long to stop running the query after an alert (ISO 8601 duration).
    suppression_duration: Option<String>,
    /// Whether suppression is enabled.
    #[arg(options = ["yes", "no"])]
    suppression_enabled: Option<String>,
    /// The operation against the threshold.
    #[arg(options = ["equal", "greater_than", "less_than", "not_equal"])]
    trigger_operator: Option<String>,
    /// The threshold that triggers the rule.
    trigger_threshold: Option<String>,
    /// The tactics of the rule, comma-separated.
    tactics: Option<String>,
    /// The techniques of the rule, comma-separated.
    techniques: Option<String>,
    /// The whole rule as JSON, sent as it is (overrides the other arguments).
    rule_json: Option<String>,
}

fn yes_no(name: &str, v: &Option<String>) -> Result<Value, Error> {
    match v.as_deref() {
        None => Ok(Value::Null),
        Some("yes" | "true") => Ok(json!(true)),
        Some("no" | "false") => Ok(json!(false)),
        Some(other) => {
            Err(Error::InvalidArg { name: name.to_owned(), reason: format!("'{other}' is not yes or no.") })
        }
    }
}

impl RuleArgs {
    /// The reference's `validate_required_arguments_for_alert_rule` then `create_data_for_alert_rule`.
    pub fn body(&self) -> Result<Value, Error> {
        if let Some(text) = &self.rule_json {
            return serde_json::from_str(text).map_err(|e| Error::InvalidArg {
                name: "rule_json".to_owned(),
                reason: format!("not valid JSON ({e}); give the alert rule as a JSON object."),
            });
        }
        let Some(kind) = self.kind.as_deref() else {
            return Err(Error::Command("The \"kind\" argument is required for alert rule.".to_owned()));
        };
        let given = |name: &str| -> bool {
            match name {
                "rule_name" => !self.rule_name.is_empty(),
                "template_name" => self.template_name.is_some(),
                "enabled" => self.enabled.is_some(),
                "displayName" => self.display_name.is_some(),
                "product_filter" => self.product_filter.is_some(),
                "query" => self.query.is_some(),
                "query_frequency" => self.query_frequency.is_some(),
                "query_period" => self.query_period.is_some(),
                "severity" => self.severity.is_some(),
                "suppression_duration" => self.suppression_duration.is_some(),
                "suppression_enabled" => self.suppression_enabled.is_some(),
                "trigger_operator" => self.trigger_operator.is_some(),
                "trigger_threshold" => self.trigger_threshold.is_some(),
                _ => true,
            }
        };
        let required: &[&str] = match kind {
            "fusion" => &["rule_name", "template_name", "enabled"],
            "microsoft_security_incident_creation" => {
                &["rule_name", "displayName", "enabled", "product_filter"]
            }
            _ => &[
                "rule_name",
                "displayName",
                "enabled",
                "query",
                "query_frequency",
                "query_period",
                "severity",
                "suppression_duration",
                "suppression_enabled",
                "trigger_operator",
                "trigger_threshold",
            ],
        };
        if let Some(missing) = required.iter().find(|r| !given(r)) {
            return Err(Error::Command(format!("\"{missing}\" is required for \"{kind}\" alert rule.")));
        }
        let mut p = Map::new();
        p.insert("alertRuleTemplateName".into(), opt(&self.template_name));
        p.insert("enabled".into(), yes_no("enabled", &self.enabled)?);
        p.insert("displayName".into(), opt(&self.display_name));
        p.insert(
            "productFilter".into(),
            json!(string_to_table_header(self.product_filter.as_deref().unwrap_or(""))),
        );
        p.insert("description".into(), opt(&self.description));
        p.insert("displayNamesExcludeFilter".into(), opt(&self.name_exclude_filter));
        p.insert("displayNamesFilter".into(), opt(&self.name_include_filter));
        p.insert("severitiesFilter".into(), opt(&self.severity_filter));
        p.insert("query".into(), opt(&self.query));
        p.insert("queryFrequency".into(), opt(&self.query_frequency));
        p.insert("queryPeriod".into(), opt(&self.query_period));
        p.insert(
            "severity".into(),
            self.severity.as_deref().map_or(Value::Null, |s| json!(pascal_to_space(s))),
        );
        p.insert("suppressionDuration".into(), opt(&self.suppression_duration));
        p.insert("suppressionEnabled".into(), yes_no("suppression_enabled", &self.suppression_enabled)?);
        p.insert(
            "triggerOperator".into(),
            self.trigger_operator
                .as_deref()
                .map_or(Value::Null, |t| json!(underscore_to_camel_case(t, true))),
        );
        p.insert("triggerThreshold".into(), opt(&self.trigger_threshold));
        p.insert("tactics".into(), json!(split_list(self.tactics.as_deref())));
        p.insert("techniques".into(), json!(split_list(self.techniques.as_deref())));
        remove_empty(&mut p);
        Ok(json!({"kind": underscore_to_camel_case(kind, true), "etag": opt(&self.etag), "properties": p}))
    }
}

async fn put_rule(s: &Sentinel, ctx: &mut CommandContext, args: RuleArgs) -> Result<Outcome, Error> {
    let body = args.body()?;
    let raw = s.call(ctx, s.req(Method::PUT, &format!("alertRules/{}", args.rule_name)).json(&body)).await?;
    let id = raw
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut row = Map::new();
    for (k, v) in [
        ("ID", json!(id)),
        ("Name", raw.get("name").cloned().unwrap_or(Value::Null)),
        ("Kind", raw.get("kind").cloned().unwrap_or(Value::Null)),
        ("Severity", prop(&raw, "severity")),
        ("Display Name", prop(&raw, "displayName")),
        ("Description", prop(&raw, "description")),
        ("Enabled", prop(&raw, "enabled")),
        ("Etag", raw.get("etag").cloned().unwrap_or(Value::Null)),
    ] {
        row.insert(k.to_owned(), v);
    }
    let opts = TableOptions::default().remove_null(true).sort_headers(false);
    let md = table_to_markdown(
        "Azure Sentinel Alert Rule successfully created/updated",
        &Value::Object(row),
        &opts,
    )?;
    results(md, Some("AzureSentinel.AlertRule"), &["name"], raw.clone(), raw)
}

/// Creates a new alert rule.
#[derive(Args)]
pub struct CreateAlertRule {
    #[arg(flatten)]
    rule: RuleArgs,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for CreateAlertRule {
    const NAME: &'static str = "azure-sentinel-create-alert-rule";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-create-alert-rule rule_name=test_fusion kind=fusion template_name=f71aba3d-28fb-450b-b192-4e76a83015c8 enabled=yes",
    ];

    fn outputs() -> Vec<OutputSpec> {
        ALERT_RULE.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        put_rule(s, ctx, self.rule).await
    }
}

/// Updates an alert rule.
#[derive(Args)]
pub struct UpdateAlertRule {
    #[arg(flatten)]
    rule: RuleArgs,
    #[arg(flatten)]
    _scope: Scope,
}

#[async_trait]
impl Handler<Sentinel> for UpdateAlertRule {
    const NAME: &'static str = "azure-sentinel-update-alert-rule";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-sentinel-update-alert-rule rule_name=test_fusion kind=fusion template_name=f71aba3d-28fb-450b-b192-4e76a83015c8 enabled=no",
    ];

    fn outputs() -> Vec<OutputSpec> {
        ALERT_RULE.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        put_rule(s, ctx, self.rule).await
    }
}

// ---- subscriptions and resource groups ---------------------------------------------------------

/// Lists the subscriptions the identity can see.
#[derive(Args)]
pub struct ListSubscriptions;

#[async_trait]
impl Handler<Sentinel> for ListSubscriptions {
    const NAME: &'static str = "azure-sentinel-subscriptions-list";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-subscriptions-list"];

    fn outputs() -> Vec<OutputSpec> {
        SUBSCRIPTION.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let reply = s.call(ctx, s.arm("subscriptions").query("api-version", "2020-01-01")).await?;
        let subs = Value::Array(values(&reply, "value"));
        let opts = TableOptions::default()
            .headers(["subscriptionId", "tenantId", "displayName", "state"])
            .remove_null(true)
            .header_transform(HeaderTransform::StringToTableHeader);
        let md = table_to_markdown("Azure Sentinel Subscriptions", &subs, &opts)?;
        results(md, Some("AzureSentinel.Subscription"), &["subscriptionId"], subs, reply)
    }
}

/// The reference's `azure_tag_formatter`: `{"name": "value"}` -> an OData tag filter.
pub fn tag_filter(tag: &str) -> Result<String, Error> {
    let bad = || Error::InvalidArg {
        name: "tag".to_owned(),
        reason: "Invalid tag format, please use the following format: '{\"key_name\":\"value_name\"}'"
            .to_owned(),
    };
    let parsed: Value = serde_json::from_str(tag).map_err(|_| bad())?;
    let (name, value) = parsed.as_object().and_then(|o| o.iter().next()).ok_or_else(bad)?;
    let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
    Ok(format!("tagName eq '{name}' and tagValue eq '{value}'"))
}

/// Lists the resource groups of a subscription.
#[derive(Args)]
pub struct ListResourceGroups {
    /// Only groups with this tag, as JSON: {"Tag Name":"Tag Value"}.
    tag: Option<String>,
    /// The most resource groups to return.
    #[arg(default = "50")]
    limit: u32,
    /// The subscription ID; overrides the instance's Subscription ID (read by the environment).
    #[arg(name = "subscription_id")]
    _subscription_id: Option<String>,
}

#[async_trait]
impl Handler<Sentinel> for ListResourceGroups {
    const NAME: &'static str = "azure-sentinel-resource-group-list";
    const EXAMPLES: &'static [&'static str] = &["!azure-sentinel-resource-group-list limit=10"];

    fn outputs() -> Vec<OutputSpec> {
        RESOURCE_GROUP.to_vec()
    }

    async fn run(self, s: &Sentinel, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let filter = match &self.tag {
            Some(t) => tag_filter(t)?,
            None => String::new(),
        };
        let req = s
            .arm(&format!("subscriptions/{}/resourcegroups", s.subscription_id))
            .query("$filter", filter)
            .query("$top", self.limit.to_string())
            .query("api-version", "2021-04-01");
        let reply = s.call(ctx, req).await?;
        let groups = Value::Array(values(&reply, "value"));
        let opts = TableOptions::default()
            .headers(["name", "location", "tags", "properties.provisioningState"])
            .remove_null(true)
            .header_transform(HeaderTransform::StringToTableHeader);
        let md = table_to_markdown("Azure Sentinel Resource Groups", &groups, &opts)?;
        results(md, Some("AzureSentinel.ResourceGroup"), &["name"], groups, reply)
    }
}

#[cfg(test)]
mod tests {
    use soar_integration_kit::__private::{ArgContext, Object};
    use soar_integration_kit::testing::FakeApi;

    use super::*;

    const BASE: &str = "subscriptions/s1/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/ws/providers/Microsoft.SecurityInsights";

    fn decode<A: Args>(args: Value) -> Result<A, Error> {
        let clock = soar_integration_kit::SystemClock;
        let args: Object = args.as_object().cloned().unwrap_or_default();
        A::decode(&args, &ArgContext { clock: &clock })
    }

    fn sentinel(api: std::sync::Arc<FakeApi>) -> Sentinel {
        Sentinel { api: Box::new(api), base: BASE.to_owned(), subscription_id: "s1".to_owned() }
    }

    fn incident(etag: &str, title: &str) -> Value {
        json!({"name": "i1", "etag": etag, "properties": {"title": title, "severity": "Low", "status": "New",
               "owner": {"email": "old@x"}, "labels": [{"labelName": "keep", "labelType": "User"}]}})
    }

    async fn update(api: std::sync::Arc<FakeApi>, args: Value) -> Result<Outcome, Error> {
        let cmd = decode::<UpdateIncident>(args)?;
        let mut ctx = CommandContext::new(UpdateIncident::NAME, Object::new(), Default::default());
        cmd.run(&sentinel(api), &mut ctx).await
    }

    /// The update reads the incident, sends its etag with the values not given; a 412 (changed
    /// meanwhile) is retried once after reading it again.
    #[tokio::test]
    async fn a_stale_etag_is_retried_once_after_a_re_read() {
        let api = std::sync::Arc::new(FakeApi::new("https://management.azure.com/"));
        let key = format!("{BASE}/incidents/i1?api-version=2024-03-01");
        api.on_get(&key, incident("\"e1\"", "T")).on_get(&key, incident("\"e2\"", "T2"));
        api.fail_with(
            Method::PUT,
            &key,
            412,
            json!({"error": {"code": "PreconditionFailed", "message": "stale"}}),
        );
        api.on(Method::PUT, &key, 200, incident("\"e3\"", "T2"));
        let out = update(api.clone(), json!({"incident_id": "i1", "severity": "High"})).await;
        assert!(out.is_ok(), "{:?}", out.err());
        let puts: Vec<Value> =
            api.requests().iter().filter(|r| r.method == Method::PUT).filter_map(|r| r.json_body()).collect();
        assert_eq!(puts.len(), 2);
        assert_eq!(puts[0]["etag"], "\"e1\"");
        assert_eq!(puts[1]["etag"], "\"e2\"", "the retry sends the re-read etag");
        assert_eq!(
            puts[1]["properties"],
            json!({"title": "T2", "severity": "High", "status": "New",
                   "labels": [{"labelName": "keep", "labelType": "User"}], "owner": {"email": "old@x"}})
        );
    }

    #[tokio::test]
    async fn a_second_412_is_reported_clearly() {
        let api = std::sync::Arc::new(FakeApi::new("https://management.azure.com/"));
        let key = format!("{BASE}/incidents/i1?api-version=2024-03-01");
        api.on_get(&key, incident("\"e1\"", "T"));
        api.fail_with(
            Method::PUT,
            &key,
            412,
            json!({"error": {"code": "PreconditionFailed", "message": "stale"}}),
        );
        let err = update(api.clone(), json!({"incident_id": "i1", "title": "x"}))
            .await
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("412") && e.contains("run the command again")),
            "{err:?}"
        );
        assert_eq!(api.requests().iter().filter(|r| r.method == Method::PUT).count(), 2);
    }

    /// (arguments, the owner sent): unassign, object id, UPN and email as the reference.
    #[test]
    fn owners_follow_the_reference() {
        let current = incident("\"e\"", "T");
        let cases = [
            (json!({"incident_id": "i1", "unassign": "true"}), json!({})),
            (json!({"incident_id": "i1", "assignee_objectid": "o1"}), json!({"objectId": "o1"})),
            (
                json!({"incident_id": "i1", "user_principal_name": "u@x", "assignee_email": "e@x"}),
                json!({"userPrincipalName": "u@x", "email": "e@x"}),
            ),
            (json!({"incident_id": "i1", "assignee_email": "e@x"}), json!({"email": "e@x"})),
        ];
        for (args, owner) in cases {
            let body =
                decode::<UpdateIncident>(args.clone()).map(|c| c.body(&current)).map_err(|e| e.to_string());
            let got = body.map(|b| b["properties"].get("owner").cloned().unwrap_or(json!({})));
            assert_eq!(got, Ok(owner), "{args}");
        }
    }

    /// (arguments, body): the reference's `create_data_for_alert_rule`.
    #[test]
    fn alert_rule_bodies_follow_the_reference() {
        let rule = decode::<RuleArgs>(
            json!({"rule_name": "r", "kind": "microsoft_security_incident_creation", "displayName": "D",
            "enabled": "yes", "product_filter": "microsoft_cloud_app_security"}),
        );
        let body = rule.and_then(|r| r.body()).map_err(|e| e.to_string());
        assert_eq!(
            body,
            Ok(json!({"kind": "MicrosoftSecurityIncidentCreation", "etag": null,
                       "properties": {"enabled": true, "displayName": "D", "productFilter": "Microsoft Cloud App Security"}}))
        );
        let sched = decode::<RuleArgs>(
            json!({"rule_name": "r", "kind": "scheduled", "displayName": "D", "enabled": "no", "query": "q",
            "query_frequency": "PT1H", "query_period": "PT1H", "severity": "medium", "suppression_duration": "PT1H",
            "suppression_enabled": "no", "trigger_operator": "greater_than", "trigger_threshold": "0"}),
        );
        let body = sched.and_then(|r| r.body()).map_err(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            (body["properties"]["severity"].clone(), body["properties"]["triggerOperator"].clone()),
            (json!("Medium"), json!("GreaterThan"))
        );
    }

    /// (arguments, body): the reference's `build_threat_indicator_data` patterns.
    #[test]
    fn indicator_patterns_follow_the_reference() {
        let cases = [
            (
                json!({"value": "1.1.1.1", "display_name": "d", "indicator_type": "ipv4"}),
                "[ipv4-addr:value = '1.1.1.1']",
            ),
            (
                json!({"value": "x.example", "display_name": "d", "indicator_type": "domain"}),
                "[domain-name:value = 'x.example']",
            ),
            (
                json!({"value": "ab", "display_name": "d", "indicator_type": "file", "hash_type": "SHA-256"}),
                "[file:hashes.'SHA-256' = 'ab']",
            ),
        ];
        for (args, pattern) in cases {
            let data = decode::<IndicatorFields>(args.clone())
                .and_then(|f| f.data(Some("false"), json!(DEFAULT_SOURCE)));
            let got =
                data.map(|d| d.get("pattern").cloned().unwrap_or(Value::Null)).map_err(|e| e.to_string());
            assert_eq!(got, Ok(json!(pattern)), "{args}");
        }
    }
}
