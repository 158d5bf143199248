//! The `soar` engine: instances, the integration-context store, running integration binaries
//! over the protocol (polling commands included), the War Room printer, fetching and mirroring
//! incidents as a service, the supported-flows matrix and the demo.
//!
//! **Invariant:** the engine runs integration binaries (spawns them, one JSON request on stdin,
//! one JSON response on stdout); it never links their code. It depends on `soar-protocol` for the
//! wire types and on `soar-emulator` only to run it in-process for `soar demo`.
//!
//! Decisions taken where the brief was silent (ARCHITECTURE.md has the reasons at length):
//! - The embedded store is files with fsync + rename under an `flock` (not SQLite): one small
//!   document per instance replaced whole, no C build, human-readable.
//! - A conflict is merged per key: the run's own changes (keys set or removed relative to the
//!   context it was sent) are re-applied to the fresh context; 25 attempts with a random pause of
//!   up to 50 ms (the reference: 3 attempts, 1-100 ms), since many engines may share an instance.
//! - The lease is taken only for a *cold* context: a token expiry key (`valid_until`,
//!   `*_valid_until`) within 60 s, or, without such keys, a version no run has yet proven
//!   unchanged. Files: an `flock` (freed by the kernel when a holder dies); Redis: `SET NX PX`
//!   with a 15 s TTL (`--lease-ttl-ms`), renewed every TTL/3 while the run lasts and checked
//!   by the CAS script (fencing: a write under a lost lease is refused). A run waits at most
//!   `--lease-wait-ms` (30 s) and then runs anyway, unfenced.
//! - Versions never wrap (a write on `i64::MAX` is refused); a context over 15 MiB (the
//!   binaries' 16 MiB request limit less room for params and args) is never stored, and an
//!   oversized stored one is sent to `<integration>-auth-reset` as `{}` and to nothing else.
//! - The binary runs in its own process group, killed at `--timeout` (or 1 s after the binary
//!   exited while something it left holds its stdout); a complete answer that came is kept.
//! - Text printed for a person is neutralised (`render::neutralize`): terminal controls from
//!   API data are shown, never obeyed; `--json` is exact.
//! - Instances are local files even with `--store redis://`: Redis shares contexts, last runs
//!   and leases (keys `soar:ctx:<instance>`, `soar:lease:<instance>`, ...), each engine keeps its
//!   own instance configuration.
//! - Binary lookup order: `SOAR_BIN_DIR` first (an explicit choice wins), then the `soar`
//!   executable's directory, then `PATH`.
//! - Without `--instance`/`using=`, a line runs on the only instance whose integration name
//!   prefixes the command; several or none is a one-line error.
//! - `--json` prints the raw response with the integration-context *values* masked (they are
//!   tokens); `--context` prints the entries' EntryContext.
//! - Exit status: 0 ran, 1 an entry is an error, 2 bad command line, 3 anything else.
//! - `instance add --replace` and `instance remove` also delete the stored context and last run
//!   (tokens of an old configuration must not outlive it).
//! - Fetched incidents live in the store (file: an append-only journal
//!   `<data dir>/incidents/<instance>.journal`; Redis: a hash per instance), keyed by
//!   `dbotMirrorId` (else a hash of the incident), each page written with its last run, both or
//!   neither ([`store::ContextStore::commit_fetch`]). Removing an instance keeps its incidents.
//! - Polling commands ([`polling`]): `soar run` re-runs the command an answer schedules
//!   (`PollingCommand`, `NextRun`, `PollingArgs`, `Timeout`) with the stored context each time,
//!   one progress line per wait on stderr, until an answer has no schedule; the timeout (the
//!   schedule's `Timeout`, else 600 s, or `--poll-timeout`) counts from the first run and ends
//!   with exit status 1 and a message naming the command; `--poll-interval` replaces `NextRun`.
//! - Fetching as a service ([`fetcher`], [`mirroring`]): `soar fetch --instance X --every 1m`
//!   (or `--config FILE`) runs, per instance, a cycle of fetch-incidents then the mirroring
//!   commands, under a *fetch lease* (a second lease, so the token lease inside a run still
//!   works) and a shared fetch state that makes it one cycle per interval whichever engine
//!   holds the lease; every write of the cycle is fenced by it. Local changes (`soar incident
//!   update|note|close`) wait in the incident's `delta` until `update-remote-system` accepts them.

pub mod cli;
pub mod cmdline;
pub mod demo;
pub mod error;
pub mod fetcher;
pub mod flows;
pub mod fsutil;
pub mod instance;
pub mod manifest;
pub mod mirroring;
pub mod polling;
pub mod render;
pub mod runner;
pub mod store;
pub mod suites;

pub use error::{EngineError, Result};
