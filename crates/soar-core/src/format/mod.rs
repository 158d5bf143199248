//! The War Room formatter: markdown tables, `CommandResults` entries, error/warning/file
//! entries, `return_results` ordering, header transforms and integration-context merging, all
//! matching the reference (CommonServerPython) byte for byte. See `war-room.md` for the rules.
//!
//! Decisions where the reference leaves a choice or depends on its environment:
//! * Time zone: `date_fields` and naive datetimes use UTC (integration containers run in UTC).
//! * Error texts are the reference's `str(exception)`, including Python's own texts for inputs
//!   the reference crashes on (`list index out of range` for `{"k": []}`), so that engines and
//!   the golden cases see the same words.
//! * Wire entries: the protocol's [`soar_protocol::Entry`] always carries `Type`,
//!   `ContentsFormat`, `Contents`, `HumanReadable` and `EntryContext` first, so an error entry
//!   gets `HumanReadable: null` and `EntryContext: {}` on the wire where the reference dict has
//!   no `HumanReadable` and `EntryContext: null`. The reference-shaped dicts are available
//!   ([`results::CommandResults::to_context`], [`entries::return_error`]) and are what the golden
//!   cases compare.
//! * Files: a file entry carries the bytes in base64 under `FileData` (see [`entries`]).
//! * Masking: params the integration declares secret are masked whatever their name.
//! * Floats: soar-core enables serde_json's `float_roundtrip`, so a float read from JSON has
//!   exactly the bits Python reads, and `repr` (shortest digits, ties to even) matches.
//! * Numbers: serde_json reads integers beyond 64 bits as floats, so they render as Python
//!   floats (`1e+20`) where the reference prints every digit.
//! * `CommandResults` into [`crate::Outcome`]: a result the formatter cannot render becomes a
//!   Type 4 entry (`Could not format the command results: ...`) instead of an exception.
//! * Indicators are given as their context dicts (each indicator's `to_context()`).
//!
//! The golden cases (`test-data/war-room/*.json`) are evaluated by [`crate::golden`], from the
//! crate's tests and from `cargo xtask check-cases <file>`.

pub mod context;
pub mod entries;
pub mod py;
pub mod results;
pub mod table;
pub mod transforms;

pub use entries::{FileResult, Masker, file_result, return_error, warning_entry};
pub use results::{CommandResults, ScheduledCommand};
pub use table::{JsonTransformer, TableOptions, table_to_markdown};
pub use transforms::HeaderTransform;
