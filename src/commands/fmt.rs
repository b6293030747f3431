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
        if src.not_utf8.is_some() {
            reporter.file(&src, &[], &[]);
            failed = true;
            continue;
        }
        let parsed = lvsc_lang::parse(&src.text);
        if parsed.has_errors() {
            // Never rewrite a file that does not parse: the result could change meaning.
            let errors: Vec<_> = parsed
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .cloned()
                .collect();
            reporter.file(&src, &errors, &parsed.secrets);
            failed = true;
            continue;
        }
        let formatted = lvsc_lang::format::print(&parsed.cst, &src.text);
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
                lvsc_files::folder::replace(
                    std::path::Path::new(path),
                    formatted.as_bytes(),
                    None,
                )?;
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
