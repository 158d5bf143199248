//! The manifest printed by `--manifest`: the integration's declarations in the shape of an
//! XSOAR integration YAML (see [`soar_protocol::Manifest`]).
//!
//! Param types follow the YAML's codes. [`crate::ParamSpec`] has no explicit type, so the type is
//! derived: credentials -> 9, secret -> 4, `checkbox` -> 8, with options -> 15 (single select),
//! a default of `true`/`false` -> 8 (checkbox), anything else -> 0 (short text). A param's
//! `help` is the YAML's `additionalinfo`.
//!
//! The script flags follow the engine's command names: `isfetch` when there is a
//! `fetch-incidents` command, `ismappable` with `get-mapping-fields`, `isremotesyncin` with
//! `get-remote-data`, `isremotesyncout` with `update-remote-system`.

use soar_protocol::{
    AuthFlow, CommonFields, Manifest, ManifestArgument, ManifestCommand, ManifestOutput, ManifestParam,
    ManifestScript, PROTOCOL_VERSION,
};

use crate::ParamSpec;
use crate::registry::Registry;

/// The integration-level texts of the manifest, read once from the `Integration`.
#[derive(Debug, Clone, Default)]
pub(crate) struct About {
    pub(crate) description: &'static str,
    pub(crate) category: &'static str,
    pub(crate) detailed_description: String,
}

pub(crate) fn build(
    prefix: &str,
    display_name: &str,
    about: &About,
    flows: &[AuthFlow],
    params: &[ParamSpec],
    registry: &Registry,
) -> Manifest {
    let commands: Vec<ManifestCommand> = registry
        .commands()
        .map(|c| ManifestCommand {
            name: c.name().to_owned(),
            description: c.description().to_owned(),
            arguments: c
                .args()
                .into_iter()
                .map(|a| ManifestArgument {
                    name: a.name.to_owned(),
                    description: a.description.to_owned(),
                    required: a.required,
                    default_value: a.default.map(str::to_owned),
                    auto: (!a.options.is_empty()).then(|| "PREDEFINED".to_owned()),
                    predefined: a.options.iter().map(|o| (*o).to_owned()).collect(),
                    is_array: a.is_array,
                    secret: a.secret,
                })
                .collect(),
            outputs: c
                .outputs()
                .into_iter()
                .map(|o| ManifestOutput {
                    context_path: o.path.to_owned(),
                    output_type: o.output_type.to_owned(),
                    description: o.description.to_owned(),
                })
                .collect(),
            examples: c.examples().into_iter().map(str::to_owned).collect(),
            polling: c.polling(),
        })
        .collect();
    let has = |name: &str| commands.iter().any(|c| c.name == name);
    Manifest {
        protocol_version: PROTOCOL_VERSION.to_owned(),
        commonfields: CommonFields { id: display_name.to_owned(), version: -1 },
        name: display_name.to_owned(),
        display: display_name.to_owned(),
        category: about.category.to_owned(),
        description: about.description.to_owned(),
        detaileddescription: about.detailed_description.clone(),
        prefix: prefix.to_owned(),
        auth_flows: flows.to_vec(),
        configuration: params.iter().map(param).collect(),
        script: ManifestScript {
            script_type: "binary".to_owned(),
            isfetch: has("fetch-incidents"),
            ismappable: has("get-mapping-fields"),
            isremotesyncin: has("get-remote-data"),
            isremotesyncout: has("update-remote-system"),
            commands,
        },
    }
}

fn param(p: &ParamSpec) -> ManifestParam {
    let param_type = if p.credentials {
        9
    } else if p.secret {
        4
    } else if p.checkbox {
        8
    } else if !p.options.is_empty() {
        15
    } else if matches!(p.default, Some("true" | "false")) {
        8
    } else {
        0
    };
    ManifestParam {
        name: p.name.to_owned(),
        display: if p.display.is_empty() { p.name.to_owned() } else { p.display.to_owned() },
        param_type,
        required: p.required,
        defaultvalue: p.default.map(str::to_owned),
        options: p.options.iter().map(|o| (*o).to_owned()).collect(),
        hidden: p.hidden,
        additionalinfo: (!p.help.is_empty()).then(|| p.help.to_owned()),
    }
}
