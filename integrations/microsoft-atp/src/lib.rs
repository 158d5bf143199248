//! Microsoft Defender for Endpoint (prefix `microsoft-atp`).
//!
//! The binary (`src/main.rs`) is `soar_integration_kit::run(integration())`. [`AUTH_SPEC`]
//! declares the flows and where the instance's values are read, [`ABOUT`] the form and the
//! integration's own params, and [`integration`] lists the commands, each declared in one place
//! in `commands.rs`. The auth commands (`microsoft-atp-auth-test`, `-auth-reset`, and those the
//! flows call for) come with the kit.

pub mod commands;

use soar_integration_kit::{
    About, ApiClient, ApiKind, AuthFlow, AuthForm, AuthSpec, FlowPicker, MsIntegration, ParamNames, matrix,
};

use crate::commands::{ExampleList, TestModule};

/// The flows this integration supports.
pub const FLOWS: &[AuthFlow] = matrix::declared_flows("microsoft-atp");

/// What the auth crate needs to know about this integration.
pub static AUTH_SPEC: AuthSpec = AuthSpec {
    prefix: "microsoft-atp",
    flows: FLOWS,
    oproxy_app_name: "ms-defender-atp",
    resource: ApiKind::Defender,
    scopes: &[],
    param_names: ParamNames::APP_CREDENTIALS,
    user_flow_tenant: None,
};

/// The integration's declarations.
pub static ABOUT: About = About {
    spec: &AUTH_SPEC,
    display_name: "Microsoft Defender for Endpoint",
    description: "Microsoft Defender for Endpoint for Cortex XSOAR, built on soar-rt.",
    category: "Endpoint",
    form: AuthForm {
        picker: FlowPicker::Select { default: AuthFlow::CortexApp },
        national_clouds: true,
        labels: &[("app_id", "Application ID")],
        defaults: &[],
    },
    params: &[],
    unprefixed_commands: &[],
};

/// The integration with the process-wide HTTP client (configured from the environment).
pub fn integration() -> MsIntegration<ApiClient> {
    MsIntegration::new(&ABOUT, ApiClient::env(ApiKind::Defender, None))
        .command::<TestModule>()
        .command::<ExampleList>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_follows_the_runtime_rules() {
        soar_integration_kit::check_integration(&integration()).unwrap();
    }

    #[test]
    fn the_form_agrees_with_the_declared_flows() {
        assert_eq!(ABOUT.check_params(), Vec::<String>::new());
    }
}
