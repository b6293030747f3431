//! Unified diffs of generated files, fast on big ones.
//!
//! A 10,000-service keepalived.conf has 700,000 lines; a line-level Myers diff of two
//! such files with a few thousand changes is quadratic in practice. Generated files come
//! in parts (paragraphs separated by blank lines, or keepalived.conf's blocks, one per
//! service) that are nearly all unique, so the parts are matched first (patience: linear
//! on unique items) and only the parts that differ are diffed line by line. A part's text
//! is asked for only where it differs or gives a hunk its context: keepalived.conf's
//! blocks are rendered for that alone.

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::Hash;

use similar::udiff::UnifiedHunkHeader;
use similar::{Algorithm, DiffOp, DiffTag, capture_diff_slices, group_diff_ops};

/// A file as a sequence of parts whose line counts are known without their text, in
/// groups of consecutive parts that are compared first, whole (a service and its reals).
pub trait Parts {
    /// What a part is compared by: equal keys, equal text.
    type Key<'k>: Hash + Eq
    where
        Self: 'k;
    /// What a group is compared by: equal keys, equal parts.
    type GroupKey<'k>: Hash + Eq
    where
        Self: 'k;
    /// How many parts.
    fn len(&self) -> usize;
    /// Part `i`'s key.
    fn key(&self, i: usize) -> Self::Key<'_>;
    /// Part `i`'s line count.
    fn lines(&self, i: usize) -> usize;
    /// Part `i`'s text (`lines(i)` lines, each ending in a line break but perhaps the
    /// file's last).
    fn text(&self, i: usize) -> String;
    /// How many groups.
    fn groups(&self) -> usize;
    /// Group `g`'s key.
    fn group_key(&self, g: usize) -> Self::GroupKey<'_>;
    /// Group `g`'s first part (group 0 starts at 0; `groups()` gives `len()`).
    fn group_start(&self, g: usize) -> usize;
}

/// A text in paragraphs (each ends after a blank line), as slices of it.
pub struct Paragraphs<'t> {
    paras: Vec<&'t str>,
    lines: Vec<usize>,
}

impl<'t> Paragraphs<'t> {
    /// Splits `text` (no copy of a 16 MB file).
    pub fn new(text: &'t str) -> Self {
        let (mut paras, mut lines) = (Vec::new(), Vec::new());
        let (mut from, mut n) = (0, 0);
        for (at, l) in line_ends(text) {
            n += 1;
            if l.trim().is_empty() {
                paras.push(&text[from..at]);
                lines.push(n);
                from = at;
                n = 0;
            }
        }
        if text.len() > from {
            paras.push(&text[from..]);
            lines.push(n);
        }
        Paragraphs { paras, lines }
    }
}

/// Each line of `text` with the offset just after it.
fn line_ends(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |at, l| {
        *at += l.len();
        Some((*at, l))
    })
}

impl Parts for Paragraphs<'_> {
    type Key<'k>
        = &'k str
    where
        Self: 'k;
    type GroupKey<'k>
        = &'k str
    where
        Self: 'k;
    fn groups(&self) -> usize {
        self.paras.len()
    }
    fn group_key(&self, g: usize) -> &str {
        self.paras[g]
    }
    fn group_start(&self, g: usize) -> usize {
        g
    }
    fn len(&self) -> usize {
        self.paras.len()
    }
    fn key(&self, i: usize) -> &str {
        self.paras[i]
    }
    fn lines(&self, i: usize) -> usize {
        self.lines[i]
    }
    fn text(&self, i: usize) -> String {
        self.paras[i].to_string()
    }
}

/// One side of a diff: where each part starts, and the lines of the parts read so far.
struct Side<'p, P: Parts> {
    parts: &'p P,
    /// The first line of each part, then the line count.
    starts: Vec<usize>,
    read: HashMap<usize, Vec<String>>,
}

