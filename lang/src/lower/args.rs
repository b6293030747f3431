//! A directive's arguments: the cursor over them and the readers of each kind of value,
//! each reporting a missing or wrong argument where it stands.

use std::ops::RangeInclusive;

use crate::codes;
use crate::cst::Directive;
use crate::diagnostic::{Diagnostic, suggest};
use crate::span::{Span, Spanned};
use crate::value::{Endpoint, Value};

use super::Lower;

/// What fits the 32 bits the model keeps most numbers in.
pub(super) const U32: RangeInclusive<u64> = 0..=u32::MAX as u64;

/// Milliseconds as the shortest way to write them: `500ms`, `5s`, `2m`, `30d`.
pub(super) fn human_duration(ms: u64) -> String {
    for (unit, per) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= per && ms.is_multiple_of(per) {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

/// `what` without its article: "a port" → "port".
fn bare(what: &str) -> &str {
    what.strip_prefix("a ")
        .or_else(|| what.strip_prefix("an "))
        .unwrap_or(what)
}

/// A cursor over a directive's arguments.
pub(super) struct Args<'a> {
    d: &'a Directive,
    i: usize,
}

impl<'a> Args<'a> {
    pub(super) fn new(d: &'a Directive) -> Self {
        Args { d, i: 0 }
    }

    pub(super) fn peek(&self) -> Option<&'a Spanned<Value>> {
        self.d.args.get(self.i)
    }

    pub(super) fn next(&mut self) -> Option<&'a Spanned<Value>> {
        let v = self.d.args.get(self.i);
        self.i += usize::from(v.is_some());
        v
    }

    /// The span of the last token consumed (or the keyword): where "missing X" points.
    pub(super) fn last_span(&self) -> Span {
        if self.i == 0 {
            self.d.name.span
        } else {
            self.d.args[self.i - 1].span
        }
    }

    pub(super) fn peek_word(&self) -> Option<&'a str> {
        match self.peek() {
            Some(Spanned {
                value: Value::Word(w),
                ..
            }) => Some(w),
            _ => None,
        }
    }
}

