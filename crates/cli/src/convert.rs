//! `arco convert`: sources to analysis-ready Zarr.

use crate::source::StorageArgs;

/// Arguments of `arco convert`.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Source files or URLs (globs like 'data/tas_*.nc' are expanded), then the destination.
    #[arg(required = true, num_args = 2..)]
    pub paths: Vec<String>,
}

/// Run `arco convert`.
pub fn run(args: &ConvertArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    let _ = (args, storage, json);
    anyhow::bail!("arco convert is not implemented yet")
}
