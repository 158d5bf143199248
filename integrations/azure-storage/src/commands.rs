//! The commands, one place each: the arguments struct (its doc comment is the command's
//! description) and the [`Handler`] impl that builds one ARM call from them and the instance's
//! defaults, and turns the answer into the reference's table and context.

use serde_json::{Map, Value, json};
use soar_integration_kit::{
    Api, ApiKind, Args, AuthFlow, BOOL, CommandContext, Error, Handler, MsApi, MsClient, Outcome, OutputSpec,
    Request, Results, Table, arg_or_param, async_trait,
};

use crate::tables::{
    ACCOUNT, BLOB_SERVICE_GET, BLOB_SERVICE_SET, CONTAINER_CREATE, CONTAINER_LIST, CONTAINER_UPDATE,
    LOCATIONS, RESOURCE_GROUPS, SKUS, SUBSCRIPTIONS,
};

/// The ARM API version of every call (the reference uses it even for subscriptions and
/// resource groups).
pub const API_VERSION: &str = "2022-09-01";

/// What every handler gets: the ARM client of the request and the configured flow.
pub struct Arm {
    /// ARM (no version segment: the version is the `api-version` query).
    pub api: Box<dyn Api>,
    /// The flow the instance uses.
    pub flow: AuthFlow,
}

impl Arm {
    /// The environment of one request.
    pub fn from_client(ms: MsClient, _: &CommandContext) -> Result<Arm, Error> {
        let flow = ms.flow();
        Ok(Arm { api: Box::new(MsApi::new(ms, ApiKind::Arm, None)), flow })
    }

    async fn call(&self, ctx: &mut CommandContext, req: Request) -> Result<Value, Error> {
        self.api.json(&mut ctx.integration_context, req).await
    }
}

/// The request with the `api-version` query (first, as the reference sends it; the order shows
/// in ARM's next links).
fn versioned(req: Request) -> Request {
    req.query("api-version", API_VERSION)
}

// ---- shared arguments and helpers --------------------------------------------------------------

/// The subscription and resource group a command may override.
#[derive(Args)]
pub struct Scope {
    /// The resource group; overrides the instance's default.
    resource_group_name: Option<String>,
    /// The subscription ID; overrides the instance's default.
    subscription_id: Option<String>,
}

impl Scope {
    /// `subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts`.
    fn accounts_path(self, ctx: &CommandContext) -> Result<String, Error> {
        let sub = arg_or_param(self.subscription_id, ctx, "subscription_id")?;
        let rg = arg_or_param(self.resource_group_name, ctx, "resource_group_name")?;
        Ok(format!("subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts"))
    }
}

/// The part of an ARM id between two markers (`subscriptions/(.+?)/resourceGroups`).
fn id_part(id: &str, after: &str, before: &str) -> Value {
    id.find(after)
        .map(|i| &id[i + after.len()..])
        .and_then(|rest| rest.find(before).map(|j| &rest[..j]))
        .filter(|s| !s.is_empty())
        .map_or(Value::Null, |s| Value::String(s.to_owned()))
}

fn scope_parts(obj: &Value) -> (Value, Value, Value) {
    let id = obj.get("id").and_then(Value::as_str).unwrap_or("");
    (
        id_part(id, "subscriptions/", "/resourceGroups"),
        id_part(id, "resourceGroups/", "/providers"),
        id_part(id, "storageAccounts/", "/blobServices"),
    )
}

fn prop(obj: &Value, key: &str) -> Value {
    obj.get("properties").and_then(|p| p.get(key)).cloned().unwrap_or(Value::Null)
}

/// `response.value`, or the response itself as the only item.
fn items(reply: &Value) -> Vec<Value> {
    match reply.get("value") {
        Some(Value::Array(v)) => v.clone(),
        Some(other) => vec![other.clone()],
        None => vec![reply.clone()],
    }
}

/// A result whose outputs go under `prefix` keyed by `id`.
fn results(readable: String, prefix: &'static str, outputs: Value, raw: Value) -> Result<Outcome, Error> {
    Results {
        readable: Some(readable),
        prefix: Some(prefix),
        key_field: Some("id"),
        outputs: Some(outputs),
        raw: Some(raw),
    }
    .outcome()
}

/// Parses a JSON argument, naming it and showing the expected shape when it is not JSON.
fn json_arg(name: &str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::InvalidArg {
        name: name.to_owned(),
        reason: format!(
            "not valid JSON ({e}); give a JSON list such as [{{\"value\": \"1.1.1.1\", \"action\": \"Allow\"}}]."
        ),
    })
}

// ---- test-module -------------------------------------------------------------------------------

/// Checks the configuration (managed identities only; other flows say which command to run).
#[derive(Args)]
pub struct TestModule;

