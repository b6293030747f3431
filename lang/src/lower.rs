//! Builds the typed syntax tree from the concrete one, checking each directive's shape.

use crate::ast::*;
use crate::codes;
use crate::cst::{self, Directive};
use crate::diagnostic::{Diagnostic, suggest};
use crate::span::{Span, Spanned};
use crate::value::{Endpoint, Value};

/// Top-level directives.
pub const TOP_LEVEL: &[&str] = &[
    "cluster", "defaults", "balancer", "pool", "service", "storage",
];
/// Directives of `defaults { }`.
pub const DEFAULTS: &[&str] = &["scheduler", "forward", "persistence", "check", "weight"];
/// Directives of `balancer { }`.
pub const BALANCER: &[&str] = &["vrrp", "director", "gateway", "sync", "sysctl"];
/// Directives of `vrrp ID { }`.
pub const VRRP: &[&str] = &["advert", "auth", "interface", "nopreempt"];
/// Directives of `director NAME { }`.
pub const DIRECTOR: &[&str] = &["address", "priority", "state"];
/// Directives of `service NAME { }`.
pub const SERVICE: &[&str] = &[
    "vip",
    "fwmark",
    "family",
    "forward",
    "scheduler",
    "persistence",
    "check",
    "sorry",
    "quorum",
    "pool",
    "route",
    "mtu",
    "ops",
    "table-size",
];
/// Directives of `pool NAME { }`.
pub const POOL: &[&str] = &["port", "weight", "check", "real"];
/// File system kinds that open a `storage NAME { }` block.
pub const STORAGE_KINDS: &[&str] = &[
    "nfs",
    "cifs",
    "gfs2",
    "ocfs2",
    "gpfs",
    "cephfs",
    "glusterfs",
    "coda",
    "database",
];
/// Other directives of `storage NAME { }`.
pub const STORAGE: &[&str] = &["server", "export-options", "mount"];
/// Forwarding methods.
pub const FORWARD_METHODS: &[&str] = &["nat", "dr", "tun"];
/// Tunnel encapsulations for `forward tun`.
pub const TUNNEL_TYPES: &[&str] = &["ipip", "gue", "gre"];
/// Health check kinds.
pub const CHECK_KINDS: &[&str] = &["tcp", "http", "https", "misc", "none"];

/// Lowers a concrete tree, reporting shape errors into `errors`.
pub fn lower(file: &cst::File, errors: &mut Vec<Diagnostic>) -> SourceFile {
    let mut l = Lower { errors };
    let mut out = SourceFile::default();
    for d in l.known(file.directives(), TOP_LEVEL, "at the top level") {
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
            _ => unreachable!("filtered by known()"),
        }
    }
    out
}

/// The file-system line of a storage block: kind, source, version, credentials.
type FsSource = (
    Spanned<String>,
    Spanned<Value>,
    Option<Spanned<String>>,
    Option<Spanned<String>>,
);

/// `what` without its article: "a port" → "port".
fn bare(what: &str) -> &str {
    what.strip_prefix("a ")
        .or_else(|| what.strip_prefix("an "))
        .unwrap_or(what)
}

struct Lower<'e> {
    errors: &'e mut Vec<Diagnostic>,
}

/// A cursor over a directive's arguments.
struct Args<'a> {
    d: &'a Directive,
    i: usize,
}

impl<'a> Args<'a> {
    fn new(d: &'a Directive) -> Self {
        Args { d, i: 0 }
    }

