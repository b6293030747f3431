//! `lvsc lsp`: the language server (lvsc-lsp) on standard input and output.

use std::process::ExitCode;

/// Arguments of `lvsc lsp` (none: it speaks LSP on stdin/stdout).
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the server until the client says exit.
pub fn run(_: Args) -> anyhow::Result<ExitCode> {
    lvsc_lsp::run_stdio().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}
