//! The runner's one error type. Every message names the file, suite, case or binary at fault,
//! for the person running the tests; nothing branches on the kind but the tests of the runner.

/// What went wrong while running a conformance suite.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command-line option is wrong; the message says which and shows the usage.
    #[error("{0}")]
    Usage(String),
    /// A file or folder could not be read or written, or a process not started or waited for.
    #[error("{what}: {error}")]
    Io {
        /// What was being done, naming the path.
        what: String,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// A suite or case file (or a value in one) is not valid JSON of the expected shape.
    #[error("{what}: {error}")]
    Json {
        /// What was being parsed, naming the file.
        what: String,
        /// The parser's error.
        error: serde_json::Error,
    },
    /// A suite or case asks for something the runner does not know (a setup, an emulator
    /// action, a `${NAME}` placeholder), or no suite matches.
    #[error("{0}")]
    Suite(String),
    /// The emulator could not start, or could not do what a flow's sign-in or a case needs.
    #[error("{0}")]
    Emulator(String),
    /// An integration binary gave no response, or not the one a sign-in step needs.
    #[error("{0}")]
    Binary(String),
    /// `cargo build` of the integrations failed (its output is above).
    #[error("cargo build failed")]
    Build,
    /// An error in one step of a case run, with the case's label.
    #[error("{context}: {error}")]
    Step {
        /// The case and step, e.g. `msgraph-user/010-get.json [client-secret/worldwide]: preparing the emulator`.
        context: String,
        /// What failed.
        error: Box<Error>,
    },
}

/// The runner's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `map_err` helper: an I/O error while doing `what`.
pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |error| Error::Io { what, error }
}

/// `map_err` helper: a JSON error while parsing `what`.
pub(crate) fn json(what: impl Into<String>) -> impl FnOnce(serde_json::Error) -> Error {
    let what = what.into();
    move |error| Error::Json { what, error }
}
