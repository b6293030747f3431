//! textDocument/formatting: the formatter's output as one edit (none if it is formatted
//! or does not parse).

use lsp_types::{DocumentFormattingParams, TextEdit};

use crate::{Documents, range};

/// The edits that format the document.
pub fn format(docs: &Documents, p: DocumentFormattingParams) -> Option<Vec<TextEdit>> {
    let text = docs.get(p.text_document.uri.as_str())?;
    let formatted = lvsc_lang::format(text).ok()?;
    if &formatted == text {
        return Some(vec![]);
    }
    let whole = range(text, lvsc_lang::Span::new(0, text.len()));
    Some(vec![TextEdit::new(whole, formatted)])
}
