//! How several sources combine into one dataset: the `--concat-dim`,
//! `--coord-from-name`, `--coord-from-attr` and `--split-mismatched` options
//! shared by `convert`, `verify` and `virtualize`, and the lazy opening of
//! the parts (`arco_formats::concat::concat_lazy`).

use crate::source::{kerchunk_runtime, open_options, StorageArgs};
use anyhow::bail;
use arco_formats::concat::{ConcatOptions, ConcatReader, CoordFrom, NamePattern, Opener};
use arco_formats::Reader;
use arco_storage::Location;
use std::sync::Arc;

/// Options that combine several sources.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CombineArgs {
    /// Dimension to concatenate several sources along (default: the one --coord-from-* names, else their unlimited dimension, else time). A dimension the files lack is added in front of every data variable, one step per file.
    #[arg(long, value_name = "DIM")]
    pub concat_dim: Option<String>,
    /// Take each file's coordinate along the concatenation dimension from its name: a pattern with one placeholder named like the dimension, {DIM:STRFTIME} for dates or {DIM}/{DIM:d} for numbers, * for anything else, like 'tas_{time:%Y%m%d}.nc'.
    #[arg(long, value_name = "PATTERN", conflicts_with = "coord_from_attr")]
    pub coord_from_name: Option<String>,
    /// Take each file's coordinate along DIM from its global attribute ATTR (an ISO 8601 date, or a number).
    #[arg(long, value_name = "DIM=ATTR")]
    pub coord_from_attr: Option<String>,
    /// Instead of refusing files whose variables differ in dtype, chunking, codecs or CF encoding, make separate arrays of each run of matching files (NAME_1 along DIM_1, NAME_2 along DIM_2, ...).
    #[arg(long)]
    pub split_mismatched: bool,
}

impl CombineArgs {
    /// The library's options.
    pub fn options(&self) -> anyhow::Result<ConcatOptions> {
        let coord = match (&self.coord_from_name, &self.coord_from_attr) {
            (Some(p), _) => Some(CoordFrom::Name(
                NamePattern::parse(p).map_err(anyhow::Error::msg)?,
            )),
            (None, Some(a)) => {
                let Some((dim, name)) = a.split_once('=') else {
                    bail!("--coord-from-attr {a}: write DIM=ATTRIBUTE, like time=start_date");
                };
                if dim.trim().is_empty() || name.trim().is_empty() {
                    bail!("--coord-from-attr {a}: write DIM=ATTRIBUTE, like time=start_date");
                }
                Some(CoordFrom::Attribute {
                    dim: dim.trim().to_string(),
                    name: name.trim().to_string(),
                })
            }
            (None, None) => None,
        };
        Ok(ConcatOptions {
            dim: self.concat_dim.clone(),
            coord,
            split_mismatched: self.split_mismatched,
            open_readers: 0,
        })
    }

    /// True when `n` sources are combined (several, or one given a coordinate).
    pub fn combines(&self, n: usize) -> bool {
        n > 1 || self.coord_from_name.is_some() || self.coord_from_attr.is_some()
    }
}

/// The sources combined, opened part by part when read, and the runtime
/// their remote reads need (to be dropped after the reader).
pub struct Combined {
    /// The combined dataset.
    pub reader: ConcatReader,
    /// Serves remote reads of the parts.
    pub runtime: Option<tokio::runtime::Runtime>,
}

/// Combine `sources` (files, URLs or kerchunk reference sets) as `args` says.
/// Each is opened once for the checks and then again when it is read.
pub fn open_combined(
    sources: &[String],
    args: &CombineArgs,
    storage: &StorageArgs,
) -> anyhow::Result<Combined> {
    let options = args.options()?;
    let mut needs_runtime = false;
    for s in sources {
        needs_runtime |=
            Location::parse(s)?.is_remote() || arco_formats::kerchunk::is_kerchunk_location(s);
    }
    let runtime = if needs_runtime {
        Some(kerchunk_runtime()?)
    } else {
        None
    };
    let open = open_options(storage, runtime.as_ref());
    let opener: Opener = Arc::new(
        move |location: &str| -> arco_formats::Result<Box<dyn Reader>> {
            if arco_formats::kerchunk::is_kerchunk_location(location) {
                return arco_formats::kerchunk::open_kerchunk(location, &open);
            }
            let source = arco_storage::open(location, &open)?;
            arco_formats::open(source)
        },
    );
    let reader = arco_formats::concat::concat_lazy(sources.to_vec(), opener, &options)?;
    Ok(Combined { reader, runtime })
}
