//! Seeded collections: resource APIs that grow by data, not code.
//!
//! Every `test-data/<integration>/emulator-seed.json` is compiled in (`build.rs` lists the folders
//! into [`BUILTIN_SEEDS`], so a new folder needs no emulator edit), checked when an emulator
//! starts, and served as generic collections. Tests add seeds of their own through
//! [`EmulatorConfig::extra_seeds`](crate::config::EmulatorConfig::extra_seeds) (`(name, json)`
//! pairs), so they do not depend on what `test-data/` holds. A seed is plain data: it shares no
//! code with the client side.
//!
//! # Format
//!
//! ```json
//! {
//!   "api": "graph",
//!   "collections": [
//!     {
//!       "path": "v1.0/security/incidents",
//!       "key": "id",
//!       "read": ["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"],
//!       "write": ["SecurityIncident.ReadWrite.All"],
//!       "paging": "odata-next-link",
//!       "page_size": 50,
//!       "items": [{"id": "1", "displayName": "Phishing"}]
//!     }
//!   ]
//! }
//! ```
//!
//! | field | meaning |
//! |---|---|
//! | `api` | `graph`, `arm`, `defender` (Defender for Endpoint), `security` (Defender XDR) or `log-analytics`: the audience a token must have, on any host of that API in its cloud, as for the hand-written routes (a token for another API or cloud gets the API's 401) |
//! | `collections[].path` | below the API's root (`v1.0/...`, `subscriptions/...`, `api/...`, `v1/...`), leading and trailing `/` ignored; `{subscription}` is the emulator's default subscription id (also replaced in the items' strings) |
//! | `key` | the item field that is its id, the last segment of `{path}/{key}`; each item must have it, a non-empty string or a number, unique (case-insensitively) |
//! | `read` | app roles or delegated scopes, any one of which allows `GET`; `[]` allows any valid token. For `arm`: the actions named in ARM's 403 (`Microsoft.X/y/read`); access itself is the RBAC of the hand-written ARM routes (a role assignment on a prefix of the resource's scope) |
//! | `write` | optional, like `read`, for the writes; absent makes the collection read-only (405 to writes) |
//! | `delegated` | optional, at the top of the file (beside `api`): the delegated scopes any one of which allows every collection's reads and writes, `[]` any valid delegated token (the hand-written Defender routes' rule); absent: `read` / `write` are checked against delegated tokens' scopes too |
//! | `paging` | `odata-next-link` (`$top`, `$skip`, absolute `@odata.nextLink` with `$skiptoken`), `top-skip` (`$top`/`$skip`, no link), `arm-next-link` (`nextLink` with `$skiptoken`; `$top` sets the page size) |
//! | `page_size` | optional, default 100: the page size when `$top` is absent (small ones let tests page a small seed) |
//! | `api_version` | optional: the `api-version` query every request must carry; `arm` requires one even without this field |
//! | `items` | optional, default `[]`: the objects served |
//! | `items_by_parent` | for a path with a `{parent}` segment (a collection under an item of another, `.../incidents/{parent}/comments`): `{"<parent key>": [items]}`; each parent's items are their own collection, and while the parent collection (the path before `/{parent}`) is seeded too, a request under a parent it does not hold is that collection's 404 |
//! | `query` | optional, default `false`: lists honour OData `$filter` and `$orderby` (`apis::odata`; Azure's `search.in(path, 'a,b', ',')` is read as `or`ed `eq`s); a query that does not parse is the API's 400 `InvalidFilterInQueryString` |
//! | `etag` | optional: the item field holding its etag. A write whose body has that field, or an `If-Match` header, with another value than the stored item's is 412 `PreconditionFailed` (`*` matches any; a PUT naming an etag for an item that does not exist too); every write sets a new one (`"0000002a-0000-0000-0000-000000000000"`, from the instance's serial, so runs repeat) |
//! | `server_fields` | optional `{"created", "modified", "sequence", "key"}`: `/`-separated paths the server sets on writes: `created` (now, on create, unless given), `modified` (now, every write), `sequence` (one more than the highest, on create), `key` (the item's key, every write), `kept` (a list: read-only fields a write keeps when its body leaves them out); `created` and `sequence` cannot be changed by a write |
//! | `list_method` | optional, `GET` (default) or `POST`: `POST {path}` lists (Sentinel's incident alerts and entities), and the collection has no POST create |
//! | `list_key` | optional, default `value`: the key of the list in a list answer (`entities`) |
//!
//! An unknown field, a wrong type, an empty path, an unknown `{placeholder}` (or more than one
//! `{parent}`), `items` on a `{parent}` path or `items_by_parent` without one, an item without
//! its key, a duplicate key, or two collections of one API at one path make the emulator refuse
//! to start, with a message naming the seed and the field (`collections[0].items[2].id`).
//!
//! # Routes
//!
//! `GET {path}` (`{"value": [...]}` paged as declared, with `@odata.context` on the OData APIs
//! Graph, Defender and Defender XDR), `GET {path}/{key}`; with `write`: `POST {path}` (not on
//! ARM; 201 with the item, its key a new UUID when the body has none), `PATCH {path}/{key}` (200
//! with the merged item), `PUT {path}/{key}` (ARM only: create-or-update, 201 or 200),
//! `DELETE {path}/{key}`. An unknown key is 404 in the API's body (Graph
//! `Request_ResourceNotFound`, ARM and Defender `ResourceNotFound`). The checks run in the
//! hand-written routes' order: method (405), token and permission (401/403), `api-version`
//! (400), ARM RBAC (403, before any existence check), then the item.
//!
//! They are the router's fallback, so a hand-written route at the same path always wins, and a
//! path matching no collection gets the emulator's usual 404, except on ARM's host under
//! `subscriptions/{s}/resourceGroups/{rg}/providers/...`: there a valid token gets ARM's
//! `ResourceGroupNotFound` (no collection is seeded in that group) or `ResourceNotFound` (the
//! group is known; the resource is named), as a wrong resource group or workspace name would. When collections of two APIs share
//! a path, the one whose API the request's host serves is chosen (the first on loopback).
//! Each emulator instance has its own copy of the items in its store; writes change only that.
//!
//! Decisions:
//! - a write changes the key field only through the URL: PATCH keeps it, PUT sets it;
//! - Graph and Defender PATCH replace top-level properties; ARM PATCH merges nested objects (ARM's
//!   merge-patch), and ARM PUT fills `id`, `name` and `type` when the body leaves them out;
//! - ARM DELETE answers 200 when the resource existed and 204 when it did not (ARM does not 404);
//! - a POST whose key already exists is 400 `Request_MultipleObjectsWithSameKeyValue` on Graph,
//!   409 `Conflict` elsewhere.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    ApiError, Store, api_headers, arm_authorize, arm_list, authenticate_any, graph_list, odata_skip_list,
    status_json,
};
use crate::Error;
use crate::clouds::{self, ApiKind};
use crate::config::DEFAULT_SUBSCRIPTION_ID;
use crate::meta::RequestMeta;
use crate::state::EmulatorState;

