//! `lvsc lsp`: a language server over stdio. One module per request kind; documents are
//! kept as full text and re-checked on every change (a big file checks in milliseconds).

mod completion;
mod definition;
mod diagnostics;
mod formatting;
mod hover;

use std::collections::HashMap;
use std::process::ExitCode;

use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
};
use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionOptions, HoverProviderCapability, OneOf, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};

/// Arguments of `lvsc lsp` (none: it speaks LSP on stdin/stdout).
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Open documents by URI (as text: `Uri` has interior caching, unfit for a map key).
pub type Documents = HashMap<String, String>;

/// Runs the server until the client says exit.
pub fn run(_: Args) -> anyhow::Result<ExitCode> {
    let (conn, io) = Connection::stdio();
    let caps = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions::default()),
        definition_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    };
    conn.initialize(serde_json::to_value(caps)?)?;
    let mut docs = Documents::new();
    for msg in &conn.receiver {
        match msg {
            Message::Request(req) => {
                if conn.handle_shutdown(&req)? {
                    break;
                }
                conn.sender.send(Message::Response(respond(&docs, req)))?;
            }
            Message::Notification(n) => {
                if let Some(uri) = update(&mut docs, n) {
                    let publish =
                        diagnostics::publish(&uri, docs.get(uri.as_str()).map(String::as_str));
                    conn.sender.send(Message::Notification(publish))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    // The writer thread ends when the connection's sender is gone.
    drop(conn);
    io.join()?;
    Ok(ExitCode::SUCCESS)
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
            // Full sync: the last change holds the whole text.
            let text = p.content_changes.into_iter().last()?.text;
            docs.insert(p.text_document.uri.as_str().to_string(), text);
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
    let start = text[..at].rfind(|c: char| !is_word(c)).map_or(0, |i| i + 1);
    let end = text[at..]
        .find(|c: char| !is_word(c))
        .map_or(text.len(), |i| at + i);
    (start < end).then_some((start, end))
}

/// An LSP range for a byte span.
pub fn range(text: &str, span: lvsc_lang::Span) -> lsp_types::Range {
    let idx = lvsc_lang::LineIndex::new(text);
    let pos = |o: usize| {
        let (l, c) = idx.position_utf16(text, o);
        lsp_types::Position::new(l as u32, c as u32)
    };
    lsp_types::Range::new(pos(span.start), pos(span.end()))
}
