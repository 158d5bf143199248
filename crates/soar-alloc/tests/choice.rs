//! The allocator chosen for a real process, by its command line.

use std::process::Command;

fn check(args: &[&str], expected: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_soar-alloc-probe")).args(args).output();
    let out = match out {
        Ok(out) => out,
        Err(e) => panic!("could not run soar-alloc-probe: {e}"),
    };
    assert!(out.status.success(), "soar-alloc-probe {args:?} failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.trim(), format!("{expected} 1000"), "soar-alloc-probe {args:?}");
}

#[test]
fn serve_alone_gets_mimalloc_on_glibc_and_every_other_command_line_the_system_allocator() {
    let serve = if cfg!(all(target_os = "linux", target_env = "gnu")) { "mimalloc" } else { "system" };
    check(&["--serve"], serve);
    check(&[], "system");
    check(&["--manifest"], "system");
    check(&["--serve", "extra"], "system");
    check(&["x", "--serve"], "system");
}
