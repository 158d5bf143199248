//! Prints which allocator [`soar_alloc::SoarAlloc`] chose for this command line (`system` or
//! `mimalloc`), after allocating: the crate's tests run it with and without `--serve`.

use std::io::Write as _;

#[global_allocator]
static ALLOC: soar_alloc::SoarAlloc = soar_alloc::SoarAlloc;

fn main() {
    let mut grown: Vec<String> = Vec::new();
    for i in 0..1000 {
        grown.push(i.to_string());
    }
    let name = match soar_alloc::current() {
        soar_alloc::Allocator::System => "system",
        soar_alloc::Allocator::Mimalloc => "mimalloc",
    };
    let _ = writeln!(std::io::stdout(), "{name} {}", grown.len());
}
