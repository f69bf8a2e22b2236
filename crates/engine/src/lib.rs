//! # arco-engine
//!
//! Turns "convert these sources into that store" into a plan of independent
//! tasks over output regions that fits a memory budget, runs it in parallel
//! (locally today; as array-job shards later), resumes after interruption, and
//! publishes the output only when every task has completed.
//!
//! Engine layer: it sits above the format readers (`arco-formats`) and the
//! Zarr writer (`arco-zarr`) and below the interfaces (CLI, MCP, recipes). It
//! owns no async runtime and parses no arguments.
//!
//! * [`chunking`]: output chunk and shard shapes for an access pattern
//!   (`map`, `timeseries`, `balanced`, explicit).
//! * [`memory`]: the `--memory` budget and how it is split among threads.
//! * [`plan()`]: variables to output arrays, the direct-or-rechunk decision,
//!   tasks, and a stable hash for resume.
//! * [`convert()`]: execution on rayon, completion markers, resume, atomic
//!   publication, provenance, progress events.
//! * [`pyramid`]: overview levels (`--pyramid`) in the multiscales layout,
//!   computed level by level inside the atomic publication.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use arco_engine::{convert, plan, ConvertOptions, OutputOptions, SourceStamp};
//! let src = arco_storage::open("era5.nc", &Default::default())?;
//! let reader = arco_formats::open(src)?;
//! let stamps = vec![SourceStamp::of("era5.nc", reader.dataset().size)];
//! let plan = plan(reader.as_ref(), &stamps, &ConvertOptions::default())?;
//! let out = OutputOptions::new("era5.zarr");
//! let summary = convert(reader.as_ref(), &plan, &out, &|event| eprintln!("{event:?}"))?;
//! println!("{} arrays", summary.arrays);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod chunking;
pub mod memory;
pub mod plan;
pub mod progress;
pub mod provenance;
pub mod pyramid;
pub mod run;
pub mod verify;

pub use chunking::{ChunkChoice, ChunkOptions, Layout};
pub use memory::{parse_bytes, MemoryBudget};
pub use plan::{
    plan, CodecChoice, ConvertOptions, Plan, SourceStamp, Stage, Strategy, Task, VarPlan,
};
pub use progress::Progress;
pub use pyramid::{PyramidOptions, Resampling};
pub use run::{convert, OutputOptions, StacOptions, Summary};

/// Errors planning or running a conversion, in the user's terms.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An option the user gave cannot be used (`--chunks`, `--memory`, `--codec`, …).
    #[error("{0}")]
    Options(String),
    /// The memory budget cannot hold the work (a chunk larger than a thread's share).
    #[error("{0}")]
    Memory(String),
    /// Reading a region of a source variable failed.
    #[error("reading {variable} {region}: {source}")]
    Read {
        /// Variable path in the source.
        variable: String,
        /// The region, like `[0:10, 0:721, 0:1440]`.
        region: String,
        /// What the reader said (it names the file and chunk).
        source: Box<arco_formats::Error>,
    },
    /// Writing a region of an output array failed.
    #[error("writing {array} {region} in {location}: {source}")]
    Write {
        /// Output store location.
        location: String,
        /// Array path in the store.
        array: String,
        /// The region.
        region: String,
        /// What the writer said.
        source: Box<arco_zarr::Error>,
    },
    /// Computing an overview level failed.
    #[error("overview level {level}: {array} {region} in {location}: {message}")]
    Pyramid {
        /// Output store location.
        location: String,
        /// The level (1, 2, ...).
        level: u32,
        /// Array path in the store.
        array: String,
        /// The region.
        region: String,
        /// What went wrong.
        message: String,
    },
    /// The output could not be described in STAC.
    #[error("{location}: STAC description: {message}")]
    Catalog {
        /// Output location.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// The destination cannot be used as asked.
    #[error("{location}: {message}")]
    Destination {
        /// The destination as the user gave it.
        location: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A local file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The run stopped on purpose (the `fail_after_tasks` test hook).
    #[error("stopped after {0} tasks (test hook ARCO_TEST_FAIL_AFTER_TASKS); rerun the same command to resume")]
    Interrupted(u64),
    /// A Zarr store operation failed.
    #[error(transparent)]
    Zarr(Box<arco_zarr::Error>),
    /// A source operation failed.
    #[error(transparent)]
    Formats(Box<arco_formats::Error>),
    /// A data-model failure.
    #[error(transparent)]
    Core(#[from] arco_core::Error),
}

impl From<arco_zarr::Error> for Error {
    fn from(e: arco_zarr::Error) -> Self {
        Error::Zarr(Box::new(e))
    }
}

impl From<arco_formats::Error> for Error {
    fn from(e: arco_formats::Error) -> Self {
        Error::Formats(Box::new(e))
    }
}

/// Crate result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
