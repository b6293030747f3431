//! Byte ranges into the source text, and conversion to line/column.

use serde::{Deserialize, Serialize};

/// A byte range `[start, start + len)` in one source file. Offsets are 32-bit: a span
/// is in every node of the tree (a big cluster has millions), and a source file of 4 GiB
/// is no cluster file (offsets beyond saturate).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// A span from `start` to `end` (exclusive).
    pub fn new(start: usize, end: usize) -> Self {
        let clamp = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Span {
            start: clamp(start),
            len: clamp(end.saturating_sub(start)),
        }
    }

    /// Byte offset of the first byte.
    pub fn start(self) -> usize {
        self.start as usize
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// Whether it covers no byte.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    /// The offset one past the last byte.
    pub fn end(self) -> usize {
        self.start() + self.len()
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start().min(other.start()), self.end().max(other.end()))
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.start(), s.len()).into()
    }
}

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// Maps byte offsets to 1-based line and column numbers (columns count characters).
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    /// The 1-based line and 1-based character column of `offset` in `text`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// The byte offset of a 0-based line and 0-based UTF-16 column (as editors count).
    pub fn offset_utf16(&self, text: &str, line: usize, col16: usize) -> usize {
        let Some(&start) = self.line_starts.get(line) else {
            return text.len();
        };
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= col16 || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    }

    /// The 0-based line and 0-based UTF-16 column of `offset` (as editors count).
    pub fn position_utf16(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = text
            .get(start..offset)
            .map(|s| s.encode_utf16().count())
            .unwrap_or(offset - start);
        (line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let text = "ab\ncé\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        assert_eq!(idx.line_col(text, 7), (3, 1));
        assert_eq!(idx.line_col(text, 6), (2, 3));
    }

    #[test]
    fn utf16_positions_round_trip() {
        let text = "a\nüb c\n";
        let idx = LineIndex::new(text);
        let off = text.find('c').unwrap();
        let (l, c) = idx.position_utf16(text, off);
        assert_eq!((l, c), (1, 3));
        assert_eq!(idx.offset_utf16(text, l, c), off);
    }
}
