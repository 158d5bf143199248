//! The msgraph-user integration binary.

fn main() {}
