//! The manifest an integration binary prints with `--manifest`.
//!
//! Its shape follows an XSOAR integration YAML (`commonfields`, `configuration`,
//! `script.commands[].arguments/outputs`, the same key spellings), so that a YAML can be
//! generated from it one to one (`cargo xtask codegen` writes `integrations/<prefix>/<Name>.yml`
//! from it). Keys that YAML does not have (`prefix`, `auth_flows`, `protocol_version`,
//! `examples`) are extra and sit beside the YAML ones.
//!
//! The keys added in protocol version 2 (`category`, `description`, `detaileddescription`,
//! `additionalinfo`, `ismappable`, `isremotesyncin`, `isremotesyncout`) default when absent,
//! so an engine still reads the manifest of a version-1 binary.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::AuthFlow;

/// Everything an engine needs to know about an integration without running a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Manifest {
    /// The protocol version the binary speaks ([`crate::PROTOCOL_VERSION`]).
    pub protocol_version: String,
    /// The YAML's `commonfields`.
    pub commonfields: CommonFields,
    /// The integration id (the YAML's `name`); the display name, as XSOAR uses it.
    pub name: String,
    /// The name a person sees.
    pub display: String,
    /// The XSOAR category, e.g. `Analytics & SIEM`, `IT Services`.
    #[serde(default)]
    pub category: String,
    /// One or two sentences on what the integration does (the YAML's `description`).
    #[serde(default)]
    pub description: String,
    /// Markdown a person follows to configure an instance (the YAML's `detaileddescription`):
    /// which fields each auth flow needs and the commands that complete a sign-in.
    #[serde(default)]
    pub detaileddescription: String,
    /// The command prefix, e.g. `msgraph-user`; also the binary's name.
    pub prefix: String,
    /// The auth flows the integration supports.
    pub auth_flows: Vec<AuthFlow>,
    /// The instance parameters (the YAML's `configuration`).
    pub configuration: Vec<ManifestParam>,
    /// The YAML's `script` section with the commands.
    pub script: ManifestScript,
}

/// The YAML's `commonfields`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommonFields {
    /// The integration id.
    pub id: String,
    /// Always -1, as in content packs.
    pub version: i64,
}

/// One instance parameter, with the YAML's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestParam {
    /// The param key as the engine sends it.
    pub name: String,
    /// The label a person sees.
    pub display: String,
    /// XSOAR param type: 0 short text, 4 encrypted, 8 checkbox, 9 credentials, 12 long text,
    /// 15 single select, 16 multi select.
    #[serde(rename = "type")]
    pub param_type: i64,
    /// Must be set.
    pub required: bool,
    /// The default value, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaultvalue: Option<String>,
    /// The accepted values of a select param.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Shown only under advanced settings.
    #[serde(default)]
    pub hidden: bool,
    /// The help text shown beside the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additionalinfo: Option<String>,
}

/// The YAML's `script` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestScript {
    /// Always `binary`: the engine runs the integration's executable over this protocol.
    #[serde(rename = "type")]
    pub script_type: String,
    /// True when the integration has a `fetch-incidents` command.
    pub isfetch: bool,
    /// True when the integration has a `get-mapping-fields` command (incoming/outgoing mappers).
    #[serde(default)]
    pub ismappable: bool,
    /// True when the integration has a `get-remote-data` command (mirroring in).
    #[serde(default)]
    pub isremotesyncin: bool,
    /// True when the integration has an `update-remote-system` command (mirroring out).
    #[serde(default)]
    pub isremotesyncout: bool,
    /// The commands, in registry order.
    pub commands: Vec<ManifestCommand>,
}

/// One command, with the YAML's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestCommand {
    /// The full command name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its arguments.
    pub arguments: Vec<ManifestArgument>,
    /// Its context outputs.
    pub outputs: Vec<ManifestOutput>,
    /// Example command lines (`!name arg=value`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// A scheduled (polling) command: its answers may carry a [`Schedule`](crate::Schedule), and
    /// the YAML says `polling: true` so that XSOAR runs the schedule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub polling: bool,
}

/// One command argument, with the YAML's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestArgument {
    /// The argument name.
    pub name: String,
    /// What it means.
    pub description: String,
    /// Must be given.
    pub required: bool,
    /// The value used when it is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// `PREDEFINED` when the argument has a fixed list of values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto: Option<String>,
    /// The accepted values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predefined: Vec<String>,
    /// A comma-separated list.
    pub is_array: bool,
    /// Never logged or shown.
    pub secret: bool,
}

/// One context output, with the YAML's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManifestOutput {
    /// The context path, e.g. `MSGraphUser.ID`.
    pub context_path: String,
    /// `String`, `Number`, `Boolean`, `Date`, `Unknown`.
    #[serde(rename = "type")]
    pub output_type: String,
    /// What it holds.
    pub description: String,
}
