//! The `soar` CLI.

fn main() {}
