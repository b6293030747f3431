//! textDocument/completion: keywords, schedulers and the pools the file defines.

use lsp_types::{CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse};

use crate::Documents;

/// Everything that may be typed here; the editor filters by prefix.
pub fn complete(docs: &Documents, p: CompletionParams) -> Option<CompletionResponse> {
    let text = docs.get(p.text_document_position.text_document.uri.as_str())?;
    let mut items: Vec<CompletionItem> = lvsc_lang::keywords::KEYWORDS
        .iter()
        .map(|k| CompletionItem {
            label: k.name.to_string(),
            kind: Some(CompletionItemKind::KEYWORD),
            detail: Some(k.help.to_string()),
            ..CompletionItem::default()
        })
        .collect();
    items.extend(
        lvsc_compiler::SCHEDULER_HELP
            .iter()
            .map(|(n, help)| CompletionItem {
                label: n.to_string(),
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                detail: Some(help.to_string()),
                ..CompletionItem::default()
            }),
    );
    items.extend(
        lvsc_lang::parse(text)
            .ast
            .pools
            .iter()
            .map(|pool| CompletionItem {
                label: pool.name.value.clone(),
                kind: Some(CompletionItemKind::REFERENCE),
                detail: Some(format!("pool with {} reals", pool.reals.len())),
                ..CompletionItem::default()
            }),
    );
    Some(CompletionResponse::Array(items))
}
