//! The authentication-method commands of the current reference: list (or get one by
//! `method_id`) and delete, for each kind Graph keeps under `users/{user}/authentication/`
//! (Microsoft Authenticator, email, phone, software OATH, Temporary Access Pass, Windows Hello
//! for Business). Each kind is one row of data ([`Kind`]); the twelve commands are thin
//! declarations over [`list`] and [`delete`].

use serde_json::{Value, json};
use soar_integration_kit::{
    Args, CommandContext, Error, Handler, Outcome, OutputSpec, Request, Results, Table, async_trait, out,
    value_text,
};

use crate::commands::{Graph, as_object, drop_key, note, take_values, user_path};
use crate::transform::{parse_list, parse_object, quote};

/// One kind of authentication method: where Graph keeps it and how the reference shows it.
pub struct Kind {
    /// The collection below `users/{user}/authentication/`.
    pub segment: &'static str,
    /// The name in titles, e.g. "Phone" in "Phone Authentication Methods for User x:".
    pub title: &'static str,
    /// The text when the user has none.
    pub none: &'static str,
    /// Raw Graph keys shown under other column titles (the reference's field mapping); `None`
    /// shows the reference's camel-case titles (`ID`, `Email Address`).
    pub mapping: Option<&'static [(&'static str, &'static str)]>,
    /// The table's columns.
    pub headers: &'static [&'static str],
    /// The context prefix.
    pub prefix: &'static str,
    /// The context key field (the reference uses `Id` for phones).
    pub key_field: &'static str,
}

/// Microsoft Authenticator (`microsoftAuthenticatorMethods`).
pub const AUTHENTICATOR: Kind = Kind {
    segment: "microsoftAuthenticatorMethods",
    title: "Microsoft Authenticator",
    none: "No Microsoft Authenticator authentication methods found for user",
    mapping: Some(&[
        ("id", "Authentication method ID"),
        ("displayName", "Device Name"),
        ("phoneAppVersion", "Version of the Authenticator app"),
    ]),
    headers: &["Authentication method ID", "Device Name", "Version of the Authenticator app"],
    prefix: "MSGraphUser.UserAuthMethod",
    key_field: "ID",
};

/// Email (`emailMethods`).
pub const EMAIL: Kind = Kind {
    segment: "emailMethods",
    title: "Email",
    none: "No email authentication methods found for user",
    mapping: None,
    headers: &["ID", "Email Address"],
    prefix: "MSGraphUser.EmailAuthMethod",
    key_field: "ID",
};

/// Phone (`phoneMethods`).
pub const PHONE: Kind = Kind {
    segment: "phoneMethods",
    title: "Phone",
    none: "No phone authentication methods found for user",
    mapping: Some(&[
        ("id", "Phone ID"),
        ("phoneNumber", "Phone Number"),
        ("phoneType", "Phone Type"),
        ("smsSignInState", "Sms SignIn State"),
    ]),
    headers: &["Phone ID", "Phone Number", "Phone Type", "Sms SignIn State"],
    prefix: "MSGraphUser.PhoneAuthMethod",
    key_field: "Id",
};

/// Software OATH tokens (`softwareOathMethods`).
pub const SOFTWARE_OATH: Kind = Kind {
    segment: "softwareOathMethods",
    title: "Software OATH",
    none: "No software OATH authentication methods found for user",
    mapping: Some(&[("id", "Authentication method ID")]),
    headers: &["Authentication method ID"],
    prefix: "MSGraphUser.SoftOathAuthMethod",
    key_field: "ID",
};

/// Temporary Access Passes (`temporaryAccessPassMethods`).
pub const TEMP_ACCESS_PASS: Kind = Kind {
    segment: "temporaryAccessPassMethods",
    title: "Temporary Access Pass",
    none: "No Temporary Access Pass authentication methods found for user",
    mapping: Some(&[("id", "Temporary Access Pass ID"), ("isUsable", "Authentication method state")]),
    headers: &["Temporary Access Pass ID", "Authentication method state"],
    prefix: "MSGraphUser.TempAccessPassAuthMethod",
    key_field: "ID",
};

/// FIDO2 security keys (`fido2Methods`).
pub const FIDO2: Kind = Kind {
    segment: "fido2Methods",
    title: "FIDO2",
    none: "No FIDO2 authentication methods found for user",
    mapping: Some(&[
        ("id", "Authentication method ID"),
        ("displayName", "The display name of the key"),
        ("aaGuid", "Authenticator Attestation GUID"),
    ]),
    headers: &["Authentication method ID", "The display name of the key", "Authenticator Attestation GUID"],
    prefix: "MSGraphUser.FIDO2Method",
    key_field: "ID",
};