impl Lower<'_> {
    pub(super) fn missing(&mut self, a: &Args<'_>, what: &str) {
        let kw = &a.d.name.value;
        self.push(
            Diagnostic::error(
                codes::MISSING_ARGUMENT,
                a.last_span(),
                format!("`{kw}` needs {what}"),
            )
            .with_label(format!("expected {what} after this"))
            .with_help(format!(
                "write {what} here; see docs/language.md for `{kw}`"
            )),
        );
    }

    pub(super) fn wrong(&mut self, v: &Spanned<Value>, kw: &str, what: &str) {
        if v.value == Value::Invalid {
            return; // the lexer already said why
        }
        self.push(
            Diagnostic::error(
                codes::WRONG_ARGUMENT,
                v.span,
                format!("`{kw}` expects {what}, found {}", v.value.describe()),
            )
            .with_label(format!("expected {what}"))
            .with_help(format!(
                "write {what} here; see docs/language.md for `{kw}`"
            )),
        );
    }

    /// Takes the next argument with `pick`, reporting a missing or wrong one.
    pub(super) fn take<T>(
        &mut self,
        a: &mut Args<'_>,
        what: &str,
        pick: impl Fn(&Value) -> Option<T>,
    ) -> Option<Spanned<T>> {
        let Some(v) = a.peek() else {
            self.missing(a, what);
            return None;
        };
        match pick(&v.value) {
            Some(x) => {
                a.next();
                Some(Spanned::new(x, v.span))
            }
            None => {
                let kw = a.d.name.value.clone();
                self.wrong(v, &kw, what);
                a.next();
                None
            }
        }
    }

    pub(super) fn word(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<String>> {
        self.take(a, what, |v| match v {
            Value::Word(w) => Some(w.clone()),
            _ => None,
        })
    }

    pub(super) fn one_of(
        &mut self,
        a: &mut Args<'_>,
        what: &str,
        allowed: &[&str],
    ) -> Option<Spanned<String>> {
        let w = self.word(a, what)?;
        if allowed.contains(&w.value.as_str()) {
            return Some(w);
        }
        let help = suggest(&w.value, allowed, || {
            format!("expected one of: {}", allowed.join(", "))
        });
        self.push(
            Diagnostic::error(
                codes::WRONG_ARGUMENT,
                w.span,
                format!("`{}` is not {what}", w.value),
            )
            .with_label(format!("expected {what}"))
            .with_help(help),
        );
        None
    }

    /// A number in `range`. Every number has one: what its place allows, or at least
    /// what the model stores it in, so that nothing wraps or overflows later.
    pub(super) fn number(
        &mut self,
        a: &mut Args<'_>,
        what: &str,
        range: RangeInclusive<u64>,
    ) -> Option<Spanned<u64>> {
        let n = self.take(a, what, |v| match v {
            Value::Number(n) => Some(*n),
            _ => None,
        })?;
        if !range.contains(&n.value) {
            self.out_of_range(&n, what, &range, |n| n.to_string());
            return None;
        }
        Some(n)
    }

    pub(super) fn out_of_range(
        &mut self,
        n: &Spanned<u64>,
        what: &str,
        range: &RangeInclusive<u64>,
        show: impl Fn(u64) -> String,
    ) {
        let (min, max) = (show(*range.start()), show(*range.end()));
        let label = if *range.start() == 0 {
            format!("must be at most {max}")
        } else {
            format!("must be from {min} to {max}")
        };
        self.push(
            Diagnostic::error(
                codes::OUT_OF_RANGE,
                n.span,
                format!("{} {} is out of range", bare(what), show(n.value)),
            )
            .with_label(label)
            .with_help(format!("{} goes from {min} to {max}", bare(what))),
        );
    }

    /// A duration (in milliseconds) in `range`.
    pub(super) fn duration(
        &mut self,
        a: &mut Args<'_>,
        what: &str,
        range: RangeInclusive<u64>,
    ) -> Option<Spanned<u64>> {
        if let Some(Spanned {
            value: Value::Number(n),
            span,
        }) = a.peek()
        {
            let kw = &a.d.name.value;
            self.push(
                Diagnostic::error(
                    codes::WRONG_ARGUMENT,
                    *span,
                    format!("`{kw}` expects {what} with a unit, found a bare number"),
                )
                .with_label("no unit")
                .with_help(format!(
                    "durations take a unit: ms, s, m, h or d (e.g. `{n}s`)"
                )),
            );
            a.next();
            return None;
        }
        let d = self.take(a, what, |v| match v {
            Value::Duration(n) => Some(*n),
            _ => None,
        })?;
        if !range.contains(&d.value) {
            self.out_of_range(&d, what, &range, human_duration);
            return None;
        }
        Some(d)
    }

    pub(super) fn string(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<String>> {
        self.take(a, what, |v| match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        })
    }

    /// A path: bare (`/var/www`) or quoted.
    pub(super) fn path(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<String>> {
        self.take(a, what, |v| match v {
            Value::Path(s) | Value::Str(s) => Some(s.clone()),
            _ => None,
        })
    }

    pub(super) fn addr(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<Endpoint>> {
        self.take(a, what, |v| match v {
            Value::Addr(e) => Some(e.clone()),
            _ => None,
        })
    }

    /// Reports arguments left over after the directive's grammar is done.
    pub(super) fn finish(&mut self, a: &Args<'_>) {
        if let Some(v) = a.peek() {
            let kw = &a.d.name.value;
            self.push(
                Diagnostic::error(
                    codes::UNEXPECTED_ARGUMENT,
                    v.span,
                    format!("unexpected argument to `{kw}`"),
                )
                .with_label("not expected here")
                .with_help(format!(
                    "remove it, or put it on a line of its own; see docs/language.md for `{kw}`"
                )),
            );
        }
    }

    /// Parses `keyword value` options after the positional arguments.
    pub(super) fn options(
        &mut self,
        a: &mut Args<'_>,
        allowed: &[&str],
        mut f: impl FnMut(&mut Self, &str, &mut Args<'_>, Span),
    ) {
        while let Some(v) = a.peek() {
            let kw = a.d.name.value.clone();
            match &v.value {
                Value::Word(w) if allowed.contains(&w.as_str()) => {
                    a.next();
                    f(self, w, a, v.span);
                }
                Value::Word(w) => {
                    let help = suggest(w, allowed, || match allowed {
                        [] => format!("`{kw}` takes no options"),
                        _ => format!("`{kw}` takes: {}", allowed.join(", ")),
                    });
                    self.push(
                        Diagnostic::error(
                            codes::UNKNOWN_KEYWORD,
                            v.span,
                            format!("unknown option `{w}` for `{kw}`"),
                        )
                        .with_label("unknown option")
                        .with_help(help),
                    );
                    return;
                }
                _ => {
                    self.finish(a);
                    return;
                }
            }
        }
    }

    pub(super) fn simple_number(
        &mut self,
        d: &Directive,
        what: &str,
        range: RangeInclusive<u64>,
    ) -> Option<Spanned<u64>> {
        let mut a = Args::new(d);
        let v = self.number(&mut a, what, range);
        self.finish(&a);
        self.no_block(d);
        v
    }

    pub(super) fn simple_word(&mut self, d: &Directive, what: &str) -> Option<Spanned<String>> {
        let mut a = Args::new(d);
        let v = self.word(&mut a, what);
        self.finish(&a);
        self.no_block(d);
        v
    }
}