#[async_trait]
impl Handler<Arm> for TestModule {
    const NAME: &'static str = "test-module";

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        // The reference's `test_module`: only the flows that need no person can be tested here.
        // Its "press the (?) button" points at the integration's help here, which soar-rt has
        // (the YAML's detailed description, the README) where a "(?)" button may not exist.
        match arm.flow {
            AuthFlow::DeviceCode => Err(Error::Command(
                "Please enable the integration and run `!azure-storage-auth-start`and `!azure-storage-auth-complete` to \
                 log in.You can validate the connection by running `!azure-storage-auth-test`\nFor more details, see the \
                 authentication steps in the integration's help (the instance's Help tab, or its README)."
                    .to_owned(),
            )),
            AuthFlow::AuthorizationCode => Err(Error::Command(
                "When using user auth flow configuration, Please enable the integration and run the \
                 !azure-storage-auth-test command in order to test it"
                    .to_owned(),
            )),
            _ => {
                arm.api.check_token(&mut ctx.integration_context).await?;
                Ok(soar_integration_kit::ok_outcome())
            }
        }
    }
}

// ---- storage accounts --------------------------------------------------------------------------

const ACCOUNT_HEADERS: [&str; 7] = [
    "Account Name",
    "Subscription ID",
    "Resource Group",
    "Kind",
    "Status Primary",
    "Status Secondary",
    "Location",
];

fn account_row(account: &Value) -> Value {
    let (sub, rg, _) = scope_parts(account);
    json!({
        "Account Name": account.get("name"),
        "Subscription ID": sub,
        "Resource Group": rg,
        "Kind": account.get("kind"),
        "Status Primary": prop(account, "statusOfPrimary"),
        "Status Secondary": prop(account, "statusOfSecondary"),
        "Location": account.get("location"),
    })
}

/// Gets one storage account, or lists the storage accounts of a resource group.
#[derive(Args)]
pub struct AccountList {
    /// The storage account name; empty lists all of the resource group.
    account_name: Option<String>,
    #[arg(flatten)]
    scope: Scope,
}

#[async_trait]
impl Handler<Arm> for AccountList {
    const NAME: &'static str = "azure-storage-account-list";
    const EXAMPLES: &'static [&'static str] = &["!azure-storage-account-list"];

    fn outputs() -> Vec<OutputSpec> {
        ACCOUNT.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let path = format!("{}/{}", self.scope.accounts_path(ctx)?, self.account_name.unwrap_or_default());
        let reply = arm.call(ctx, versioned(Request::get(path))).await?;
        let accounts = items(&reply);
        let rows: Vec<Value> = accounts.iter().map(account_row).collect();
        let md =
            Table::new("Azure Storage Account List", Value::Array(rows)).headers(ACCOUNT_HEADERS).render()?;
        results(md, "AzureStorage.StorageAccount", Value::Array(accounts), reply)
    }
}

/// Creates a storage account, or updates an existing one.
#[derive(Args)]
pub struct AccountCreateUpdate {
    #[arg(flatten)]
    scope: Scope,
    /// The storage account name (3-24 lower-case letters and digits).
    account_name: String,
    /// The SKU name.
    #[arg(options = SKUS)]
    sku: String,
    /// The kind of storage account.
    #[arg(options = ["Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"])]
    kind: String,
    /// The Azure region.
    #[arg(options = LOCATIONS)]
    location: String,
    /// Tag values, comma-separated (named tag1, tag2, ...).
    #[arg(array)]
    tags: Option<String>,
    /// The custom domain name.
    custom_domain_name: Option<String>,
    /// Whether to use indirect CName validation.
    #[arg(options = BOOL)]
    use_sub_domain_name: Option<bool>,
    /// The encryption key source.
    #[arg(options = ["Microsoft.Storage", "Microsoft.Keyvault"])]
    enc_key_source: Option<String>,
    /// Whether to add a second layer of encryption.
    #[arg(options = BOOL, name = "enc_requireInfrastructureEncryption")]
    enc_require_infrastructure_encryption: Option<bool>,
    /// The Key Vault key name.
    enc_keyvault_key_name: Option<String>,
    /// The Key Vault key version.
    enc_keyvault_key_version: Option<String>,
    /// The Key Vault URI.
    enc_keyvault_uri: Option<String>,
    /// The access tier (BlobStorage accounts).
    #[arg(options = ["Hot", "Cool"])]
    access_tier: Option<String>,
    /// Whether only HTTPS is allowed.
    #[arg(options = BOOL)]
    supports_https_traffic_only: Option<bool>,
    /// Whether the hierarchical namespace is on.
    #[arg(options = BOOL)]
    is_hns_enabled: Option<bool>,
    /// Whether large file shares are allowed.
    #[arg(options = ["Disabled", "Enabled"])]
    large_file_shares_state: Option<String>,
    /// Whether public access to blobs is allowed.
    #[arg(options = BOOL)]
    allow_blob_public_access: Option<bool>,
    /// The minimum TLS version.
    #[arg(options = ["TLS1_0", "TLS1_1", "TLS1_2"])]
    minimum_tls_version: Option<String>,
    /// The traffic that bypasses the network rules.
    #[arg(array, options = ["AzureServices", "Logging", "Metrics", "None"])]
    network_ruleset_bypass: Option<String>,
    /// The default network action (Allow or Deny).
    network_ruleset_default_action: Option<String>,
    /// The IP rules, as JSON, e.g. [{"value": "1.1.1.1", "action": "Allow"}].
    #[arg(name = "network_ruleset_ipRules")]
    network_ruleset_ip_rules: Option<String>,
    /// The virtual network rules, as JSON.
    virtual_network_rules: Option<String>,
}

