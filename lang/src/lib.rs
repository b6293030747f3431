//! The `.lvs` language: lexer, parser, syntax trees, diagnostics and formatter.
//!
//! Parsing never fails: [`parse`] returns the trees together with every diagnostic it
//! found, so tools (the checker, the formatter, the language server) keep working on
//! broken input. This crate knows nothing about IPVS; it only knows the language.

pub mod ast;
pub mod codes;
pub mod cst;
pub mod diagnostic;
pub mod format;
pub mod keywords;
pub mod lexer;
pub mod lower;
pub mod parser;
pub mod secrets;
pub mod span;
pub mod value;

pub use diagnostic::{Diagnostic, Severity};
pub use secrets::redact;
pub use span::{LineIndex, Span, Spanned};
pub use value::{Endpoint, Protocol, Value};

/// The result of parsing one file: both trees and every syntax diagnostic.
#[derive(Clone, Debug)]
pub struct Parse {
    /// The concrete tree (comments, layout) the formatter prints.
    pub cst: cst::File,
    /// The typed tree the compiler reads.
    pub ast: ast::SourceFile,
    /// Syntax diagnostics in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans that may hold a secret: mask them ([`redact`]) before showing the source.
    pub secrets: Vec<Span>,
}

impl Parse {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Parses `source` into trees and diagnostics.
pub fn parse(source: &str) -> Parse {
    let mut diagnostics = Vec::new();
    let cst = parser::parse(source, &mut diagnostics);
    let ast = lower::lower(&cst, &mut diagnostics);
    diagnostics.sort_by_key(|d| (d.span.start, d.span.len));
    let secrets = secrets::spans(&cst);
    Parse {
        cst,
        ast,
        diagnostics,
        secrets,
    }
}

/// Formats `source`; refuses (returning the errors) when it does not parse cleanly.
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = parse(source);
    if parsed.has_errors() {
        return Err(parsed
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect());
    }
    Ok(format::print(&parsed.cst, source))
}

/// File bytes as text with every byte offset kept: invalid UTF-8 bytes become `?`, so a
/// file that is not UTF-8 can still be shown (and its secrets masked) around the error.
pub fn decode_lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    out
}

/// Decodes file bytes as UTF-8, or explains where they stop being UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, Box<Diagnostic>> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let d = Diagnostic::error(
            codes::NOT_UTF8,
            Span::new(at, at + e.error_len().unwrap_or(1)),
            "the file is not UTF-8 text",
        )
        .with_label(format!("invalid byte at offset {at}"))
        .with_help(
            ".lvs files are UTF-8; convert the file (e.g. with iconv) or remove the stray bytes",
        );
        Box::new(d)
    })
}
