//! `service NAME { }` and `defaults { }`, which share scheduler, forwarding, persistence
//! and check.

use std::ops::RangeInclusive;

use crate::ast::*;
use crate::codes;
use crate::cst::Directive;
use crate::diagnostic::Diagnostic;
use crate::keywords::{Block, Place, at};
use crate::span::Spanned;
use crate::value::Value;

use super::Lower;
use super::args::{Args, U32};

/// Maglev table sizes: primes up to about a million slots (4 MiB per service in the
/// XDP program's maps); the compiler checks that the size is prime.
const MAGLEV_TABLE_SIZES: RangeInclusive<u64> = 7..=1_048_573;

/// Persistence timeouts, in milliseconds: a second to 30 days (the kernel counts the
/// timeout in jiffies in 32 bits, which overflows a little beyond 49 days).
const PERSISTENCE_TIMEOUTS: RangeInclusive<u64> = 1_000..=2_592_000_000;

impl Lower<'_> {
    pub(super) fn defaults(&mut self, d: &Directive) -> Defaults {
        let mut out = Defaults {
            span: d.span,
            ..Defaults::default()
        };
        let a = Args::new(d);
        self.finish(&a);
        let Some(block) = self.need_block(d, "defaults { scheduler wlc }") else {
            return out;
        };
        for c in self.directives(block.directives(), Block::Defaults) {
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
                        self.once(&mut out.check, c, Box::new(v), |x| x.span)
                    }
                }
                "weight" => {
                    let v = self.simple_number(c, "a weight", U32);
                    self.single_span(&mut out.weight, c, v)
                }
                _ => unreachable!("filtered by directives()"),
            }
        }
        out
    }

    pub(super) fn service(&mut self, d: &Directive) -> Option<Service> {
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
            announce: None,
            span: d.span,
        };
        let mut marked = false;
        for c in self.directives(block.directives(), Block::Service) {
            let mut a = Args::new(c);
            match c.name.value.as_str() {
                "vip" => s
                    .vips
                    .extend(self.addr(&mut a, "an address like 192.0.2.100:80/tcp")),
                "fwmark" => {
                    marked = true;
                    let v = self.number(&mut a, "a firewall mark", 1..=u32::MAX as u64);
                    self.single_span(&mut s.fwmark, c, v);
                }
                "family" => {
                    let v = self.one_of(&mut a, "an address family", at(Place::ValueOf("family")));
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
                        self.once(&mut s.check, c, Box::new(v), |x| x.span);
                    }
                    continue;
                }
                "sorry" => {
                    let v = self.addr(&mut a, "a sorry-server address");
                    self.single_span(&mut s.sorry, c, v);
                }
                "quorum" => {
                    let value = self.number(&mut a, "a quorum weight", 1..=u32::MAX as u64);
                    let mut hysteresis = None;
                    self.options(&mut a, at(Place::OptionOf("quorum")), |l, _, a, _| {
                        hysteresis = l.number(a, "a hysteresis", U32)
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
                        self.options(&mut a, at(Place::OptionOf("route")), |l, _, a, _| {
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
                    let v = self.number(&mut a, "an MTU", 68..=65535);
                    self.single_span(&mut s.mtu, c, v);
                }
                "ops" => s.ops = Some(c.span),
                "table-size" => {
                    let v = self.number(&mut a, "a table size", MAGLEV_TABLE_SIZES);
                    self.single_span(&mut s.table_size, c, v);
                }
                "announce" => {
                    let v = self.one_of(&mut a, "an announcer", at(Place::ValueOf("announce")));
                    self.single_span(&mut s.announce, c, v);
                }
                _ => unreachable!("filtered by directives()"),
            }
            self.finish(&a);
            self.no_block(c);
        }
        // A mark that was written but refused has had its diagnostic already.
        if s.vips.is_empty() && !marked {
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

    pub(super) fn scheduler(&mut self, d: &Directive) -> Scheduler {
        let mut a = self.line(d);
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

    pub(super) fn forward(&mut self, d: &Directive) -> Option<Forward> {
        let mut a = self.line(d);
        let method = self.one_of(&mut a, "a forwarding method", at(Place::ValueOf("forward")))?;
        let mut out = Forward {
            method,
            tunnel: None,
            port: None,
            csum: None,
            span: d.span,
        };
        if let Some(w) = a
            .peek_word()
            .filter(|w| at(Place::ValueOf("tun")).contains(w))
        {
            let v = a.next().expect("peeked");
            out.tunnel = Some(Spanned::new(w.to_string(), v.span));
        }
        self.options(
            &mut a,
            at(Place::OptionOf("forward")),
            |l, w, a, span| match w {
                "port" => out.port = l.number(a, "a port", 1..=65535),
                _ => out.csum = Some(span),
            },
        );
        Some(out)
    }

    pub(super) fn persistence(&mut self, d: &Directive) -> Option<Persistence> {
        let mut a = self.line(d);
        let timeout = self.duration(&mut a, "a timeout", PERSISTENCE_TIMEOUTS);
        let mut netmask = None;
        self.options(&mut a, at(Place::OptionOf("persistence")), |l, _, a, _| {
            netmask = l.take(a, "a netmask or prefix length", |v| match v {
                Value::Addr(_) | Value::Number(_) => Some(v.clone()),
                _ => None,
            });
            if let Some(Spanned {
                value: Value::Number(n),
                span,
            }) = netmask
                && n > 255
            {
                // What the model keeps it in; the compiler checks it against the family.
                let n = Spanned::new(n, span);
                l.out_of_range(&n, "a prefix length", &(0..=255), |n| n.to_string());
                netmask = None;
            }
        });
        Some(Persistence {
            timeout: timeout?,
            netmask,
            span: d.span,
        })
    }

    pub(super) fn check(&mut self, d: &Directive) -> Option<Check> {
        let mut a = self.line(d);
        let kind = self.one_of(&mut a, "a check kind", at(Place::ValueOf("check")))?;
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
            "http" | "https" => at(Place::OptionOf("http")),
            "tcp" => at(Place::OptionOf("tcp")),
            "misc" => at(Place::OptionOf("misc")),
            _ => &[],
        };
        self.options(&mut a, allowed, |l, w, a, _| match w {
            "expect" => out.expect = l.number(a, "an HTTP status", 100..=599),
            "port" => out.port = l.number(a, "a port", 1..=65535),
            "every" => out.every = l.duration(a, "an interval", 100..=86_400_000),
            "timeout" => out.timeout = l.duration(a, "a timeout", 100..=3_600_000),
            _ => out.retry = l.number(a, "a retry count", 1..=100),
        });
        Some(out)
    }
}