impl AccountCreateUpdate {
    /// The PUT body, built only from the arguments given (as the reference does).
    fn body(&self) -> Result<Value, Error> {
        let mut props = Map::new();
        let mut body = Map::new();
        body.insert("sku".into(), json!({"name": self.sku}));
        body.insert("kind".into(), json!(self.kind));
        body.insert("location".into(), json!(self.location));
        if let Some(tags) = &self.tags {
            // The reference names the values tag1, tag2, ... (it has no way to pass tag names).
            let obj: Map<String, Value> =
                tags.split(',').enumerate().map(|(i, v)| (format!("tag{}", i + 1), json!(v))).collect();
            body.insert("tags".into(), Value::Object(obj));
        }
        if let Some(domain) = &self.custom_domain_name {
            let mut cd = Map::new();
            cd.insert("name".into(), json!(domain));
            // The reference indexes use_sub_domain_name unguarded; here it is optional.
            if let Some(sub) = self.use_sub_domain_name {
                cd.insert("useSubDomainName".into(), json!(sub));
            }
            props.insert("customDomain".into(), Value::Object(cd));
        }
        let kv: Map<String, Value> = [
            ("keyname", &self.enc_keyvault_key_name),
            ("keyversion", &self.enc_keyvault_key_version),
            ("keyvaulturi", &self.enc_keyvault_uri),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), json!(v))))
        .collect();
        if self.enc_key_source.is_some()
            || !kv.is_empty()
            || self.enc_require_infrastructure_encryption.is_some()
        {
            let mut enc = Map::new();
            if let Some(v) = &self.enc_key_source {
                enc.insert("keySource".into(), json!(v));
            }
            if !kv.is_empty() {
                enc.insert("keyvaultproperties".into(), Value::Object(kv));
            }
            if let Some(v) = self.enc_require_infrastructure_encryption {
                enc.insert("requireInfrastructureEncryption".into(), json!(v));
            }
            // The reference writes `Encryption` with a capital E; ARM property names are
            // case-insensitive, and we keep the reference's spelling on the wire.
            props.insert("Encryption".into(), Value::Object(enc));
        }
        let rules = [
            ("network_ruleset_ipRules", "ipRules", &self.network_ruleset_ip_rules),
            ("virtual_network_rules", "virtualNetworkRules", &self.virtual_network_rules),
        ];
        if self.network_ruleset_bypass.is_some()
            || self.network_ruleset_default_action.is_some()
            || rules.iter().any(|(.., v)| v.is_some())
        {
            let mut acls = Map::new();
            if let Some(v) = &self.network_ruleset_bypass {
                acls.insert("bypass".into(), json!(v));
            }
            if let Some(v) = &self.network_ruleset_default_action {
                acls.insert("defaultAction".into(), json!(v));
            }
            for (arg_name, key, value) in rules {
                if let Some(v) = value {
                    acls.insert(key.into(), json_arg(arg_name, v)?);
                }
            }
            props.insert("networkAcls".into(), Value::Object(acls));
        }
        let texts = [
            ("accessTier", &self.access_tier),
            ("largeFileSharesState", &self.large_file_shares_state),
            ("minimumTlsVersion", &self.minimum_tls_version),
        ];
        let flags = [
            ("supportsHttpsTrafficOnly", self.supports_https_traffic_only),
            ("isHnsEnabled", self.is_hns_enabled),
            ("allowBlobPublicAccess", self.allow_blob_public_access),
        ];
        // The reference's key order: access tier, HTTPS only, HNS, large shares, public access, TLS.
        let order = [
            "accessTier",
            "supportsHttpsTrafficOnly",
            "isHnsEnabled",
            "largeFileSharesState",
            "allowBlobPublicAccess",
            "minimumTlsVersion",
        ];
        for key in order {
            let value = texts
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, v)| v.as_ref().map(|v| json!(v)))
                .or_else(|| flags.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.map(|b| json!(b))));
            if let Some(v) = value {
                props.insert(key.into(), v);
            }
        }
        body.insert("properties".into(), Value::Object(props));
        Ok(Value::Object(body))
    }
}

