//! The plan as a pull-request comment: a summary table, risks, and per-host details.

use std::fmt::Write;

use lvsc_compiler::diff::{Action, FieldChange};

use crate::{Review, graph, plural};

fn code(v: &Option<String>) -> String {
    // Backticks inside a value would end the code span; none of the IR's values have any.
    v.as_ref().map_or("*none*".to_string(), |s| {
        format!("`{}`", s.replace('`', "'"))
    })
}

fn field(f: &FieldChange, action: Action) -> String {
    match action {
        Action::Change => format!("{}: {} → {}", f.field, code(&f.old), code(&f.new)),
        Action::Add => format!("{}: {}", f.field, code(&f.new)),
        Action::Remove => format!("{}: {}", f.field, code(&f.old)),
    }
}

/// Renders the plan as GitHub-flavoured Markdown.
pub fn render(r: &Review) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### lvsc plan: `{}`\n", r.name);
    if r.plan.is_empty() && r.files.is_empty() {
        let _ = writeln!(out, "No changes.");
        return out;
    }
    let _ = writeln!(out, "| host | role | added | changed | removed | files |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
    for h in &r.plan.hosts {
        let n = |a: Action| h.changes.iter().filter(|c| c.action == a).count();
        let files = r.files.get(&h.host).map_or(0, Vec::len);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {files} |",
            h.host,
            h.role,
            n(Action::Add),
            n(Action::Change),
            n(Action::Remove)
        );
    }
    match &r.picture {
        Some(p) => {
            let _ = writeln!(
                out,
                "\n<details><summary>Picture (added green, removed red)</summary>\n\n```mermaid\n{p}```\n\n</details>",
            );
        }
        None => {
            let _ = writeln!(
                out,
                "\nNo picture: more than {} services change, too many to draw legibly.",
                graph::PICTURE_SERVICES
            );
        }
    }
    if !r.disruption.is_empty() {
        let _ = writeln!(
            out,
            "\n| service | table | slots | flows that move | at least |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|");
        for d in &r.disruption {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {:.1}% | {:.1}% |",
                d.service, d.table, d.slots, d.percent, d.minimum_percent
            );
        }
    }
    if !r.plan.risks.is_empty() {
        let _ = writeln!(
            out,
            "\n> [!WARNING]\n> **{}**",
            plural(r.plan.risks.len(), "risk", "risks")
        );
        for k in &r.plan.risks {
            let _ = writeln!(out, "> - **{}** (`{}`): {}", k.message, k.code, k.advice);
        }
    }
    for h in &r.plan.hosts {
        let n = plural(h.changes.len(), "change", "changes");
        let _ = writeln!(
            out,
            "\n<details><summary><code>{}</code> ({}): {n}</summary>\n",
            h.host, h.role
        );
        for c in &h.changes {
            let sign = match c.action {
                Action::Add => "+",
                Action::Remove => "-",
                Action::Change => "~",
            };
            let fields: Vec<String> = c.fields.iter().map(|f| field(f, c.action)).collect();
            let tail = if fields.is_empty() {
                String::new()
            } else {
                format!(": {}", fields.join("; "))
            };
            let _ = writeln!(out, "- `{sign}` {} **{}**{tail}", c.object, c.name);
        }
        for f in r.files.get(&h.host).into_iter().flatten() {
            let _ = writeln!(out, "\n`{}`\n\n```diff\n{}```", f.path, f.diff);
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}
