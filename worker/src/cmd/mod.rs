//! The worker's subcommands, one module each.

mod extract;
mod precompile;
mod run;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use riptide_worker::config::WorkerConfig;

/// RipTide worker.
#[derive(Debug, Parser)]
#[command(name = "riptide-worker", version, about)]
pub struct Cli {
    /// Configuration file (TOML); `RIPTIDE_*` environment variables override it.
    #[arg(long, global = true, env = "RIPTIDE_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Extract HTML files locally and print one JSON object per file on stdout.
    Extract(extract::ExtractArgs),
    /// Compile the extractor component into the AOT cache ahead of time.
    Precompile,
    /// Consume jobs from RabbitMQ until SIGTERM.
    Run,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config = WorkerConfig::load(cli.config.as_deref()).context("loading configuration")?;
    match cli.command {
        Command::Extract(args) => extract::run(args, config),
        Command::Precompile => precompile::run(config),
        Command::Run => run::run(config),
    }
}
