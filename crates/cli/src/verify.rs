//! `arco verify`: prove that an output holds every value and attribute of its sources.

use crate::source::StorageArgs;

/// Arguments of `arco verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Source files or URLs (globs expanded), then the converted dataset.
    #[arg(required = true, num_args = 2..)]
    pub paths: Vec<String>,
}

/// Run `arco verify`.
pub fn run(args: &VerifyArgs, storage: &StorageArgs, json: bool) -> anyhow::Result<()> {
    let _ = (args, storage, json);
    anyhow::bail!("arco verify is not implemented yet")
}
