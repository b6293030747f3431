//! Unified diffs of generated files, fast on big ones.
//!
//! A 10,000-service keepalived.conf has 400,000 lines; a line-level Myers diff of two
//! such files with a few thousand changes is quadratic in practice. Generated files come
//! in paragraphs (one per real server or service, separated by blank lines) that are
//! nearly all unique, so the paragraphs are matched first (patience: linear on unique
//! items) and only the paragraphs that differ are diffed line by line.

use std::fmt::Write;

use similar::udiff::UnifiedHunkHeader;
use similar::{Algorithm, DiffOp, DiffTag, capture_diff_slices, group_diff_ops};

/// Paragraphs of `text` (each ends after a blank line), as slices of it (no copy of a
/// 16 MB file), and the index of each one's first line; `lines` are its lines.
fn paragraphs<'t>(text: &'t str, lines: &[&str]) -> (Vec<&'t str>, Vec<usize>) {
    let (mut paras, mut starts) = (Vec::new(), Vec::new());
    let (mut from, mut at) = (0, 0);
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        at += l.len();
        if l.trim().is_empty() {
            paras.push(&text[from..at]);
            starts.push(start);
            from = at;
            start = i + 1;
        }
    }
    if at > from {
        paras.push(&text[from..at]);
        starts.push(start);
    }
    starts.push(lines.len());
    (paras, starts)
}

fn shift(op: DiffOp, o: usize, n: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + o,
            new_index: new_index + n,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + o,
            old_len,
            new_index: new_index + n,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + o,
            new_index: new_index + n,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + o,
            old_len,
            new_index: new_index + n,
            new_len,
        },
    }
}

/// The unified diff of `old` → `new` with two lines of context, headed `a/PATH`, `b/PATH`.
pub fn unified(old: &str, new: &str, path: &str) -> String {
    let ol: Vec<&str> = old.split_inclusive('\n').collect();
    let nl: Vec<&str> = new.split_inclusive('\n').collect();
    let (op, os) = paragraphs(old, &ol);
    let (np, ns) = paragraphs(new, &nl);
    let mut ops = Vec::new();
    for p in capture_diff_slices(Algorithm::Patience, &op, &np) {
        let (tag, or, nr) = p.as_tag_tuple();
        let (o0, o1, n0, n1) = (os[or.start], os[or.end], ns[nr.start], ns[nr.end]);
        if tag == DiffTag::Equal {
            ops.push(DiffOp::Equal {
                old_index: o0,
                new_index: n0,
                len: o1 - o0,
            });
        } else {
            ops.extend(
                capture_diff_slices(Algorithm::Myers, &ol[o0..o1], &nl[n0..n1])
                    .into_iter()
                    .map(|d| shift(d, o0, n0)),
            );
        }
    }
    let mut out = String::new();
    let groups = group_diff_ops(merge_equal(ops), 2);
    if groups.is_empty() {
        return out;
    }
    let _ = writeln!(out, "--- a/{path}\n+++ b/{path}");
    for g in groups {
        let _ = writeln!(out, "{}", UnifiedHunkHeader::new(&g));
        for op in g {
            let (tag, or, nr) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                or.for_each(|i| push(&mut out, ' ', ol[i]));
                continue;
            }
            or.for_each(|i| push(&mut out, '-', ol[i]));
            nr.for_each(|i| push(&mut out, '+', nl[i]));
        }
    }
    out
}

/// Joins neighbouring equal runs, so context is trimmed as for one plain diff.
fn merge_equal(ops: Vec<DiffOp>) -> Vec<DiffOp> {
    let mut out: Vec<DiffOp> = Vec::with_capacity(ops.len());
    for op in ops {
        if let (Some(DiffOp::Equal { len, .. }), DiffOp::Equal { len: more, .. }) =
            (out.last_mut(), op)
        {
            *len += more;
            continue;
        }
        out.push(op);
    }
    out
}

fn push(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_plain_line_diff_on_small_files() {
        let a = "x\n\ny1\ny2\n\nz\n";
        let b = "x\n\ny1\ny3\n\nz\nw\n";
        let want = similar::TextDiff::from_lines(a, b)
            .unified_diff()
            .context_radius(2)
            .header("a/f", "b/f")
            .to_string();
        assert_eq!(unified(a, b, "f"), want);
        assert_eq!(unified(a, a, "f"), "");
    }
}
