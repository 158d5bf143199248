//! The engine's error type: every failure a person can meet, worded to say what to do next.

use std::path::PathBuf;

/// Everything that can stop a `soar` command.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The command line cannot be used; the text says what to type instead (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// A file or directory could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "Could not read".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A stored file exists but does not hold what it should.
    #[error("{path} is not a valid {what}: {reason}. Fix or remove the file.")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        what: &'static str,
        /// The parse error.
        reason: String,
    },
    /// The integration binary could not be run, or did not answer with a protocol response.
    #[error("{0}")]
    Integration(String),
    /// The Redis store failed.
    #[error("Redis store ({url}): {reason}")]
    Redis {
        /// The URL with any password removed.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A compare-and-set update kept conflicting with other engines.
    #[error(
        "Failed updating the integration context of instance {instance}: another engine kept writing it \
         ({attempts} attempts). The command ran; run it again to store its context."
    )]
    ContextConflict {
        /// The instance.
        instance: String,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A command returned an integration context too large to be sent back to the integration.
    #[error(
        "The command ran, but its integration context for instance {instance} is {size} bytes, over \
         the {limit}-byte limit (the integrations read requests of at most 16 MiB, and the params and \
         args need room): it was not stored, and the stored context (version {kept}) is kept."
    )]
    ContextTooLarge {
        /// The instance.
        instance: String,
        /// The context's size as compact JSON.
        size: usize,
        /// The limit.
        limit: usize,
        /// The version that stays stored.
        kept: i64,
    },
    /// The stored context is too large to send (stored before the engine refused such contexts).
    #[error(
        "The stored integration context of instance {instance} is {size} bytes, over the {limit}-byte \
         limit, so no command can be sent it: run !{reset} (it is sent an empty context and clears \
         the stored one), or soar instance remove {instance}."
    )]
    StoredContextTooLarge {
        /// The instance.
        instance: String,
        /// The context's size as compact JSON.
        size: usize,
        /// The limit.
        limit: usize,
        /// The command that clears it, `<integration>-auth-reset`.
        reset: String,
    },
    /// A fetch returned a last run too large to be sent back with the next fetch.
    #[error(
        "fetch-incidents on instance {instance} returned a last run of {size} bytes, over the \
         {limit}-byte limit: neither its incidents nor its last run were stored, and the stored \
         last run is kept, so the next fetch asks for the same page. A last run should hold only a \
         fetch's position (a time, an offset, a few ids); report this to the integration's authors."
    )]
    LastRunTooLarge {
        /// The instance.
        instance: String,
        /// The last run's size as compact JSON.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The stored last run is too large to send (stored before the engine refused such ones).
    #[error(
        "The stored last run of instance {instance} is {size} bytes, over the {limit}-byte limit, so \
         fetch-incidents cannot be sent it: run soar instance reset-last-run {instance} (the next \
         fetch then starts from the integration's first fetch time; incidents already stored are \
         not stored twice)."
    )]
    StoredLastRunTooLarge {
        /// The instance.
        instance: String,
        /// The last run's size as compact JSON.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A run's lease expired while it ran, so its context write was refused (fencing).
    #[error(
        "The command ran, but its lease on instance {instance} was lost while it ran (it could not \
         be renewed in time, and another engine may have taken it), so its integration context was \
         not stored: the other engine's update wins. Run the command again if its change matters."
    )]
    LeaseLost {
        /// The instance.
        instance: String,
    },
    /// The stored context version is `i64::MAX`; a write would wrap.
    #[error(
        "The integration context of instance {instance} is at version 9223372036854775807, the \
         largest there is, so it cannot be written again. Clear it with soar instance remove \
         {instance} (or instance add --replace) to start again at version 0."
    )]
    VersionExhausted {
        /// The instance.
        instance: String,
    },
    /// A polling command was still scheduled when its polling timeout passed.
    #[error(
        "!{command} was still running when its polling timeout of {timeout_seconds} s passed ({runs} runs); \
         polling stopped. Check it again later with the same command, or give --poll-timeout SECONDS."
    )]
    PollingTimedOut {
        /// The scheduled command.
        command: String,
        /// The timeout in force.
        timeout_seconds: f64,
        /// Runs made, the first included.
        runs: u32,
    },
    /// The demo or another orchestrated job failed.
    #[error("{0}")]
    Other(String),
}

impl EngineError {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EngineError::Io { action, path: path.into(), source }
    }

    /// The process exit status for this error: 2 for a bad command line, 3 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            EngineError::Usage(_) => 2,
            // The command did not succeed, as with an error entry.
            EngineError::PollingTimedOut { .. } => 1,
            _ => 3,
        }
    }
}

/// Result with [`EngineError`].
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
