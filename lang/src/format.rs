//! The formatter: one canonical layout for every `.lvs` file.
//!
//! It prints the concrete tree, so comments and (collapsed) blank lines survive; every
//! argument is reprinted exactly as written, so formatting never changes meaning.

use crate::cst::{Directive, File, Item, ItemKind};

const INDENT: &str = "  ";

/// Prints `file` (parsed from `source`) in canonical layout.
pub fn print(file: &File, source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 64);
    items(&mut out, &file.items, source, 0);
    if out.is_empty() {
        return out;
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

fn items(out: &mut String, items: &[Item], source: &str, depth: usize) {
    for item in items {
        if item.blank_before {
            out.push('\n');
        }
        indent(out, depth);
        match &item.kind {
            ItemKind::Comment(c) => out.push_str(c.value.trim_end()),
            ItemKind::Directive(d) => directive(out, d, source, depth),
        }
        out.push('\n');
    }
}

fn directive(out: &mut String, d: &Directive, source: &str, depth: usize) {
    out.push_str(&d.name.value);
    for a in &d.args {
        out.push(' ');
        out.push_str(&source[a.span.start()..a.span.end()]);
    }
    if let Some(b) = &d.block {
        if b.items.is_empty() {
            out.push_str(" {}");
        } else {
            out.push_str(" {\n");
            items(out, &b.items, source, depth + 1);
            indent(out, depth);
            out.push('}');
        }
    }
    if let Some(c) = &d.trailing_comment {
        out.push(' ');
        out.push_str(c.value.trim_end());
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str(INDENT);
    }
}
