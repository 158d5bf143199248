//! The command handlers: each builds one ARM call from its arguments and the instance's
//! defaults, and turns the answer into the reference's table and context.

use serde_json::{Map, Value, json};
use soar_core::{CommandContext, Error, Outcome};
use soar_integration_kit::args::{arg, arg_or_param, given, required, strict_bool};
use soar_integration_kit::{Api, Call, Method, Results, Table};

use crate::specs::Kind;

/// The ARM API version of every call (the reference uses it even for subscriptions and
/// resource groups).
pub const API_VERSION: &str = "2022-09-01";

/// What a handler needs besides the request.
pub struct Env<'a> {
    /// The ARM client for this request.
    pub api: &'a dyn Api,
}

/// Runs one command; errors get the reference's `Failed to execute ...` wrapping in `lib.rs`.
pub async fn run(kind: Kind, env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    match kind {
        // test-module is answered in lib.rs (it depends on the flow, not on an API call).
        Kind::TestModule => Err(Error::Command("test-module is handled by the integration".to_owned())),
        Kind::AccountList => account_list(env, ctx).await,
        Kind::AccountCreateUpdate => account_create_update(env, ctx).await,
        Kind::BlobServiceGet => blob_service(env, ctx, false).await,
        Kind::BlobServiceSet => blob_service(env, ctx, true).await,
        Kind::ContainerCreate => container_write(env, ctx, Method::Put).await,
        Kind::ContainerUpdate => container_write(env, ctx, Method::Patch).await,
        Kind::ContainerList => container_list(env, ctx).await,
        Kind::ContainerDelete => container_delete(env, ctx).await,
        Kind::SubscriptionsList => subscriptions_list(env, ctx).await,
        Kind::ResourceGroupList => resource_group_list(env, ctx).await,
    }
}

// ---- arguments -------------------------------------------------------------------------------