/// `(integration folder, seed text)` of every `test-data/*/emulator-seed.json`, sorted by folder.
pub const BUILTIN_SEEDS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/seeds.rs"));

const DEFAULT_PAGE_SIZE: usize = 100;
/// Graph's usual `$top` ceiling.
const GRAPH_MAX_TOP: usize = 999;
/// Defender's `$top` ceiling.
const DEFENDER_MAX_TOP: usize = 10_000;
/// The largest request body read (as the protocol's own limit).
pub(crate) const MAX_BODY: usize = 16 << 20;

/// The API a seed's collections belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeedApi {
    /// Microsoft Graph.
    Graph,
    /// Azure Resource Manager.
    Arm,
    /// Microsoft Defender for Endpoint.
    Defender,
    /// Microsoft Defender XDR (`api.security.microsoft.com`).
    Security,
    /// The Log Analytics query API.
    LogAnalytics,
}

impl SeedApi {
    /// The token audience and error shapes.
    pub fn kind(self) -> ApiKind {
        match self {
            SeedApi::Graph => ApiKind::Graph,
            SeedApi::Arm => ApiKind::Arm,
            SeedApi::Defender => ApiKind::Defender,
            SeedApi::Security => ApiKind::Security,
            SeedApi::LogAnalytics => ApiKind::LogAnalytics,
        }
    }

    /// The spelling in seed files.
    pub fn name(self) -> &'static str {
        match self {
            SeedApi::Graph => "graph",
            SeedApi::Arm => "arm",
            SeedApi::Defender => "defender",
            SeedApi::Security => "security",
            SeedApi::LogAnalytics => "log-analytics",
        }
    }

    fn odata(self) -> bool {
        matches!(self, SeedApi::Graph | SeedApi::Defender | SeedApi::Security)
    }
}

/// How a collection pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Paging {
    /// `$top`, `$skip`, `@odata.nextLink` with `$skiptoken` (Graph).
    OdataNextLink,
    /// `$top`/`$skip`, no link (Defender).
    TopSkip,
    /// `nextLink` with `$skiptoken` (ARM).
    ArmNextLink,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    api: SeedApi,
    #[serde(default)]
    delegated: Option<Vec<String>>,
    collections: Vec<CollectionSeed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CollectionSeed {
    path: String,
    key: String,
    read: Vec<String>,
    #[serde(default)]
    write: Option<Vec<String>>,
    paging: Paging,
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    items: Vec<Value>,
    #[serde(default)]
    items_by_parent: Map<String, Value>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    list_method: Option<ListMethod>,
    #[serde(default)]
    list_key: Option<String>,
    #[serde(default)]
    server_fields: ServerFields,
    #[serde(default)]
    query: bool,
}

/// The method that lists a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ListMethod {
    /// `GET {path}` (the default).
    Get,
    /// `POST {path}` lists (Sentinel's incident alerts and entities); the collection then has no
    /// `POST` create.
    Post,
}

/// Fields the server sets on writes, as `/`-separated paths into the item
/// (`properties/createdTimeUtc`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerFields {
    /// Set to the current time (RFC 3339, UTC) when an item is created.
    #[serde(default)]
    pub created: Option<String>,
    /// Set to the current time on every write.
    #[serde(default)]
    pub modified: Option<String>,
    /// Set to one more than the collection's highest value when an item is created.
    #[serde(default)]
    pub sequence: Option<String>,
    /// Set to the item's key on every write (Sentinel's `properties/watchlistItemId`).
    #[serde(default)]
    pub key: Option<String>,
    /// Read-only fields a write keeps from the stored item when its body leaves them out
    /// (Sentinel's `properties/additionalData`).
    #[serde(default)]
    pub kept: Vec<String>,
}

/// One served collection (its items live in the instance's [`Store`]).
#[derive(Debug, Clone)]
pub struct Collection {
    /// The seed it came from (`test-data/<integration>/emulator-seed.json` or an extra seed's name).
    pub seed: String,
    /// Its API.
    pub api: SeedApi,
    /// The path below the API's root, without leading or trailing `/`.
    pub path: String,
    /// The key field.
    pub key: String,
    /// Permissions for reads.
    pub read: Vec<String>,
    /// Permissions for writes; `None` = read-only.
    pub write: Option<Vec<String>>,
    /// The seed's delegated scopes (any one allows reads and writes; empty: any delegated
    /// token); `None` = `read` / `write` serve delegated tokens too.
    pub delegated: Option<Vec<String>>,
    /// The paging kind.
    pub paging: Paging,
    /// The page size when `$top` is absent.
    pub page_size: usize,
    /// The required `api-version`.
    pub api_version: Option<String>,
    /// The item field holding its etag (checked on writes, renewed by each).
    pub etag: Option<String>,
    /// The method that lists the collection.
    pub list_method: ListMethod,
    /// The key of the list in a list answer (`value` unless declared).
    pub list_key: String,
    /// The fields the server sets on writes.
    pub server_fields: ServerFields,
    /// The index of the `{parent}` segment, for a collection under an item of another.
    pub parent_at: Option<usize>,
    /// Lists honour OData `$filter` and `$orderby` (`apis::odata`).
    pub query: bool,
    segments: Vec<String>,
}