#[async_trait]
impl Handler<Arm> for AccountCreateUpdate {
    const NAME: &'static str = "azure-storage-account-create-update";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-storage-account-create-update account_name=soarnewacct sku=Standard_LRS kind=StorageV2 location=eastus",
    ];

    fn outputs() -> Vec<OutputSpec> {
        ACCOUNT.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = self.body()?;
        let name = self.account_name;
        let path = format!("{}/{name}", self.scope.accounts_path(ctx)?);
        let reply = arm.call(ctx, versioned(Request::put(path)).json(&body)).await?;
        if reply.is_null() {
            return Results::text(format!(
                "The request was accepted - the account {name} will be created shortly"
            ))
            .outcome();
        }
        let md =
            Table::new("Azure Storage Account", account_row(&reply)).headers(ACCOUNT_HEADERS).render()?;
        results(md, "AzureStorage.StorageAccount", reply.clone(), reply)
    }
}

// ---- blob service ------------------------------------------------------------------------------

/// Python's `str()` of a JSON scalar (`True`, `False`, `None`, numbers, text).
fn python_str(v: &Value) -> String {
    match v {
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The blob service's path of an account.
fn blob_service_path(account: &str, scope: Scope, ctx: &CommandContext) -> Result<String, Error> {
    Ok(format!("{}/{account}/blobServices/default", scope.accounts_path(ctx)?))
}

/// The blob service answer as the reference shows it; `set` shows the switches as Python text.
fn blob_service_outcome(reply: Value, set: bool) -> Result<Outcome, Error> {
    let (s, r, a) = scope_parts(&reply);
    let enabled = |key: &str| -> Value {
        match prop(&reply, key) {
            Value::Object(o) if !o.is_empty() => {
                let v = o.get("enabled").cloned().unwrap_or(Value::Null);
                if set { json!(python_str(&v)) } else { v }
            }
            _ => json!(""),
        }
    };
    let row = json!({
        "Name": reply.get("name"),
        "Account Name": a,
        "Subscription ID": s,
        "Resource Group": r,
        "Change Feed": enabled("changeFeed"),
        "Delete Retention Policy": enabled("deleteRetentionPolicy"),
        "Versioning": prop(&reply, "isVersioningEnabled"),
    });
    let headers = [
        "Name",
        "Account Name",
        "Subscription ID",
        "Resource Group",
        "Change Feed",
        "Delete Retention Policy",
        "Versioning",
    ];
    let md = Table::new("Azure Storage Blob Service Properties", row).headers(headers).render()?;
    results(md, "AzureStorage.BlobServiceProperties", reply.clone(), reply)
}

/// Gets the blob service properties of a storage account.
#[derive(Args)]
pub struct BlobServiceGet {
    /// The storage account name.
    account_name: String,
    #[arg(flatten)]
    scope: Scope,
}

#[async_trait]
impl Handler<Arm> for BlobServiceGet {
    const NAME: &'static str = "azure-storage-blob-service-properties-get";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-storage-blob-service-properties-get account_name=soarstorage1"];

    fn outputs() -> Vec<OutputSpec> {
        BLOB_SERVICE_GET.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let path = blob_service_path(&self.account_name, self.scope, ctx)?;
        blob_service_outcome(arm.call(ctx, versioned(Request::get(path))).await?, false)
    }
}

/// Sets the blob service properties of a storage account.
#[derive(Args)]
pub struct BlobServiceSet {
    /// The storage account name.
    account_name: String,
    #[arg(flatten)]
    scope: Scope,
    /// Whether the change feed is on.
    #[arg(options = BOOL)]
    change_feed_enabled: Option<bool>,
    /// How many days the change feed is kept.
    change_feed_retention_days: Option<String>,
    /// Whether deleted containers are kept.
    #[arg(options = BOOL)]
    container_delete_rentention_policy_enabled: Option<bool>,
    /// How many days deleted containers are kept.
    container_delete_rentention_policy_days: Option<String>,
    /// Whether deleted blobs are kept.
    #[arg(options = BOOL)]
    delete_rentention_policy_enabled: Option<bool>,
    /// How many days deleted blobs are kept.
    delete_rentention_policy_days: Option<String>,
    /// Whether blob versioning is on.
    #[arg(options = BOOL)]
    versioning: Option<bool>,
    /// Whether last access time is tracked.
    #[arg(options = BOOL)]
    last_access_time_tracking_policy_enabled: Option<bool>,
    /// The blob types tracked, e.g. blockBlob.
    #[arg(array)]
    last_access_time_tracking_policy_blob_types: Option<String>,
    /// The tracking granularity, in days.
    last_access_time_tracking_policy_days: Option<String>,
    /// Whether point-in-time restore is on.
    #[arg(options = BOOL)]
    restore_policy_enabled: Option<bool>,
    /// The earliest restore point (read only in Azure).
    restore_policy_min_restore_time: Option<String>,
    /// How many days a blob can be restored.
    restore_policy_days: Option<String>,
}

impl BlobServiceSet {
    /// The properties to set, from the arguments given; day counts are sent as the raw
    /// argument text, as the reference does.
    fn props(&self) -> Value {
        let mut props = Map::new();
        let group = |props: &mut Map<String, Value>, key: &str, pairs: Vec<(&str, Option<Value>)>| {
            let o: Map<String, Value> =
                pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v))).collect();
            if !o.is_empty() {
                props.insert(key.into(), Value::Object(o));
            }
        };
        let b = |v: Option<bool>| v.map(Value::Bool);
        let t = |v: &Option<String>| v.as_ref().map(|s| json!(s));
        group(
            &mut props,
            "changeFeed",
            vec![
                ("enabled", b(self.change_feed_enabled)),
                ("retentionInDays", t(&self.change_feed_retention_days)),
            ],
        );
        group(
            &mut props,
            "containerDeleteRetentionPolicy",
            vec![
                ("enabled", b(self.container_delete_rentention_policy_enabled)),
                ("days", t(&self.container_delete_rentention_policy_days)),
            ],
        );
        group(
            &mut props,
            "deleteRetentionPolicy",
            vec![
                ("enabled", b(self.delete_rentention_policy_enabled)),
                ("days", t(&self.delete_rentention_policy_days)),
            ],
        );
        if let Some(v) = self.versioning {
            props.insert("isVersioningEnabled".into(), json!(v));
        }
        group(
            &mut props,
            "lastAccessTimeTrackingPolicy",
            vec![
                ("enable", b(self.last_access_time_tracking_policy_enabled)),
                (
                    "blobType",
                    self.last_access_time_tracking_policy_blob_types
                        .as_ref()
                        .map(|v| json!(v.split(',').collect::<Vec<_>>())),
                ),
                ("trackingGranularityInDays", t(&self.last_access_time_tracking_policy_days)),
            ],
        );
        group(
            &mut props,
            "restorePolicy",
            vec![
                ("enabled", b(self.restore_policy_enabled)),
                ("minRestoreTime", t(&self.restore_policy_min_restore_time)),
                ("days", t(&self.restore_policy_days)),
            ],
        );
        Value::Object(props)
    }
}

