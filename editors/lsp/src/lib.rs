//! The `.lvs` language server (`lvsc lsp`): one module per request kind; documents are
//! kept as full text and re-checked on every change (a big file checks in milliseconds).
//! [`Server::handle`] answers one message at a time, so tests and the fuzzer drive it
//! without a client; [`run`] serves a connection until the client says exit.

mod completion;
mod definition;
mod diagnostics;
mod formatting;
mod hover;

use std::collections::HashMap;

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
};
use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionOptions, HoverProviderCapability, OneOf, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};

/// Open documents by URI (as text: `Uri` has interior caching, unfit for a map key).
pub type Documents = HashMap<String, String>;

/// What the server can do.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        // Incremental: a change to a file of 10,000 services sends the edit, not the
        // whole 7 MB text again.
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions::default()),
        definition_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// The server's state: the open documents.
#[derive(Debug, Default)]
pub struct Server {
    docs: Documents,
}

impl Server {
    /// A server with no open document.
    pub fn new() -> Self {
        Server::default()
    }

    /// Answers one message (after initialisation): the responses and notifications to
    /// send back, in order.
    /// A panic while answering (a bug) becomes an error response: it never ends the
    /// server.
    pub fn handle(&mut self, msg: Message) -> Vec<Message> {
        let id = match &msg {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(msg))) {
            Ok(out) => out,
            Err(_) => id
                .map(|id| {
                    Message::Response(Response::new_err(
                        id,
                        lsp_server::ErrorCode::InternalError as i32,
                        "lvsc lsp failed on this request (a bug; please report it)".into(),
                    ))
                })
                .into_iter()
                .collect(),
        }
    }

    fn answer(&mut self, msg: Message) -> Vec<Message> {
        match msg {
            Message::Request(req) => vec![Message::Response(respond(&self.docs, req))],
            Message::Notification(n) => match update(&mut self.docs, n) {
                Some(uri) => {
                    let text = self.docs.get(uri.as_str()).map(String::as_str);
                    vec![Message::Notification(diagnostics::publish(&uri, text))]
                }
                None => Vec::new(),
            },
            Message::Response(_) => Vec::new(),
        }
    }
}

/// Serves `conn` (initialise, then every message) until the client says exit.
pub fn run(conn: &Connection) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    conn.initialize(serde_json::to_value(capabilities())?)?;
    let mut server = Server::new();
    for msg in &conn.receiver {
        if let Message::Request(req) = &msg
            && conn.handle_shutdown(req)?
        {
            break;
        }
        for out in server.handle(msg) {
            conn.sender.send(out)?;
        }
    }
    Ok(())
}

/// Serves LSP on standard input and output until the client says exit.
pub fn run_stdio() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (conn, io) = Connection::stdio();
    run(&conn)?;
    // The writer thread ends when the connection's sender is gone.
    drop(conn);
    io.join()?;
    Ok(())
}

/// Applies open/change/close; returns the document whose diagnostics must be published.
fn update(docs: &mut Documents, n: Notification) -> Option<Uri> {
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let p: lsp_types::DidOpenTextDocumentParams = serde_json::from_value(n.params).ok()?;
            docs.insert(
                p.text_document.uri.as_str().to_string(),
                p.text_document.text,
            );
            Some(p.text_document.uri)
        }
        DidChangeTextDocument::METHOD => {
            let p: lsp_types::DidChangeTextDocumentParams =
                serde_json::from_value(n.params).ok()?;
            let key = p.text_document.uri.as_str().to_string();
            let mut text = docs.remove(&key).unwrap_or_default();
            for c in p.content_changes {
                match c.range {
                    // An edit: the range in UTF-16 positions, replaced by its text.
                    Some(r) => {
                        let idx = lvsc_lang::LineIndex::new(&text);
                        let at = |p: lsp_types::Position| {
                            idx.offset_utf16(&text, p.line as usize, p.character as usize)
                        };
                        let (a, b) = (at(r.start), at(r.end));
                        if a <= b && b <= text.len() {
                            text.replace_range(a..b, &c.text);
                        }
                    }
                    // The whole text.
                    None => text = c.text,
                }
            }
            docs.insert(key, text);
            Some(p.text_document.uri)
        }
        DidCloseTextDocument::METHOD => {
            let p: lsp_types::DidCloseTextDocumentParams = serde_json::from_value(n.params).ok()?;
            docs.remove(p.text_document.uri.as_str());
            Some(p.text_document.uri)
        }
        _ => None,
    }
}