/// Windows Hello for Business (`windowsHelloForBusinessMethods`).
pub const WINDOWS_HELLO: Kind = Kind {
    segment: "windowsHelloForBusinessMethods",
    title: "Windows Hello for Business",
    none: "No Windows Hello for Business authentication methods found for user",
    mapping: Some(&[
        ("id", "Windows Hello Method ID"),
        ("displayName", "Display Name"),
        ("keyStrength", "Method Key Strength"),
    ]),
    headers: &["Windows Hello Method ID", "Display Name", "Method Key Strength"],
    prefix: "MSGraphUser.WindowsHelloAuthMethod",
    key_field: "ID",
};

/// The reference's 404 rules for the commands on a user's methods (its current
/// `suppress_errors_with_404_code`): with `handle_error` on, a 404 naming the `user` is
/// "Did not find the method_id" when Graph says "A key with identifier" and a method was named,
/// else "User -> x does not exist"; "The specified user could not be found." is the latter too.
pub fn suppress_404(
    graph: &Graph,
    ctx: &CommandContext,
    result: Result<Outcome, Error>,
) -> Result<Outcome, Error> {
    let e = match result {
        Err(e) if e.is_not_found() && graph.handle_error => e,
        other => return other,
    };
    let given = |name: &str| ctx.args.get(name).map(value_text).filter(|s| !s.is_empty());
    let said = e.to_string();
    let user = given("user").unwrap_or_else(|| "___".to_owned());
    let text = if said.contains(&user) {
        match given("method_id") {
            Some(method_id) if said.contains("A key with identifier") => {
                format!("#### Did not find the method_id {method_id} for user {user}")
            }
            _ => format!("#### User -> {user} does not exist"),
        }
    } else if said.contains("The specified user could not be found.") {
        format!("#### User -> {user} does not exist")
    } else {
        return Err(e);
    };
    Results::text(text).outcome()
}

/// How a list command pages.
#[derive(Clone, Copy)]
enum Paging {
    /// One call, no paging arguments.
    None,
    /// `next_page` only.
    Next,
    /// `next_page` and `$top` = `limit`.
    TopAndNext,
    /// `$top` = `limit` only (the reference shows no next page).
    Top,
}

/// What a list command was given.
struct ListArgs {
    user: String,
    method_id: Option<String>,
    limit: Option<u32>,
    next_page: Option<String>,
}

fn methods_path(kind: &Kind, user: &str) -> String {
    format!("{}/authentication/{}", user_path(user), kind.segment)
}

/// Renames the mapped raw keys of one method (the reference's
/// `map_auth_method_fields_to_readable`, which starts from Graph's raw keys).
fn mapped(item: &Value, mapping: &[(&str, &str)]) -> Value {
    let row = as_object(item)
        .into_iter()
        .map(|(k, v)| {
            let title = mapping.iter().find(|(raw, _)| *raw == k).map_or(k, |(_, t)| (*t).to_owned());
            (title, v)
        })
        .collect();
    Value::Object(row)
}

/// Lists a user's methods of one kind, or gets one by `method_id`.
async fn list(
    graph: &Graph,
    ctx: &mut CommandContext,
    kind: &Kind,
    paging: Paging,
    args: ListArgs,
) -> Result<Outcome, Error> {
    let ListArgs { user, method_id, limit, next_page } = args;
    // One method is a dict, a list of methods a list, in the readable rows and in the outputs.
    let (data, next) = if let Some(id) = &method_id {
        let path = format!("{}/{}", methods_path(kind, &user), quote(id));
        let mut one = graph.json(ctx, Request::get(path)).await?;
        drop_key(&mut one, "@odata.context");
        (one, None)
    } else {
        let req = match (paging, next_page) {
            (Paging::Next | Paging::TopAndNext, Some(url)) => Request::get(url),
            (Paging::TopAndNext, None) | (Paging::Top, _) => {
                let req = Request::get(methods_path(kind, &user));
                match limit {
                    Some(n) if n > 0 => req.query("$top", n.to_string()),
                    _ => req,
                }
            }
            _ => Request::get(methods_path(kind, &user)),
        };
        let mut reply = graph.json(ctx, req).await?;
        let next = match paging {
            Paging::None | Paging::Top => None,
            _ => reply.get("@odata.nextLink").and_then(Value::as_str).map(str::to_owned),
        };
        (Value::Array(take_values(&mut reply)), next)
    };
    let empty = match &data {
        Value::Array(items) => items.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => true,
    };
    if empty {
        return note(format!("{} {user}.", kind.none));
    }
    let (readable, mut outputs) = match &data {
        Value::Array(items) => {
            let (r, o) = parse_list(items);
            (Value::Array(r), Value::Array(o))
        }
        other => {
            let (r, o) = parse_object(&as_object(other));
            (Value::Object(r), Value::Object(o))
        }
    };
    let rows = match (kind.mapping, &data) {
        (None, _) => readable,
        (Some(m), Value::Array(items)) => Value::Array(items.iter().map(|i| mapped(i, m)).collect()),
        (Some(m), one) => mapped(one, m),
    };
    let title = match &method_id {
        Some(id) => format!("{} Authentication Method {id} for User {user}:", kind.title),
        None => format!("{} Authentication Methods for User {user}:", kind.title),
    };
    let mut table = Table::new(title, rows).headers(kind.headers).remove_null();
    if let Some(url) = &next {
        table =
            table.metadata(format!("To get further results, enter this to the next_page argument:\n{url}"));
        if let Value::Array(list) = &mut outputs {
            list.insert(0, json!({"NextPage": url}));
        }
    }
    Results {
        readable: Some(table.render()?),
        prefix: Some(kind.prefix),
        key_field: Some(kind.key_field),
        outputs: Some(outputs),
        raw: Some(data),
    }
    .outcome()
}