#[async_trait]
impl Handler<Arm> for BlobServiceSet {
    const NAME: &'static str = "azure-storage-blob-service-properties-set";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-storage-blob-service-properties-set account_name=soarstorage1 versioning=true"];

    fn outputs() -> Vec<OutputSpec> {
        BLOB_SERVICE_SET.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let body = json!({"properties": self.props()});
        let path = blob_service_path(&self.account_name, self.scope, ctx)?;
        blob_service_outcome(arm.call(ctx, versioned(Request::put(path)).json(&body)).await?, true)
    }
}

// ---- blob containers ---------------------------------------------------------------------------

/// The account and container a container command works on.
#[derive(Args)]
pub struct Container {
    /// The storage account name.
    account_name: String,
    /// The blob container name.
    container_name: String,
    #[arg(flatten)]
    scope: Scope,
}

fn container_path(
    account: &str,
    container: &str,
    scope: Scope,
    ctx: &CommandContext,
) -> Result<String, Error> {
    Ok(format!("{}/{account}/blobServices/default/containers/{container}", scope.accounts_path(ctx)?))
}

impl Container {
    fn path(self, ctx: &CommandContext) -> Result<String, Error> {
        container_path(&self.account_name, &self.container_name, self.scope, ctx)
    }
}

/// The properties a container command sets.
#[derive(Args)]
pub struct ContainerProps {
    /// The default encryption scope for the container.
    default_encryption_scope: Option<String>,
    /// Whether blobs may not override the default scope.
    #[arg(options = BOOL)]
    deny_encryption_scope_override: Option<bool>,
    /// The level of anonymous read access.
    #[arg(options = ["Blob", "Container", "None"])]
    public_access: Option<String>,
}

