//! Virtual services: VIP form and uniqueness, families, schedulers, persistence,
//! content routing.

use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;

use lvsc_lang::diagnostic::suggest;
use lvsc_lang::{Diagnostic, Span, Value};

use crate::codes;
use crate::ctx::{Ctx, SCHEDULERS};

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let mut keys: HashMap<String, Span> = HashMap::default();
    let mut taken: HashMap<IpAddr, (Span, &str)> = HashMap::default();
    for a in ctx.director_addresses() {
        taken.insert(a.addr.value.ip, (a.addr.span, "a director's address"));
    }
    for r in ctx.file.pools.iter().flat_map(|p| &p.reals) {
        taken
            .entry(r.addr.value.ip)
            .or_insert((r.addr.span, "a real server's address"));
    }
    for s in &ctx.file.services {
        for v in &s.vips {
            let e = &v.value;
            let bad_form =
                e.prefix.is_some() || e.path.is_some() || (s.fwmark.is_none() && e.port.is_none());
            if bad_form {
                out.push(
                    Diagnostic::error(codes::VIP_FORM, v.span, "a VIP is ADDR:PORT/PROTO")
                        .with_label("expected e.g. 192.0.2.100:80/tcp")
                        .with_help("IPVS identifies a service by address, port and protocol (or by firewall mark)"),
                );
            }
            if let Some((span, what)) = taken.get(&e.ip) {
                out.push(
                    Diagnostic::error(
                        codes::VIP_CONFLICT,
                        v.span,
                        format!("VIP {} is also {what}", e.ip),
                    )
                    .with_label("VIP")
                    .with_related(*span, "same address")
                    .with_help(
                        "a VIP must be an address of its own, held by whichever director is master",
                    ),
                );
            }
            if s.fwmark.is_none() {
                let key = format!(
                    "{}:{}/{}",
                    e.ip,
                    e.port.unwrap_or(0),
                    e.proto.map_or("tcp", |p| p.as_str())
                );
                duplicate_key(out, &mut keys, key, v.span);
            }
        }
        if let Some(m) = &s.fwmark {
            let v6 = s
                .family
                .as_ref()
                .map(|f| f.value == "inet6")
                .or_else(|| s.vips.first().map(|v| v.value.ip.is_ipv6()));
            duplicate_key(
                out,
                &mut keys,
                format!(
                    "fwmark {} {}",
                    m.value,
                    if v6 == Some(true) { "inet6" } else { "inet" }
                ),
                m.span,
            );
        }
        family(ctx, s, out);
        table_size(s, out);
        scheduler(ctx, s, out);
        persistence(ctx, s, out);
        for r in &s.routes {
            out.push(
                Diagnostic::error(codes::CONTENT_ROUTING, r.span, "IPVS cannot route by request content")
                    .with_label("content-based routing")
                    .with_help(
                        "IPVS balances at layer 4 and never sees URLs; KTCPVS, which could, is not in mainline kernels. \
                         Put an L7 proxy (HAProxy, nginx or Envoy) behind this service and route there",
                    ),
            );
        }
    }
}

fn duplicate_key(
    out: &mut Vec<Diagnostic>,
    keys: &mut HashMap<String, Span>,
    key: String,
    span: Span,
) {
    if let Some(first) = keys.get(&key) {
        out.push(
            Diagnostic::error(codes::DUPLICATE_VIP, span, format!("{key} is used by two services"))
                .with_label("second use")
                .with_related(*first, "first use")
                .with_help("each VIP:port/proto (or firewall mark) is one IPVS service; merge the two or change one"),
        );
    } else {
        keys.insert(key, span);
    }
}

fn family(ctx: &Ctx<'_>, s: &lvsc_lang::ast::Service, out: &mut Vec<Diagnostic>) {
    let Some(first) = s.vips.first() else { return };
    let v6 = first.value.ip.is_ipv6();
    let mut mixed = |span: Span, what: &str| {
        out.push(
            Diagnostic::error(
                codes::MIXED_FAMILY,
                span,
                format!(
                    "{what} is IPv{} but the service is IPv{}",
                    if v6 { 4 } else { 6 },
                    if v6 { 6 } else { 4 }
                ),
            )
            .with_label("other address family")
            .with_related(first.span, "the service's family comes from its VIP")
            .with_help(
                "IPVS forwards within one family; make a separate service for the other family",
            ),
        );
    };
    for v in &s.vips[1..] {
        if v.value.ip.is_ipv6() != v6 {
            mixed(v.span, "this VIP");
        }
    }
    if let Some(p) = ctx.pool_of(s) {
        for r in &p.reals {
            if r.addr.value.ip.is_ipv6() != v6 {
                mixed(r.addr.span, &format!("real `{}`", r.name.value));
            }
        }
    }
    if let Some(sorry) = s.sorry.as_ref().filter(|x| x.value.ip.is_ipv6() != v6) {
        mixed(sorry.span, "the sorry server");
    }
}

