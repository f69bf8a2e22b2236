//! Writing results and errors.

use std::io::Write;
use std::process::ExitCode;

/// Print `err` (with its chain of causes) to stderr and return exit code 1.
/// A closed stdout (for example `arco dump ... | head`) counts as success.
pub fn report_error(err: &anyhow::Error, json: bool) -> ExitCode {
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return ExitCode::SUCCESS;
        }
    }
    let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
    let mut stderr = std::io::stderr().lock();
    if json {
        let body = serde_json::json!({ "error": chain.join(": "), "causes": chain });
        let _ = writeln!(stderr, "{body}");
    } else {
        let _ = writeln!(stderr, "error: {}", chain.join(": "));
    }
    ExitCode::FAILURE
}

/// Write a JSON value to stdout followed by a newline.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Human-readable byte count: `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u < UNITS.len() - 1 {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}
