//! textDocument/hover: what a keyword or a scheduler does, with an example.

use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind};

use crate::{Documents, word_at};

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
        range: Some(crate::range(text, lvsc_lang::Span::new(s, e))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, TextDocumentIdentifier, TextDocumentPositionParams, Uri};

    fn hover_at(text: &str, character: u32) -> Option<String> {
        let uri: Uri = "file:///t.lvs".parse().unwrap();
        let docs = Documents::from([(uri.as_str().to_string(), text.to_string())]);
        let h = hover(
            &docs,
            HoverParams {
                text_document_position_params: TextDocumentPositionParams {
                    text_document: TextDocumentIdentifier { uri },
                    position: Position::new(0, character),
                },
                work_done_progress_params: Default::default(),
            },
        )?;
        match h.contents {
            HoverContents::Markup(m) => Some(m.value),
            _ => None,
        }
    }

    #[test]
    fn every_keyword_has_hover_help() {
        for k in lvsc_lang::keywords::KEYWORDS {
            // The keyword as written in its example, hovered in its middle.
            let line = format!("  {}", k.name);
            let shown = hover_at(&line, 2 + k.name.len() as u32 / 2)
                .unwrap_or_else(|| panic!("no hover help for `{}`", k.name));
            assert!(shown.contains(k.help), "{}: {shown}", k.name);
        }
    }

    #[test]
    fn schedulers_have_hover_help() {
        for (name, help) in lvsc_compiler::SCHEDULER_HELP {
            let shown = hover_at(&format!("scheduler {name}"), 11).unwrap();
            assert!(shown.contains(help), "{name}: {shown}");
        }
    }

    #[test]
    fn hover_after_a_multi_byte_character_answers() {
        // Once a panic: the word boundary was taken one byte after `é`.
        assert_eq!(hover_at("é", 1), None);
        let shown = hover_at("é weight", 4).unwrap();
        assert!(shown.contains("**weight**"), "{shown}");
        assert_eq!(hover_at("#ü€😀", 5), None);
    }
}
