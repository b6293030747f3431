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
pub mod span;
pub mod value;

pub use diagnostic::{Diagnostic, Severity};
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
    Parse {
        cst,
        ast,
        diagnostics,
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

/// `source` with every byte inside `spans` (except the quotes) replaced by `*`; byte
/// offsets are kept, so diagnostics render at the same places without the secret.
pub fn redact(source: &str, spans: &[Span]) -> String {
    let mut bytes = source.as_bytes().to_vec();
    for s in spans {
        let end = s.end().min(bytes.len());
        for b in &mut bytes[s.start.min(end)..end] {
            if *b != b'"' {
                *b = b'*';
            }
        }
    }
    // Whole characters were replaced byte by byte with ASCII, so this stays UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