impl<'p, P: Parts> Side<'p, P> {
    fn new(parts: &'p P) -> Self {
        let mut starts = Vec::with_capacity(parts.len() + 1);
        let mut at = 0;
        for i in 0..parts.len() {
            starts.push(at);
            at += parts.lines(i);
        }
        starts.push(at);
        Side {
            parts,
            starts,
            read: HashMap::new(),
        }
    }

    /// Reads part `i`, once.
    fn read(&mut self, i: usize) {
        let parts = self.parts;
        self.read.entry(i).or_insert_with(|| {
            let text = parts.text(i);
            debug_assert_eq!(text.split_inclusive('\n').count(), parts.lines(i));
            text.split_inclusive('\n').map(str::to_string).collect()
        });
    }

    /// Line `l` of the file.
    fn line(&mut self, l: usize) -> &str {
        let i = self.starts.partition_point(|&s| s <= l) - 1;
        self.read(i);
        &self.read[&i][l - self.starts[i]]
    }

    /// The lines of parts `range`, read.
    fn lines_of(&mut self, range: std::ops::Range<usize>) -> Vec<&str> {
        for i in range.clone() {
            self.read(i);
        }
        range
            .flat_map(|i| self.read[&i].iter().map(String::as_str))
            .collect()
    }
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
    unified_parts(&Paragraphs::new(old), &Paragraphs::new(new), path)
}

/// A stretch of two files in parts: equal (old parts from the first to the third,
/// new from the second on), or differing (old parts, new parts).
enum Step {
    Equal(usize, usize, usize),
    Differ(std::ops::Range<usize>, std::ops::Range<usize>),
}

/// `old` and `new` in runs, equal or differing, as a patience diff pairs them: the items
/// that occur once on each side are matched where their order agrees (the longest run
/// of them whose old positions increase), and what lies between matches differs.
/// O(n log n); similar's patience diff also diffs between the matches, which took 30 ms
/// for 10,000 services, and the parts of the groups between matches are diffed anyway.
fn matched_runs(
    old: &[u32],
    new: &[u32],
) -> Vec<(bool, std::ops::Range<usize>, std::ops::Range<usize>)> {
    // Per number: how often on each side, and where in old.
    let max = old.iter().chain(new).max().map_or(0, |&m| m as usize + 1);
    let mut seen = vec![(0u32, 0u32, 0usize); max];
    for (i, &k) in old.iter().enumerate() {
        seen[k as usize].0 += 1;
        seen[k as usize].2 = i;
    }
    for &k in new {
        seen[k as usize].1 += 1;
    }
    // (old, new) positions of the items unique on both sides, in new's order.
    let pairs: Vec<(usize, usize)> = new
        .iter()
        .enumerate()
        .filter_map(|(j, &k)| {
            let (a, b, i) = seen[k as usize];
            (a == 1 && b == 1).then_some((i, j))
        })
        .collect();
    // The longest run with increasing old positions (patience sorting).
    let mut tails: Vec<usize> = Vec::new();
    let mut before = vec![usize::MAX; pairs.len()];
    for (p, &(i, _)) in pairs.iter().enumerate() {
        let at = tails.partition_point(|&t| pairs[t].0 < i);
        if at > 0 {
            before[p] = tails[at - 1];
        }
        if at == tails.len() {
            tails.push(p);
        } else {
            tails[at] = p;
        }
    }
    let mut matched = Vec::with_capacity(tails.len());
    let mut p = tails.last().copied().unwrap_or(usize::MAX);
    while p != usize::MAX {
        matched.push(pairs[p]);
        p = before[p];
    }
    matched.reverse();
    let mut runs = Vec::new();
    let (mut i, mut j) = (0, 0);
    for (mi, mj) in matched.into_iter().chain([(old.len(), new.len())]) {
        if mi > i || mj > j {
            runs.push((false, i..mi, j..mj));
        }
        if mi < old.len() {
            match runs.last_mut() {
                Some((true, o, n)) if o.end == mi && n.end == mj => {
                    o.end += 1;
                    n.end += 1;
                }
                _ => runs.push((true, mi..mi + 1, mj..mj + 1)),
            }
        }
        (i, j) = (mi + 1, mj + 1);
    }
    runs
}

