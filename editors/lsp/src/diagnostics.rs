//! textDocument/publishDiagnostics: every syntax and rule diagnostic of the compiler.

use lsp_server::Notification;
use lsp_types::notification::{Notification as _, PublishDiagnostics};
use lsp_types::{Diagnostic, DiagnosticSeverity, NumberOrString, PublishDiagnosticsParams, Uri};

use crate::range_in;

/// The diagnostics of a document (none when it was closed).
pub fn publish(uri: &Uri, text: Option<&str>) -> Notification {
    let diagnostics = text.map_or_else(Vec::new, |text| {
        let idx = lvsc_lang::LineIndex::new(text);
        lvsc_compiler::check_source(text)
            .diagnostics
            .iter()
            .map(|d| Diagnostic {
                range: range_in(&idx, text, d.span),
                severity: Some(if d.is_error() {
                    DiagnosticSeverity::ERROR
                } else {
                    DiagnosticSeverity::WARNING
                }),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("lvsc".into()),
                message: match &d.help {
                    Some(h) => format!("{}\nhelp: {h}", d.message),
                    None => d.message.clone(),
                },
                ..Diagnostic::default()
            })
            .collect()
    });
    let params = PublishDiagnosticsParams {
        uri: uri.clone(),
        diagnostics,
        version: None,
    };
    Notification::new(PublishDiagnostics::METHOD.to_string(), params)
}