/// Creates or updates a container (PUT creates, PATCH updates), as the reference shows it.
async fn container_write(
    arm: &Arm,
    ctx: &mut CommandContext,
    request: fn(String) -> Request,
    container: Container,
    props: ContainerProps,
    show_access: bool,
) -> Result<Outcome, Error> {
    let mut body = Map::new();
    if let Some(v) = props.default_encryption_scope {
        body.insert("defaultEncryptionScope".into(), json!(v));
    }
    if let Some(v) = props.deny_encryption_scope_override {
        body.insert("denyEncryptionScopeOverride".into(), json!(v));
    }
    if let Some(v) = props.public_access {
        body.insert("publicAccess".into(), json!(v));
    }
    let req = versioned(request(container.path(ctx)?)).json(&json!({"properties": body}));
    let reply = arm.call(ctx, req).await?;
    let (s, r, a) = scope_parts(&reply);
    let mut row =
        json!({"Name": reply.get("name"), "Account Name": a, "Subscription ID": s, "Resource Group": r});
    let mut headers = vec!["Name", "Account Name", "Subscription ID", "Resource Group"];
    if show_access {
        if let Some(o) = row.as_object_mut() {
            o.insert("Public Access".into(), prop(&reply, "publicAccess"));
        }
        headers.push("Public Access");
    }
    let md = Table::new("Azure Storage Blob Containers Properties", row).headers(headers).render()?;
    results(md, "AzureStorage.BlobContainer", reply.clone(), reply)
}

/// Creates a blob container.
#[derive(Args)]
pub struct ContainerCreate {
    #[arg(flatten)]
    container: Container,
    #[arg(flatten)]
    props: ContainerProps,
}

#[async_trait]
impl Handler<Arm> for ContainerCreate {
    const NAME: &'static str = "azure-storage-blob-containers-create";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-storage-blob-containers-create account_name=soarstorage1 container_name=evidence"];

    fn outputs() -> Vec<OutputSpec> {
        CONTAINER_CREATE.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        container_write(arm, ctx, Request::put, self.container, self.props, false).await
    }
}

/// Updates the properties of a blob container.
#[derive(Args)]
pub struct ContainerUpdate {
    #[arg(flatten)]
    container: Container,
    #[arg(flatten)]
    props: ContainerProps,
}

#[async_trait]
impl Handler<Arm> for ContainerUpdate {
    const NAME: &'static str = "azure-storage-blob-containers-update";
    const EXAMPLES: &'static [&'static str] = &[
        "!azure-storage-blob-containers-update account_name=soarstorage1 container_name=evidence public_access=None",
    ];

    fn outputs() -> Vec<OutputSpec> {
        CONTAINER_UPDATE.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        container_write(arm, ctx, Request::patch, self.container, self.props, true).await
    }
}

/// Gets one blob container, or lists the blob containers of a storage account.
#[derive(Args)]
pub struct ContainerList {
    /// The storage account name.
    account_name: String,
    /// A container name, to get one container only.
    container_name: Option<String>,
    /// Whether to include soft-deleted containers.
    #[arg(options = BOOL)]
    include_deleted: Option<bool>,
    /// The most containers to return.
    maxpagesize: Option<String>,
    #[arg(flatten)]
    scope: Scope,
}

#[async_trait]
impl Handler<Arm> for ContainerList {
    const NAME: &'static str = "azure-storage-blob-containers-list";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-storage-blob-containers-list account_name=soarstorage1"];

    fn outputs() -> Vec<OutputSpec> {
        CONTAINER_LIST.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let container = self.container_name.unwrap_or_default();
        let mut req =
            versioned(Request::get(container_path(&self.account_name, &container, self.scope, ctx)?));
        if self.include_deleted == Some(true) {
            req = req.query("$include", "deleted");
        }
        if let Some(v) = self.maxpagesize {
            req = req.query("$maxpagesize", v);
        }
        let reply = arm.call(ctx, req).await?;
        let containers = items(&reply);
        let rows: Vec<Value> = containers
            .iter()
            .map(|c| {
                let (s, r, a) = scope_parts(c);
                json!({
                    "Container Name": c.get("name"),
                    "Account Name": a,
                    "Subscription ID": s,
                    "Resource Group": r,
                    "Public Access": prop(c, "publicAccess"),
                    "Lease State": prop(c, "leaseState"),
                    "Last Modified Time": prop(c, "lastModifiedTime"),
                })
            })
            .collect();
        let headers = [
            "Container Name",
            "Account Name",
            "Subscription ID",
            "Resource Group",
            "Public Access",
            "Lease State",
            "Last Modified Time",
        ];
        let md =
            Table::new("Azure Storage Blob Containers list", Value::Array(rows)).headers(headers).render()?;
        results(md, "AzureStorage.BlobContainer", Value::Array(containers), reply)
    }
}

