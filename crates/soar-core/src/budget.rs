//! Memory per request and per process: what a request costs once parsed, the cap on how dense
//! a request may be, and the `--serve` budget.
//!
//! A request is parsed into `serde_json::Value`s (the protocol's `Object`s keep their key order,
//! so each object is an `IndexMap`). A `Value` is 72 bytes whatever it holds, and a non-empty
//! list starts with room for four, so the parsed form of `[0,0,...]` takes 36 times the
//! request's bytes and `[[0],[0],...]` about 94 times. Before parsing, [`estimate`] scans the
//! bytes once (no allocation) and counts what parsing will allocate: values, object members,
//! non-empty containers, strings and their bytes.
//!
//! Decisions:
//! - **Per request.** A request whose parsed form is estimated above [`MAX_EXPANSION`] (32)
//!   times its size is refused before it is parsed, with an error that says so; requests up to
//!   [`EXPANSION_FLOOR`] (1 MiB) are never refused, whatever their shape. Real requests are
//!   1 to 27 times their size once parsed (a large string 1, lists of ids 4, records of a few
//!   short fields about 22, lists of one-letter strings 27); what is refused is lists of
//!   single digits, of one-element lists, of tiny records, over 1 MiB. The runtime parses a
//!   request once: a request that fails to parse is diagnosed without building its tree (it
//!   was parsed up to three times, 71 times its size). The stated bound is **peak RSS ≤ 40 ×
//!   max(size, 1 MiB)** above the idle process for the runtime's part of a request (reading,
//!   parsing, checking, masking, answering); the end-to-end tests measure `VmHWM` on 15 MiB
//!   requests of each shape against it.
//! - **Per process (`--serve`).** Each request weighs its bytes plus its estimated parsed form
//!   ([`Weight::total`]). A line is read, weighed and admitted only while the weights in flight
//!   (parsed, running, or answered but not yet written) stay within the budget
//!   ([`ServeConfig::memory_budget`](crate::ServeConfig), default [`DEFAULT_BUDGET`], 512 MiB;
//!   `SOAR_SERVE_MEMORY_BUDGET_MIB` sets it). A request heavier than the whole budget still
//!   runs, alone, once nothing else is in flight. Reading pauses meanwhile, so the line buffer
//!   (at most 16 MiB) is the only request held before admission. The stated bound is **peak
//!   RSS ≤ 1.5 × max(budget, heaviest request's weight) + 16 MiB** above the idle process,
//!   whatever the number of requests in flight (the estimate is above the real cost for every
//!   measured shape; 1.5 leaves room for the allocator).
//!
//! What a command allocates itself (an API's answer, the copies it makes) is not in the weight.

use std::mem::size_of;

use serde_json::Value;

/// The largest parsed-form-to-size ratio accepted for a request over [`EXPANSION_FLOOR`].
pub const MAX_EXPANSION: usize = 32;
/// Requests up to this size are never refused for their density.
pub const EXPANSION_FLOOR: usize = 1024 * 1024;
/// The default `--serve` memory budget: 512 MiB of request weight in flight.
pub const DEFAULT_BUDGET: usize = 512 * 1024 * 1024;

/// Heap bytes per object member beyond its value: the key `String` and the entry's hash, and
/// the index table slot.
const MEMBER: usize = 48;
/// Heap bytes per non-empty array or object beyond its elements: a vector starts with room for
/// four (three slots of slack) and an object adds its index table. Empty ones allocate nothing.
const CONTAINER: usize = 3 * size_of::<Value>() + 64;
/// Heap bytes per non-empty string beyond its text: the allocator's minimum chunk and header.
const STRING: usize = 32;

/// What a request costs in memory, estimated from its bytes before parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight {
    /// The request's size in bytes.
    pub bytes: usize,
    /// The estimated heap of its parsed form.
    pub parsed: usize,
}

impl Weight {
    /// Bytes plus parsed form: what the request holds while it is in flight.
    pub fn total(self) -> usize {
        self.bytes.saturating_add(self.parsed)
    }