impl Collection {
    /// The store collection holding the items (of one parent, for a collection under an item).
    pub fn store_name_of(&self, parent: Option<&str>) -> String {
        let path = match parent {
            Some(p) => self.path.replace("{parent}", p),
            None => self.path.clone(),
        };
        format!("seed:{}:{}", self.api.name(), path.to_ascii_lowercase())
    }

    /// The store collection of a collection without a parent.
    pub fn store_name(&self) -> String {
        self.store_name_of(None)
    }

    /// The path with the parent filled in.
    pub fn path_of(&self, parent: Option<&str>) -> String {
        match parent {
            Some(p) => self.path.replace("{parent}", p),
            None => self.path.clone(),
        }
    }

    /// The path of the collection holding the parent items (`a/b/{parent}/c` -> `a/b`).
    pub fn parent_path(&self) -> Option<String> {
        let at = self.parent_at?;
        Some(self.segments[..at].join("/"))
    }
}

/// The seeded collections of one emulator instance.
#[derive(Debug, Default)]
pub struct Seeded {
    collections: Vec<Collection>,
}

impl Seeded {
    /// Parses the built-in seeds and then `extra` (`(name, json)`), checks them, and puts their
    /// items into `store`.
    pub fn load(extra: &[(String, String)], store: &Store) -> Result<Seeded, Error> {
        let builtin =
            BUILTIN_SEEDS.iter().map(|(n, text)| (format!("test-data/{n}/emulator-seed.json"), *text));
        let extra = extra.iter().map(|(n, text)| (n.clone(), text.as_str()));
        let mut collections: Vec<Collection> = Vec::new();
        for (label, text) in builtin.chain(extra) {
            for (c, items) in parse_seed(&label, text)? {
                if let Some(other) =
                    collections.iter().find(|o| o.api == c.api && o.path.eq_ignore_ascii_case(&c.path))
                {
                    return Err(Error::Config(format!(
                        "emulator seed {label}: collection '{}' of api {} is also in {}",
                        c.path,
                        c.api.name(),
                        other.seed
                    )));
                }
                for (parent, items) in items {
                    store.replace(&c.store_name_of(parent.as_deref()), items);
                }
                collections.push(c);
            }
        }
        Ok(Seeded { collections })
    }

    /// Every collection, in load order.
    pub fn collections(&self) -> &[Collection] {
        &self.collections
    }

    /// The collection a request path names, the parent segment (for a collection under an
    /// item) and the key segment (`None` for the collection itself): the longest matching path
    /// with the fewest `{parent}` wildcards, then the API whose host this is.
    pub fn find(&self, path: &str, host: &str) -> Option<Found<'_>> {
        let segs: Vec<String> = path.trim_start_matches('/').split('/').map(percent_decode).collect();
        let mut best: Option<Found<'_>> = None;
        for c in &self.collections {
            let n = c.segments.len();
            let matches = |(i, (a, b)): (usize, (&String, &String))| {
                if c.parent_at == Some(i) { !b.is_empty() } else { a.eq_ignore_ascii_case(b) }
            };
            if segs.len() < n || segs.len() > n + 1 || !c.segments.iter().zip(&segs).enumerate().all(matches)
            {
                continue;
            }
            let rank = |x: &Collection| (x.segments.len(), x.parent_at.is_none());
            let better = best.as_ref().is_none_or(|b| {
                rank(c) > rank(b.collection)
                    || (rank(c) == rank(b.collection)
                        && !clouds::is_api_host(b.collection.api.kind(), host)
                        && clouds::is_api_host(c.api.kind(), host))
            });
            if better {
                best = Some(Found {
                    collection: c,
                    parent: c.parent_at.and_then(|i| segs.get(i).cloned()),
                    key: segs.get(n).filter(|k| !k.is_empty()).cloned(),
                });
            }
        }
        best
    }

    /// The collection at `path` of `api` (exact, `{parent}` spelled as such).
    pub fn collection(&self, api: SeedApi, path: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.api == api && c.path.eq_ignore_ascii_case(path))
    }
}

/// A request's collection, parent segment and key segment.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    /// The collection.
    pub collection: &'a Collection,
    /// The `{parent}` segment's value.
    pub parent: Option<String>,
    /// The item's key (`None` for the collection itself).
    pub key: Option<String>,
}

/// The items of a collection, by parent (`None` for a collection without one).
pub type SeedItems = Vec<(Option<String>, Vec<Value>)>;

