//! textDocument/hover: what a keyword or a scheduler does, with an example.

use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use super::{Documents, word_at};

/// Help for the word under the cursor.
pub fn hover(docs: &Documents, p: HoverParams) -> Option<Hover> {
    let pos = p.text_document_position_params;
    let text = docs.get(pos.text_document.uri.as_str())?;
    let (s, e) = word_at(text, pos.position)?;
    let word = &text[s..e];
    let value = if let Some((help, example)) = lvsc_lang::keywords::help(word) {
        format!("**{word}**: {help}\n\n```lvs\n{example}\n```")
    } else {
        let (_, help) = lvsc_compiler::SCHEDULER_HELP
            .iter()
            .find(|(n, _)| *n == word)?;
        format!("**scheduler {word}**: {help}")
    };
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(super::range(text, lvsc_lang::Span::new(s, e))),
    })
}
