//! The Graph routes of the current reference's `msgraph-user` commands: group memberships
//! (`memberOf`), owned devices, every authentication method (`authentication/methods`) and each
//! kind's collection (list, get, delete), sign-in preferences (`/beta` only, as in Graph),
//! the password reset's long-running operations, and the MFA application's service principal
//! (`servicePrincipals?$filter=appId eq '...'`, `addPassword`).
//!
//! Data (from `graph-seed.json`): `groups` (`_members`: user ids), `devices` (`_owners`),
//! `auth_methods` (`{user id: {collection: [methods]}}`), `sign_in_preferences` (per user id),
//! `service_principals`, `mfa_answers` (the MFA connector's answer per UPN).
//!
//! Decisions where Microsoft's behaviour is not pinned down by the fact sheet:
//! - a method id unknown for the user answers 404 `itemNotFound` "A key with identifier '<id>'
//!   was not found for user '<user as given>'." (the words the reference matches for its
//!   "Did not find the method_id" note);
//! - a password reset's operation answers `running` on its first status read and `succeeded`
//!   after, or `failed` (with `statusDetail`) when the new password contains the user's mail
//!   nickname, as an on-premises password policy would refuse it;
//! - `addPassword` secrets are kept per service principal (`_secrets`), so the token endpoint
//!   can accept them for that application (see `identity::token`).

use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::response::Response;
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::{
    AUTH_READ, AUTH_WRITE, Clause, PASSWORD_METHOD_ID, READ, auth_user, derived_guid, err, handle, matches,
    no_content, on_user, parse_body, parse_filter, q, user_id, with_context,
};
use crate::apis::{ApiError, Need, graph_list, ok_json};
use crate::meta::Call;
use crate::state::EmulatorState;

pub(super) const GROUPS: &str = "graph.groups";
pub(super) const DEVICES: &str = "graph.devices";
pub(super) const METHODS: &str = "graph.methods";
pub(super) const SIGN_IN: &str = "graph.signInPreferences";
pub(super) const SERVICE_PRINCIPALS: &str = "graph.servicePrincipals";
pub(super) const OPERATIONS: &str = "graph.operations";
pub(super) const MFA_ANSWERS: &str = "graph.mfaAnswers";

/// The method collections and the `@odata.type` of their items.
pub(super) const KINDS: &[(&str, &str)] = &[
    ("microsoftAuthenticatorMethods", "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"),
    ("emailMethods", "#microsoft.graph.emailAuthenticationMethod"),
    ("phoneMethods", "#microsoft.graph.phoneAuthenticationMethod"),
    ("softwareOathMethods", "#microsoft.graph.softwareOathAuthenticationMethod"),
    ("windowsHelloForBusinessMethods", "#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"),
    ("fido2Methods", "#microsoft.graph.fido2AuthenticationMethod"),
];

const MEMBER_READ: Need = Need::any(
    &["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"],
    &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
        "User.Read.All",
        "User.ReadWrite.All",
    ],
);
const SP_READ: Need = Need::any(
    &["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"],
    &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "Directory.AccessAsUser.All",
    ],
);
const SP_WRITE: Need = Need::any(
    &["Application.ReadWrite.All", "Application.ReadWrite.OwnedBy"],
    &["Application.ReadWrite.All", "Directory.AccessAsUser.All"],
);

