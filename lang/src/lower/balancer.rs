//! `balancer { }`: directors, the VRRP group and its authentication, BGP, gateways, sync
//! and sysctls.

use crate::ast::*;
use crate::cst::Directive;
use crate::keywords::{Block, Place, at};
use crate::span::Spanned;
use crate::value::Value;

use super::Lower;
use super::args::{Args, U32};

impl Lower<'_> {
    pub(super) fn balancer(&mut self, d: &Directive) -> Balancer {
        let mut out = Balancer {
            span: d.span,
            ..Balancer::default()
        };
        self.finish(&Args::new(d));
        let Some(block) = self.need_block(d, "balancer { director lb1 192.0.2.2/24 on eth0 }")
        else {
            return out;
        };
        for c in self.directives(block.directives(), Block::Balancer) {
            match c.name.value.as_str() {
                "vrrp" => out.vrrp.extend(self.vrrp(c)),
                "bgp" => out.bgp.push(self.bgp(c)),
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
                    self.options(&mut a, at(Place::OptionOf("sync")), |l, _, a, _| {
                        id = l.number(a, "a sync id", 0..=255)
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
                "dataplane" => {
                    let mut a = self.line(c);
                    let v = self.one_of(&mut a, "a data plane", at(Place::ValueOf("dataplane")));
                    self.finish(&a);
                    self.single_span(&mut out.dataplane, c, v);
                }
                "checker" => {
                    let mut a = self.line(c);
                    let v = self.one_of(&mut a, "a checker", at(Place::ValueOf("checker")));
                    self.finish(&a);
                    self.single_span(&mut out.checker, c, v);
                }
                _ => unreachable!("filtered by directives()"),
            }
        }
        out
    }

    pub(super) fn vrrp(&mut self, d: &Directive) -> Option<Vrrp> {
        let mut a = Args::new(d);
        let router_id = self.number(&mut a, "a virtual router id", U32);
        self.finish(&a);
        let mut out = Vrrp {
            router_id: router_id?,
            advert: None,
            auth: None,
            interface: None,
            nopreempt: None,
            span: d.span,
        };
        for c in self.directives(d.children(), Block::Vrrp) {
            match c.name.value.as_str() {
                "advert" => {
                    let mut a = Args::new(c);
                    let v = self.duration(&mut a, "an advert interval", 10..=255_000);
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
                _ => unreachable!("filtered by directives()"),
            }
        }
        Some(out)
    }

    pub(super) fn bgp(&mut self, d: &Directive) -> Bgp {
        self.finish(&Args::new(d));
        let mut out = Bgp {
            asn: None,
            neighbors: Vec::new(),
            hold: None,
            communities: Vec::new(),
            local_pref: None,
            span: d.span,
        };
        let example = "bgp { asn 65001; neighbor 192.0.2.1 asn 65000 }";
        let Some(block) = self.need_block(d, example) else {
            return out;
        };
        for c in self.directives(block.directives(), Block::Bgp) {
            let mut a = self.line(c);
            match c.name.value.as_str() {
                "asn" => {
                    let v = self.number(&mut a, "an AS number", 1..=u64::from(u32::MAX));
                    self.single_span(&mut out.asn, c, v);
                }
                "neighbor" => out.neighbors.extend(self.neighbor(c, &mut a)),
                "hold" => {
                    let v = self.duration(&mut a, "a hold time", 3_000..=65_535_000);
                    self.single_span(&mut out.hold, c, v);
                }
                "community" => out
                    .communities
                    .extend(self.word(&mut a, "a community, like 65001:100")),
                "local-pref" => {
                    let v = self.number(&mut a, "a local preference", U32);
                    self.single_span(&mut out.local_pref, c, v);
                }
                _ => unreachable!("filtered by directives()"),
            }
            self.finish(&a);
        }
        out
    }

    fn neighbor(&mut self, d: &Directive, a: &mut Args<'_>) -> Option<Neighbor> {
        let addr = self.addr(a, "the router's address")?;
        let mut out = Neighbor {
            addr,
            asn: None,
            password: None,
            bfd: None,
            span: d.span,
        };
        self.options(
            a,
            at(Place::OptionOf("neighbor")),
            |l, w, a, at_span| match w {
                "asn" => {
                    let v = l.number(a, "an AS number", 1..=u64::from(u32::MAX));
                    l.single_span(&mut out.asn, d, v);
                }
                "password" => {
                    let v = l
                        .secret(a, "password")
                        .map(|s| Spanned::new(s, at_span.join(a.last_span())));
                    l.single_span(&mut out.password, d, v);
                }
                _ => out.bfd = Some(at_span),
            },
        );
        Some(out)
    }

    /// `env NAME`, `file PATH` or a quoted secret (which the compiler refuses).
    fn secret(&mut self, a: &mut Args<'_>, kw: &str) -> Option<SecretSource> {
        let Some(v) = a.peek() else {
            self.missing(a, "`env NAME`, `file PATH` or a secret");
            return None;
        };
        let secret = match &v.value {
            Value::Word(w) if w == "env" => {
                a.next();
                SecretSource::Env(self.word(a, "an environment variable name")?)
            }
            Value::Word(w) if w == "file" => {
                a.next();
                SecretSource::File(self.path(a, "a file path")?)
            }
            Value::Str(s) => {
                a.next();
                SecretSource::Inline(Spanned::new(s.clone(), v.span))
            }
            _ => {
                self.wrong(v, kw, "`env NAME` or `file PATH`");
                return None;
            }
        };
        Some(secret)
    }

    pub(super) fn auth(&mut self, d: &Directive) -> Option<Auth> {
        let mut a = self.line(d);
        let kind = match a.peek_word() {
            Some("pass" | "ah") => self.word(&mut a, "an auth type"),
            _ => None,
        };
        let secret = self.secret(&mut a, "auth")?;
        self.finish(&a);
        Some(Auth {
            kind,
            secret,
            span: d.span,
        })
    }

    /// `ADDR/PREFIX [on IF]`.
    pub(super) fn interface_address(&mut self, a: &mut Args<'_>) -> Option<InterfaceAddress> {
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

    pub(super) fn director(&mut self, d: &Directive) -> Option<Director> {
        let mut a = Args::new(d);
        let name = self.word(&mut a, "a director name")?;
        let mut out = Director {
            name,
            addresses: Vec::new(),
            priority: None,
            state: None,
            dataplane: None,
            checker: None,
            router_id: None,
            manage: None,
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
        for c in self.directives(d.children(), Block::Director) {
            let mut a = self.line(c);
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

    pub(super) fn director_options(&mut self, a: &mut Args<'_>, d: &Directive, out: &mut Director) {
        self.options(a, at(Place::OptionOf("director")), |l, w, a, _| {
            l.director_option(w, a, d, out)
        });
    }

    pub(super) fn director_option(
        &mut self,
        word: &str,
        a: &mut Args<'_>,
        d: &Directive,
        out: &mut Director,
    ) {
        match word {
            "priority" => {
                let v = self.number(a, "a priority", U32);
                self.single_span(&mut out.priority, d, v);
            }
            "dataplane" => {
                let v = self.one_of(a, "a data plane", at(Place::ValueOf("dataplane")));
                self.single_span(&mut out.dataplane, d, v);
            }
            "checker" => {
                let v = self.one_of(a, "a checker", at(Place::ValueOf("checker")));
                self.single_span(&mut out.checker, d, v);
            }
            "router-id" => {
                let v = self.addr(a, "an IPv4 address, like 192.0.2.2");
                self.single_span(&mut out.router_id, d, v);
            }
            "manage" => {
                let v = self.addr(a, "the address rollout tools reach it at");
                self.single_span(&mut out.manage, d, v);
            }
            _ => {
                let v = self.one_of(a, "a VRRP state", at(Place::ValueOf("state")));
                self.single_span(&mut out.state, d, v);
            }
        }
    }
}
