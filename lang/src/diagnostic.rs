//! Diagnostics with a stable code, a span, a label and a help line.
//!
//! One type serves the whole pipeline: the parser emits `lvsc::syntax::*` codes and the
//! compiler reuses this type for its rule codes, so every front end renders them alike.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use serde::Serialize;

use crate::span::{LineIndex, Span};

/// The longest source line shown under a diagnostic, in bytes.
const MAX_SHOWN_LINE: usize = 1000;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be used.
    Error,
    /// The file can be used but probably does not do what the operator wants.
    Warning,
}

/// One finding about a source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable machine-readable code, e.g. `lvsc::syntax::unterminated-string`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// One sentence saying what is wrong.
    pub message: String,
    /// Where it is wrong.
    pub span: Span,
    /// Text shown at the span.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
    /// Other places that explain the finding (e.g. the first definition of a duplicate).
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// An error with a code, message and primary span.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
            related: Vec::new(),
        }
    }

    /// A warning with a code, message and primary span.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    /// Sets the label shown at the primary span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary labelled span.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the diagnostic like a compiler would, with the source line and a label.
    /// A line too long to show (a minified or hostile file) is named by its position
    /// instead: it would not fit a terminal, and miette cannot lay out such columns.
    pub fn render(&self, file_name: &str, source: &str, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
        let shown = self.shown_lines_fit(source);
        let report = WithSource {
            diag: self,
            source: Named {
                name: file_name,
                text: source,
            },
            shown,
            at: (!shown).then(|| {
                let (line, col) = LineIndex::new(source).line_col(source, self.span.start());
                format!("{file_name}:{line}:{col}")
            }),
        };
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &report);
        out
    }

    /// Whether every line the diagnostic points at is short enough to show.
    fn shown_lines_fit(&self, source: &str) -> bool {
        let spans = std::iter::once(self.span).chain(self.related.iter().map(|(s, _)| *s));
        // Bytes, not chars: a span may point into a file that is not UTF-8.
        let bytes = source.as_bytes();
        spans.into_iter().all(|span| {
            let start = span.start().min(bytes.len());
            let end = span.end().clamp(start, bytes.len());
            let line_start = bytes[..start]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let line_end = bytes[end..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |i| end + i);
            bytes[line_start..line_end]
                .split(|&b| b == b'\n')
                .all(|l| l.len() <= MAX_SHOWN_LINE)
        })
    }

    /// The diagnostic as a plain JSON-ready record with line and column.
    pub fn to_record(&self, file_name: &str, source: &str, index: &LineIndex) -> DiagnosticRecord {
        let (line, column) = index.line_col(source, self.span.start());
        let (end_line, end_column) = index.line_col(source, self.span.end());
        DiagnosticRecord {
            file: file_name.to_string(),
            line,
            column,
            end_line,
            end_column,
            severity: self.severity,
            code: self.code.to_string(),
            message: self.message.clone(),
            label: self.label.clone(),
            help: self.help.clone(),
        }
    }
}

/// A diagnostic flattened for `--format json` and editors.
#[derive(Clone, Debug, Serialize)]
pub struct DiagnosticRecord {
    /// File name as given on the command line.
    pub file: String,
    /// 1-based line of the span start.
    pub line: usize,
    /// 1-based character column of the span start.
    pub column: usize,
    /// 1-based line of the span end.
    pub end_line: usize,
    /// 1-based character column of the span end.
    pub end_column: usize,
    /// `error` or `warning`.
    pub severity: Severity,
    /// Stable code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The label at the span.
    pub label: String,
    /// What to do about it.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(
            (!self.label.is_empty()).then(|| self.label.clone()),
            self.span,
        );
        let related = self
            .related
            .iter()
            .map(|(span, label)| LabeledSpan::new_with_span(Some(label.clone()), *span));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// Source text with its file name, borrowed: rendering copies only the lines it shows.
struct Named<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for Named<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// Attaches source text to a diagnostic for rendering.
struct WithSource<'a> {
    diag: &'a Diagnostic,
    source: Named<'a>,
    /// Whether the source lines are shown.
    shown: bool,
    /// `file:line:col`, said instead when the lines are not shown.
    at: Option<String>,
}

impl fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.diag, f)?;
        match &self.at {
            Some(at) => write!(f, " (at {at}; the line is too long to show)"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for WithSource<'_> {}

impl miette::Diagnostic for WithSource<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diag.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        miette::Diagnostic::severity(self.diag)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        miette::Diagnostic::help(self.diag)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.shown { self.diag.labels() } else { None }
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.shown
            .then_some(&self.source as &dyn miette::SourceCode)
    }
}

/// "Did you mean" for a misspelt name among `candidates`.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Jaro-Winkler catches dropped letters in long words; one edit or swap (Damerau)
    // catches short ones like `wbe` for `web`, which Jaro's match window misses.
    candidates
        .into_iter()
        .map(|c| {
            let one_edit = word.len() >= 3 && strsim::damerau_levenshtein(word, c) == 1;
            (
                if one_edit {
                    1.0
                } else {
                    strsim::jaro_winkler(word, c)
                },
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The help line for a name that is not among `candidates`: "did you mean `x`?" when one
/// is close, else `otherwise()` (which usually lists what is allowed).
pub fn suggest(word: &str, candidates: &[&str], otherwise: impl FnOnce() -> String) -> String {
    match did_you_mean(word, candidates.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise(),
    }
}
