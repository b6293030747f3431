//! The plan for tools: schema version 1, documented in docs/plan-json.md.

use serde_json::json;

use crate::Review;

/// The schema version; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Renders the plan as JSON.
pub fn render(r: &Review) -> String {
    let hosts: Vec<_> = r
        .plan
        .hosts
        .iter()
        .map(|h| {
            json!({
                "host": h.host,
                "role": h.role,
                "changes": h.changes,
                "files": r.files.get(&h.host).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let doc = json!({
        "schema": "lvsc-plan",
        "version": SCHEMA_VERSION,
        "file": r.name,
        "changed": !(r.plan.is_empty() && r.files.is_empty()),
        "hosts": hosts,
        "risks": r.plan.risks,
        "disruption": r.disruption,
    });
    serde_json::to_string_pretty(&doc).expect("json values serialise") + "\n"
}
