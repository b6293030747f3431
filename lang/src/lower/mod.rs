//! Builds the typed syntax tree from the concrete one, checking each directive's shape.
//! One module per construct; `args` reads a directive's arguments. The words allowed in
//! each place come from [`crate::keywords`], which the editor's hover and completion
//! read too.

mod args;
mod balancer;
mod pool;
mod service;
mod storage;

use crate::ast::*;
use crate::codes;
use crate::cst::{self, Directive};
use crate::diagnostic::{Diagnostic, suggest};
use crate::keywords::{Block, directives_in};
use crate::span::{Span, Spanned};

use args::Args;

/// Lowers a concrete tree, reporting shape errors into `errors`.
pub fn lower(file: &cst::File, errors: &mut Vec<Diagnostic>) -> SourceFile {
    let mut out = SourceFile::default();
    for d in file.directives() {
        lower_top(d, &mut out, errors);
    }
    out
}

/// Lowers one top-level directive into `out` (a file lowered directive by directive is
/// the same as one lowered whole).
pub fn lower_top(d: &Directive, out: &mut SourceFile, errors: &mut Vec<Diagnostic>) {
    let mut l = Lower { errors };
    for d in l.directives(std::iter::once(d), Block::Top) {
        match d.name.value.as_str() {
            "cluster" => {
                let mut a = Args::new(d);
                let name = l.word(&mut a, "a cluster name");
                l.finish(&a);
                l.no_block(d);
                if let Some(name) = name {
                    l.once(&mut out.cluster, d, name, |c| c.span);
                }
            }
            "defaults" => {
                let v = l.defaults(d);
                l.once(&mut out.defaults, d, v, |x| x.span);
            }
            "balancer" => {
                let v = l.balancer(d);
                l.once(&mut out.balancer, d, v, |x| x.span);
            }
            "pool" => out.pools.extend(l.pool(d)),
            "service" => out.services.extend(l.service(d)),
            "storage" => out.storage.extend(l.storage(d)),
            _ => unreachable!("filtered by directives()"),
        }
    }
}

pub(crate) struct Lower<'e> {
    errors: &'e mut Vec<Diagnostic>,
}

impl Lower<'_> {
    /// Keeps the directives whose keyword `block` allows; reports the others.
    fn directives<'a>(
        &mut self,
        dirs: impl Iterator<Item = &'a Directive>,
        block: Block,
    ) -> Vec<&'a Directive> {
        let place = match block {
            Block::Top => "at the top level".to_string(),
            b => format!("in `{}`", b.keyword()),
        };
        self.known(dirs, &directives_in(block), &place)
    }

    /// The arguments of a directive that takes no block (a block is reported).
    fn line<'d>(&mut self, d: &'d Directive) -> Args<'d> {
        self.no_block(d);
        Args::new(d)
    }

    pub(super) fn push(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// Keeps the directives whose keyword is allowed here; reports the others.
    pub(super) fn known<'a>(
        &mut self,
        dirs: impl Iterator<Item = &'a Directive>,
        allowed: &[&str],
        place: &str,
    ) -> Vec<&'a Directive> {
        let mut out = Vec::new();
        for d in dirs {
            let name = d.name.value.as_str();
            if allowed.contains(&name) {
                out.push(d);
                continue;
            }
            let mut diag = Diagnostic::error(
                codes::UNKNOWN_KEYWORD,
                d.name.span,
                format!("unknown keyword `{name}` {place}"),
            )
            .with_label("not known here");
            diag = diag.with_help(suggest(name, allowed, || {
                format!("expected one of: {}", allowed.join(", "))
            }));
            self.push(diag);
        }
        out
    }

    pub(super) fn no_block(&mut self, d: &Directive) {
        if let Some(b) = &d.block {
            let kw = &d.name.value;
            self.push(
                Diagnostic::error(
                    codes::UNEXPECTED_BLOCK,
                    b.open,
                    format!("`{kw}` takes no block"),
                )
                .with_label("unexpected `{`")
                .with_help(format!("write `{kw}` on one line without braces")),
            );
        }
    }

    pub(super) fn need_block<'d>(
        &mut self,
        d: &'d Directive,
        example: &str,
    ) -> Option<&'d cst::Block> {
        if d.block.is_none() {
            let kw = &d.name.value;
            self.push(
                Diagnostic::error(
                    codes::MISSING_BLOCK,
                    d.span,
                    format!("`{kw}` needs a block"),
                )
                .with_label("expected `{` after this")
                .with_help(format!("write it as `{example}`")),
            );
        }
        d.block.as_ref()
    }

    /// Stores `value` in a slot that may be set once; reports a second setting.
    pub(super) fn once<T>(
        &mut self,
        slot: &mut Option<T>,
        d: &Directive,
        value: T,
        span_of: impl Fn(&T) -> Span,
    ) {
        if let Some(first) = slot {
            let kw = &d.name.value;
            self.push(
                Diagnostic::error(
                    codes::DUPLICATE_DIRECTIVE,
                    d.name.span,
                    format!("`{kw}` is given twice"),
                )
                .with_label("second setting")
                .with_related(span_of(first), "first setting")
                .with_help(format!("keep one `{kw}`")),
            );
        } else {
            *slot = Some(value);
        }
    }

    pub(super) fn single_span<T>(
        &mut self,
        slot: &mut Option<Spanned<T>>,
        d: &Directive,
        value: Option<Spanned<T>>,
    ) {
        if let Some(v) = value {
            self.once(slot, d, v, |x| x.span);
        }
    }

    pub(super) fn name_and_block<'d>(
        &mut self,
        d: &'d Directive,
        what: &str,
        example: &str,
    ) -> Option<(Spanned<String>, &'d cst::Block)> {
        let mut a = Args::new(d);
        let name = self.word(&mut a, what);
        self.finish(&a);
        let block = self.need_block(d, example)?;
        Some((name?, block))
    }
}
