//! The global allocator of the integration binaries: glibc's malloc for a one-shot run,
//! mimalloc for a `--serve` process, chosen once, before the first allocation.
//!
//! Why two: the two modes want different things of an allocator.
//! - A one-shot run lives about 2 ms and allocates little. mimalloc gives each size class its
//!   own pages, so such a run touches 80-115 more pages than with glibc's malloc, and the page
//!   faults cost it 0.2-0.27 ms (200 interleaved runs of each build against the emulator, on
//!   this project's 2-CPU machine: a no-op 1.78 against 1.61 ms, a cached-token get 3.25
//!   against 2.98 ms).
//! - A `--serve` process allocates and frees `serde_json` values on several threads at once;
//!   there glibc's malloc took 40% of a 100-user listing's CPU, and mimalloc answers about
//!   1.8 times the listings per second.
//!
//! How it stays sound: [`SoarAlloc`] reads one process-wide mode on every call, and the mode
//! changes at most once, from undecided to decided, never while memory of the other allocator
//! is live:
//! - on Linux with glibc, an `.init_array` entry (glibc passes it `argc` and `argv`, as it does
//!   to Rust's own argument set-up) picks mimalloc when the command line is exactly
//!   `<binary> --serve`; it runs before `main`, allocates nothing and reads no environment;
//! - the first allocation that finds the mode undecided settles it on the system allocator
//!   (so if anything allocated before that entry ran, or on another platform, every
//!   allocation of the process is the system's).
//!
//! With the `system-alloc` feature of `soar-integration-kit`, the kit does not install this
//! allocator and every run uses the system's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU8, Ordering};

use mimalloc::MiMalloc;

const UNDECIDED: u8 = 0;
const SYSTEM: u8 = 1;
const MIMALLOC: u8 = 2;

static MODE: AtomicU8 = AtomicU8::new(UNDECIDED);

/// Which allocator serves this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// The system's `malloc` (one-shot runs, and every run on platforms without the
    /// `.init_array` choice).
    System,
    /// mimalloc (`--serve`).
    Mimalloc,
}

/// The allocator this process uses; settles it on the system's if nothing has yet.
pub fn current() -> Allocator {
    if mode() == MIMALLOC { Allocator::Mimalloc } else { Allocator::System }
}

#[inline]
fn mode() -> u8 {
    let m = MODE.load(Ordering::Relaxed);
    if m != UNDECIDED { m } else { settle() }
}

/// The first allocation of a process the start-up entry did not choose for: the system's.
/// Not inlined, so that it is compiled into this crate's object with the `.init_array`
/// entry, which the reference below keeps linked into every binary using [`SoarAlloc`].
#[inline(never)]
#[cold]
fn settle() -> u8 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    std::hint::black_box(&CHOOSE_AT_START);
    match MODE.compare_exchange(UNDECIDED, SYSTEM, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => SYSTEM,
        Err(settled) => settled,
    }
}

/// The global allocator: `#[global_allocator] static A: soar_alloc::SoarAlloc = soar_alloc::SoarAlloc;`.
pub struct SoarAlloc;

// SAFETY: each call forwards to one of two sound allocators, and the same one for every call
// of the process: `mode()` is settled before the first allocation returns and never changes
// after (see the crate docs), so memory is always freed or resized by the allocator that gave it.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for SoarAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { if mode() == MIMALLOC { MiMalloc.alloc(layout) } else { System.alloc(layout) } }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe {
            if mode() == MIMALLOC { MiMalloc.alloc_zeroed(layout) } else { System.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from the same allocator (the mode never changes once settled).
        unsafe {
            if mode() == MIMALLOC { MiMalloc.dealloc(ptr, layout) } else { System.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as `dealloc`; the rest of the contract is the caller's.
        unsafe {
            if mode() == MIMALLOC {
                MiMalloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

/// Picks mimalloc when the command line is exactly `<binary> --serve`. glibc calls
/// `.init_array` entries with `argc`, `argv` and `envp` before `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" fn choose_at_start(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char, _env: *const u8) {
    if argc != 2 || argv.is_null() {
        return;
    }
    // SAFETY: glibc passes the process's argv: `argc` valid pointers to NUL-terminated strings.
    #[allow(unsafe_code)]
    let first = unsafe {
        let arg = *argv.add(1);
        if arg.is_null() {
            return;
        }
        std::ffi::CStr::from_ptr(arg)
    };
    if first.to_bytes() == b"--serve" {
        // Only from undecided: if something allocated already, the system allocator stays.
        let _ = MODE.compare_exchange(UNDECIDED, MIMALLOC, Ordering::Relaxed, Ordering::Relaxed);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array")]
static CHOOSE_AT_START: extern "C" fn(std::ffi::c_int, *const *const std::ffi::c_char, *const u8) =
    choose_at_start;

#[cfg(test)]
mod tests {
    use super::*;

    /// A test binary is not run as `--serve`: its first allocation settled the system's.
    #[test]
    fn a_process_not_started_as_serve_uses_the_system_allocator() {
        let v: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        assert_eq!(v.len(), 100);
        assert_eq!(current(), Allocator::System);
        assert_eq!(MODE.load(Ordering::Relaxed), SYSTEM);
    }

    /// Once settled, the `.init_array` choice cannot switch allocators under live memory.
    #[test]
    fn a_settled_mode_is_never_changed_by_the_start_up_choice() {
        let _ = current();
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            let serve = c"--serve";
            let argv = [c"bin".as_ptr(), serve.as_ptr(), std::ptr::null()];
            choose_at_start(2, argv.as_ptr(), std::ptr::null());
        }
        assert_eq!(current(), Allocator::System);
    }
}