    /// Whether the parsed form would exceed [`MAX_EXPANSION`] times `max(size, 1 MiB)`.
    pub fn too_dense(self) -> bool {
        self.parsed > MAX_EXPANSION.saturating_mul(self.bytes.max(EXPANSION_FLOOR))
    }
}

/// Scans `input` once and estimates what parsing it allocates (see the module docs). The
/// input need not be valid JSON: invalid input is refused by the parser anyway, and the
/// estimate stays an upper bound of what a partial parse allocates.
pub fn estimate(input: &[u8]) -> Weight {
    let mut count = Counts::default();
    // The last byte outside strings that is not whitespace (0 at the start).
    let mut prev = 0u8;
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        match byte {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < input.len() {
                    match input[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                let len = i.min(input.len()) - start;
                count.strings += 1;
                count.nonempty_strings += usize::from(len > 0);
                count.string_bytes += len;
            }
            b':' => count.members += 1,
            b'[' | b'{' => count.containers += 1,
            b']' if prev == b'[' => count.empty_containers += 1,
            b'}' if prev == b'{' => count.empty_containers += 1,
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' if matches!(prev, 0 | b'[' | b',' | b':') => {
                count.scalars += 1;
            }
            _ => {}
        }
        if !byte.is_ascii_whitespace() {
            prev = byte;
        }
        i += 1;
    }
    // Keys are strings but not values: each `:` follows one.
    let values = (count.strings + count.scalars + count.containers).saturating_sub(count.members);
    let parsed = values
        .saturating_mul(size_of::<Value>())
        .saturating_add(count.members.saturating_mul(MEMBER))
        .saturating_add((count.containers.saturating_sub(count.empty_containers)).saturating_mul(CONTAINER))
        .saturating_add(count.nonempty_strings.saturating_mul(STRING))
        .saturating_add(count.string_bytes);
    Weight { bytes: input.len(), parsed }
}

#[derive(Default)]
struct Counts {
    strings: usize,
    nonempty_strings: usize,
    string_bytes: usize,
    members: usize,
    containers: usize,
    empty_containers: usize,
    scalars: usize,
}

/// The budget unit: weights and budgets are counted in KiB, so that a semaphore's `u32`
/// permits cover any budget up to 4 TiB.
pub(crate) const UNIT: usize = 1024;

/// `bytes` in budget units, at least 1 and at most `u32::MAX`.
pub(crate) fn units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_follow_the_shape_not_only_the_size() {
        let zeros = format!("[{}0]", "0,".repeat(100_000));
        let text = format!("\"{}\"", "a".repeat(200_000));
        let w_zeros = estimate(zeros.as_bytes());
        let w_text = estimate(text.as_bytes());
        assert!(w_zeros.parsed > 30 * w_zeros.bytes, "{w_zeros:?}");
        assert!(w_text.parsed < 2 * w_text.bytes, "{w_text:?}");
        // Escaped quotes do not end a string.
        let escaped = estimate(br#"{"a":"x\",y","b":[1,2]}"#);
        assert_eq!(escaped.bytes, 23);
        let plain = estimate(br#"{"a":"xxxxx","b":[1,2]}"#);
        assert_eq!(escaped.parsed, plain.parsed);
    }

    #[test]
    fn only_large_dense_requests_are_too_dense() {
        let small_dense = format!("[{}0]", "0,".repeat(100_000));
        assert!(!estimate(small_dense.as_bytes()).too_dense(), "under 1 MiB nothing is refused");
        let large_dense = format!("[{}0]", "0,".repeat(2_000_000));
        assert!(estimate(large_dense.as_bytes()).too_dense());
        let large_objects = format!("[{}{{}}]", r#"{"id":"abc123","name":"x"},"#.repeat(100_000));
        assert!(!estimate(large_objects.as_bytes()).too_dense());
        assert_eq!(units(0), 1);
        assert_eq!(units(1025), 2);
        assert_eq!(units(usize::MAX), u32::MAX);
    }
}
