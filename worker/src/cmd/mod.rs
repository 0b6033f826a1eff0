//! The worker's subcommands, one module each.

mod extract;

use clap::{Parser, Subcommand};

/// RipTide worker.
#[derive(Debug, Parser)]
#[command(name = "riptide-worker", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Extract HTML files locally and print one JSON object per file on stdout.
    Extract(extract::ExtractArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Extract(args) => extract::run(args),
    }
}