/// Deletes one method; `done` is the reference's text for it.
async fn delete(
    graph: &Graph,
    ctx: &mut CommandContext,
    kind: &Kind,
    user: &str,
    method_id: &str,
    done: String,
) -> Result<Outcome, Error> {
    let path = format!("{}/{}", methods_path(kind, user), quote(method_id));
    graph.json(ctx, Request::delete(path)).await?;
    note(done)
}

/// Declares a list command and a delete command for one kind.
macro_rules! method_commands {
    (
        $kind:expr, $paging:expr,
        list: $list:ident, $list_name:literal, $list_doc:literal, $list_example:literal,
        fields: [$(($field:literal, $ty:literal, $fdoc:literal)),* $(,)?],
        delete: $delete:ident, $delete_name:literal, $delete_doc:literal, $delete_example:literal,
        done: |$u:ident, $m:ident| $done:expr,
        extra_args: { $($(#[$meta:meta])* $arg:ident: $argty:ty),* $(,)? },
        limit: |$this:ident| $limit:expr, next: |$this2:ident| $next:expr
    ) => {
        #[doc = $list_doc]
        #[derive(Args)]
        pub struct $list {
            /// User ID or userPrincipalName.
            user: String,
            /// The ID of one method to get instead of the list.
            method_id: Option<String>,
            $($(#[$meta])* $arg: $argty,)*
        }

        #[async_trait]
        impl Handler<Graph> for $list {
            const NAME: &'static str = $list_name;
            const EXAMPLES: &'static [&'static str] = &[$list_example];

            fn outputs() -> Vec<OutputSpec> {
                vec![$(out($field, $ty, $fdoc)),*]
            }

            async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
                let $this = &self;
                let limit: Option<u32> = $limit;
                let $this2 = &self;
                let next_page: Option<String> = $next;
                let args = ListArgs { user: self.user.clone(), method_id: self.method_id.clone(), limit, next_page };
                let result = list(graph, ctx, &$kind, $paging, args).await;
                suppress_404(graph, ctx, result)
            }
        }

        #[doc = $delete_doc]
        #[derive(Args)]
        pub struct $delete {
            /// User ID or userPrincipalName.
            user: String,
            /// The ID of the method to delete.
            method_id: String,
        }

        #[async_trait]
        impl Handler<Graph> for $delete {
            const NAME: &'static str = $delete_name;
            const EXAMPLES: &'static [&'static str] = &[$delete_example];

            async fn run(self, graph: &Graph, ctx: &mut CommandContext) -> Result<Outcome, Error> {
                let ($u, $m) = (&self.user, &self.method_id);
                let done: String = $done;
                let result = delete(graph, ctx, &$kind, $u, $m, done).await;
                suppress_404(graph, ctx, result)
            }
        }
    };
}

method_commands! {
    AUTHENTICATOR, Paging::TopAndNext,
    list: AuthenticatorMethodList, "msgraph-user-authenticator-method-list",
    "Lists a user's Microsoft Authenticator methods, or gets one by ID. Permission: UserAuthenticationMethod.Read.All (delegated or application).",
    "!msgraph-user-authenticator-method-list user=alice@soar.example",
    fields: [
        ("MSGraphUser.UserAuthMethod.ID", "String", "The ID of the Microsoft Authenticator method."),
        ("MSGraphUser.UserAuthMethod.DisplayName", "String", "The name of the device the app is registered on."),
        ("MSGraphUser.UserAuthMethod.PhoneAppVersion", "String", "The version of Microsoft Authenticator on the device."),
        ("MSGraphUser.UserAuthMethod.DeviceTag", "String", "Tags with app metadata."),
        ("MSGraphUser.UserAuthMethod.CreatedDateTime", "String", "When the method was registered."),
        ("MSGraphUser.UserAuthMethod.NextPage", "String", "The link to the next page, for the next_page argument."),
    ],
    delete: AuthenticatorMethodDelete, "msgraph-user-authenticator-method-delete",
    "Deletes a Microsoft Authenticator method of a user. Permission: UserAuthenticationMethod.ReadWrite.All (delegated or application).",
    "!msgraph-user-authenticator-method-delete user=alice@soar.example method_id=<method id>",
    done: |u, m| format!("Microsoft Authenticator authentication method {m} was successfully deleted for user {u}."),
    extra_args: {
        /// The most methods to return (Graph's $top).
        #[arg(default = "50")]
        limit: u32,
        /// The next-page link a previous run returned.
        next_page: Option<String>,
    },
    limit: |s| Some(s.limit), next: |s| s.next_page.clone()
}

method_commands! {
    EMAIL, Paging::None,
    list: EmailMethodList, "msgraph-user-email-method-list",
    "Lists a user's email authentication methods, or gets one by ID. Permission: UserAuthenticationMethod.Read.All (delegated or application).",
    "!msgraph-user-email-method-list user=alice@soar.example",
    fields: [
        ("MSGraphUser.EmailAuthMethod.ID", "String", "The ID of the email method."),
        ("MSGraphUser.EmailAuthMethod.EmailAddress", "String", "The email address registered to the user."),
    ],
    delete: EmailMethodDelete, "msgraph-user-email-method-delete",
    "Deletes an email authentication method of a user. Permission: UserAuthenticationMethod.ReadWrite.All (delegated or application).",
    "!msgraph-user-email-method-delete user=alice@soar.example method_id=3ddfcfc8-9383-446f-83cc-3ab9be4be18f",
    done: |_u, m| format!("The user's Email Authentication Method object {m} has been successfully deleted."),
    extra_args: {},
    limit: |_s| None, next: |_s| None
}

method_commands! {
    PHONE, Paging::Next,
    list: PhoneMethodList, "msgraph-user-phone-method-list",
    "Lists a user's phone authentication methods, or gets one by ID. Permission: UserAuthenticationMethod.Read.All (delegated or application).",
    "!msgraph-user-phone-method-list user=alice@soar.example",
    fields: [
        ("MSGraphUser.PhoneAuthMethod.ID", "String", "The ID of the phone method."),
        ("MSGraphUser.PhoneAuthMethod.PhoneNumber", "String", "The phone number registered to the user."),
        ("MSGraphUser.PhoneAuthMethod.PhoneType", "String", "The type of phone (mobile, alternateMobile or office)."),
        ("MSGraphUser.PhoneAuthMethod.SmsSignInState", "String", "Whether the phone can be used for SMS sign-in."),
        ("MSGraphUser.PhoneAuthMethod.NextPage", "String", "The link to the next page, for the next_page argument."),
    ],
    delete: PhoneMethodDelete, "msgraph-user-phone-method-delete",
    "Deletes a phone authentication method of a user. Permission: UserAuthenticationMethod.ReadWrite.All (delegated or application).",
    "!msgraph-user-phone-method-delete user=alice@soar.example method_id=3179e48a-750b-4051-897c-87b9720928f7",
    done: |_u, m| format!("The user's phone authentication method object id {m} has been successfully deleted."),
    extra_args: {
        /// The next-page link a previous run returned.
        next_page: Option<String>,
    },
    limit: |_s| None, next: |s| s.next_page.clone()
}

method_commands! {
    SOFTWARE_OATH, Paging::None,
    list: SoftwareOathMethodList, "msgraph-user-software-oath-method-list",
    "Lists a user's software OATH token methods, or gets one by ID. Permission: UserAuthenticationMethod.Read.All (delegated or application).",
    "!msgraph-user-software-oath-method-list user=alice@soar.example",
    fields: [("MSGraphUser.SoftOathAuthMethod.ID", "String", "The ID of the software OATH method.")],
    delete: SoftwareOathMethodDelete, "msgraph-user-software-oath-method-delete",
    "Deletes a software OATH token method of a user. Permission: UserAuthenticationMethod.ReadWrite.All (delegated or application).",
    "!msgraph-user-software-oath-method-delete user=alice@soar.example method_id=<method id>",
    done: |_u, m| format!("The user's Software OATH token authentication method object id {m} has been successfully deleted."),
    extra_args: {},
    limit: |_s| None, next: |_s| None
}

method_commands! {
    TEMP_ACCESS_PASS, Paging::None,
    list: TempAccessPassMethodList, "msgraph-user-temp-access-pass-method-list",
    "Lists a user's Temporary Access Pass methods, or gets one by ID. Permission: UserAuthenticationMethod.Read.All (delegated or application).",
    "!msgraph-user-temp-access-pass-method-list user=alice@soar.example",
    fields: [
        ("MSGraphUser.TempAccessPassAuthMethod.ID", "String", "The ID of the Temporary Access Pass method."),
        ("MSGraphUser.TempAccessPassAuthMethod.IsUsable", "Bool", "Whether the pass can be used now."),
    ],
    delete: TempAccessPassMethodDelete, "msgraph-user-temp-access-pass-method-delete",
    "Deletes a Temporary Access Pass method of a user. Permission: UserAuthenticationMethod.ReadWrite.All (delegated or application).",
    "!msgraph-user-temp-access-pass-method-delete user=alice@soar.example method_id=<method id>",
    done: |_u, m| format!("The user's Temporary Access Pass Authentication Method object id {m} has been successfully deleted."),
    extra_args: {},
    limit: |_s| None, next: |_s| None
}

method_commands! {
    WINDOWS_HELLO, Paging::None,
    list: WindowsHelloMethodList, "msgraph-user-windows-hello-method-list",
    "Lists a user's Windows Hello for Business methods, or gets one by ID. Permission: UserAuthenticationMethod.Read.All (delegated or application).",
    "!msgraph-user-windows-hello-method-list user=alice@soar.example",
    fields: [
        ("MSGraphUser.WindowsHelloAuthMethod.ID", "String", "The ID of the Windows Hello for Business method."),
        ("MSGraphUser.WindowsHelloAuthMethod.DisplayName", "String", "The name of the device Windows Hello is registered on."),
        ("MSGraphUser.WindowsHelloAuthMethod.KeyStrength", "String", "The key strength (normal or weak)."),
        ("MSGraphUser.WindowsHelloAuthMethod.CreatedDateTime", "String", "When the method was registered."),
    ],
    delete: WindowsHelloMethodDelete, "msgraph-user-windows-hello-method-delete",
    "Deletes a Windows Hello for Business method of a user. Permission: UserAuthenticationMethod.ReadWrite.All (delegated or application).",
    "!msgraph-user-windows-hello-method-delete user=alice@soar.example method_id=<method id>",
    done: |_u, m| format!("The Windows Hello For Business Authentication Method object id {m} has been successfully deleted."),
    extra_args: {},
    limit: |_s| None, next: |_s| None
}

method_commands! {
    FIDO2, Paging::Top,
    list: Fido2MethodList, "msgraph-user-fido2-method-list",
    "Lists a user's FIDO2 security keys, or gets one by ID. Permission: UserAuthenticationMethod.Read.All (delegated or application).",
    "!msgraph-user-fido2-method-list user=alice@soar.example",
    fields: [
        ("MSGraphUser.FIDO2Method.ID", "String", "The ID of the FIDO2 method."),
        ("MSGraphUser.FIDO2Method.DisplayName", "String", "The key's name, as the user gave it."),
        ("MSGraphUser.FIDO2Method.CreatedDateTime", "String", "When the key was registered."),
        ("MSGraphUser.FIDO2Method.AaGuid", "String", "The Authenticator Attestation GUID (the kind of key)."),
        ("MSGraphUser.FIDO2Method.Model", "String", "The key's model, as its maker names it."),
        ("MSGraphUser.FIDO2Method.AttestationCertificates", "String", "The key's attestation certificates."),
        ("MSGraphUser.FIDO2Method.AttestationLevel", "String", "The key's attestation level."),
    ],
    delete: Fido2MethodDelete, "msgraph-user-fido2-method-delete",
    "Deletes a FIDO2 security key of a user. Permission: UserAuthenticationMethod.ReadWrite.All (delegated or application).",
    "!msgraph-user-fido2-method-delete user=alice@soar.example method_id=<method id>",
    done: |_u, m| format!("The user's FIDO2 Security Key Authentication Method {m} has been successfully deleted."),
    extra_args: {
        /// The most keys to return (Graph's $top).
        limit: Option<u32>,
    },
    limit: |s| s.limit, next: |_s| None
}
