//! The command registry: an integration's commands, built once per process and checked.
//!
//! Rules (checked by [`Registry::new`], and by [`check_integration`] in an integration's tests):
//! - every command name starts with `<prefix>-`, except the engine's own command names in
//!   [`ENGINE_COMMANDS`] (`test-module`, `fetch-incidents`, ...), which carry no prefix, and
//!   the reference names an integration keeps for compatibility and declares in
//!   [`Integration::unprefixed_commands`];
//! - command names are unique;
//! - within a command, argument names are unique and non-empty, and a default of an argument
//!   with fixed options is one of those options.
//!
//! A registry that breaks a rule still lists its commands (for `--manifest` diagnostics), but
//! the dispatcher answers every request with an [`Error::Registry`] entry naming the problems.

use std::collections::HashMap;

use crate::{ArgSpec, Command, Error, Integration};

/// Command names the engine itself calls; they carry no integration prefix.
pub const ENGINE_COMMANDS: &[&str] = &[
    "test-module",
    "fetch-incidents",
    "fetch-indicators",
    "fetch-credentials",
    "long-running-execution",
    "get-remote-data",
    "get-modified-remote-data",
    "update-remote-system",
    "get-mapping-fields",
];

/// One registered command with its argument specs, read once.
pub(crate) struct Registered {
    pub(crate) command: Box<dyn Command>,
    pub(crate) args: Vec<ArgSpec>,
}

/// The commands of one integration, looked up by name.
pub struct Registry {
    commands: Vec<Registered>,
    index: HashMap<String, usize>,
    problems: Vec<String>,
}

impl Registry {
    /// Registers `commands` for `prefix`, recording every rule they break. Names in
    /// `unprefixed` are accepted without the prefix.
    pub fn new(prefix: &str, unprefixed: &[&str], commands: Vec<Box<dyn Command>>) -> Registry {
        let mut problems = Vec::new();
        let mut index = HashMap::with_capacity(commands.len());
        let mut registered = Vec::with_capacity(commands.len());
        let wanted = format!("{prefix}-");
        for (i, command) in commands.into_iter().enumerate() {
            let name = command.name().to_owned();
            if !name.starts_with(&wanted)
                && !ENGINE_COMMANDS.contains(&name.as_str())
                && !unprefixed.contains(&name.as_str())
            {
                problems.push(format!("command {name:?} does not start with the prefix {wanted:?}"));
            }
            if index.insert(name.clone(), i).is_some() {
                problems.push(format!("command {name:?} is declared twice"));
            }
            let args = command.args();
            check_args(&name, &args, &mut problems);
            registered.push(Registered { command, args });
        }
        Registry { commands: registered, index, problems }
    }

    /// Builds the registry of an integration (calls `commands()` once).
    pub fn from_integration<I: Integration + ?Sized>(integration: &I) -> Registry {
        Registry::new(integration.prefix(), integration.unprefixed_commands(), integration.commands())
    }

    /// The broken rules, empty for a valid registry.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The command names, in declaration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.commands.iter().map(|c| c.command.name())
    }

    /// Every command, in declaration order.
    pub fn commands(&self) -> impl Iterator<Item = &dyn Command> {
        self.commands.iter().map(|c| c.command.as_ref())
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Registered> {
        self.index.get(name).and_then(|&i| self.commands.get(i))
    }
}

/// Checks an integration's command list against the registry rules; integrations call this
/// from a unit test so that a bad name fails `cargo test`, not a run.
pub fn check_integration<I: Integration + ?Sized>(integration: &I) -> Result<(), Error> {
    let registry = Registry::from_integration(integration);
    match registry.problems() {
        [] => Ok(()),
        problems => Err(Error::Registry(problems.join("; "))),
    }
}

fn check_args(command: &str, args: &[ArgSpec], problems: &mut Vec<String>) {
    for (i, arg) in args.iter().enumerate() {
        if arg.name.is_empty() {
            problems.push(format!("command {command:?} has an argument without a name"));
        }
        if args[..i].iter().any(|a| a.name == arg.name) {
            problems.push(format!("command {command:?} declares argument {:?} twice", arg.name));
        }
        if let Some(default) = arg.default
            && !arg.options.is_empty()
            && !split_values(default, arg.is_array).all(|v| arg.options.contains(&v))
        {
            problems.push(format!(
                "command {command:?} argument {:?} has default {default:?}, which is not one of its options",
                arg.name
            ));
        }
    }
}

/// The items of an argument value: comma-separated and trimmed for a list, else the whole.
pub(crate) fn split_values(value: &str, is_array: bool) -> Box<dyn Iterator<Item = &str> + '_> {
    if is_array {
        Box::new(value.split(',').map(str::trim).filter(|s| !s.is_empty()))
    } else {
        Box::new(std::iter::once(value))
    }
}