/// Deletes a blob container.
#[derive(Args)]
pub struct ContainerDelete {
    #[arg(flatten)]
    container: Container,
}

#[async_trait]
impl Handler<Arm> for ContainerDelete {
    const NAME: &'static str = "azure-storage-blob-container-delete";
    const EXAMPLES: &'static [&'static str] =
        &["!azure-storage-blob-container-delete account_name=soarstorage1 container_name=evidence"];

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let req = versioned(Request::delete(self.container.path(ctx)?));
        let reply = arm.api.send(&mut ctx.integration_context, req).await?;
        let text = if reply.status == 200 {
            "The request to delete the blob container was sent successfully.".to_owned()
        } else {
            format!(
                "Failed to delete the blob container.Status code: {} \nPlease verify that the container and account name \
                 are correct.",
                reply.status
            )
        };
        Results::text(text).outcome()
    }
}

// ---- subscriptions and resource groups ---------------------------------------------------------

/// Lists the subscriptions the identity can see.
#[derive(Args)]
pub struct SubscriptionsList;

#[async_trait]
impl Handler<Arm> for SubscriptionsList {
    const NAME: &'static str = "azure-storage-subscriptions-list";
    const EXAMPLES: &'static [&'static str] = &["!azure-storage-subscriptions-list"];

    fn outputs() -> Vec<OutputSpec> {
        SUBSCRIPTIONS.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let reply = arm.call(ctx, versioned(Request::get("subscriptions"))).await?;
        let subs = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
        let md = Table::new("Azure Storage Subscriptions list", Value::Array(subs.clone()))
            .headers(["subscriptionId", "tenantId", "displayName", "state"])
            .render()?;
        results(md, "AzureStorage.Subscription", Value::Array(subs), reply)
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
    let value = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(format!("tagName eq '{name}' and tagValue eq '{value}'"))
}

/// Lists the resource groups of a subscription.
#[derive(Args)]
pub struct ResourceGroupList {
    /// The subscription ID; overrides the instance's default.
    subscription_id: Option<String>,
    /// The most resource groups to return.
    #[arg(default = "50")]
    limit: u32,
    /// Only groups with this tag, as JSON: {"Tag Name":"Tag Value"}.
    tag: Option<String>,
}

#[async_trait]
impl Handler<Arm> for ResourceGroupList {
    const NAME: &'static str = "azure-storage-resource-group-list";
    const EXAMPLES: &'static [&'static str] = &["!azure-storage-resource-group-list limit=10"];

    fn outputs() -> Vec<OutputSpec> {
        RESOURCE_GROUPS.to_vec()
    }

    async fn run(self, arm: &Arm, ctx: &mut CommandContext) -> Result<Outcome, Error> {
        let sub = arg_or_param(self.subscription_id, ctx, "subscription_id")?;
        // `arg_to_number(...) or 50`: zero means the default too.
        let limit = if self.limit == 0 { 50 } else { self.limit };
        let filter = match &self.tag {
            Some(tag) => tag_filter(tag)?,
            None => String::new(),
        };
        let req = Request::get(format!("subscriptions/{sub}/resourcegroups"))
            .query("$filter", filter)
            .query("$top", limit.to_string())
            .query("api-version", API_VERSION);
        let reply = arm.call(ctx, req).await?;
        let groups = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
        let md = Table::new("Resource Groups List", Value::Array(groups.clone()))
            .headers(["name", "location", "tags"])
            .remove_null()
            .header_transform_table_header()
            .render()?;
        results(md, "AzureStorage.ResourceGroup", Value::Array(groups), reply)
    }
}

#[cfg(test)]
mod tests {
    use soar_integration_kit::__private::{ArgContext, Object};
    use soar_integration_kit::testing::FakeApi;

    use super::*;

    fn decode<A: Args>(args: Value) -> Result<A, Error> {
        let clock = soar_integration_kit::SystemClock;
        let args: Object = args.as_object().cloned().unwrap_or_default();
        A::decode(&args, &ArgContext { clock: &clock })
    }

    #[test]
    fn id_parts_follow_the_reference_patterns() {
        let c = json!({"id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/acc/blobServices/default"});
        assert_eq!(scope_parts(&c), (json!("s1"), json!("rg1"), json!("acc")));
        assert_eq!(scope_parts(&json!({})), (Value::Null, Value::Null, Value::Null));
    }

