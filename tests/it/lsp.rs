//! `lvsc lsp` spoken to over stdio as an editor does: diagnostics on open, formatting,
//! go-to-definition, hover and completion.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{Value, json};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Client {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lvsc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut c = Client {
            child,
            stdin,
            stdout,
            next_id: 1,
        };
        c.request(
            "initialize",
            json!({ "capabilities": {}, "processId": null, "rootUri": null }),
        );
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn read(&mut self) -> Value {
        let mut len = 0;
        loop {
            let mut line = String::new();
            self.stdout.read_line(&mut line).unwrap();
            let line = line.trim();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                len = n.parse().unwrap();
            }
        }
        let mut buf = vec![0; len];
        self.stdout.read_exact(&mut buf).unwrap();
        serde_json::from_slice(&buf).unwrap()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// Sends a request and returns its result, skipping notifications in between.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.read();
            if m["id"] == id {
                assert!(m.get("error").is_none(), "{m}");
                return m["result"].clone();
            }
        }
    }

    fn next_notification(&mut self, method: &str) -> Value {
        loop {
            let m = self.read();
            if m["method"] == method {
                return m["params"].clone();
            }
        }
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        assert!(self.child.wait().unwrap().success());
    }
}

const URI: &str = "file:///tmp/cluster.lvs";

#[test]
fn diagnostics_formatting_definition_hover_completion() {
    let mut c = Client::start();
    let text = std::fs::read_to_string("examples/web-dr.lvs")
        .unwrap()
        .replace("  pool web\n}", "  pool wbe\n}");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "lvs", "version": 1, "text": text } }),
    );
    let d = c.next_notification("textDocument/publishDiagnostics");
    let diags = d["diagnostics"].as_array().unwrap();
    let unknown = diags
        .iter()
        .find(|d| d["code"] == "lvsc::names::unknown-pool")
        .expect("unknown pool reported");
    let line = text.lines().position(|l| l.trim() == "pool wbe").unwrap();
    assert_eq!(
        unknown["range"]["start"],
        json!({ "line": line, "character": 7 })
    );
    assert_eq!(
        unknown["range"]["end"],
        json!({ "line": line, "character": 10 })
    );
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("no pool is named `wbe`")
    );
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `web`?")
    );
    assert_eq!(unknown["severity"], 1);

    // Fixing the file clears the diagnostics.
    let fixed = std::fs::read_to_string("examples/web-dr.lvs").unwrap();
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    assert!(
        c.next_notification("textDocument/publishDiagnostics")["diagnostics"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Go to definition: from `pool web` in the service to `pool web {`.
    let use_line = fixed.lines().position(|l| l.trim() == "pool web").unwrap();
    let def_line = fixed
        .lines()
        .position(|l| l.starts_with("pool web {"))
        .unwrap();
    let loc = c.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": URI }, "position": { "line": use_line, "character": 8 } }),
    );
    assert_eq!(loc["uri"], URI);
    assert_eq!(
        loc["range"]["start"],
        json!({ "line": def_line, "character": 5 })
    );

    // Hover on a keyword and on a scheduler.
    let wlc_line = fixed
        .lines()
        .position(|l| l.trim() == "scheduler wlc")
        .unwrap();
    let h = c.request("textDocument/hover", json!({ "textDocument": { "uri": URI }, "position": { "line": wlc_line, "character": 13 } }));
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Weighted least connections"),
        "{h}"
    );
    let h = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": wlc_line, "character": 4 } }),
    );
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**scheduler**"),
        "{h}"
    );

    // Completion offers keywords and the file's pools.
    let items = c.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 0, "character": 0 } }),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"persistence") && labels.contains(&"web") && labels.contains(&"mh"),
        "{labels:?}"
    );

    // Formatting returns the formatter's output.
    let messy = "cluster  web\npool web {   real rs1 192.0.2.21 }\n";
    c.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": URI, "version": 3 }, "contentChanges": [{ "text": messy }] }),
    );
    let edits = c.request("textDocument/formatting", json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }));
    assert_eq!(edits[0]["newText"], lvsc_lang::format(messy).unwrap());
    assert_eq!(
        edits[0]["range"]["start"],
        json!({ "line": 0, "character": 0 })
    );
    c.stop();
}

/// Inputs that once killed the server: a service without a VIP on open, and a hover just
/// after a multi-byte character. The server answers both and keeps serving.
#[test]
fn hostile_documents_never_end_the_server() {
    let mut c = Client::start();
    let text = "cluster x\nbalancer { director lb1 192.0.2.2/24 on eth0 }\n\
                pool p { real r1 192.0.2.10 }\nservice s { pool p }\n# é weight\n";
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": URI, "languageId": "lvs", "version": 1, "text": text } }),
    );
    let d = c.next_notification("textDocument/publishDiagnostics");
    assert!(d.to_string().contains("has no `vip` or `fwmark`"), "{d}");
    for character in 0..10 {
        c.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": URI }, "position": { "line": 4, "character": character } }),
        );
    }
    let h = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 4, "character": 6 } }),
    );
    assert!(h.to_string().contains("**weight**"), "{h}");
    c.stop();
}