/// Loads the current commands' part of the seed.
pub(super) fn seed(st: &EmulatorState, seed: &Value) {
    let list = |k: &str| seed.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
    st.store().replace(GROUPS, list("groups"));
    st.store().replace(DEVICES, list("devices"));
    st.store().replace(SERVICE_PRINCIPALS, list("service_principals"));
    let mut methods = Vec::new();
    for (uid, kinds) in seed.get("auth_methods").and_then(Value::as_object).into_iter().flatten() {
        for (kind, items) in kinds.as_object().into_iter().flatten() {
            for m in items.as_array().into_iter().flatten() {
                let mut m = m.clone();
                if let Some(o) = m.as_object_mut() {
                    o.insert("_userId".into(), json!(uid));
                    o.insert("_kind".into(), json!(kind));
                }
                methods.push(m);
            }
        }
    }
    st.store().replace(METHODS, methods);
    let prefs = seed
        .get("sign_in_preferences")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(uid, p)| {
            let mut p = p.clone();
            if let Some(o) = p.as_object_mut() {
                o.insert("_userId".into(), json!(uid));
            }
            p
        })
        .collect();
    st.store().replace(SIGN_IN, prefs);
    let answers = seed
        .get("mfa_answers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(upn, a)| json!({"upn": upn, "answer": a}))
        .collect();
    st.store().replace(MFA_ANSWERS, answers);
    st.store().replace(OPERATIONS, Vec::new());
}

/// An item without its internal (`_`) fields.
fn public(v: &Value) -> Value {
    let o: Map<String, Value> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(o)
}

fn has_member(v: &Value, field: &str, uid: &str) -> bool {
    v.get(field)
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|m| m.as_str().is_some_and(|m| m.eq_ignore_ascii_case(uid))))
}

fn typed(odata_type: &str, v: &Value) -> Value {
    let mut o = Map::new();
    o.insert("@odata.type".into(), json!(odata_type));
    if let Value::Object(rest) = public(v) {
        o.extend(rest);
    }
    Value::Object(o)
}

/// `GET /v1.0/users/{id}/memberOf`.
pub(super) async fn member_of(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, super::find_user, &MEMBER_READ, ok_json, |u| {
        let uid = user_id(&u);
        let groups: Vec<Value> = st
            .store()
            .list(GROUPS)
            .iter()
            .filter(|g| has_member(g, "_members", &uid))
            .map(|g| typed("#microsoft.graph.group", g))
            .collect();
        graph_list(
            meta,
            &format!("/v1.0/users/{id}/memberOf"),
            &query,
            groups,
            100,
            999,
            false,
            "directoryObjects",
        )
    })
}

/// `GET /v1.0/users/{id}/ownedDevices` (`$filter`, `$top`, `$count` with `ConsistencyLevel`).
pub(super) async fn owned_devices(
    call: Call,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Call { st, meta, headers } = &call;
    on_user(&call, &id, super::find_user, &READ, ok_json, |u| {
        let uid = user_id(&u);
        let eventual = headers
            .get("consistencylevel")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"));
        if q(&query, "$count").is_some_and(|c| c.eq_ignore_ascii_case("true"))
            && !eventual
            && q(&query, "$skiptoken").is_none()
        {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                "$count is not currently supported without the ConsistencyLevel header set to eventual.",
            ));
        }
        let (clauses, or) = match q(&query, "$filter") {
            Some(f) => {
                let (clauses, or, _) = parse_filter(f)?;
                check_device_props(&clauses)?;
                (clauses, or)
            }
            None => (Vec::new(), false),
        };
        let devices: Vec<Value> = st
            .store()
            .list(DEVICES)
            .iter()
            .filter(|d| has_member(d, "_owners", &uid))
            .filter(|d| {
                clauses.is_empty()
                    || if or {
                        clauses.iter().any(|c| matches(d, c))
                    } else {
                        clauses.iter().all(|c| matches(d, c))
                    }
            })
            .map(|d| typed("#microsoft.graph.device", d))
            .collect();
        graph_list(
            meta,
            &format!("/v1.0/users/{id}/ownedDevices"),
            &query,
            devices,
            100,
            999,
            false,
            "directoryObjects",
        )
    })
}

/// The device properties `$filter` accepts.
const DEVICE_FILTER_PROPS: &[&str] = &[
    "accountEnabled",
    "deviceId",
    "displayName",
    "operatingSystem",
    "operatingSystemVersion",
    "trustType",
    "profileType",
];

