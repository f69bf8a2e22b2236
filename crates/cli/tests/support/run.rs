//! Running the `arco` binary under test, shared by the CLI test files
//! (`#[path = "support/run.rs"] mod run;`).
#![allow(dead_code, clippy::expect_used)]

use std::process::{Command, Output};

/// Run the `arco` binary built for these tests with `args`.
pub fn arco(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_arco"))
        .args(args)
        .output()
        .expect("run arco")
}

/// Standard output then standard error, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
