//! The log: one JSON object per line on standard output, one line per event (a real
//! that goes down or comes back, a quorum lost or regained, a data-plane change, a
//! reload), so that journald and log shippers read it as it is.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Writes one event: `kind` and its fields, with the time.
pub fn emit(kind: &str, fields: Value) {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut line = json!({ "ts": (ts * 1000.0).round() / 1000.0, "event": kind });
    if let (Some(l), Value::Object(f)) = (line.as_object_mut(), fields) {
        l.extend(f);
    }
    let mut out = std::io::stdout().lock();
    // A closed log is no reason to stop balancing.
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
