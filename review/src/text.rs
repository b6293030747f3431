//! The plan for people: `+` added, `-` removed, `~` changed, `!` risks.

use std::fmt::Write;

use lvsc_compiler::diff::{Action, Change};

use crate::{Review, plural};

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn sign(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Add => ("+", "32"),
        Action::Remove => ("-", "31"),
        Action::Change => ("~", "33"),
    }
}

fn value(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(none)")
}

fn change(out: &mut String, p: &Paint, c: &Change) {
    let (s, code) = sign(c.action);
    let _ = writeln!(out, "  {} {} {}", p.wrap(code, s), c.object, c.name);
    for f in &c.fields {
        match c.action {
            Action::Change => {
                let _ = writeln!(
                    out,
                    "      {}: {} → {}",
                    f.field,
                    value(&f.old),
                    value(&f.new)
                );
            }
            Action::Add => {
                let _ = writeln!(out, "      {}: {}", f.field, value(&f.new));
            }
            Action::Remove => {
                let _ = writeln!(out, "      {}: {}", f.field, value(&f.old));
            }
        }
    }
}

/// Renders the plan as text.
pub fn render(r: &Review, color: bool) -> String {
    let p = Paint { on: color };
    let mut out = String::new();
    if r.plan.is_empty() && r.files.is_empty() {
        let _ = writeln!(out, "No changes: {} matches its old version.", r.name);
        return out;
    }
    let _ = writeln!(
        out,
        "Plan for {}: {}, {}.",
        r.name,
        plural(r.plan.hosts.len(), "host changes", "hosts change"),
        plural(r.plan.risks.len(), "risk", "risks")
    );
    for h in &r.plan.hosts {
        let _ = writeln!(out, "\n{} {}", h.role, p.wrap("1", &h.host));
        for c in &h.changes {
            change(&mut out, &p, c);
        }
        for f in r.files.get(&h.host).into_iter().flatten() {
            let _ = writeln!(out, "  file {}", f.path);
            for line in f.diff.lines() {
                let colored = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => p.wrap("32", line),
                    Some('-') if !line.starts_with("---") => p.wrap("31", line),
                    Some('@') => p.wrap("36", line),
                    _ => line.to_string(),
                };
                let _ = writeln!(out, "    {colored}");
            }
        }
    }
    if !r.disruption.is_empty() {
        let _ = writeln!(
            out,
            "\nFlows that move (slots of a lookup table whose real changes):"
        );
        for d in &r.disruption {
            let _ = writeln!(
                out,
                "  {} ({}): {:.1}% of {} slots (at least {:.1}%: the weight that changes hands)",
                d.service, d.table, d.percent, d.slots, d.minimum_percent
            );
        }
    }
    if !r.plan.risks.is_empty() {
        let _ = writeln!(out, "\nRisks:");
        for k in &r.plan.risks {
            let _ = writeln!(out, "  {} {}: {}", p.wrap("1;31", "!"), k.code, k.message);
            let _ = writeln!(out, "      {}", k.advice);
        }
    }
    out
}