/// Parses and checks one seed; `label` names it in errors. Returns each collection with its items.
pub fn parse_seed(label: &str, text: &str) -> Result<Vec<(Collection, SeedItems)>, Error> {
    let fail =
        |field: &str, problem: String| Error::Config(format!("emulator seed {label}: {field}: {problem}"));
    let de = &mut serde_json::Deserializer::from_str(text);
    let file: SeedFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                Error::Config(format!("emulator seed {label}: not valid JSON: {inner}"))
            }
            _ if path == "." => fail("(top level)", inner.to_string()),
            _ => fail(&path, inner.to_string()),
        }
    })?;
    if let Some(j) = file.delegated.as_ref().and_then(|l| l.iter().position(|p| p.trim().is_empty())) {
        return Err(fail(&format!("delegated[{j}]"), "is empty".into()));
    }
    let mut out = Vec::new();
    for (i, c) in file.collections.into_iter().enumerate() {
        let at = |f: &str| format!("collections[{i}].{f}");
        let path = normalize_path(&c.path).map_err(|p| fail(&at("path"), p))?;
        if c.key.trim().is_empty() {
            return Err(fail(&at("key"), "is empty".into()));
        }
        for (name, list) in [("read", Some(&c.read)), ("write", c.write.as_ref())] {
            if let Some(j) = list.and_then(|l| l.iter().position(|p| p.trim().is_empty())) {
                return Err(fail(&at(&format!("{name}[{j}]")), "is empty".into()));
            }
        }
        if c.page_size == Some(0) {
            return Err(fail(&at("page_size"), "must be at least 1".into()));
        }
        if c.api_version.as_deref().is_some_and(|v| v.trim().is_empty()) {
            return Err(fail(&at("api_version"), "is empty (leave the field out instead)".into()));
        }
        let segments: Vec<String> = path.split('/').map(str::to_string).collect();
        let parent_at = segments.iter().position(|s| s == "{parent}");
        let mut groups: Vec<(Option<String>, String, Vec<Value>)> = Vec::new();
        match parent_at {
            None if !c.items_by_parent.is_empty() => {
                return Err(fail(&at("items_by_parent"), "needs a {parent} segment in the path".into()));
            }
            None => groups.push((None, "items".into(), c.items)),
            Some(_) if !c.items.is_empty() => {
                return Err(fail(
                    &at("items"),
                    "a collection under {parent} lists its items in items_by_parent".into(),
                ));
            }
            Some(_) => {
                for (parent, list) in c.items_by_parent {
                    let Value::Array(list) = list else {
                        return Err(fail(&at(&format!("items_by_parent.{parent}")), "is not a list".into()));
                    };
                    groups.push((Some(parent.clone()), format!("items_by_parent.{parent}"), list));
                }
            }
        }
        let mut items: SeedItems = Vec::new();
        for (parent, label_items, list) in groups {
            let mut seen: Vec<(String, usize)> = Vec::new();
            let mut group = Vec::with_capacity(list.len());
            for (j, mut item) in list.into_iter().enumerate() {
                let field = at(&format!("{label_items}[{j}].{}", c.key));
                if !item.is_object() {
                    return Err(fail(&at(&format!("{label_items}[{j}]")), "is not an object".into()));
                }
                subscription_in_strings(&mut item);
                let key = item
                    .get(&c.key)
                    .and_then(key_text)
                    .ok_or_else(|| fail(&field, "missing, or not a non-empty string or a number".into()))?;
                let folded = key.to_lowercase();
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == folded) {
                    return Err(fail(
                        &field,
                        format!("the key '{key}' is also used by {label_items}[{first}]"),
                    ));
                }
                seen.push((folded, j));
                group.push(item);
            }
            items.push((parent, group));
        }
        if c.list_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(fail(&at("list_key"), "is empty (leave the field out for `value`)".into()));
        }
        if c.etag.as_deref().is_some_and(|k| k.trim().is_empty()) {
            return Err(fail(&at("etag"), "is empty (leave the field out for no etags)".into()));
        }
        let collection = Collection {
            seed: label.to_string(),
            api: file.api,
            path,
            key: c.key,
            read: c.read,
            write: c.write,
            delegated: file.delegated.clone(),
            paging: c.paging,
            page_size: c.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
            api_version: c.api_version,
            etag: c.etag,
            list_method: c.list_method.unwrap_or(ListMethod::Get),
            list_key: c.list_key.unwrap_or_else(|| "value".to_owned()),
            server_fields: c.server_fields,
            parent_at,
            query: c.query,
            segments,
        };
        out.push((collection, items));
    }
    Ok(out)
}

fn normalize_path(raw: &str) -> Result<String, String> {
    let path = raw.trim().trim_matches('/').replace("{subscription}", DEFAULT_SUBSCRIPTION_ID);
    if path.is_empty() {
        return Err("is empty".into());
    }
    let parents = path.split('/').filter(|s| *s == "{parent}").count();
    if parents > 1 {
        return Err(format!("'{raw}' has more than one {{parent}} segment"));
    }
    if path.split('/').filter(|s| *s != "{parent}").any(|s| s.contains(['{', '}'])) {
        return Err(format!(
            "'{raw}' has a placeholder other than {{subscription}} and a whole {{parent}} segment"
        ));
    }
    if path.starts_with("{parent}") {
        return Err(format!("'{raw}' starts with {{parent}}; the parent collection's path comes first"));
    }
    if let Some(c) = path.chars().find(|c| c.is_whitespace() || "?#%".contains(*c)) {
        return Err(format!("'{raw}' contains '{c}' (write the path without a query or encoding)"));
    }
    if path.split('/').any(str::is_empty) {
        return Err(format!("'{raw}' has an empty segment"));
    }
    if path.starts_with("__emulator") {
        return Err("paths under __emulator are the emulator's own".into());
    }
    Ok(path)
}

/// `{subscription}` in every string of an item, so ARM ids can name the emulator's subscription.
fn subscription_in_strings(v: &mut Value) {
    match v {
        Value::String(s) if s.contains("{subscription}") => {
            *s = s.replace("{subscription}", DEFAULT_SUBSCRIPTION_ID);
        }
        Value::Array(a) => a.iter_mut().for_each(subscription_in_strings),
        Value::Object(o) => o.values_mut().for_each(subscription_in_strings),
        _ => {}
    }
}

/// A key value as text: a non-empty string or a number.
fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn percent_decode(segment: &str) -> String {
    let b = segment.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- serving -----------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    List,
    Get,
    Create,
    Update,
    Put,
    Delete,
}

impl Op {
    fn writes(self) -> bool {
        !matches!(self, Op::List | Op::Get)
    }
}

/// The methods a collection (or one of its items) answers.
fn allowed(c: &Collection, item: bool) -> Vec<Method> {
    let list_post = c.list_method == ListMethod::Post;
    let mut m = if list_post && !item { vec![Method::POST] } else { vec![Method::GET] };
    if c.write.is_some() {
        match (item, c.api == SeedApi::Arm) {
            (false, false) if !list_post => m.push(Method::POST),
            (false, _) => {}
            (true, arm) => {
                if arm {
                    m.push(Method::PUT);
                }
                m.extend([Method::PATCH, Method::DELETE]);
            }
        }
    }
    m
}

fn operation(c: &Collection, method: &Method, item: bool) -> Option<Op> {
    if !allowed(c, item).contains(method) {
        return None;
    }
    if !item && *method == Method::POST && c.list_method == ListMethod::Post {
        return Some(Op::List);
    }
    Some(match (*method == Method::GET, item) {
        (true, false) => Op::List,
        (true, true) => Op::Get,
        _ if *method == Method::POST => Op::Create,
        _ if *method == Method::PATCH => Op::Update,
        _ if *method == Method::PUT => Op::Put,
        _ => Op::Delete,
    })
}

