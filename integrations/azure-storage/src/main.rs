//! The azure-storage integration binary.

fn main() {}
