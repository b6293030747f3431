//! Printing diagnostics for people (rendered, coloured on a terminal) or tools (JSON).

use std::io::IsTerminal;

use clap::ValueEnum;
use lvsc_lang::{Diagnostic, LineIndex, Span};

use crate::input::SourceText;

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rendered with the source line and a label.
    #[default]
    Text,
    /// One JSON array of records (file, line, column, code, message, help).
    Json,
}

/// Whether standard error should be coloured: only on a terminal, never with NO_COLOR.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

pub use lvsc_review::plural;

/// Whether standard output should be coloured: only on a terminal, never with NO_COLOR.
pub fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Diagnostics rendered per file in text mode; the rest are counted.
const MAX_RENDERED: usize = 100;

/// Collects diagnostics of several files and prints them in one format.
pub struct Reporter {
    format: Format,
    color: bool,
    records: Vec<lvsc_lang::diagnostic::DiagnosticRecord>,
    /// Number of errors printed.
    pub errors: usize,
    /// Number of warnings printed.
    pub warnings: usize,
}

impl Reporter {
    /// A reporter printing in `format`.
    pub fn new(format: Format) -> Self {
        Reporter {
            format,
            color: stderr_color(),
            records: Vec::new(),
            errors: 0,
            warnings: 0,
        }
    }

    /// Reports the diagnostics of one file. The source is shown with `secrets` masked,
    /// and a file that is not UTF-8 gets that one diagnostic: every command shows source
    /// through here, so none can show a secret.
    pub fn file(&mut self, src: &SourceText, diags: &[Diagnostic], secrets: &[Span]) {
        if let Some(d) = &src.not_utf8 {
            // Its secrets come from reading it as far as it goes.
            let secrets = lvsc_lang::parse(&src.text).secrets;
            let shown = lvsc_lang::redact(&src.text, &secrets);
            return self.shown(&src.name, &shown, std::slice::from_ref(d));
        }
        let shown = lvsc_lang::redact(&src.text, secrets);
        self.shown(&src.name, &shown, diags);
    }

    fn shown(&mut self, name: &str, source: &str, diags: &[Diagnostic]) {
        let index = LineIndex::new(source);
        for (i, d) in diags.iter().enumerate() {
            if d.is_error() {
                self.errors += 1;
            } else {
                self.warnings += 1;
            }
            match self.format {
                // A garbage file can hold a million errors; the first ones are what help.
                Format::Text if i == MAX_RENDERED => {
                    eprintln!(
                        "{name}: {} more diagnostics not shown",
                        diags.len() - MAX_RENDERED
                    )
                }
                Format::Text if i > MAX_RENDERED => {}
                Format::Text => eprint!("{}", d.render(name, source, self.color)),
                Format::Json => self.records.push(d.to_record(name, source, &index)),
            }
        }
    }

    /// Prints what is buffered (the JSON array) and a summary for people.
    pub fn finish(self, files: usize) -> anyhow::Result<()> {
        match self.format {
            Format::Json => {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(&self.records).expect("records serialise")
                );
            }
            Format::Text => {
                eprintln!(
                    "{} checked: {}, {}",
                    plural(files, "file", "files"),
                    plural(self.errors, "error", "errors"),
                    plural(self.warnings, "warning", "warnings")
                );
            }
        }
        Ok(())
    }
}
