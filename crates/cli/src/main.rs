//! The `arco` command: make scientific data cloud-native.
//!
//! This crate is the outermost layer: argument parsing (clap), human and JSON
//! output, and the mapping of errors to exit codes (0 ok, 1 failure, 2 usage).
//! Everything it does is reachable from the library crates.

mod catalog;
mod combine;
mod convert;
mod dump;
mod inspect;
mod npy;
mod output;
mod serve;
mod source;
mod verify;
mod virtualize;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// arco: make scientific data cloud-native.
#[derive(Debug, Parser)]
#[command(name = "arco", version, about, long_about = None)]
struct Cli {
    /// Print machine-readable JSON instead of text (errors too, on stderr).
    #[arg(long, global = true)]
    json: bool,

    #[command(flatten)]
    storage: source::StorageArgs,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Describe a dataset: groups, dimensions, variables (dtype, shape, chunking,
    /// filters, stored and uncompressed bytes) and attributes, like `ncdump -h`.
    Inspect(inspect::InspectArgs),
    /// Print the values of one variable, CF-decoded unless --raw, like `ncdump -v`.
    Dump(dump::DumpArgs),
    /// Convert sources to analysis-ready Zarr (v3, or v2 with --zarr-format 2),
    /// chunked for the access pattern, in bounded memory.
    Convert(convert::ConvertArgs),
    /// Compare every value and attribute of the sources with a converted output
    /// (a Zarr store, kerchunk references or an Icechunk repository, whose sources are also checked for changes).
    Verify(verify::VerifyArgs),
    /// Describe datasets in a static STAC catalog (extents, datacube, units, coded values, provenance), validated offline with --check.
    Catalog(catalog::CatalogArgs),
    /// Serve datasets (map tiles, time series, OGC EDR, Zarr over HTTP, a viewer) and a STAC API.
    Serve(serve::ServeArgs),
    /// Write kerchunk references (JSON or Parquet) or an Icechunk repository (local or s3://) that read the sources as virtual Zarr, without copying data.
    Virtualize(virtualize::VirtualizeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    let result = match cli.command {
        Command::Inspect(args) => inspect::run(&args, &cli.storage, json),
        Command::Dump(args) => dump::run(&args, &cli.storage, json),
        Command::Convert(args) => convert::run(&args, &cli.storage, json),
        Command::Verify(args) => verify::run(&args, &cli.storage, json),
        Command::Catalog(args) => catalog::run(&args, &cli.storage, json),
        Command::Serve(args) => serve::run(&args, &cli.storage, json),
        Command::Virtualize(args) => virtualize::run(&args, &cli.storage, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => output::report_error(&err, json),
    }
}
