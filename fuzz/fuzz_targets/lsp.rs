//! The language server's request handling: one JSON-RPC message per line, each handled
//! in turn by one server; the server answers every request and never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lsp_server::Message;

fuzz_target!(|data: &[u8]| {
    let mut server = lvsc_lsp::Server::new();
    for line in data.split(|&b| b == b'\n') {
        let Ok(msg) = serde_json::from_slice::<Message>(line) else { continue };
        let request = matches!(msg, Message::Request(_));
        let out = server.handle(msg);
        if request {
            assert!(
                matches!(out.first(), Some(Message::Response(_))),
                "a request without a response"
            );
        }
    }
});