    /// (arguments, the request body the reference builds from them).
    #[test]
    fn account_bodies_are_built_from_the_given_arguments_only() {
        let base =
            json!({"account_name": "a", "sku": "Standard_LRS", "kind": "StorageV2", "location": "eastus"});
        let with = |extra: Value| {
            let mut a = base.clone();
            if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
                a.extend(e.clone());
            }
            a
        };
        let cases = [
            (
                base.clone(),
                json!({"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {}}),
            ),
            (
                with(json!({"tags": "prod,secops", "custom_domain_name": "x.example"})),
                json!({"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus",
                       "tags": {"tag1": "prod", "tag2": "secops"}, "properties": {"customDomain": {"name": "x.example"}}}),
            ),
            (
                with(
                    json!({"enc_key_source": "Microsoft.Keyvault", "enc_keyvault_uri": "https://kv", "enc_requireInfrastructureEncryption": "true",
                            "supports_https_traffic_only": "false", "minimum_tls_version": "TLS1_2", "access_tier": "Hot"}),
                ),
                json!({"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {
                    "Encryption": {"keySource": "Microsoft.Keyvault", "keyvaultproperties": {"keyvaulturi": "https://kv"}, "requireInfrastructureEncryption": true},
                    "accessTier": "Hot", "supportsHttpsTrafficOnly": false, "minimumTlsVersion": "TLS1_2"}}),
            ),
            (
                with(
                    json!({"network_ruleset_bypass": "AzureServices", "network_ruleset_ipRules": "[{\"value\": \"1.1.1.1\"}]"}),
                ),
                json!({"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {
                    "networkAcls": {"bypass": "AzureServices", "ipRules": [{"value": "1.1.1.1"}]}}}),
            ),
        ];
        for (args, want) in cases {
            let got = decode::<AccountCreateUpdate>(args.clone()).and_then(|a| a.body());
            assert_eq!(got.map_err(|e| e.to_string()), Ok(want), "{args}");
        }
        let bad = decode::<AccountCreateUpdate>(with(json!({"virtual_network_rules": "{nope"})))
            .and_then(|a| a.body())
            .map(drop)
            .map_err(|e| e.to_string());
        assert!(bad.as_ref().is_err_and(|e| e.contains("virtual_network_rules")), "{bad:?}");
    }

    #[test]
    fn blob_service_bodies_keep_day_counts_as_given() {
        let args = json!({"account_name": "a", "delete_rentention_policy_enabled": "true", "delete_rentention_policy_days": "7",
                          "versioning": "false", "last_access_time_tracking_policy_blob_types": "blockBlob,appendBlob"});
        let want = json!({"deleteRetentionPolicy": {"enabled": true, "days": "7"}, "isVersioningEnabled": false,
                          "lastAccessTimeTrackingPolicy": {"blobType": ["blockBlob", "appendBlob"]}});
        assert_eq!(decode::<BlobServiceSet>(args).map(|a| a.props()).map_err(|e| e.to_string()), Ok(want));
        assert!(decode::<BlobServiceSet>(json!({"account_name": "a", "versioning": "maybe"})).is_err());
    }

    #[test]
    fn tag_filter_formats_one_pair_and_rejects_other_text() {
        assert_eq!(
            tag_filter(r#"{"Owner":"secops"}"#).map_err(|e| e.to_string()),
            Ok("tagName eq 'Owner' and tagValue eq 'secops'".to_owned())
        );
        for bad in ["Owner=secops", "{}", "[1]"] {
            assert!(tag_filter(bad).is_err_and(|e| e.to_string().contains("Invalid tag format")), "{bad}");
        }
    }

    /// A handler run against the fake ARM: the request it makes and the table it shows.
    #[tokio::test]
    async fn resource_groups_are_listed_with_the_reference_query() {
        let api = FakeApi::new("https://management.azure.com/");
        api.on_get(
            "subscriptions/s1/resourcegroups?$filter=tagName eq 'Owner' and tagValue eq 'me'&$top=50&api-version=2022-09-01",
            json!({"value": [{"id": "/subscriptions/s1/resourceGroups/rg1", "name": "rg1", "location": "eastus", "tags": {"Owner": "me"}}]}),
        );
        let arm = Arm { api: Box::new(api), flow: AuthFlow::ClientSecret };
        let mut ctx =
            CommandContext::new("azure-storage-resource-group-list", Object::new(), Default::default());
        let cmd = decode::<ResourceGroupList>(
            json!({"subscription_id": "s1", "limit": "0", "tag": "{\"Owner\": \"me\"}"}),
        );
        let Ok(cmd) = cmd else { panic!("{:?}", cmd.err()) };
        let out = cmd.run(&arm, &mut ctx).await.map_err(|e| e.to_string());
        let Ok(out) = out else { panic!("{out:?}") };
        let md = out.entries[0].human_readable.as_str().unwrap_or_default().to_owned();
        assert!(md.starts_with("### Resource Groups List\n|Name|Location|Tags|"), "{md}");
        assert!(md.contains("| rg1 | eastus | Owner: me |"), "{md}");
    }
}