/// The router's fallback: a request on a seeded collection, else the emulator's 404.
pub async fn dispatch(State(st): State<EmulatorState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let meta = parts.extensions.get::<RequestMeta>().cloned();
    let found = meta.as_ref().and_then(|m| st.seeded().find(parts.uri.path(), &m.host));
    let Some(meta) = meta else {
        return crate::testing::not_found(parts.method, parts.uri).await;
    };
    let Some(found) = found else {
        if let Some(resp) = arm_unserved(&st, &meta, &parts.headers, parts.uri.path()) {
            return resp;
        }
        return crate::testing::not_found(parts.method, parts.uri).await;
    };
    let c = found.collection;
    let key = found.key;
    let Some(op) = operation(c, &parts.method, key.is_some()) else {
        return method_not_allowed(&st, &meta, c, &parts.method, key.is_some());
    };
    let body = if op.writes() {
        match axum::body::to_bytes(body, MAX_BODY).await {
            Ok(b) => b,
            Err(_) => return bad_body(c.api).respond(&st, &meta),
        }
    } else {
        Bytes::new()
    };
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let call = SeedCall { st: &st, meta: &meta, headers: &parts.headers, c, parent: found.parent, query };
    match call.serve(op, key.as_deref(), &body) {
        Ok((status, value)) => {
            let mut resp = match value {
                Some(v) => status_json(status, &v),
                None => status.into_response(),
            };
            api_headers(resp.headers_mut(), c.api.kind(), &meta);
            resp
        }
        Err(e) => e.respond(&st, &meta),
    }
}

/// A request on ARM's host for a resource under a resource group that no route or collection
/// serves (a resource group or workspace name the instance got wrong): ARM's own 404 after the
/// token is checked, `ResourceGroupNotFound` when nothing is seeded in that group, else
/// `ResourceNotFound` naming the resource, instead of the emulator's "no route" text.
fn arm_unserved(st: &EmulatorState, meta: &RequestMeta, headers: &HeaderMap, path: &str) -> Option<Response> {
    if !clouds::is_api_host(ApiKind::Arm, &meta.host) {
        return None;
    }
    let segs: Vec<String> = path.trim_start_matches('/').split('/').map(percent_decode).collect();
    let [subs, sub, groups, rg, providers, rest @ ..] = segs.as_slice() else { return None };
    let is = |a: &String, b: &str| a.eq_ignore_ascii_case(b);
    if !is(subs, "subscriptions") || !is(groups, "resourceGroups") || !is(providers, "providers") {
        return None;
    }
    if let Err(e) = authenticate_any(st, headers, meta, ApiKind::Arm, &[], &[]) {
        return Some(e.respond(st, meta));
    }
    let seeded = st.seeded().collections.iter().any(|c| {
        c.api == SeedApi::Arm
            && c.segments.get(1).is_some_and(|s| is(s, sub))
            && c.segments.get(2).is_some_and(|s| is(s, "resourceGroups"))
            && c.segments.get(3).is_some_and(|s| is(s, rg))
    });
    let group_id = format!("/subscriptions/{sub}/resourceGroups/{rg}");
    let stored =
        st.store().list("arm.resourceGroups").iter().any(|g| {
            g.get("id").and_then(Value::as_str).is_some_and(|id| id.eq_ignore_ascii_case(&group_id))
        });
    let s = StatusCode::NOT_FOUND;
    let e = if seeded || stored {
        // A resource is named by its provider namespace, type and name.
        let [namespace, kind, name, ..] = rest else { return None };
        ApiError::new(
            ApiKind::Arm,
            s,
            "ResourceNotFound",
            format!(
                "The Resource '{namespace}/{kind}/{name}' under resource group '{rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
            ),
        )
    } else {
        ApiError::new(
            ApiKind::Arm,
            s,
            "ResourceGroupNotFound",
            format!("Resource group '{rg}' could not be found."),
        )
    };
    Some(e.respond(st, meta))
}

/// 405 in the API's shape, with `Allow`; answered before the token is looked at, as a route
/// table would.
fn method_not_allowed(
    st: &EmulatorState,
    meta: &RequestMeta,
    c: &Collection,
    method: &Method,
    item: bool,
) -> Response {
    let kind = c.api.kind();
    let status = StatusCode::METHOD_NOT_ALLOWED;
    let e = match c.api {
        SeedApi::Graph => ApiError::new(
            kind,
            status,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        ),
        _ => ApiError::new(
            kind,
            status,
            "MethodNotAllowed",
            format!("The requested resource does not support http method '{method}'."),
        ),
    };
    let mut resp = e.respond(st, meta);
    let methods = allowed(c, item);
    let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
    if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}

pub(crate) fn bad_body(api: SeedApi) -> ApiError {
    let s = StatusCode::BAD_REQUEST;
    match api {
        SeedApi::Graph => ApiError::new(
            api.kind(),
            s,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        ),
        SeedApi::Arm => ApiError::new(
            api.kind(),
            s,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized.",
        ),
        _ => ApiError::new(api.kind(), s, "BadRequest", "The request body must be a JSON object."),
    }
}

fn parse_object(api: SeedApi, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(bad_body(api)),
    }
}

/// One request on a seeded collection.
struct SeedCall<'a> {
    st: &'a EmulatorState,
    meta: &'a RequestMeta,
    headers: &'a HeaderMap,
    c: &'a Collection,
    parent: Option<String>,
    query: Vec<(String, String)>,
}