/// Equal keys get equal numbers, on both sides: the diffs then compare numbers.
fn numbered<K: Hash + Eq>(
    old: impl Iterator<Item = K>,
    new: impl Iterator<Item = K>,
) -> (Vec<u32>, Vec<u32>) {
    let mut ids: HashMap<K, u32> = HashMap::new();
    let mut id = |k| {
        let next = ids.len() as u32;
        *ids.entry(k).or_insert(next)
    };
    let o = old.map(&mut id).collect();
    let n = new.map(&mut id).collect();
    (o, n)
}

/// Like [`unified`], of two files in parts; empty when they are the same.
pub fn unified_parts<P: Parts + Sync>(old: &P, new: &P, path: &str) -> String {
    let (mut o, mut n) = (Side::new(old), Side::new(new));
    let (og, ng) = numbered(
        (0..old.groups()).map(|g| old.group_key(g)),
        (0..new.groups()).map(|g| new.group_key(g)),
    );
    // First where the files differ, in ranges of parts; then those parts read, each
    // side on its own core; then their lines diffed.
    let mut steps: Vec<Step> = Vec::new();
    for (equal, or, nr) in matched_runs(&og, &ng) {
        // The groups' parts.
        let or = old.group_start(or.start)..old.group_start(or.end);
        let nr = new.group_start(nr.start)..new.group_start(nr.end);
        if equal {
            steps.push(Step::Equal(or.start, nr.start, or.end));
            continue;
        }
        // Groups that differ: the parts they begin and end with alike are equal, the
        // lines between are diffed (as a line diff of the groups would, which trims the
        // common head and tail first), so only the parts between are read.
        let (ok, nk) = numbered(
            or.clone().map(|i| old.key(i)),
            nr.clone().map(|i| new.key(i)),
        );
        let head = ok.iter().zip(&nk).take_while(|(a, b)| a == b).count();
        let tail = ok[head..]
            .iter()
            .rev()
            .zip(nk[head..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        let (om, nm) = (or.start + head, nr.start + head);
        let (oe, ne) = (or.end - tail, nr.end - tail);
        steps.push(Step::Equal(or.start, nr.start, om));
        steps.push(Step::Differ(om..oe, nm..ne));
        steps.push(Step::Equal(oe, ne, or.end));
    }
    std::thread::scope(|scope| {
        let reading = scope.spawn(|| {
            for s in &steps {
                if let Step::Differ(r, _) = s {
                    r.clone().for_each(|i| o.read(i));
                }
            }
        });
        for s in &steps {
            if let Step::Differ(_, r) = s {
                r.clone().for_each(|i| n.read(i));
            }
        }
        reading.join().expect("rendering does not panic");
    });
    let mut ops = Vec::new();
    for s in steps {
        match s {
            Step::Equal(o0, n0, o1) if o1 > o0 => ops.push(DiffOp::Equal {
                old_index: o.starts[o0],
                new_index: n.starts[n0],
                len: o.starts[o1] - o.starts[o0],
            }),
            Step::Equal(..) => {}
            Step::Differ(or, nr) => {
                let (o0, n0) = (o.starts[or.start], n.starts[nr.start]);
                let (ol, nl) = (o.lines_of(or), n.lines_of(nr));
                ops.extend(
                    capture_diff_slices(Algorithm::Myers, &ol, &nl)
                        .into_iter()
                        .map(|d| shift(d, o0, n0)),
                );
            }
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
                or.for_each(|i| push(&mut out, ' ', o.line(i)));
                continue;
            }
            or.for_each(|i| push(&mut out, '-', o.line(i)));
            nr.for_each(|i| push(&mut out, '+', n.line(i)));
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

    fn plain(a: &str, b: &str) -> String {
        similar::TextDiff::from_lines(a, b)
            .unified_diff()
            .context_radius(2)
            .header("a/f", "b/f")
            .to_string()
    }

    #[test]
    fn matches_a_plain_line_diff_on_small_files() {
        let a = "x\n\ny1\ny2\n\nz\n";
        let b = "x\n\ny1\ny3\n\nz\nw\n";
        assert_eq!(unified(a, b, "f"), plain(a, b));
        assert_eq!(unified(a, a, "f"), "");
        // No line break at the end, on either side.
        assert_eq!(unified("a\n\nb", "a\n\nc", "f"), plain("a\n\nb", "a\n\nc"));
    }

    #[test]
    fn runs_match_what_is_unique_on_both_sides_in_order() {
        let runs = |a: &[u32], b: &[u32]| {
            matched_runs(a, b)
                .into_iter()
                .map(|(e, o, n)| (e, o.start, o.end, n.start, n.end))
                .collect::<Vec<_>>()
        };
        // One item changed in the middle.
        assert_eq!(
            runs(&[1, 2, 3, 4], &[1, 2, 9, 4]),
            [(true, 0, 2, 0, 2), (false, 2, 3, 2, 3), (true, 3, 4, 3, 4)]
        );
        // One removed at the start, one added at the end.
        assert_eq!(
            runs(&[1, 2, 3], &[2, 3, 4]),
            [(false, 0, 1, 0, 0), (true, 1, 3, 0, 2), (false, 3, 3, 2, 3)]
        );
        // A move: the longer order wins, the moved item differs on both sides.
        assert_eq!(
            runs(&[1, 2, 3, 4], &[2, 3, 4, 1]),
            [(false, 0, 1, 0, 0), (true, 1, 4, 0, 3), (false, 4, 4, 3, 4)]
        );
        // Repeated items are never matched, and nothing at all is all differing.
        assert_eq!(
            runs(&[5, 1, 5], &[5, 1, 5]),
            [(false, 0, 1, 0, 1), (true, 1, 2, 1, 2), (false, 2, 3, 2, 3)]
        );
        assert_eq!(runs(&[], &[]), []);
        assert_eq!(runs(&[1], &[]), [(false, 0, 1, 0, 0)]);
    }

    /// Parts rendered on demand, counting how many were.
    struct Lazy {
        parts: Vec<(u32, usize)>,
        rendered: std::sync::atomic::AtomicUsize,
    }

    impl Parts for Lazy {
        type Key<'k> = (u32, usize);
        type GroupKey<'k> = (u32, usize);
        fn groups(&self) -> usize {
            self.parts.len()
        }
        fn group_key(&self, g: usize) -> (u32, usize) {
            self.parts[g]
        }
        fn group_start(&self, g: usize) -> usize {
            g
        }
        fn len(&self) -> usize {
            self.parts.len()
        }
        fn key(&self, i: usize) -> (u32, usize) {
            self.parts[i]
        }
        fn lines(&self, i: usize) -> usize {
            self.parts[i].1
        }
        fn text(&self, i: usize) -> String {
            self.rendered
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (id, n) = self.parts[i];
            (0..n).map(|l| format!("part {id} line {l}\n")).collect()
        }
    }

    #[test]
    fn renders_only_the_parts_that_differ_and_their_neighbours() {
        let lazy = |ids: &[u32]| Lazy {
            parts: ids.iter().map(|&id| (id, 3)).collect(),
            rendered: 0.into(),
        };
        let whole = |l: &Lazy| (0..l.len()).map(|i| l.text(i)).collect::<String>();
        let ids: Vec<u32> = (0..1000).collect();
        let mut changed = ids.clone();
        changed[500] = 5000;
        let (a, b) = (lazy(&ids), lazy(&changed));
        let diff = unified_parts(&a, &b, "f");
        assert_eq!(diff, plain(&whole(&a), &whole(&b)));
        // The changed part on both sides, and the old side's neighbours for the
        // context; `whole` rendered everything, so count on a fresh pair.
        let (a, b) = (lazy(&ids), lazy(&changed));
        unified_parts(&a, &b, "f");
        let rendered = |l: &Lazy| l.rendered.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!((rendered(&a), rendered(&b)), (3, 1));
    }
}
