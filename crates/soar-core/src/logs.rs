//! Log output: every line written to standard error is masked with the secrets of the requests
//! in flight.
//!
//! Commands and libraries log what they like (`debug!(params = ?ctx.params)`); a param an
//! integration forgot to declare secret (`api_key`, `admin_password`, a token) is then printed
//! in clear by the protocol types' `Debug`. Rather than trusting every log call, the runtime
//! masks the log output itself:
//! - the dispatcher registers each request's [`Masker`] (its secret params and args, params
//!   whose name the reference's rule calls secret, and the integration context's tokens) for
//!   as long as the request runs ([`register`]; the registration ends when its guard drops);
//! - the `tracing` writer ([`MaskingStderr`]) collects each formatted event and writes it
//!   masked with every registered masker, in one `write` per event.
//!
//! So the name rule that masks error entries is the one that masks logs. Masking costs nothing
//! when no event is enabled (the default level is `warn`), and at `trace` it is a scan of each
//! line per request in flight. `Debug` of [`crate::CommandContext`] applies the name rule too,
//! so its output is safe even without this writer (a library embedding the runtime).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::redact::Masker;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static ACTIVE: Mutex<Vec<(u64, Arc<Masker>)>> = Mutex::new(Vec::new());

/// Keeps a masker registered for the log output until it is dropped.
#[must_use = "the masker is unregistered when the guard drops"]
pub(crate) struct Registration(u64);

/// Registers `masker` for the log output until the returned guard drops. An empty masker is
/// not registered.
pub(crate) fn register(masker: Arc<Masker>) -> Option<Registration> {
    if masker.is_empty() {
        return None;
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    ACTIVE.lock().unwrap_or_else(PoisonError::into_inner).push((id, masker));
    Some(Registration(id))
}

impl Drop for Registration {
    fn drop(&mut self) {
        ACTIVE.lock().unwrap_or_else(PoisonError::into_inner).retain(|(id, _)| *id != self.0);
    }
}

/// `text` masked with every registered masker; `None` when nothing changes.
pub(crate) fn mask_line(text: &str) -> Option<String> {
    let maskers: Vec<Arc<Masker>> =
        ACTIVE.lock().unwrap_or_else(PoisonError::into_inner).iter().map(|(_, m)| m.clone()).collect();
    let mut out: Option<String> = None;
    for masker in &maskers {
        if let Some(masked) = masker.masked(out.as_deref().unwrap_or(text)) {
            out = Some(masked);
        }
    }
    out
}

/// The `tracing` writer: standard error, each event masked (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MaskingStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MaskingStderr {
    type Writer = EventWriter;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter(Vec::new())
    }
}

/// One event's bytes, written masked to standard error when dropped.
pub(crate) struct EventWriter(Vec<u8>);

impl Write for EventWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.0);
        let text = String::from_utf8_lossy(&bytes);
        let out = mask_line(&text).map_or(bytes, String::into_bytes);
        // Nothing can be done about a failing standard error; the response does not depend on it.
        let _ = std::io::stderr().lock().write_all(&out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked_until_the_guard_drops() {
        let mut masker = Masker::with_extra_encodings();
        masker.add("log-canary-31337");
        let guard = register(Arc::new(masker));
        assert_eq!(
            mask_line("params: {\"x\": Str(\"log-canary-31337\")}").as_deref(),
            Some("params: {\"x\": Str(\"<XX_REPLACED>\")}")
        );
        drop(guard);
        assert_eq!(mask_line("log-canary-31337"), None);
        assert!(register(Arc::new(Masker::with_extra_encodings())).is_none(), "an empty masker is not kept");
    }
}