impl SeedCall<'_> {
    fn kind(&self) -> ApiKind {
        self.c.api.kind()
    }

    fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The prologue, then the operation: status and body (none for an empty one).
    fn serve(&self, op: Op, key: Option<&str>, body: &[u8]) -> Result<(StatusCode, Option<Value>), ApiError> {
        let c = self.c;
        let parent = self.parent.as_deref();
        // Writes never reach here on a read-only collection (405 first).
        let list: &[String] = if op.writes() { c.write.as_deref().unwrap_or_default() } else { &c.read };
        let perms: Vec<&str> = list.iter().map(String::as_str).collect();
        let scopes: Vec<&str> = match &c.delegated {
            Some(d) => d.iter().map(String::as_str).collect(),
            None => perms.clone(),
        };
        let principal = if c.api == SeedApi::Arm {
            // ARM's access is RBAC on the scope, below; any valid ARM token gets that far.
            authenticate_any(self.st, self.headers, self.meta, ApiKind::Arm, &[], &[])?
        } else {
            authenticate_any(self.st, self.headers, self.meta, self.kind(), &perms, &scopes)?
        };
        self.check_api_version()?;
        let path = c.path_of(parent);
        if c.api == SeedApi::Arm {
            let scope = match key {
                Some(k) => format!("/{path}/{k}"),
                None => format!("/{path}"),
            };
            arm_authorize(self.st, &principal, &arm_action(c, op), &scope)?;
        }
        let store = self.st.store();
        self.check_parent(store)?;
        let name = c.store_name_of(parent);
        let key = key.unwrap_or_default();
        match op {
            Op::List => {
                let items = self.select(store.list(&name))?;
                Ok((StatusCode::OK, Some(self.list(items)?)))
            }
            Op::Get => {
                let item = store.find(&name, &c.key, key).ok_or_else(|| not_found(c, key))?;
                Ok((StatusCode::OK, Some(item)))
            }
            Op::Create => {
                let mut obj = parse_object(c.api, body)?;
                let id = match obj.get(&c.key) {
                    Some(v) => key_text(v).ok_or_else(|| {
                        ApiError::new(
                            self.kind(),
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            format!("The property '{}' must be a non-empty string or a number.", c.key),
                        )
                    })?,
                    None => {
                        let id = uuid::Uuid::new_v4().to_string();
                        obj.insert(c.key.clone(), json!(id));
                        id
                    }
                };
                let mut item = Value::Object(obj);
                self.stamp(&mut item, None, &store.list(&name));
                if !store.insert_new(&name, &c.key, &id, item.clone()) {
                    return Err(conflict(c, &id));
                }
                Ok((StatusCode::CREATED, Some(item)))
            }
            Op::Update => {
                let mut patch = parse_object(c.api, body)?;
                patch.remove(&c.key);
                let deep = c.api == SeedApi::Arm;
                let existing = store.find(&name, &c.key, key).ok_or_else(|| not_found(c, key))?;
                self.check_etag(&existing, &patch)?;
                let mut result = Err(not_found(c, key));
                store.modify(&name, &c.key, key, |item| {
                    // Checked again under the write lock: a write in between changed the etag.
                    if let Err(e) = self.check_etag(item, &patch) {
                        result = Err(e);
                        return;
                    }
                    merge(item, &Value::Object(patch.clone()), deep);
                    let before = item.clone();
                    self.stamp(item, Some(&before), &[]);
                    result = Ok(item.clone());
                });
                Ok((StatusCode::OK, Some(result?)))
            }
            Op::Put => {
                let mut obj = parse_object(c.api, body)?;
                let existing = store.find(&name, &c.key, key);
                if let Some(e) = &existing {
                    self.check_etag(e, &obj)?;
                } else if c.etag.as_ref().is_some_and(|f| obj.get(f).is_some_and(|v| !v.is_null())) {
                    // An etag names a version; a resource that does not exist has none.
                    return Err(precondition_failed(c));
                }
                obj.insert(c.key.clone(), json!(key));
                let kept = |f: &str| existing.as_ref().and_then(|e| e.get(f)).cloned();
                for (field, derived) in [
                    ("id", json!(format!("/{path}/{key}"))),
                    ("name", json!(key)),
                    ("type", json!(arm_type(&c.path))),
                ] {
                    if !obj.contains_key(field) {
                        obj.insert(field.into(), kept(field).unwrap_or(derived));
                    }
                }
                let mut item = Value::Object(obj);
                self.stamp(&mut item, existing.as_ref(), &store.list(&name));
                let created = store.upsert(&name, &c.key, key, item.clone());
                Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Some(item)))
            }
            Op::Delete => match (store.remove(&name, &c.key, key), c.api == SeedApi::Arm) {
                (Some(_), true) => Ok((StatusCode::OK, None)),
                (None, true) => Ok((StatusCode::NO_CONTENT, None)),
                (Some(_), false) => Ok((StatusCode::NO_CONTENT, None)),
                (None, false) => Err(not_found(c, key)),
            },
        }
    }

    /// `$filter` and `$orderby` on a collection that declares `query` (others ignore them, as
    /// before); a query that does not parse is the API's 400.
    fn select(&self, items: Vec<Value>) -> Result<Vec<Value>, ApiError> {
        if !self.c.query {
            return Ok(items);
        }
        let (filter, orderby) = (self.q("$filter"), self.q("$orderby"));
        if filter.is_none() && orderby.is_none() {
            return Ok(items);
        }
        let filter = filter.map(search_in);
        let query = super::odata::Query::parse(filter.as_deref(), orderby).map_err(|why| {
            let (code, what) = if filter.is_some() {
                ("InvalidFilterInQueryString", "$filter")
            } else {
                ("InvalidOrderByInQueryString", "$orderby")
            };
            ApiError::new(
                self.kind(),
                StatusCode::BAD_REQUEST,
                code,
                format!("Invalid {what} in the query string: {why}"),
            )
        })?;
        Ok(query.apply(items))
    }

    /// A collection under an item answers only while that item exists (404 in the parent
    /// collection's words otherwise), when the parent collection is seeded too.
    fn check_parent(&self, store: &Store) -> Result<(), ApiError> {
        let (Some(parent), Some(parent_path)) = (self.parent.as_deref(), self.c.parent_path()) else {
            return Ok(());
        };
        let Some(pc) = self.st.seeded().collection(self.c.api, &parent_path) else { return Ok(()) };
        match store.find(&pc.store_name(), &pc.key, parent) {
            Some(_) => Ok(()),
            None => Err(not_found(pc, parent)),
        }
    }

    /// The etag check of a write: the body's etag field (or `If-Match`), when given, must equal
    /// the item's; `*` matches any.
    fn check_etag(&self, item: &Value, body: &Map<String, Value>) -> Result<(), ApiError> {
        let Some(field) = &self.c.etag else { return Ok(()) };
        let given =
            body.get(field).and_then(Value::as_str).map(str::to_owned).or_else(|| {
                self.headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned)
            });
        match given {
            None => Ok(()),
            Some(g) if g == "*" => Ok(()),
            Some(g) if item.get(field).and_then(Value::as_str) == Some(g.as_str()) => Ok(()),
            Some(_) => Err(precondition_failed(self.c)),
        }
    }

    /// Sets the server's fields on a written item: a new etag, the modified time, and on a
    /// create (`before` is `None`) the created time and the next sequence number.
    fn stamp(&self, item: &mut Value, before: Option<&Value>, existing: &[Value]) {
        let c = self.c;
        let now = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(self.st.now_ms())
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        if let Some(f) = &c.etag
            && let Some(o) = item.as_object_mut()
        {
            o.insert(f.clone(), json!(new_etag(self.st.store())));
        }
        if let Some(p) = &c.server_fields.modified {
            set_path(item, p, json!(now));
        }
        if let Some(p) = &c.server_fields.key
            && let Some(k) = item.get(&c.key).cloned()
        {
            set_path(item, p, k);
        }
        match before {
            Some(old) => {
                // Kept from the stored item: a write cannot change them.
                for p in [&c.server_fields.created, &c.server_fields.sequence].into_iter().flatten() {
                    if let Some(v) = get_path(old, p) {
                        set_path(item, p, v.clone());
                    }
                }
                for p in &c.server_fields.kept {
                    if get_path(item, p).is_none()
                        && let Some(v) = get_path(old, p)
                    {
                        set_path(item, p, v.clone());
                    }
                }
            }
            None => {
                if let Some(p) = &c.server_fields.created
                    && get_path(item, p).is_none_or(Value::is_null)
                {
                    set_path(item, p, json!(now));
                }
                if let Some(p) = &c.server_fields.sequence {
                    let next = existing
                        .iter()
                        .filter_map(|i| get_path(i, p).and_then(Value::as_i64))
                        .max()
                        .unwrap_or(0)
                        + 1;
                    set_path(item, p, json!(next));
                }
            }
        }
    }

    /// `api-version` as the hand-written ARM routes check it: present (always on ARM), and the
    /// declared one when the seed names one.
    fn check_api_version(&self) -> Result<(), ApiError> {
        let c = self.c;
        if c.api != SeedApi::Arm && c.api_version.is_none() {
            return Ok(());
        }
        let Some(v) = self.q("api-version") else {
            let mut e = ApiError::arm_missing_api_version();
            e.api = self.kind();
            return Err(e);
        };
        match &c.api_version {
            Some(want) if want != v => Err(ApiError::new(
                self.kind(),
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                format!("The api-version '{v}' is invalid. The supported versions are '{want}'."),
            )),
            _ => Ok(()),
        }
    }

    /// One page of `items` as the collection's paging kind gives it.
    fn list(&self, items: Vec<Value>) -> Result<Value, ApiError> {
        let c = self.c;
        let full = c.path_of(self.parent.as_deref());
        let path = format!("/{full}");
        let (root, rest) = full.split_once('/').unwrap_or(("", full.as_str()));
        let size = c.page_size;
        let mut body = match c.paging {
            Paging::OdataNextLink => {
                graph_list(self.meta, &path, &self.query, items, size, GRAPH_MAX_TOP.max(size), true, rest)
            }
            Paging::TopSkip => {
                odata_skip_list(
                    self.meta,
                    &path,
                    &self.query,
                    &items,
                    Value::clone,
                    size,
                    DEFENDER_MAX_TOP.max(size),
                    rest,
                )
                .map(|mut b| {
                    // Defender pages by $skip alone; it sends no link.
                    if let Some(o) = b.as_object_mut() {
                        o.remove("@odata.nextLink");
                    }
                    b
                })
            }
            Paging::ArmNextLink => {
                let size = match self.q("$top") {
                    Some(t) => t.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        ApiError::new(
                            self.kind(),
                            StatusCode::BAD_REQUEST,
                            "InvalidTopInQueryString",
                            format!("Invalid $top '{t}' specified in the query string."),
                        )
                    })?,
                    None => size,
                };
                arm_list(self.meta, &path, &self.query, items, size)
            }
        }
        .map_err(|mut e| {
            // The paging helpers speak for their own API; the error belongs to this one.
            e.api = self.kind();
            e
        })?;
        if c.list_key != "value"
            && let Some(o) = body.as_object_mut()
            && let Some(v) = o.remove("value")
        {
            o.insert(c.list_key.clone(), v);
        }
        if let Some(o) = body.as_object_mut() {
            if c.api.odata() {
                // The service root is the first segment (`v1.0`, `api`), as the real APIs have it.
                let service = if root.is_empty() { String::new() } else { format!("/{root}") };
                let context = format!("{}{service}/$metadata#{rest}", self.meta.base_url());
                o.insert("@odata.context".into(), json!(context));
            } else {
                o.remove("@odata.context");
            }
        }
        Ok(body)
    }
}