fn check_device_props(clauses: &[Clause]) -> Result<(), ApiError> {
    for c in clauses {
        let (Clause::StartsWith(p, _) | Clause::EndsWith(p, _) | Clause::Eq(p, _) | Clause::Ne(p, _)) = c;
        if !DEVICE_FILTER_PROPS.iter().any(|k| k.eq_ignore_ascii_case(p)) {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                format!("Could not find a property named '{p}' on type 'microsoft.graph.device'."),
            ));
        }
    }
    Ok(())
}

fn methods_of(st: &EmulatorState, uid: &str, kind: Option<&str>) -> Vec<Value> {
    st.store()
        .list(METHODS)
        .into_iter()
        .filter(|m| m.get("_userId").and_then(Value::as_str).is_some_and(|u| u.eq_ignore_ascii_case(uid)))
        .filter(|m| kind.is_none_or(|k| m.get("_kind").and_then(Value::as_str) == Some(k)))
        .collect()
}

fn odata_type(kind: &str) -> Option<&'static str> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t)
}

fn unknown_kind(kind: &str) -> ApiError {
    err(StatusCode::BAD_REQUEST, "BadRequest", format!("Resource not found for the segment '{kind}'."))
}

fn method_not_found(method: &str, user: &str) -> ApiError {
    err(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        format!("A key with identifier '{method}' was not found for user '{user}'."),
    )
}

/// `GET /v1.0/users/{id}/authentication/methods`: the password method, then every other.
pub(super) async fn all_methods(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        let uid = user_id(&u);
        let mut items = vec![json!({
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            "id": PASSWORD_METHOD_ID,
            "password": null,
            "createdDateTime": u.get("createdDateTime").cloned().unwrap_or(Value::Null),
        })];
        items.extend(
            methods_of(st, &uid, None)
                .iter()
                .filter_map(|m| Some(typed(odata_type(m.get("_kind")?.as_str()?)?, m))),
        );
        let fragment = format!("users('{uid}')/authentication/methods");
        Ok(with_context(meta, &fragment, json!({"value": items})))
    })
}

/// `GET /v1.0/users/{id}/authentication/{kind}` (paged with `$top`).
pub(super) async fn list_kind(
    call: Call,
    Path((id, kind)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        odata_type(&kind).ok_or_else(|| unknown_kind(&kind))?;
        let uid = user_id(&u);
        let items: Vec<Value> = methods_of(st, &uid, Some(&kind)).iter().map(public).collect();
        let context = format!("users('{uid}')/authentication/{kind}");
        graph_list(
            meta,
            &format!("/v1.0/users/{id}/authentication/{kind}"),
            &query,
            items,
            100,
            999,
            false,
            &context,
        )
    })
}

/// `GET /v1.0/users/{id}/authentication/{kind}/{method}`.
pub(super) async fn get_kind(
    call: Call,
    Path((id, kind, method)): Path<(String, String, String)>,
) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        odata_type(&kind).ok_or_else(|| unknown_kind(&kind))?;
        let uid = user_id(&u);
        let m = methods_of(st, &uid, Some(&kind))
            .into_iter()
            .find(|m| m.get("id").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(&method)))
            .ok_or_else(|| method_not_found(&method, &id))?;
        let fragment = format!("users('{uid}')/authentication/{kind}/$entity");
        Ok(with_context(meta, &fragment, public(&m)))
    })
}

/// `DELETE /v1.0/users/{id}/authentication/{kind}/{method}`.
pub(super) async fn delete_kind(
    call: Call,
    Path((id, kind, method)): Path<(String, String, String)>,
) -> Response {
    let Call { st, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_WRITE, no_content, |u| {
        odata_type(&kind).ok_or_else(|| unknown_kind(&kind))?;
        let uid = user_id(&u);
        let before = st.store().list(METHODS);
        let after: Vec<Value> = before
            .iter()
            .filter(|m| {
                !(m.get("_userId").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(&uid))
                    && m.get("_kind").and_then(Value::as_str) == Some(kind.as_str())
                    && m.get("id").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(&method)))
            })
            .cloned()
            .collect();
        if after.len() == before.len() {
            return Err(method_not_found(&method, &id));
        }
        st.store().replace(METHODS, after);
        Ok(())
    })
}

