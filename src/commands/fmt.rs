//! `lvsc fmt FILE...`: rewrite in canonical layout; `--check` only reports; `-` filters.

use std::io::Write;
use std::process::ExitCode;

use crate::input;
use crate::report::{Format, Reporter};

/// Arguments of `lvsc fmt`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to format (`-` reads standard input and writes standard output).
    #[arg(required = true)]
    files: Vec<String>,
    /// Change nothing; exit 1 when a file is not formatted.
    #[arg(long)]
    check: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut reporter = Reporter::new(Format::Text);
    let mut failed = false;
    for path in &args.files {
        let src = input::read(path)?;
        if let Some(d) = &src.not_utf8 {
            reporter.file(&src.name, &src.text, std::slice::from_ref(d));
            failed = true;
            continue;
        }
        let formatted = match lvsc_lang::format(&src.text) {
            Ok(f) => f,
            Err(diags) => {
                // Never rewrite a file that does not parse: the result could change meaning.
                reporter.file(&src.name, &src.text, &diags);
                failed = true;
                continue;
            }
        };
        if path == "-" {
            if args.check {
                failed |= formatted != src.text;
            } else {
                std::io::stdout().write_all(formatted.as_bytes())?;
            }
        } else if formatted != src.text {
            if args.check {
                eprintln!("{path}: not formatted");
                failed = true;
            } else {
                crate::output::write_if_changed(std::path::Path::new(path), &formatted, None)?;
                eprintln!("{path}: formatted");
            }
        }
    }
    if reporter.errors > 0 {
        reporter.finish(args.files.len())?;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