fn respond(docs: &Documents, req: Request) -> Response {
    let id = req.id.clone();
    let result = match req.method.as_str() {
        HoverRequest::METHOD => {
            serde_json::from_value(req.params).map(|p| json(hover::hover(docs, p)))
        }
        Completion::METHOD => {
            serde_json::from_value(req.params).map(|p| json(completion::complete(docs, p)))
        }
        GotoDefinition::METHOD => {
            serde_json::from_value(req.params).map(|p| json(definition::definition(docs, p)))
        }
        Formatting::METHOD => {
            serde_json::from_value(req.params).map(|p| json(formatting::format(docs, p)))
        }
        _ => {
            return Response::new_err(
                id,
                lsp_server::ErrorCode::MethodNotFound as i32,
                format!("{} is not supported", req.method),
            );
        }
    };
    match result {
        Ok(v) => Response::new_ok(id, v),
        Err(e) => Response::new_err(
            id,
            lsp_server::ErrorCode::InvalidParams as i32,
            e.to_string(),
        ),
    }
}

fn json(v: impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The word under a position (keyword, name or scheduler), with its byte range.
pub fn word_at(text: &str, pos: lsp_types::Position) -> Option<(usize, usize)> {
    let idx = lvsc_lang::LineIndex::new(text);
    let at = idx.offset_utf16(text, pos.line as usize, pos.character as usize);
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    // The word starts after the last non-word character, however many bytes it takes.
    let start = text[..at]
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_word(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[at..]
        .find(|c: char| !is_word(c))
        .map_or(text.len(), |i| at + i);
    (start < end).then_some((start, end))
}

/// An LSP range for a byte span.
pub fn range(text: &str, span: lvsc_lang::Span) -> lsp_types::Range {
    range_in(&lvsc_lang::LineIndex::new(text), text, span)
}

/// [`range`] with the text's line index made once (a file has many diagnostics).
pub fn range_in(idx: &lvsc_lang::LineIndex, text: &str, span: lvsc_lang::Span) -> lsp_types::Range {
    let pos = |o: usize| {
        let (l, c) = idx.position_utf16(text, o);
        lsp_types::Position::new(l as u32, c as u32)
    };
    lsp_types::Range::new(pos(span.start()), pos(span.end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(text: &str) -> Message {
        Message::Notification(Notification::new(
            DidOpenTextDocument::METHOD.to_string(),
            serde_json::json!({
                "textDocument": {
                    "uri": "file:///t.lvs", "languageId": "lvs", "version": 1, "text": text
                }
            }),
        ))
    }

    #[test]
    fn a_service_without_a_vip_is_diagnosed_not_fatal() {
        let text = "cluster x\nbalancer { director lb1 192.0.2.2/24 on eth0 }\n\
                    pool p { real r1 192.0.2.10 }\nservice s { pool p }\n";
        let out = Server::new().handle(open(text));
        let Some(Message::Notification(n)) = out.first() else {
            panic!("{out:?}")
        };
        assert!(
            n.params
                .to_string()
                .contains("lvsc::syntax::missing-directive"),
            "{}",
            n.params
        );
    }

    #[test]
    fn an_incremental_change_edits_the_text_in_utf16_positions() {
        let text = "cluster x # \u{e9}t\u{e9}\nbalancer { director lb1 192.0.2.2/24 on eth0 }\n";
        let mut server = Server::new();
        server.handle(open(text));
        // `é` is one UTF-16 unit and two bytes: replace the `t` after it on line 0.
        let change = Message::Notification(Notification::new(
            DidChangeTextDocument::METHOD.to_string(),
            serde_json::json!({
                "textDocument": { "uri": "file:///t.lvs", "version": 2 },
                "contentChanges": [
                    { "range": { "start": { "line": 0, "character": 13 },
                                 "end": { "line": 0, "character": 14 } }, "text": "T" },
                    { "range": { "start": { "line": 1, "character": 20 },
                                 "end": { "line": 1, "character": 23 } }, "text": "lbA" }
                ]
            }),
        ));
        server.handle(change);
        assert_eq!(
            server.docs["file:///t.lvs"],
            "cluster x # \u{e9}T\u{e9}\nbalancer { director lbA 192.0.2.2/24 on eth0 }\n"
        );
    }
}
