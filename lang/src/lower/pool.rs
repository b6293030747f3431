//! `pool NAME { }` and its `real` lines.

use crate::ast::*;
use crate::cst::Directive;
use crate::keywords::{Block, Place, at};

use super::Lower;
use super::args::{Args, U32};

impl Lower<'_> {
    pub(super) fn pool(&mut self, d: &Directive) -> Option<Pool> {
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
        for c in self.directives(block.directives(), Block::Pool) {
            match c.name.value.as_str() {
                "port" => {
                    let mut a = Args::new(c);
                    let v = self.number(&mut a, "a port", 0..=65535);
                    self.finish(&a);
                    self.no_block(c);
                    self.single_span(&mut p.port, c, v);
                }
                "weight" => {
                    let v = self.simple_number(c, "a weight", U32);
                    self.single_span(&mut p.weight, c, v);
                }
                "check" => {
                    if let Some(v) = self.check(c) {
                        self.once(&mut p.check, c, Box::new(v), |x| x.span);
                    }
                }
                "real" => p.reals.extend(self.real(c)),
                _ => unreachable!("filtered by directives()"),
            }
        }
        Some(p)
    }

    pub(super) fn real(&mut self, d: &Directive) -> Option<Real> {
        let mut a = self.line(d);
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
            manage: None,
            span: d.span,
        };
        self.options(
            &mut a,
            at(Place::OptionOf("real")),
            |l, w, a, span| match w {
                "weight" => r.weight = l.number(a, "a weight", U32),
                "upper" => r.upper = l.number(a, "an upper connection threshold", U32),
                "lower" => r.lower = l.number(a, "a lower connection threshold", U32),
                "via" => r.via = l.addr(a, "a gateway address").map(Box::new),
                "manage" => {
                    r.manage = l
                        .addr(a, "the address rollout tools reach it at")
                        .map(Box::new)
                }
                _ => r.drain = Some(span),
            },
        );
        Some(r)
    }
}
