//! The `riptide-worker` binary: parses the command line and hands off to a command.
//! Logs go to stderr so that stdout carries only command output.

mod cmd;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = cmd::Cli::parse();
    cmd::run(cli)
}