/// Azure's `search.in(path, 'a,b', ',')` as the `or` of `eq`s the OData module reads (Sentinel's
/// relation filter by entity kind); other text is left as it is.
pub fn search_in(filter: &str) -> String {
    let mut out = String::new();
    let mut rest = filter;
    while let Some(at) = rest.find("search.in(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "search.in(".len()..];
        let Some(end) = after.find(')') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let args = &after[..end];
        // Split on the commas outside quotes ('Account,Ip' is one argument).
        let mut parts: Vec<&str> = Vec::new();
        let (mut from, mut quoted) = (0, false);
        for (i, ch) in args.char_indices() {
            match ch {
                '\'' => quoted = !quoted,
                ',' if !quoted => {
                    parts.push(&args[from..i]);
                    from = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&args[from..]);
        let (path, values, sep) = match parts.as_slice() {
            [p, v] => (p.trim(), v.trim(), " ,".to_owned()),
            [p, v, s] => (p.trim(), v.trim(), s.trim().trim_matches('\'').to_owned()),
            _ => {
                out.push_str(&rest[at..at + "search.in(".len() + end + 1]);
                rest = &after[end + 1..];
                continue;
            }
        };
        let values = values.trim_matches('\'');
        let seps: Vec<char> = if sep.is_empty() { vec![' ', ','] } else { sep.chars().collect() };
        let terms: Vec<String> = values
            .split(|c| seps.contains(&c))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| format!("{path} eq '{}'", v.replace('\'', "''")))
            .collect();
        if terms.is_empty() {
            out.push_str("false eq true");
        } else {
            out.push_str(&format!("({})", terms.join(" or ")));
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The next number of the instance's serial (1, 2, ...): new etags and generated names come
/// from it, so a run's answers are the same every time (conformance cases compare them).
pub fn next_serial(store: &Store) -> u64 {
    const SERIAL: &str = "seed:serial";
    let mut next = 0;
    let bumped = store.modify(SERIAL, "n", "serial", |v| {
        next = v.get("value").and_then(Value::as_u64).unwrap_or(0) + 1;
        v["value"] = json!(next);
    });
    if bumped.is_none() {
        // First use (two first uses at once both write 1; the etags still differ from the seed's).
        next = 1;
        store.replace(SERIAL, vec![json!({"n": "serial", "value": 1})]);
    }
    next
}

/// A new etag (`"0000002a-0000-0000-0000-000000000000"`, quotes included, as ARM's look).
pub fn new_etag(store: &Store) -> String {
    format!("\"{:08x}-0000-0000-0000-000000000000\"", next_serial(store))
}

/// A `/`-separated path into an item (`properties/createdTimeUtc`).
pub fn get_path<'v>(item: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('/').try_fold(item, |v, k| v.get(k))
}

/// Sets a `/`-separated path, making the objects on the way.
pub fn set_path(item: &mut Value, path: &str, value: Value) {
    let mut cur = item;
    let parts: Vec<&str> = path.split('/').collect();
    for (i, k) in parts.iter().enumerate() {
        let Some(o) = cur.as_object_mut() else { return };
        if i + 1 == parts.len() {
            o.insert((*k).to_owned(), value);
            return;
        }
        cur = o.entry((*k).to_owned()).or_insert_with(|| json!({}));
    }
}

/// ARM's 412 for a stale etag.
fn precondition_failed(c: &Collection) -> ApiError {
    ApiError::new(
        c.api.kind(),
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        "The etag in the request does not match the resource's current etag: it was changed since it was read. Read it again and retry.",
    )
}

fn merge(into: &mut Value, patch: &Value, deep: bool) {
    if let (Value::Object(a), Value::Object(b)) = (into, patch) {
        for (k, v) in b {
            match a.get_mut(k) {
                Some(existing) if deep && existing.is_object() && v.is_object() => merge(existing, v, deep),
                _ => {
                    a.insert(k.clone(), v.clone());
                }
            }
        }
    }
}

/// The ARM resource type of a collection path: the provider namespace and the type segments
/// after `providers` (`Microsoft.Foo/bars/bazs`); without a provider, the last segment under
/// `Microsoft.Resources`.
fn arm_type(path: &str) -> String {
    let segs: Vec<&str> = path.split('/').collect();
    match segs.iter().position(|s| s.eq_ignore_ascii_case("providers")) {
        Some(p) if p + 1 < segs.len() => {
            let mut t = vec![segs[p + 1]];
            t.extend(segs[p + 2..].iter().step_by(2));
            t.join("/")
        }
        _ => format!("Microsoft.Resources/{}", segs.last().copied().unwrap_or_default()),
    }
}

/// The action ARM's 403 names: the declared one ending in the verb, else the first declared,
/// else the resource type's.
fn arm_action(c: &Collection, op: Op) -> String {
    let (list, verb) = match op {
        Op::List | Op::Get => (Some(&c.read), "read"),
        Op::Delete => (c.write.as_ref(), "delete"),
        _ => (c.write.as_ref(), "write"),
    };
    let list = list.map(Vec::as_slice).unwrap_or_default();
    let suffix = format!("/{verb}");
    list.iter()
        .find(|a| a.to_ascii_lowercase().ends_with(&suffix))
        .or(list.first())
        .cloned()
        .unwrap_or_else(|| format!("{}{suffix}", arm_type(&c.path)))
}

fn not_found(c: &Collection, key: &str) -> ApiError {
    let kind = c.api.kind();
    let s = StatusCode::NOT_FOUND;
    match c.api {
        SeedApi::Graph => ApiError::graph_not_found(key),
        SeedApi::Arm => {
            let segs: Vec<&str> = c.path.split('/').collect();
            let resource = match segs.iter().position(|s| s.eq_ignore_ascii_case("providers")) {
                Some(p) => segs[p + 1..].join("/"),
                None => segs.last().copied().unwrap_or_default().to_string(),
            };
            let group = segs
                .iter()
                .position(|s| s.eq_ignore_ascii_case("resourceGroups"))
                .and_then(|p| segs.get(p + 1))
                .map(|rg| format!(" under resource group '{rg}'"))
                .unwrap_or_default();
            ApiError::new(
                kind,
                s,
                "ResourceNotFound",
                format!(
                    "The Resource '{resource}/{key}'{group} was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
                ),
            )
        }
        _ => ApiError::new(kind, s, "ResourceNotFound", format!("Resource '{key}' was not found.")),
    }
}

fn conflict(c: &Collection, key: &str) -> ApiError {
    match c.api {
        SeedApi::Graph => ApiError::new(
            ApiKind::Graph,
            StatusCode::BAD_REQUEST,
            "Request_MultipleObjectsWithSameKeyValue",
            format!("Another object with the same value for property {} already exists.", c.key),
        ),
        _ => ApiError::new(
            c.api.kind(),
            StatusCode::CONFLICT,
            "Conflict",
            format!("An item with {} '{key}' already exists.", c.key),
        ),
    }
}
