//! The `soar_core::Integration` of a Microsoft integration, written once: its declarations
//! ([`About`]: the auth spec gives the prefix and the flows) and its commands
//! ([`CommandSet`], built once per process around the process's `soar_auth::Shared`).

use std::sync::Arc;

use soar_auth::{AuthSpec, Shared};
use soar_core::{AuthFlow, Command, Integration, ParamSpec};

/// What an integration declares besides its commands.
pub struct About {
    /// The auth declaration; its `prefix` and `flows` are the integration's.
    pub spec: &'static AuthSpec,
    /// The name people see.
    pub display_name: &'static str,
    /// One or two sentences on what the integration does (the XSOAR YAML's `description`).
    pub description: &'static str,
    /// The XSOAR category, e.g. `Analytics & SIEM`, `IT Services`.
    pub category: &'static str,
    /// The instance parameters.
    pub params: fn() -> Vec<ParamSpec>,
    /// Reference command names that do not start with `<prefix>-`.
    pub unprefixed_commands: &'static [&'static str],
}

/// Builds an integration's commands around the process's `Shared` (tokens and connections).
pub trait CommandSet: Send + Sync + 'static {
    /// Every command, in the order the manifest lists them.
    fn commands(&self, shared: &Arc<Shared>) -> Vec<Box<dyn Command>>;
}

/// An integration made of its [`About`] and its [`CommandSet`].
pub struct MsIntegration<C> {
    about: &'static About,
    shared: Arc<Shared>,
    commands: C,
}

impl<C: CommandSet> MsIntegration<C> {
    /// With the process-wide HTTP client and token cache (configured from the environment).
    pub fn new(about: &'static About, commands: C) -> Self {
        Self::with_shared(about, Shared::new(), commands)
    }

    /// With a given `Shared` (tests).
    pub fn with_shared(about: &'static About, shared: Arc<Shared>, commands: C) -> Self {
        MsIntegration { about, shared, commands }
    }
}

impl<C: CommandSet> Integration for MsIntegration<C> {
    fn prefix(&self) -> &'static str {
        self.about.spec.prefix
    }

    fn display_name(&self) -> &'static str {
        self.about.display_name
    }

    fn description(&self) -> &'static str {
        self.about.description
    }

    fn category(&self) -> &'static str {
        self.about.category
    }

    /// The flow instructions written from the auth spec and the params ([`crate::help`]).
    fn detailed_description(&self) -> String {
        crate::help::detailed_description(self.about.spec, &(self.about.params)())
    }

    fn supported_flows(&self) -> &'static [AuthFlow] {
        self.about.spec.flows
    }

    fn params(&self) -> Vec<ParamSpec> {
        (self.about.params)()
    }

    fn unprefixed_commands(&self) -> &'static [&'static str] {
        self.about.unprefixed_commands
    }

    fn commands(&self) -> Vec<Box<dyn Command>> {
        self.commands.commands(&self.shared)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::fixtures::SPEC;

    static ABOUT: About = About {
        spec: &SPEC,
        display_name: "Kit Test",
        description: "Tests the kit.",
        category: "IT Services",
        params: || vec![ParamSpec { name: "p", display: "P", ..ParamSpec::default() }],
        unprefixed_commands: &["kit-other"],
    };

    /// Counts how often it is asked and checks it gets the integration's `Shared`.
    struct Counting(AtomicUsize, Arc<Shared>);

    impl CommandSet for Arc<Counting> {
        fn commands(&self, shared: &Arc<Shared>) -> Vec<Box<dyn Command>> {
            assert!(Arc::ptr_eq(shared, &self.1), "the commands get the integration's Shared");
            self.0.fetch_add(1, Ordering::SeqCst);
            Vec::new()
        }
    }

    #[test]
    fn declarations_come_from_about_and_its_auth_spec() {
        let shared = Shared::new();
        let set = Arc::new(Counting(AtomicUsize::new(0), shared.clone()));
        let i = MsIntegration::with_shared(&ABOUT, shared, set.clone());
        assert_eq!(i.prefix(), "kit-test");
        assert_eq!(i.display_name(), "Kit Test");
        assert_eq!((i.description(), i.category()), ("Tests the kit.", "IT Services"));
        assert!(i.detailed_description().contains("#### Client credentials (secret)\n"));
        assert_eq!(i.supported_flows(), &[AuthFlow::ClientSecret]);
        assert_eq!(i.params().iter().map(|p| p.name).collect::<Vec<_>>(), ["p"]);
        assert_eq!(i.unprefixed_commands(), &["kit-other"]);
        assert!(i.commands().is_empty());
        assert_eq!(set.0.load(Ordering::SeqCst), 1);
    }
}
