//! The `arco` command.
fn main() {}
