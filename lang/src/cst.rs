//! The concrete syntax tree: directives, blocks and comments, before any meaning.
//!
//! Every `.lvs` file is a list of directives `keyword arg... [{ ... }]`. The formatter
//! works on this tree (it keeps comments and blank lines); the typed syntax tree in
//! [`crate::ast`] is built from it.

use crate::span::{Span, Spanned};
use crate::value::Value;

/// A whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct File {
    /// Top-level items in order.
    pub items: Vec<Item>,
}

/// A directive or a comment on its own line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// Whether one or more blank lines preceded it.
    pub blank_before: bool,
}

/// The two kinds of item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// `keyword args... [{ ... }]`.
    Directive(Directive),
    /// `# ...` on its own line.
    Comment(Spanned<String>),
}

/// `keyword args... [{ ... }]`, with an optional trailing comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The keyword.
    pub name: Spanned<String>,
    /// Arguments after the keyword.
    pub args: Vec<Spanned<Value>>,
    /// The `{ ... }` block, if any.
    pub block: Option<Block>,
    /// A `# ...` comment after the directive on the same line.
    pub trailing_comment: Option<Spanned<String>>,
    /// From the keyword to the last argument or the closing brace.
    pub span: Span,
}

impl Directive {
    /// The directives of the block, or none.
    pub fn children(&self) -> impl Iterator<Item = &Directive> {
        self.block.iter().flat_map(|b| b.directives())
    }
}

/// `{ items }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The items inside.
    pub items: Vec<Item>,
    /// The `{`.
    pub open: Span,
    /// The `}` (empty span at the end of input when it is missing).
    pub close: Span,
}

impl Block {
    /// The directives of this block, skipping comments.
    pub fn directives(&self) -> impl Iterator<Item = &Directive> {
        directives(&self.items)
    }
}

impl File {
    /// The top-level directives, skipping comments.
    pub fn directives(&self) -> impl Iterator<Item = &Directive> {
        directives(&self.items)
    }
}

fn directives(items: &[Item]) -> impl Iterator<Item = &Directive> {
    items.iter().filter_map(|i| match &i.kind {
        ItemKind::Directive(d) => Some(d),
        ItemKind::Comment(_) => None,
    })
}
