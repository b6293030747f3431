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
    diagnostics.sort_by_key(|d| (d.span.start(), d.span.len()));
    let secrets = secrets::spans(&cst);
    Parse {
        cst,
        ast,
        diagnostics,
        secrets,
    }
}

/// The typed tree of one file, its syntax diagnostics and secret spans: what checking
/// and compiling need, without the concrete tree.
#[derive(Clone, Debug)]
pub struct Ast {
    /// The typed tree the compiler reads.
    pub ast: ast::SourceFile,
    /// Syntax diagnostics in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans that may hold a secret.
    pub secrets: Vec<Span>,
}

/// Parses `source` into the typed tree only: each top-level directive is lowered and its
/// secrets noted as soon as it is parsed, then its concrete tree is dropped, so memory
/// holds the typed tree and one directive's concrete tree, never the whole concrete
/// tree. The same trees and diagnostics as [`parse`].
pub fn parse_ast(source: &str) -> Ast {
    let mut diagnostics = Vec::new();
    let mut lowered = Vec::new();
    let mut ast = ast::SourceFile::default();
    let mut secrets = Vec::new();
    parser::parse_each(source, &mut diagnostics, &mut |item| {
        if let cst::ItemKind::Directive(d) = &item.kind {
            lower::lower_top(d, &mut ast, &mut lowered);
            secrets::spans_in(d, &mut secrets);
        }
    });
    diagnostics.append(&mut lowered);
    diagnostics.sort_by_key(|d| (d.span.start(), d.span.len()));
    Ast {
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

#[cfg(test)]
mod streaming_tests {
    use std::path::Path;

    /// Every `.lvs` file under `dir`.
    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "lvs") {
                out.push(p);
            }
        }
    }

    #[test]
    fn the_streaming_parse_gives_the_trees_and_diagnostics_of_the_whole_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut all = Vec::new();
        files(&root.join("examples"), &mut all);
        files(&root.join("tests"), &mut all);
        assert!(all.len() > 50, "fixtures not found");
        for f in all {
            let text = crate::decode_lossy(&std::fs::read(&f).unwrap());
            let whole = crate::parse(&text);
            let streamed = crate::parse_ast(&text);
            assert_eq!(whole.ast, streamed.ast, "{}", f.display());
            assert_eq!(whole.diagnostics, streamed.diagnostics, "{}", f.display());
            assert_eq!(whole.secrets, streamed.secrets, "{}", f.display());
        }
    }
}