fn is_true(v: &str) -> bool {
    v == "true"
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

fn accounts_path(sub: &str, rg: &str) -> String {
    format!("subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts")
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

async fn account_list(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    let sub = arg_or_param(ctx, "subscription_id")?;
    let rg = arg_or_param(ctx, "resource_group_name")?;
    let name = arg(ctx, "account_name").unwrap_or_default();
    let call = Call::new(Method::Get, format!("{}/{name}", accounts_path(&sub, &rg)))
        .query("api-version", API_VERSION);
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?.body;
    let accounts = items(&reply);
    let rows: Vec<Value> = accounts.iter().map(account_row).collect();
    let md =
        Table::new("Azure Storage Account List", Value::Array(rows)).headers(ACCOUNT_HEADERS).render()?;
    Results {
        readable: Some(md),
        prefix: Some("AzureStorage.StorageAccount"),
        key_field: Some("id"),
        outputs: Some(Value::Array(accounts)),
        raw: Some(reply),
    }
    .outcome()
}

async fn account_create_update(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    let sub = arg_or_param(ctx, "subscription_id")?;
    let rg = arg_or_param(ctx, "resource_group_name")?;
    let name = required(ctx, "account_name")?;
    let body = account_body(ctx)?;
    let call = Call::new(Method::Put, format!("{}/{name}", accounts_path(&sub, &rg)))
        .query("api-version", API_VERSION)
        .body(body);
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?.body;
    if reply.is_null() {
        return Results::text(format!(
            "The request was accepted - the account {name} will be created shortly"
        ))
        .outcome();
    }
    let md = Table::new("Azure Storage Account", account_row(&reply)).headers(ACCOUNT_HEADERS).render()?;
    Results {
        readable: Some(md),
        prefix: Some("AzureStorage.StorageAccount"),
        key_field: Some("id"),
        outputs: Some(reply.clone()),
        raw: Some(reply),
    }
    .outcome()
}

/// The PUT body, built only from the arguments given (as the reference does).
fn account_body(ctx: &CommandContext) -> Result<Value, Error> {
    let g = |k: &str| given(ctx, k);
    let mut props = Map::new();
    let mut body = Map::new();
    body.insert("sku".into(), json!({"name": required(ctx, "sku")?}));
    body.insert("kind".into(), json!(required(ctx, "kind")?));
    body.insert("location".into(), json!(required(ctx, "location")?));
    if let Some(tags) = g("tags") {
        // The reference names the values tag1, tag2, ... (it has no way to pass tag names).
        let obj: Map<String, Value> =
            tags.split(',').enumerate().map(|(i, v)| (format!("tag{}", i + 1), json!(v))).collect();
        body.insert("tags".into(), Value::Object(obj));
    }
    if let Some(domain) = g("custom_domain_name") {
        let mut cd = Map::new();
        cd.insert("name".into(), json!(domain));
        // The reference indexes use_sub_domain_name unguarded; here it is optional.
        if let Some(sub) = arg(ctx, "use_sub_domain_name") {
            cd.insert("useSubDomainName".into(), json!(is_true(&sub)));
        }
        props.insert("customDomain".into(), Value::Object(cd));
    }
    let enc_keys = [
        "enc_key_source",
        "enc_keyvault_key_name",
        "enc_keyvault_key_version",
        "enc_keyvault_uri",
        "enc_requireInfrastructureEncryption",
    ];
    if enc_keys.iter().any(|k| g(k).is_some()) {
        let mut enc = Map::new();
        if let Some(v) = g("enc_key_source") {
            enc.insert("keySource".into(), json!(v));
        }
        let mut kv = Map::new();
        for (arg_name, key) in [
            ("enc_keyvault_key_name", "keyname"),
            ("enc_keyvault_key_version", "keyversion"),
            ("enc_keyvault_uri", "keyvaulturi"),
        ] {
            if let Some(v) = g(arg_name) {
                kv.insert(key.into(), json!(v));
            }
        }
        if !kv.is_empty() {
            enc.insert("keyvaultproperties".into(), Value::Object(kv));
        }
        if let Some(v) = g("enc_requireInfrastructureEncryption") {
            enc.insert("requireInfrastructureEncryption".into(), json!(is_true(&v)));
        }
        // The reference writes `Encryption` with a capital E; ARM property names are
        // case-insensitive, and we keep the reference's spelling on the wire.
        props.insert("Encryption".into(), Value::Object(enc));
    }
    let net_keys = [
        "network_ruleset_bypass",
        "network_ruleset_default_action",
        "network_ruleset_ipRules",
        "virtual_network_rules",
    ];
    if net_keys.iter().any(|k| g(k).is_some()) {
        let mut acls = Map::new();
        if let Some(v) = g("network_ruleset_bypass") {
            acls.insert("bypass".into(), json!(v));
        }
        if let Some(v) = g("network_ruleset_default_action") {
            acls.insert("defaultAction".into(), json!(v));
        }
        for (arg_name, key) in
            [("network_ruleset_ipRules", "ipRules"), ("virtual_network_rules", "virtualNetworkRules")]
        {
            if let Some(v) = g(arg_name) {
                let parsed: Value = serde_json::from_str(&v).map_err(|e| Error::InvalidArg {
                    name: arg_name.to_owned(),
                    reason: format!("not valid JSON ({e}); give a JSON list such as [{{\"value\": \"1.1.1.1\", \"action\": \"Allow\"}}]."),
                })?;
                acls.insert(key.into(), parsed);
            }
        }
        props.insert("networkAcls".into(), Value::Object(acls));
    }
    for (arg_name, key, boolean) in [
        ("access_tier", "accessTier", false),
        ("supports_https_traffic_only", "supportsHttpsTrafficOnly", true),
        ("is_hns_enabled", "isHnsEnabled", true),
        ("large_file_shares_state", "largeFileSharesState", false),
        ("allow_blob_public_access", "allowBlobPublicAccess", true),
        ("minimum_tls_version", "minimumTlsVersion", false),
    ] {
        if let Some(v) = g(arg_name) {
            props.insert(key.into(), if boolean { json!(is_true(&v)) } else { json!(v) });
        }
    }
    body.insert("properties".into(), Value::Object(props));
    Ok(Value::Object(body))
}

// ---- blob service ------------------------------------------------------------------------------

async fn blob_service(env: &Env<'_>, ctx: &mut CommandContext, set: bool) -> Result<Outcome, Error> {
    let sub = arg_or_param(ctx, "subscription_id")?;
    let rg = arg_or_param(ctx, "resource_group_name")?;
    let account = required(ctx, "account_name")?;
    let path = format!("{}/{account}/blobServices/default", accounts_path(&sub, &rg));
    let call = if set {
        Call::new(Method::Put, path)
            .query("api-version", API_VERSION)
            .body(json!({"properties": blob_service_props(ctx)?}))
    } else {
        Call::new(Method::Get, path).query("api-version", API_VERSION)
    };
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?.body;
    let (s, r, a) = scope_parts(&reply);
    // get shows the booleans; set shows them as Python str() text ("True"/"False").
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
    Results {
        readable: Some(md),
        prefix: Some("AzureStorage.BlobServiceProperties"),
        key_field: Some("id"),
        outputs: Some(reply.clone()),
        raw: Some(reply),
    }
    .outcome()
}

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

fn blob_service_props(ctx: &CommandContext) -> Result<Value, Error> {
    let g = |k: &str| given(ctx, k);
    let mut props = Map::new();
    // Day counts are sent as the raw argument text, as the reference does.
    let mut pair = |key: &str, enabled_arg: &str, days_arg: &str, days_key: &str| {
        let mut o = Map::new();
        if let Some(v) = g(enabled_arg) {
            o.insert("enabled".into(), json!(is_true(&v)));
        }
        if let Some(v) = g(days_arg) {
            o.insert(days_key.into(), json!(v));
        }
        if !o.is_empty() {
            props.insert(key.into(), Value::Object(o));
        }
    };
    pair("changeFeed", "change_feed_enabled", "change_feed_retention_days", "retentionInDays");
    pair(
        "containerDeleteRetentionPolicy",
        "container_delete_rentention_policy_enabled",
        "container_delete_rentention_policy_days",
        "days",
    );
    pair(
        "deleteRetentionPolicy",
        "delete_rentention_policy_enabled",
        "delete_rentention_policy_days",
        "days",
    );
    if let Some(v) = g("versioning") {
        props.insert("isVersioningEnabled".into(), json!(strict_bool("versioning", &v)?));
    }
    let lat = [
        "last_access_time_tracking_policy_enabled",
        "last_access_time_tracking_policy_blob_types",
        "last_access_time_tracking_policy_days",
    ];
    if lat.iter().any(|k| g(k).is_some()) {
        let mut o = Map::new();
        if let Some(v) = g(lat[0]) {
            o.insert("enable".into(), json!(is_true(&v)));
        }
        if let Some(v) = g(lat[1]) {
            o.insert("blobType".into(), json!(v.split(',').collect::<Vec<_>>()));
        }
        if let Some(v) = g(lat[2]) {
            o.insert("trackingGranularityInDays".into(), json!(v));
        }
        props.insert("lastAccessTimeTrackingPolicy".into(), Value::Object(o));
    }
    let rp = ["restore_policy_enabled", "restore_policy_min_restore_time", "restore_policy_days"];
    if rp.iter().any(|k| g(k).is_some()) {
        let mut o = Map::new();
        if let Some(v) = g(rp[0]) {
            o.insert("enabled".into(), json!(is_true(&v)));
        }
        if let Some(v) = g(rp[1]) {
            o.insert("minRestoreTime".into(), json!(v));
        }
        if let Some(v) = g(rp[2]) {
            o.insert("days".into(), json!(v));
        }
        props.insert("restorePolicy".into(), Value::Object(o));
    }
    Ok(Value::Object(props))
}

// ---- blob containers ---------------------------------------------------------------------------

fn containers_path(ctx: &CommandContext, container: &str) -> Result<String, Error> {
    let sub = arg_or_param(ctx, "subscription_id")?;
    let rg = arg_or_param(ctx, "resource_group_name")?;
    let account = required(ctx, "account_name")?;
    Ok(format!("{}/{account}/blobServices/default/containers/{container}", accounts_path(&sub, &rg)))
}

async fn container_write(env: &Env<'_>, ctx: &mut CommandContext, method: Method) -> Result<Outcome, Error> {
    let container = required(ctx, "container_name")?;
    let path = containers_path(ctx, &container)?;
    let mut props = Map::new();
    if let Some(v) = given(ctx, "default_encryption_scope") {
        props.insert("defaultEncryptionScope".into(), json!(v));
    }
    if let Some(v) = given(ctx, "deny_encryption_scope_override") {
        props.insert(
            "denyEncryptionScopeOverride".into(),
            json!(strict_bool("deny_encryption_scope_override", &v)?),
        );
    }
    if let Some(v) = given(ctx, "public_access") {
        props.insert("publicAccess".into(), json!(v));
    }
    let call = Call::new(method, path).query("api-version", API_VERSION).body(json!({"properties": props}));
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?.body;
    let (s, r, a) = scope_parts(&reply);
    let mut row =
        json!({"Name": reply.get("name"), "Account Name": a, "Subscription ID": s, "Resource Group": r});
    let mut headers = vec!["Name", "Account Name", "Subscription ID", "Resource Group"];
    if method == Method::Patch {
        if let Some(o) = row.as_object_mut() {
            o.insert("Public Access".into(), prop(&reply, "publicAccess"));
        }
        headers.push("Public Access");
    }
    let md = Table::new("Azure Storage Blob Containers Properties", row).headers(headers).render()?;
    Results {
        readable: Some(md),
        prefix: Some("AzureStorage.BlobContainer"),
        key_field: Some("id"),
        outputs: Some(reply.clone()),
        raw: Some(reply),
    }
    .outcome()
}

async fn container_list(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    let container = arg(ctx, "container_name").unwrap_or_default();
    let path = containers_path(ctx, &container)?;
    let mut call = Call::new(Method::Get, path).query("api-version", API_VERSION);
    if given(ctx, "include_deleted").as_deref() == Some("true") {
        call = call.query("$include", "deleted");
    }
    if let Some(v) = given(ctx, "maxpagesize") {
        call = call.query("$maxpagesize", v);
    }
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?.body;
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
    Results {
        readable: Some(md),
        prefix: Some("AzureStorage.BlobContainer"),
        key_field: Some("id"),
        outputs: Some(Value::Array(containers)),
        raw: Some(reply),
    }
    .outcome()
}

async fn container_delete(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    let container = required(ctx, "container_name")?;
    let path = containers_path(ctx, &container)?;
    let call = Call::new(Method::Delete, path).query("api-version", API_VERSION);
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?;
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

// ---- subscriptions and resource groups ---------------------------------------------------------

async fn subscriptions_list(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    let call = Call::new(Method::Get, "subscriptions").query("api-version", API_VERSION);
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?.body;
    let subs = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    let md = Table::new("Azure Storage Subscriptions list", Value::Array(subs.clone()))
        .headers(["subscriptionId", "tenantId", "displayName", "state"])
        .render()?;
    Results {
        readable: Some(md),
        prefix: Some("AzureStorage.Subscription"),
        key_field: Some("id"),
        outputs: Some(Value::Array(subs)),
        raw: Some(reply),
    }
    .outcome()
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

async fn resource_group_list(env: &Env<'_>, ctx: &mut CommandContext) -> Result<Outcome, Error> {
    let sub = arg_or_param(ctx, "subscription_id")?;
    let limit_text = arg(ctx, "limit").unwrap_or_else(|| "50".to_owned());
    let limit: u32 = limit_text.trim().parse().map_err(|_| Error::InvalidArg {
        name: "limit".to_owned(),
        reason: format!("\"{limit_text}\" is not a whole number."),
    })?;
    // `arg_to_number(...) or 50`: zero means the default too.
    let limit = if limit == 0 { 50 } else { limit };
    let filter = match arg(ctx, "tag") {
        Some(tag) => tag_filter(&tag)?,
        None => String::new(),
    };
    let call = Call::new(Method::Get, format!("subscriptions/{sub}/resourcegroups"))
        .query("$filter", filter)
        .query("$top", limit.to_string())
        .query("api-version", API_VERSION);
    let reply = env.api.send(&mut ctx.integration_context, call).await.map_err(Error::command)?.body;
    let groups = reply.get("value").and_then(Value::as_array).cloned().unwrap_or_default();
    let md = Table::new("Resource Groups List", Value::Array(groups.clone()))
        .headers(["name", "location", "tags"])
        .remove_null()
        .header_transform_table_header()
        .render()?;
    Results {
        readable: Some(md),
        prefix: Some("AzureStorage.ResourceGroup"),
        key_field: Some("id"),
        outputs: Some(Value::Array(groups)),
        raw: Some(reply),
    }
    .outcome()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_parts_follow_the_reference_patterns() {
        let c = json!({"id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/acc/blobServices/default"});
        assert_eq!(scope_parts(&c), (json!("s1"), json!("rg1"), json!("acc")));
        assert_eq!(scope_parts(&json!({})), (Value::Null, Value::Null, Value::Null));
    }

    fn ctx(args: Value) -> CommandContext {
        CommandContext::new("test", args.as_object().cloned().unwrap_or_default(), Default::default())
    }

    /// (arguments, the request body the reference builds from them).
    #[test]
    fn account_bodies_are_built_from_the_given_arguments_only() {
        let base = json!({"sku": "Standard_LRS", "kind": "StorageV2", "location": "eastus"});
        let with = |extra: Value| {
            let mut a = base.clone();
            a.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
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
                            "supports_https_traffic_only": "false", "minimum_tls_version": "TLS1_2"}),
                ),
                json!({"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus", "properties": {
                    "Encryption": {"keySource": "Microsoft.Keyvault", "keyvaultproperties": {"keyvaulturi": "https://kv"}, "requireInfrastructureEncryption": true},
                    "supportsHttpsTrafficOnly": false, "minimumTlsVersion": "TLS1_2"}}),
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
            assert_eq!(account_body(&ctx(args.clone())).unwrap(), want, "{args}");
        }
        let bad =
            account_body(&ctx(with(json!({"virtual_network_rules": "{nope"})))).unwrap_err().to_string();
        assert!(bad.contains("virtual_network_rules"), "{bad}");
    }

    #[test]
    fn blob_service_bodies_keep_day_counts_as_given() {
        let args = json!({"delete_rentention_policy_enabled": "true", "delete_rentention_policy_days": "7",
                          "versioning": "false", "last_access_time_tracking_policy_blob_types": "blockBlob,appendBlob"});
        let want = json!({"deleteRetentionPolicy": {"enabled": true, "days": "7"}, "isVersioningEnabled": false,
                          "lastAccessTimeTrackingPolicy": {"blobType": ["blockBlob", "appendBlob"]}});
        assert_eq!(blob_service_props(&ctx(args)).unwrap(), want);
        assert!(blob_service_props(&ctx(json!({"versioning": "maybe"}))).is_err());
    }

    #[test]
    fn tag_filter_formats_one_pair_and_rejects_other_text() {
        assert_eq!(
            tag_filter(r#"{"Owner":"secops"}"#).unwrap(),
            "tagName eq 'Owner' and tagValue eq 'secops'"
        );
        for bad in ["Owner=secops", "{}", "[1]"] {
            assert!(tag_filter(bad).unwrap_err().to_string().contains("Invalid tag format"), "{bad}");
        }
    }
}