/// `GET /beta/users/{id}/authentication/signInPreferences` (Graph has no v1.0 form).
pub(super) async fn sign_in_preferences(call: Call, Path(id): Path<String>) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        let uid = user_id(&u);
        let prefs = st.store().find(SIGN_IN, "_userId", &uid).map(|p| public(&p)).unwrap_or_else(|| {
            json!({
                "isSystemPreferredAuthenticationMethodEnabled": true,
                "userPreferredMethodForSecondaryAuthentication": null,
                "systemPreferredAuthenticationMethod": null,
            })
        });
        let mut out = Map::new();
        out.insert(
            "@odata.context".into(),
            json!(format!(
                "{}/beta/$metadata#users('{uid}')/authentication/signInPreferences",
                meta.base_url()
            )),
        );
        if let Value::Object(o) = prefs {
            out.extend(o);
        }
        Ok(Value::Object(out))
    })
}

/// Records a password reset's operation; returns its id. Ids count per user, so a run of
/// cases sees the same ids every time.
pub(super) fn start_operation(
    st: &EmulatorState,
    uid: &str,
    nickname: &str,
    password: Option<&str>,
) -> String {
    let n = st
        .store()
        .list(OPERATIONS)
        .iter()
        .filter(|o| o.get("_userId").and_then(Value::as_str).is_some_and(|u| u.eq_ignore_ascii_case(uid)))
        .count();
    let id = derived_guid(&format!("operation:{uid}:{n}"));
    let refused = match password {
        Some(p) if !nickname.is_empty() && p.to_lowercase().contains(&nickname.to_lowercase()) => Some(
            "The password does not meet the on-premises password policy: it contains the account name."
                .to_owned(),
        ),
        _ => None,
    };
    st.store().insert(
        OPERATIONS,
        json!({"id": id, "_userId": uid, "_reads": 0, "_refused": refused, "createdDateTime": super::iso_secs(st.now_secs())}),
    );
    id
}

/// `GET /v1.0/users/{id}/authentication/operations/{op}`: Graph's `longRunningOperation`.
pub(super) async fn operation(call: Call, Path((id, op)): Path<(String, String)>) -> Response {
    let Call { st, meta, .. } = &call;
    on_user(&call, &id, auth_user, &AUTH_READ, ok_json, |u| {
        let uid = user_id(&u);
        let now = super::iso_secs(st.now_secs());
        let found = st
            .store()
            .modify(OPERATIONS, "id", &op, |o| {
                let reads = o.get("_reads").and_then(Value::as_u64).unwrap_or(0);
                o["_reads"] = json!(reads + 1);
            })
            .filter(|o| {
                o.get("_userId").and_then(Value::as_str).is_some_and(|x| x.eq_ignore_ascii_case(&uid))
            })
            .ok_or_else(|| {
                err(StatusCode::NOT_FOUND, "itemNotFound", format!("The operation '{op}' was not found."))
            })?;
        let reads = found.get("_reads").and_then(Value::as_u64).unwrap_or(1);
        let refused = found.get("_refused").and_then(Value::as_str);
        let (status, detail) = match (reads, refused) {
            (1, _) => ("running", Value::Null),
            (_, Some(why)) => ("failed", json!(why)),
            _ => ("succeeded", Value::Null),
        };
        let fragment = format!("users('{uid}')/authentication/operations/$entity");
        Ok(with_context(
            meta,
            &fragment,
            json!({
                "id": op,
                "createdDateTime": found.get("createdDateTime").cloned().unwrap_or(Value::Null),
                "lastActionDateTime": now,
                "resourceLocation": null,
                "status": status,
                "statusDetail": detail,
            }),
        ))
    })
}

