//! The runtime's error type; [`Error::to_entry`] is the one place errors become War Room entries.
//!
//! Every variant's text says what went wrong and what to do about it. The dispatcher masks
//! the request's secret values in the resulting entry (see `redact`), so a command may quote
//! a server message without checking it for secrets first.

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
    /// Several required instance parameters are missing.
    #[error("Missing required parameters: {}. Set them in the instance configuration.", .0.join(", "))]
    MissingParams(Vec<String>),
    /// A parameter has a value that cannot be used.
    #[error("Invalid value for parameter {name}: {reason}")]
    InvalidParam {
        /// The parameter name.
        name: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
    /// An error raised by the command itself (auth, configuration, ...), already worded for a
    /// person.
    #[error("{0}")]
    Command(String),
    /// The identity platform (or the managed identity endpoint) gave no token. The reference's
    /// auth module ends the run with this text itself (`return_error`), so integrations that word
    /// every other failure their own way (`Failed to execute ...`) leave this one as it is.
    #[error("{0}")]
    Token(String),
    /// An API answered with a status that is not OK. The text is the reference's
    /// (`Error in API call [400] - Bad Request\n{...}`; a 404 as the body's Python repr), made
    /// once where the answer was read; the status, headers and body stay available to handlers
    /// that turn some answers into results (a 404 that means "no such user").
    #[error("{}", .0.text)]
    Api(ApiFailure),
    /// The request could not be read as a request: malformed JSON, a missing `command`, a
    /// field of the wrong type. The text names the field and the fix.
    #[error("{0}")]
    InvalidRequest(String),
    /// The request is larger than the runtime reads.
    #[error(
        "The request is larger than {limit} bytes (16 MiB) and was not read. \
         Send a smaller request: pass large data as a file or in several calls."
    )]
    RequestTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No command of this integration has the requested name.
    #[error("Unknown command: {command}. This integration's commands are: {}.", .available.join(", "))]
    UnknownCommand {
        /// The name that was requested.
        command: String,
        /// Every command of the integration, in registry order.
        available: Vec<String>,
    },
    /// The request passed arguments the command does not declare.
    #[error(
        "Unknown argument{} for {command}: {}. Accepted arguments: {}.",
        if .unknown.len() == 1 { "" } else { "s" },
        .unknown.join(", "),
        if .accepted.is_empty() { "none".to_owned() } else { .accepted.join(", ") }
    )]
    UnknownArgs {
        /// The command.
        command: String,
        /// The undeclared argument names, in request order.
        unknown: Vec<String>,
        /// The declared argument names.
        accepted: Vec<String>,
    },
    /// The command panicked; the runtime caught it and answered anyway.
    #[error(
        "The command {command} failed unexpectedly: {message}. This is a bug in the integration; \
         please report it with the command and its arguments."
    )]
    Panicked {
        /// The command.
        command: String,
        /// The panic message.
        message: String,
    },
    /// The integration's command list breaks a registry rule (a name without the prefix, a
    /// duplicate). Every request gets this until the integration is fixed.
    #[error("The integration is declared wrongly: {0}. This is a bug in the integration binary.")]
    Registry(String),
}

/// An API's error answer, as [`Error::Api`] carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers.
    pub headers: Vec<(String, String)>,
    /// The answer's body as the text shows it (JSON as Python's `json.dumps` writes it).
    pub body: String,
    /// What a person reads.
    pub text: String,
}

impl Error {
    /// The HTTP status of an [`Error::Api`].
    pub fn api_status(&self) -> Option<u16> {
        match self {
            Error::Api(f) => Some(f.status),
            _ => None,
        }
    }

    /// True for an API 404.
    pub fn is_not_found(&self) -> bool {
        self.api_status() == Some(404)
    }

    /// Wraps any error whose `Display` text is already fit for a person.
    pub fn command(e: impl std::fmt::Display) -> Self {
        Error::Command(e.to_string())
    }

    /// The Type 4 entry a person sees for this error.
    pub fn to_entry(&self) -> Entry {
        Entry::error(self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_name_the_problem_and_the_fix() {
        let cases = [
            (
                Error::UnknownCommand { command: "x-y".into(), available: vec!["x-a".into(), "x-b".into()] },
                "Unknown command: x-y. This integration's commands are: x-a, x-b.",
            ),
            (
                Error::UnknownArgs {
                    command: "x-a".into(),
                    unknown: vec!["lim".into()],
                    accepted: vec!["limit".into()],
                },
                "Unknown argument for x-a: lim. Accepted arguments: limit.",
            ),
            (
                Error::UnknownArgs {
                    command: "x-a".into(),
                    unknown: vec!["p".into(), "q".into()],
                    accepted: vec![],
                },
                "Unknown arguments for x-a: p, q. Accepted arguments: none.",
            ),
            (
                Error::MissingArg("user".into()),
                "Missing required argument: user. Add user=<value> to the command.",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
            assert!(error.to_entry().is_error());
        }
    }
}
