//! What the file asks of the data planes that will run it: each feature a service uses
//! is looked up in the capability table for every data plane its directors run (or the
//! one `--backend` names); approximations are warnings, refusals errors, at the
//! directive.

use std::collections::BTreeSet;

use lvsc_lang::{Diagnostic, Protocol, Span};

use crate::capability::{self, Support};
use crate::codes;
use crate::ctx::Ctx;
use crate::ir::Dataplane;

/// The data planes the file's services will run on.
fn planes(ctx: &Ctx<'_>) -> BTreeSet<Dataplane> {
    if let Some(p) = ctx.backend {
        return [p].into();
    }
    let mut out = BTreeSet::new();
    if let Some(b) = &ctx.file.balancer {
        for d in &b.directors {
            let named = d.dataplane.as_ref().or(b.dataplane.as_ref());
            out.insert(match named.map(|p| p.value.as_str()) {
                Some("nftables") => Dataplane::Nftables,
                Some("xdp") => Dataplane::Xdp,
                _ => Dataplane::Ipvs,
            });
        }
    }
    out
}

fn plane_name(p: Dataplane) -> &'static str {
    match p {
        Dataplane::Ipvs => "IPVS",
        Dataplane::Nftables => "nftables",
        Dataplane::Xdp => "XDP",
    }
}

/// Every feature a service uses that the capability table lists, with its span.
fn features(ctx: &Ctx<'_>, s: &lvsc_lang::ast::Service) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    if let Some(sch) = ctx.scheduler(s) {
        out.push((format!("scheduler {}", sch.name.value), sch.name.span));
        out.extend(sch.flags.iter().map(|f| (f.value.clone(), f.span)));
    }
    if let Some(p) = ctx.persistence(s) {
        out.push(("persistence".into(), p.span));
        if let Some(m) = &p.netmask {
            out.push(("persistence netmask".into(), m.span));
        }
    }
    if let Some(span) = s.ops {
        out.push(("ops".into(), span));
    }
    if let Some(q) = &s.quorum {
        out.push(("quorum".into(), q.span));
    }
    if let Some(e) = &s.sorry {
        out.push(("sorry".into(), e.span));
    }
    let method = ctx.method(s);
    let at = ctx.forward(s).map_or(s.name.span, |f| f.method.span);
    out.push((format!("forward {method}"), at));
    if method == "tun" {
        let tunnel = ctx.forward(s).and_then(|f| f.tunnel.as_ref());
        let kind = tunnel.map_or("ipip", |t| t.value.as_str());
        out.push((format!("tun {kind}"), tunnel.map_or(at, |t| t.span)));
    }
    if let Some(m) = &s.fwmark {
        out.push(("fwmark".into(), m.span));
    }
    for v in &s.vips {
        if v.value.ip.is_ipv6() {
            out.push(("IPv6".into(), v.span));
        }
        if v.value.proto == Some(Protocol::Sctp) {
            out.push(("sctp".into(), v.span));
        }
    }
    for r in ctx.pool_of(s).into_iter().flat_map(|p| &p.reals) {
        out.extend(r.upper.as_ref().map(|u| ("upper".to_string(), u.span)));
        out.extend(r.lower.as_ref().map(|l| ("lower".to_string(), l.span)));
    }
    out
}

/// Reports each feature a data plane approximates or refuses, once per place and plane.
pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let planes = planes(ctx);
    let mut seen = BTreeSet::new();
    for s in &ctx.file.services {
        for (feature, span) in features(ctx, s) {
            let Some(cap) = capability::lookup(&feature) else {
                continue;
            };
            for &plane in &planes {
                if !seen.insert((feature.clone(), span.start(), plane as u8)) {
                    continue;
                }
                let name = plane_name(plane);
                match cap.on(plane) {
                    Support::Exact => {}
                    Support::Approximated(how) => out.push(
                        Diagnostic::warning(
                            codes::DATAPLANE_APPROXIMATED,
                            span,
                            format!("`{feature}` is approximated on the {name} data plane"),
                        )
                        .with_label(format!("approximated on {name}"))
                        .with_help(format!(
                            "on {name}: {how} (docs/backends.md lists what each data plane honours)"
                        )),
                    ),
                    Support::Refused(why) => out.push(
                        Diagnostic::error(
                            codes::DATAPLANE_REFUSED,
                            span,
                            format!("`{feature}` is not possible on the {name} data plane"),
                        )
                        .with_label(format!("{name} cannot do this"))
                        .with_help(why),
                    ),
                }
            }
        }
    }
}