/// `GET /v1.0/servicePrincipals` with `$filter=appId eq '<id>'` (and `$select`).
pub(super) async fn service_principals(call: Call, Query(query): Query<Vec<(String, String)>>) -> Response {
    let Call { st, meta, .. } = &call;
    handle(&call, &SP_READ, ok_json, || {
        let clauses = match q(&query, "$filter") {
            Some(f) => parse_filter(f)?.0,
            None => Vec::new(),
        };
        let select: Option<Vec<String>> = super::select_list(&query);
        let items: Vec<Value> = st
            .store()
            .list(SERVICE_PRINCIPALS)
            .iter()
            .filter(|sp| clauses.iter().all(|c| matches(sp, c)))
            .map(|sp| {
                let p = public(sp);
                match &select {
                    Some(keys) => Value::Object(
                        keys.iter().filter_map(|k| Some((k.clone(), p.get(k)?.clone()))).collect(),
                    ),
                    None => p,
                }
            })
            .collect();
        graph_list(meta, "/v1.0/servicePrincipals", &query, items, 100, 999, false, "servicePrincipals")
    })
}

/// `POST /v1.0/servicePrincipals/{id}/addPassword`: a new secret, valid two years.
pub(super) async fn add_password(call: Call, Path(id): Path<String>, body: Bytes) -> Response {
    let Call { st, meta, .. } = &call;
    handle(&call, &SP_WRITE, ok_json, || {
        let b = parse_body(&body)?;
        let name =
            b.get("passwordCredential").and_then(|c| c.get("displayName")).cloned().unwrap_or(Value::Null);
        let sp = st
            .store()
            .find(SERVICE_PRINCIPALS, "id", &id)
            .ok_or_else(|| super::ApiError::graph_not_found(&id))?;
        let now = st.now_secs();
        let n = sp.get("_secrets").and_then(Value::as_array).map_or(0, Vec::len);
        let key_id = derived_guid(&format!("secret:{id}:{n}"));
        // Reproducible like every id here, and shaped like an Entra secret (`~` inside).
        let tail: String = derived_guid(&format!("value:{key_id}")).replace('-', "");
        let secret = format!("MFA8Q~{tail}");
        let start = super::iso_secs(now);
        // Graph's default is two years; a requested endDateTime is taken as it is.
        let requested = b
            .get("passwordCredential")
            .and_then(|c| c.get("endDateTime"))
            .and_then(Value::as_str)
            .map(|t| {
                super::parse_time(t)
                    .ok_or_else(|| err(StatusCode::BAD_REQUEST, "Request_BadRequest", "Invalid endDateTime."))
            })
            .transpose()?;
        let end_secs = requested.unwrap_or(now + 2 * 365 * 24 * 3600);
        let end = super::iso_secs(end_secs);
        st.store().modify(SERVICE_PRINCIPALS, "id", &id, |sp| {
            let entry = json!({"keyId": key_id, "secret": secret, "endSecs": end_secs});
            match sp.get_mut("_secrets").and_then(Value::as_array_mut) {
                Some(list) => list.push(entry),
                None => sp["_secrets"] = json!([entry]),
            }
        });
        Ok(with_context(
            meta,
            "microsoft.graph.passwordCredential",
            json!({
                "customKeyIdentifier": null,
                "displayName": name,
                "endDateTime": end,
                "hint": &secret[..3],
                "keyId": key_id,
                "secretText": secret,
                "startDateTime": start,
            }),
        ))
    })
}