fn scheduler(ctx: &Ctx<'_>, s: &lvsc_lang::ast::Service, out: &mut Vec<Diagnostic>) {
    let Some(sch) = ctx.scheduler(s) else { return };
    let Some((_, flags)) = SCHEDULERS.iter().find(|(n, _)| *n == sch.name.value) else {
        let d = Diagnostic::error(
            codes::UNKNOWN_SCHEDULER,
            sch.name.span,
            format!("IPVS has no scheduler `{}`", sch.name.value),
        )
        .with_label("unknown scheduler");
        let names: Vec<&str> = SCHEDULERS.iter().map(|(n, _)| *n).collect();
        out.push(d.with_help(suggest(&sch.name.value, &names, || {
            format!("schedulers: {}", names.join(", "))
        })));
        return;
    };
    for f in &sch.flags {
        if !flags.contains(&f.value.as_str()) {
            let takers: Vec<&str> = SCHEDULERS
                .iter()
                .filter(|(_, fl)| fl.contains(&f.value.as_str()))
                .map(|(n, _)| *n)
                .collect();
            let help = match takers.first() {
                Some(t) => format!(
                    "`{}` belongs to the `{t}` scheduler; remove it or use `scheduler {t} {}`",
                    f.value, f.value
                ),
                None if flags.is_empty() => format!("`{}` takes no flags", sch.name.value),
                None => format!("`{}` takes: {}", sch.name.value, flags.join(", ")),
            };
            out.push(
                Diagnostic::error(
                    codes::SCHEDULER_FLAG,
                    f.span,
                    format!(
                        "`{}` is not a flag of the `{}` scheduler",
                        f.value, sch.name.value
                    ),
                )
                .with_label("flag not taken here")
                .with_help(help),
            );
        }
    }
}

fn persistence(ctx: &Ctx<'_>, s: &lvsc_lang::ast::Service, out: &mut Vec<Diagnostic>) {
    let Some(p) = ctx.persistence(s) else { return };
    let Some(mask) = &p.netmask else { return };
    let v6 = s
        .vips
        .first()
        .map(|v| v.value.ip.is_ipv6())
        .unwrap_or(s.family.as_ref().is_some_and(|f| f.value == "inet6"));
    let width = if v6 { 128 } else { 32 };
    let problem = match &mask.value {
        Value::Number(n) if *n > width => Some(format!("prefix length {n} is longer than {width}")),
        Value::Addr(e) if e.port.is_some() || e.prefix.is_some() || e.path.is_some() => {
            Some("a netmask is a bare mask".into())
        }
        Value::Addr(e) if e.ip.is_ipv6() != v6 => Some(format!(
            "an IPv{} mask on an IPv{} service",
            if v6 { 4 } else { 6 },
            if v6 { 6 } else { 4 }
        )),
        Value::Addr(e) if crate::net::mask_prefix(e.ip).is_none() => {
            Some(format!("{} is not a contiguous mask", e.ip))
        }
        _ => None,
    };
    if let Some(problem) = problem {
        out.push(
            Diagnostic::error(
                codes::PERSISTENCE_NETMASK,
                mask.span,
                format!("invalid persistence netmask: {problem}"),
            )
            .with_label("invalid netmask")
            .with_help(if v6 {
                "for IPv6 give a prefix length from 0 to 128, e.g. `netmask 64`"
            } else {
                "for IPv4 give a mask like 255.255.255.0 or a prefix length up to 32"
            }),
        );
    }
}

fn table_size(s: &lvsc_lang::ast::Service, out: &mut Vec<Diagnostic>) {
    let Some(t) = &s.table_size else { return };
    // The lowering bounded it to 32 bits and below.
    if !crate::is_prime(t.value as u32) {
        let next = (t.value as u32..)
            .find(|n| crate::is_prime(*n))
            .unwrap_or(65537);
        out.push(
            Diagnostic::error(
                codes::TABLE_SIZE,
                t.span,
                format!("Maglev table size {} is not prime", t.value),
            )
            .with_label("not prime")
            .with_help(if next == crate::DEFAULT_TABLE_SIZE {
                format!("a prime size lets every real's permutation reach every slot; use {next}, the default")
            } else {
                format!(
                    "a prime size lets every real's permutation reach every slot; use {next} (or \
                     {}, the default)",
                    crate::DEFAULT_TABLE_SIZE
                )
            }),
        );
    }
}
