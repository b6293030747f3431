//! `lvsc check FILE... [--backend ipvs|nftables|xdp]`: report every problem; exit 0 when
//! valid, 1 when not.

use std::process::ExitCode;

use crate::input;
use crate::report::{Format, Reporter};

/// Arguments of `lvsc check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to check (`-` reads standard input).
    #[arg(required = true)]
    files: Vec<String>,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Fail on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Check for this data plane on every director, instead of the ones the file names:
    /// what it approximates is a warning, what it cannot do an error.
    #[arg(long, value_enum)]
    backend: Option<super::apply::Backend>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut reporter = Reporter::new(args.format);
    for path in &args.files {
        let src = input::read(path)?;
        match src.not_utf8 {
            Some(_) => reporter.file(&src, &[], &[]),
            None => {
                let compiled =
                    lvsc_compiler::check_source_for(&src.text, args.backend.map(|b| b.dataplane()));
                reporter.file(&src, &compiled.diagnostics, &compiled.secrets);
            }
        }
    }
    let failed = reporter.errors > 0 || (args.deny_warnings && reporter.warnings > 0);
    reporter.finish(args.files.len())?;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