/// True when `secret` is an unexpired password that `addPassword` created for a service
/// principal of application `app_id` (the token endpoint accepts it for that application).
pub(super) fn added_password_ok(st: &EmulatorState, app_id: &str, secret: &str) -> bool {
    let now = st.now_secs();
    st.store()
        .list(SERVICE_PRINCIPALS)
        .iter()
        .filter(|sp| sp.get("appId").and_then(Value::as_str).is_some_and(|a| a.eq_ignore_ascii_case(app_id)))
        .flat_map(|sp| sp.get("_secrets").and_then(Value::as_array).cloned().unwrap_or_default())
        .any(|s| {
            s.get("secret").and_then(Value::as_str) == Some(secret)
                && s.get("endSecs").and_then(Value::as_i64).is_some_and(|end| end > now)
        })
}

fn xml_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..start + end].trim().to_owned())
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `POST /StrongAuthenticationService.svc/Connector//BeginTwoWayAuthentication` on
/// `strongauthenticationservice.auth.microsoft.com`: Microsoft's MFA connector. It needs a token
/// for the connector's resource; the user's answer comes from the seed's `mfa_answers` (by UPN:
/// `Success`, `PhoneAppDenied`, `PhoneAppNoResponse`), and a user without one has no method to
/// push to.
pub(super) async fn begin_two_way_authentication(call: Call, body: Bytes) -> Response {
    let Call { st, meta, headers } = &call;
    let result = crate::apis::authenticate(st, headers, meta, crate::clouds::ApiKind::Custom, &Need::NONE)
        .and_then(|who| {
            let aud = who.claims.get("aud").and_then(Value::as_str).unwrap_or_default();
            if crate::clouds::norm_aud(aud) != crate::clouds::norm_aud(crate::config::MFA_RESOURCE) {
                return Err(ApiError::new(
                    crate::clouds::ApiKind::Custom,
                    StatusCode::UNAUTHORIZED,
                    "InvalidAuthenticationToken",
                    "The token's audience is not the MFA connector.",
                ));
            }
            super::seed(st);
            let xml = String::from_utf8_lossy(&body).into_owned();
            let upn = xml_text(&xml, "UserPrincipalName").ok_or_else(|| {
                err(StatusCode::BAD_REQUEST, "BadRequest", "The request has no UserPrincipalName.")
            })?;
            Ok(upn)
        });
    let answers = st.store().list(MFA_ANSWERS);
    answer_xml(st, meta, result, |upn| {
        let found = answers
            .iter()
            .find(|a| a.get("upn").and_then(Value::as_str).is_some_and(|u| u.eq_ignore_ascii_case(&upn)))
            .and_then(|a| a.get("answer").and_then(Value::as_str).map(str::to_owned));
        let (value, received, message) = match found.as_deref() {
            Some("Success") => ("Success", true, None),
            Some("PhoneAppDenied") => ("PhoneAppDenied", true, None),
            Some("PhoneAppNoResponse") => ("PhoneAppNoResponse", false, None),
            Some(other) => (other, false, Some("The request was not completed.")),
            None => (
                "NoDefaultAuthenticationMethodIsConfigured",
                false,
                Some("The user has no default authentication method to push to."),
            ),
        };
        let message = match message {
            Some(m) => format!("<Message>{m}</Message>"),
            None => {
                "<Message i:nil=\"true\" xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"/>".to_owned()
            }
        };
        format!(
            "<BeginTwoWayAuthenticationResponse><Version>1.0</Version><UserPrincipalName>{}</UserPrincipalName>\
             <Result><Value>{value}</Value>{message}</Result><AuthenticationResult>{received}</AuthenticationResult>\
             </BeginTwoWayAuthenticationResponse>",
            xml_escape(&upn)
        )
    })
}

fn answer_xml(
    st: &EmulatorState,
    meta: &crate::meta::RequestMeta,
    result: Result<String, ApiError>,
    ok: impl FnOnce(String) -> String,
) -> Response {
    crate::apis::answer(st, meta, result, |upn| {
        let mut resp = axum::response::IntoResponse::into_response((StatusCode::OK, ok(upn)));
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/xml; charset=utf-8"),
        );
        resp
    })
}
