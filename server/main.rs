//! The `shipshape` binary: parse the command line and hand over to the library.

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    shipshape::cli::run(shipshape::cli::Cli::parse()).await
}