    fn peek(&self) -> Option<&'a Spanned<Value>> {
        self.d.args.get(self.i)
    }

    fn next(&mut self) -> Option<&'a Spanned<Value>> {
        let v = self.d.args.get(self.i);
        self.i += usize::from(v.is_some());
        v
    }

    /// The span of the last token consumed (or the keyword): where "missing X" points.
    fn last_span(&self) -> Span {
        if self.i == 0 {
            self.d.name.span
        } else {
            self.d.args[self.i - 1].span
        }
    }

    fn peek_word(&self) -> Option<&'a str> {
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
    fn push(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// Keeps the directives whose keyword is allowed here; reports the others.
    fn known<'a>(
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

    fn missing(&mut self, a: &Args<'_>, what: &str) {
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

    fn wrong(&mut self, v: &Spanned<Value>, kw: &str, what: &str) {
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
    fn take<T>(
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

    fn word(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<String>> {
        self.take(a, what, |v| match v {
            Value::Word(w) => Some(w.clone()),
            _ => None,
        })
    }

    fn one_of(
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

    fn number(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<u64>> {
        self.take(a, what, |v| match v {
            Value::Number(n) => Some(*n),
            _ => None,
        })
    }

    /// A number that must lie in `range` by its nature (ports, prefix lengths).
    fn bounded(&mut self, a: &mut Args<'_>, what: &str, max: u64) -> Option<Spanned<u64>> {
        let n = self.number(a, what)?;
        if n.value > max {
            self.push(
                Diagnostic::error(
                    codes::OUT_OF_RANGE,
                    n.span,
                    format!("{} {} is out of range", bare(what), n.value),
                )
                .with_label(format!("must be at most {max}"))
                .with_help(format!("{} goes from 0 to {max}", bare(what))),
            );
            return None;
        }
        Some(n)
    }

    fn duration(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<u64>> {
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
        self.take(a, what, |v| match v {
            Value::Duration(n) => Some(*n),
            _ => None,
        })
    }

    fn string(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<String>> {
        self.take(a, what, |v| match v {
            Value::Str(s) => Some(s.clone()),
            _ => None,
        })
    }

    /// A path: bare (`/var/www`) or quoted.
    fn path(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<String>> {
        self.take(a, what, |v| match v {
            Value::Path(s) | Value::Str(s) => Some(s.clone()),
            _ => None,
        })
    }

    fn addr(&mut self, a: &mut Args<'_>, what: &str) -> Option<Spanned<Endpoint>> {
        self.take(a, what, |v| match v {
            Value::Addr(e) => Some(e.clone()),
            _ => None,
        })
    }

    /// Reports arguments left over after the directive's grammar is done.
    fn finish(&mut self, a: &Args<'_>) {
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
    fn options(
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

    fn no_block(&mut self, d: &Directive) {
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

    fn need_block<'d>(&mut self, d: &'d Directive, example: &str) -> Option<&'d cst::Block> {
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
    fn once<T>(
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

    fn single_span<T>(
        &mut self,
        slot: &mut Option<Spanned<T>>,
        d: &Directive,
        value: Option<Spanned<T>>,
    ) {
        if let Some(v) = value {
            self.once(slot, d, v, |x| x.span);
        }
    }

    fn name_and_block<'d>(
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

    fn defaults(&mut self, d: &Directive) -> Defaults {
        let mut out = Defaults {
            span: d.span,
            ..Defaults::default()
        };
        let a = Args::new(d);
        self.finish(&a);
        let Some(block) = self.need_block(d, "defaults { scheduler wlc }") else {
            return out;
        };
        for c in self.known(block.directives(), DEFAULTS, "in `defaults`") {
            match c.name.value.as_str() {
                "scheduler" => {
                    let v = self.scheduler(c);
                    self.once(&mut out.scheduler, c, v, |x| x.span)
                }
                "forward" => {
                    if let Some(v) = self.forward(c) {
                        self.once(&mut out.forward, c, v, |x| x.span)
                    }
                }
                "persistence" => {
                    if let Some(v) = self.persistence(c) {
                        self.once(&mut out.persistence, c, v, |x| x.span)
                    }
                }
                "check" => {
                    if let Some(v) = self.check(c) {
                        self.once(&mut out.check, c, v, |x| x.span)
                    }
                }
                "weight" => {
                    let v = self.simple_number(c, "a weight");
                    self.single_span(&mut out.weight, c, v)
                }
                _ => unreachable!("filtered by known()"),
            }
        }
        out
    }

    fn simple_number(&mut self, d: &Directive, what: &str) -> Option<Spanned<u64>> {
        let mut a = Args::new(d);
        let v = self.number(&mut a, what);
        self.finish(&a);
        self.no_block(d);
        v
    }

    fn simple_word(&mut self, d: &Directive, what: &str) -> Option<Spanned<String>> {
        let mut a = Args::new(d);
        let v = self.word(&mut a, what);
        self.finish(&a);
        self.no_block(d);
        v
    }

    fn balancer(&mut self, d: &Directive) -> Balancer {
        let mut out = Balancer {
            span: d.span,
            ..Balancer::default()
        };
        self.finish(&Args::new(d));
        let Some(block) = self.need_block(d, "balancer { director lb1 192.0.2.2/24 on eth0 }")
        else {
            return out;
        };
        for c in self.known(block.directives(), BALANCER, "in `balancer`") {
            match c.name.value.as_str() {
                "vrrp" => out.vrrp.extend(self.vrrp(c)),
                "director" => out.directors.extend(self.director(c)),
                "gateway" => {
                    let mut a = Args::new(c);
                    out.gateways.extend(self.interface_address(&mut a));
                    self.finish(&a);
                    self.no_block(c);
                }
                "sync" => {
                    let mut a = Args::new(c);
                    let Some(interface) = self.word(&mut a, "an interface name") else {
                        continue;
                    };
                    let mut id = None;
                    self.options(&mut a, &["id"], |l, _, a, _| {
                        id = l.bounded(a, "a sync id", 255)
                    });
                    self.no_block(c);
                    let v = Sync {
                        interface,
                        id,
                        span: c.span,
                    };
                    self.once(&mut out.sync, c, v, |x| x.span);
                }
                "sysctl" => {
                    let mut a = Args::new(c);
                    let key = self.word(&mut a, "a sysctl key");
                    let value = self.take(&mut a, "a value", |v| match v {
                        Value::Word(s) | Value::Str(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    });
                    self.finish(&a);
                    self.no_block(c);
                    if let (Some(key), Some(value)) = (key, value) {
                        out.sysctls.push(Sysctl { key, value });
                    }
                }
                _ => unreachable!("filtered by known()"),
            }
        }
        out
    }

    fn vrrp(&mut self, d: &Directive) -> Option<Vrrp> {
        let mut a = Args::new(d);
        let router_id = self.number(&mut a, "a virtual router id");
        self.finish(&a);
        let mut out = Vrrp {
            router_id: router_id?,
            advert: None,
            auth: None,
            interface: None,
            nopreempt: None,
            span: d.span,
        };
        for c in self.known(d.children(), VRRP, "in `vrrp`") {
            match c.name.value.as_str() {
                "advert" => {
                    let mut a = Args::new(c);
                    let v = self.duration(&mut a, "an advert interval");
                    self.finish(&a);
                    self.no_block(c);
                    self.single_span(&mut out.advert, c, v);
                }
                "auth" => {
                    if let Some(v) = self.auth(c) {
                        self.once(&mut out.auth, c, v, |x| x.span);
                    }
                }
                "interface" => {
                    let v = self.simple_word(c, "an interface name");
                    self.single_span(&mut out.interface, c, v);
                }
                "nopreempt" => {
                    self.finish(&Args::new(c));
                    self.no_block(c);
                    out.nopreempt = Some(c.span);
                }
                _ => unreachable!("filtered by known()"),
            }
        }
        Some(out)
    }

    fn auth(&mut self, d: &Directive) -> Option<Auth> {
        let mut a = Args::new(d);
        self.no_block(d);
        let kind = match a.peek_word() {
            Some("pass" | "ah") => self.word(&mut a, "an auth type"),
            _ => None,
        };
        let Some(v) = a.peek() else {
            self.missing(&a, "`env NAME`, `file PATH` or a secret");
            return None;
        };
        let secret = match &v.value {
            Value::Word(w) if w == "env" => {
                a.next();
                SecretSource::Env(self.word(&mut a, "an environment variable name")?)
            }
            Value::Word(w) if w == "file" => {
                a.next();
                SecretSource::File(self.path(&mut a, "a file path")?)
            }
            Value::Str(s) => {
                a.next();
                SecretSource::Inline(Spanned::new(s.clone(), v.span))
            }
            _ => {
                self.wrong(v, "auth", "`env NAME` or `file PATH`");
                return None;
            }
        };
        self.finish(&a);
        Some(Auth {
            kind,
            secret,
            span: d.span,
        })
    }

    /// `ADDR/PREFIX [on IF]`.
    fn interface_address(&mut self, a: &mut Args<'_>) -> Option<InterfaceAddress> {
        let addr = self.addr(a, "an address with prefix, like 192.0.2.2/24")?;
        let mut interface = None;
        if a.peek_word() == Some("on") {
            a.next();
            interface = self.word(a, "an interface name");
        }
        let end = a.last_span();
        Some(InterfaceAddress {
            span: addr.span.join(end),
            addr,
            interface,
        })
    }

    fn director(&mut self, d: &Directive) -> Option<Director> {
        let mut a = Args::new(d);
        let name = self.word(&mut a, "a director name")?;
        let mut out = Director {
            name,
            addresses: Vec::new(),
            priority: None,
            state: None,
            span: d.span,
        };
        if matches!(
            a.peek(),
            Some(Spanned {
                value: Value::Addr(_),
                ..
            })
        ) {
            out.addresses.extend(self.interface_address(&mut a));
        }
        self.director_options(&mut a, d, &mut out);
        for c in self.known(d.children(), DIRECTOR, "in `director`") {
            let mut a = Args::new(c);
            self.no_block(c);
            match c.name.value.as_str() {
                "address" => {
                    out.addresses.extend(self.interface_address(&mut a));
                    self.finish(&a);
                }
                _ => {
                    // `priority N` and `state W` read the same inside the block as on the line.
                    let word = c.name.value.clone();
                    self.director_option(&word, &mut a, c, &mut out);
                    self.finish(&a);
                }
            }
        }
        Some(out)
    }

    fn director_options(&mut self, a: &mut Args<'_>, d: &Directive, out: &mut Director) {
        self.options(a, &["priority", "state"], |l, w, a, _| {
            l.director_option(w, a, d, out)
        });
    }

    fn director_option(&mut self, word: &str, a: &mut Args<'_>, d: &Directive, out: &mut Director) {
        match word {
            "priority" => {
                let v = self.number(a, "a priority");
                self.single_span(&mut out.priority, d, v);
            }
            _ => {
                let v = self.one_of(a, "a VRRP state", &["master", "backup"]);
                self.single_span(&mut out.state, d, v);
            }
        }
    }

    fn scheduler(&mut self, d: &Directive) -> Scheduler {
        let mut a = Args::new(d);
        self.no_block(d);
        let name = self
            .word(&mut a, "a scheduler name")
            .unwrap_or_else(|| Spanned::new(String::new(), d.name.span));
        let mut flags = Vec::new();
        while let Some(v) = a.peek() {
            match &v.value {
                Value::Word(w) => flags.push(Spanned::new(w.clone(), v.span)),
                _ => self.wrong(v, "scheduler", "a scheduler flag"),
            }
            a.next();
        }
        Scheduler {
            name,
            flags,
            span: d.span,
        }
    }

    fn forward(&mut self, d: &Directive) -> Option<Forward> {
        let mut a = Args::new(d);
        self.no_block(d);
        let method = self.one_of(&mut a, "a forwarding method", FORWARD_METHODS)?;
        let mut out = Forward {
            method,
            tunnel: None,
            port: None,
            csum: None,
            span: d.span,
        };
        if let Some(w) = a.peek_word().filter(|w| TUNNEL_TYPES.contains(w)) {
            let v = a.next().expect("peeked");
            out.tunnel = Some(Spanned::new(w.to_string(), v.span));
        }
        self.options(&mut a, &["port", "csum"], |l, w, a, span| match w {
            "port" => out.port = l.bounded(a, "a port", 65535),
            _ => out.csum = Some(span),
        });
        Some(out)
    }

    fn persistence(&mut self, d: &Directive) -> Option<Persistence> {
        let mut a = Args::new(d);
        self.no_block(d);
        let timeout = self.duration(&mut a, "a timeout");
        let mut netmask = None;
        self.options(&mut a, &["netmask"], |l, _, a, _| {
            netmask = l.take(a, "a netmask or prefix length", |v| match v {
                Value::Addr(_) | Value::Number(_) => Some(v.clone()),
                _ => None,
            })
        });
        Some(Persistence {
            timeout: timeout?,
            netmask,
            span: d.span,
        })
    }

    fn check(&mut self, d: &Directive) -> Option<Check> {
        let mut a = Args::new(d);
        self.no_block(d);
        let kind = self.one_of(&mut a, "a check kind", CHECK_KINDS)?;
        let target = match kind.value.as_str() {
            "http" | "https" => self.path(&mut a, "a URL path like \"/healthz\""),
            "misc" => self.string(&mut a, "a quoted command"),
            _ => None,
        };
        let mut out = Check {
            kind,
            target,
            expect: None,
            port: None,
            every: None,
            timeout: None,
            retry: None,
            span: d.span,
        };
        let allowed: &[&str] = match out.kind.value.as_str() {
            "http" | "https" => &["expect", "port", "every", "timeout", "retry"],
            "tcp" => &["port", "every", "timeout", "retry"],
            "misc" => &["every", "timeout", "retry"],
            _ => &[],
        };
        self.options(&mut a, allowed, |l, w, a, _| match w {
            "expect" => out.expect = l.bounded(a, "an HTTP status", 599),
            "port" => out.port = l.bounded(a, "a port", 65535),
            "every" => out.every = l.duration(a, "an interval"),
            "timeout" => out.timeout = l.duration(a, "a timeout"),
            _ => out.retry = l.number(a, "a retry count"),
        });
        Some(out)
    }

    fn service(&mut self, d: &Directive) -> Option<Service> {
        let (name, block) = self.name_and_block(
            d,
            "a service name",
            "service www { vip 192.0.2.100:80/tcp }",
        )?;
        let mut s = Service {
            name,
            vips: Vec::new(),
            fwmark: None,
            family: None,
            forward: None,
            scheduler: None,
            persistence: None,
            check: None,
            sorry: None,
            quorum: None,
            pool: None,
            routes: Vec::new(),
            mtu: None,
            ops: None,
            table_size: None,
            span: d.span,
        };
        for c in self.known(block.directives(), SERVICE, "in `service`") {
            let mut a = Args::new(c);
            match c.name.value.as_str() {
                "vip" => s
                    .vips
                    .extend(self.addr(&mut a, "an address like 192.0.2.100:80/tcp")),
                "fwmark" => {
                    let v = self.number(&mut a, "a firewall mark");
                    self.single_span(&mut s.fwmark, c, v);
                }
                "family" => {
                    let v = self.one_of(&mut a, "an address family", &["inet", "inet6"]);
                    self.single_span(&mut s.family, c, v);
                }
                "forward" => {
                    if let Some(v) = self.forward(c) {
                        self.once(&mut s.forward, c, v, |x| x.span);
                    }
                    continue;
                }
                "scheduler" => {
                    let v = self.scheduler(c);
                    self.once(&mut s.scheduler, c, v, |x| x.span);
                    continue;
                }
                "persistence" => {
                    if let Some(v) = self.persistence(c) {
                        self.once(&mut s.persistence, c, v, |x| x.span);
                    }
                    continue;
                }
                "check" => {
                    if let Some(v) = self.check(c) {
                        self.once(&mut s.check, c, v, |x| x.span);
                    }
                    continue;
                }
                "sorry" => {
                    let v = self.addr(&mut a, "a sorry-server address");
                    self.single_span(&mut s.sorry, c, v);
                }
                "quorum" => {
                    let value = self.number(&mut a, "a quorum weight");
                    let mut hysteresis = None;
                    self.options(&mut a, &["hysteresis"], |l, _, a, _| {
                        hysteresis = l.number(a, "a hysteresis")
                    });
                    if let Some(value) = value {
                        let q = Quorum {
                            value,
                            hysteresis,
                            span: c.span,
                        };
                        self.once(&mut s.quorum, c, q, |x| x.span);
                    }
                }
                "pool" => {
                    let v = self.word(&mut a, "a pool name");
                    self.single_span(&mut s.pool, c, v);
                }
                "route" => {
                    if let Some(pattern) = self.string(&mut a, "a quoted request pattern") {
                        let mut pool = None;
                        self.options(&mut a, &["pool"], |l, _, a, _| {
                            pool = l.word(a, "a pool name")
                        });
                        s.routes.push(Route {
                            pattern,
                            pool,
                            span: c.span,
                        });
                    }
                }
                "mtu" => {
                    let v = self.bounded(&mut a, "an MTU", 65535);
                    self.single_span(&mut s.mtu, c, v);
                }
                "ops" => s.ops = Some(c.span),
                "table-size" => {
                    let v = self.number(&mut a, "a table size");
                    self.single_span(&mut s.table_size, c, v);
                }
                _ => unreachable!("filtered by known()"),
            }
            self.finish(&a);
            self.no_block(c);
        }
        if s.vips.is_empty() && s.fwmark.is_none() {
            self.push(
                Diagnostic::error(
                    codes::MISSING_DIRECTIVE,
                    s.name.span,
                    format!("service `{}` has no `vip` or `fwmark`", s.name.value),
                )
                .with_label("clients cannot reach this service")
                .with_help(
                    "add `vip 192.0.2.100:80/tcp`, or `fwmark N` for a firewall-mark service",
                ),
            );
        }
        if s.vips.len() > 1 && s.fwmark.is_none() {
            self.push(
                Diagnostic::error(codes::CONFLICT, s.vips[1].span, format!("service `{}` has several VIPs but no `fwmark`", s.name.value))
                    .with_label("second VIP")
                    .with_related(s.vips[0].span, "first VIP")
                    .with_help("group several VIPs into one service with `fwmark N`, or write one service per VIP"),
            );
        }
        Some(s)
    }

    fn pool(&mut self, d: &Directive) -> Option<Pool> {
        let (name, block) =
            self.name_and_block(d, "a pool name", "pool web { real rs1 192.0.2.21 }")?;
        let mut p = Pool {
            name,
            port: None,
            weight: None,
            check: None,
            reals: Vec::new(),
            span: d.span,
        };
        for c in self.known(block.directives(), POOL, "in `pool`") {
            match c.name.value.as_str() {
                "port" => {
                    let mut a = Args::new(c);
                    let v = self.bounded(&mut a, "a port", 65535);
                    self.finish(&a);
                    self.no_block(c);
                    self.single_span(&mut p.port, c, v);
                }
                "weight" => {
                    let v = self.simple_number(c, "a weight");
                    self.single_span(&mut p.weight, c, v);
                }
                "check" => {
                    if let Some(v) = self.check(c) {
                        self.once(&mut p.check, c, v, |x| x.span);
                    }
                }
                "real" => p.reals.extend(self.real(c)),
                _ => unreachable!("filtered by known()"),
            }
        }
        Some(p)
    }

    fn real(&mut self, d: &Directive) -> Option<Real> {
        let mut a = Args::new(d);
        self.no_block(d);
        let name = self.word(&mut a, "a real server name");
        let addr = self.addr(&mut a, "an address like 192.0.2.21 or 10.0.0.21:8080");
        let (name, addr) = (name?, addr?);
        let mut r = Real {
            name,
            addr,
            weight: None,
            upper: None,
            lower: None,
            via: None,
            drain: None,
            span: d.span,
        };
        self.options(
            &mut a,
            &["weight", "upper", "lower", "via", "drain"],
            |l, w, a, span| match w {
                "weight" => r.weight = l.number(a, "a weight"),
                "upper" => r.upper = l.number(a, "an upper connection threshold"),
                "lower" => r.lower = l.number(a, "a lower connection threshold"),
                "via" => r.via = l.addr(a, "a gateway address"),
                _ => r.drain = Some(span),
            },
        );
        Some(r)
    }

    fn storage(&mut self, d: &Directive) -> Option<Storage> {
        let (name, block) = self.name_and_block(
            d,
            "a storage name",
            "storage data { nfs 192.0.2.50:/export }",
        )?;
        let mut allowed: Vec<&str> = STORAGE_KINDS.to_vec();
        allowed.extend_from_slice(STORAGE);
        let mut kind: Option<FsSource> = None;
        let mut server = None;
        let mut export_options = None;
        let mut mounts = Vec::new();
        for c in self.known(block.directives(), &allowed, "in `storage`") {
            let mut a = Args::new(c);
            self.no_block(c);
            match c.name.value.as_str() {
                "server" => {
                    let v = self.word(&mut a, "the storage server's host name");
                    self.single_span(&mut server, c, v);
                }
                "export-options" => {
                    let v = self.string(&mut a, "quoted exports(5) options");
                    self.single_span(&mut export_options, c, v);
                }
                "mount" => {
                    let path = self.path(&mut a, "a mount point");
                    let pool = match a.peek_word() {
                        Some("on") => {
                            a.next();
                            match a.peek_word() {
                                Some("pool") => {
                                    a.next();
                                    self.word(&mut a, "a pool name")
                                }
                                _ => {
                                    self.missing(&a, "`pool NAME`");
                                    None
                                }
                            }
                        }
                        _ => {
                            self.missing(&a, "`on pool NAME`");
                            None
                        }
                    };
                    let mut options = None;
                    self.options(&mut a, &["options"], |l, _, a, _| {
                        options = l.string(a, "quoted mount options")
                    });
                    if let (Some(path), Some(pool)) = (path, pool) {
                        mounts.push(Mount {
                            path,
                            pool,
                            options,
                            span: c.span,
                        });
                    }
                    continue;
                }
                _ => {
                    let source = self.take(
                        &mut a,
                        "what is shared (ADDR:/path, //server/share or a device)",
                        |v| match v {
                            Value::Invalid => None,
                            v => Some(v.clone()),
                        },
                    );
                    let mut version = None;
                    let mut credentials = None;
                    self.options(&mut a, &["version", "credentials"], |l, w, a, _| match w {
                        "version" => {
                            version = l.take(a, "a protocol version", |v| match v {
                                Value::Number(n) => Some(n.to_string()),
                                Value::Word(s) | Value::Str(s) => Some(s.clone()),
                                Value::Addr(e) => Some(e.ip.to_string()),
                                _ => None,
                            })
                        }
                        _ => {
                            if a.peek_word() == Some("file") {
                                a.next();
                            }
                            credentials = l.path(a, "a credentials file path");
                        }
                    });
                    if let Some(source) = source {
                        let k = (c.name.clone(), source, version, credentials);
                        self.once(&mut kind, c, k, |x| x.0.span);
                    }
                    continue;
                }
            }
            self.finish(&a);
        }
        let Some((kind, source, version, credentials)) = kind else {
            self.push(
                Diagnostic::error(
                    codes::MISSING_DIRECTIVE,
                    name.span,
                    format!("storage `{}` does not say what it shares", name.value),
                )
                .with_label("no file system given")
                .with_help(format!("add one of: {}", STORAGE_KINDS.join(", "))),
            );
            return None;
        };
        Some(Storage {
            name,
            kind,
            source,
            version,
            credentials,
            server,
            export_options,
            mounts,
            span: d.span,
        })
    }
}
