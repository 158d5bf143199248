//! The runtime's error type; [`Error::to_entry`] is the one place errors become War Room entries.

use soar_protocol::Entry;

/// Everything that can stop a command. Integration crates convert their own errors into
/// [`Error::Command`] (their `Display` text is what a person reads).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required argument is missing.
    #[error("Missing required argument: {0}. Add {0}=<value> to the command.")]
    MissingArg(String),
    /// An argument has a value that cannot be used.
    #[error("Invalid value for argument {name}: {reason}")]
    InvalidArg {
        /// The argument name.
        name: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// A required instance parameter is missing.
    #[error("Missing required parameter: {0}. Set it in the instance configuration.")]
    MissingParam(String),
    /// A parameter has a value that cannot be used.
    #[error("Invalid value for parameter {name}: {reason}")]
    InvalidParam {
        /// The parameter name.
        name: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// An error raised by the command itself (auth, API, ...), already worded for a person.
    #[error("{0}")]
    Command(String),
}

impl Error {
    /// Wraps any error whose `Display` text is already fit for a person.
    pub fn command(e: impl std::fmt::Display) -> Self {
        Error::Command(e.to_string())
    }

    /// The Type 4 entry a person sees for this error.
    pub fn to_entry(&self) -> Entry {
        Entry::error(self.to_string())
    }
}
