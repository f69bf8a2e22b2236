//! Progress events of a conversion, for progress bars and `--json` logs.

use serde::Serialize;

/// One thing that happened during a conversion.
///
/// Serialised as one JSON object with an `event` field:
/// `{"event":"task_done","id":"v3.d12","bytes":8294400,"skipped":false}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Progress {
    /// The plan is made.
    Planned {
        /// Tasks in all (including those a resume will skip).
        tasks: u64,
        /// Uncompressed bytes all tasks move (a rechunked variable counts twice).
        bytes: u64,
        /// Output arrays.
        arrays: u64,
        /// Variables rechunked through an intermediate store.
        rechunked: Vec<String>,
        /// Worker threads.
        threads: usize,
        /// Memory budget in bytes.
        memory: u64,
        /// The plan's hash (names its completion markers).
        plan: String,
    },
    /// A phase starts, or something the user should know.
    Phase {
        /// Short name: `setup`, `copy`, `rechunk`, `checksums`, `publish`, `resume`, `restart`, `note`.
        name: String,
        /// What is happening, in words.
        message: String,
    },
    /// A task finished (or was already done: `skipped`).
    TaskDone {
        /// Task id.
        id: String,
        /// Uncompressed bytes of its region.
        bytes: u64,
        /// True when a previous run had completed it.
        skipped: bool,
    },
    /// The output is published.
    Finished {
        /// The summary.
        #[serde(flatten)]
        summary: crate::run::Summary,
    },
}

impl Progress {
    /// A phase event.
    pub fn phase(name: &str, message: impl Into<String>) -> Self {
        Progress::Phase {
            name: name.to_string(),
            message: message.into(),
        }
    }
}
