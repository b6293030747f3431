//! The load-balancer tier: directors, VRRP, secrets.

use lvsc_lang::ast::SecretSource;
use lvsc_lang::{Diagnostic, Span};

use crate::codes;
use crate::ctx::Ctx;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let f = ctx.file;
    let Some(b) = &f.balancer else {
        if let Some(s) = f.services.first() {
            out.push(no_director(s.name.span));
        }
        return;
    };
    if b.directors.is_empty() && !f.services.is_empty() {
        out.push(no_director(b.span));
    }
    for a in b
        .directors
        .iter()
        .flat_map(|d| &d.addresses)
        .chain(&b.gateways)
    {
        if a.addr.value.prefix.is_none()
            || a.addr.value.port.is_some()
            || a.addr.value.path.is_some()
        {
            out.push(
                Diagnostic::error(
                    codes::ADDRESS_PREFIX,
                    a.addr.span,
                    "an interface address needs a prefix length and nothing else",
                )
                .with_label("expected ADDR/PREFIX, like 192.0.2.2/24")
                .with_help("the prefix tells which reals share the director's segment"),
            );
        }
    }
    for extra in b.vrrp.iter().skip(1) {
        out.push(
            Diagnostic::error(
                codes::VRRP_ONE_GROUP,
                extra.router_id.span,
                "more than one `vrrp` group",
            )
            .with_label("second group")
            .with_related(b.vrrp[0].router_id.span, "first group")
            .with_help("one VRRP group moves all the VIPs together; keep one `vrrp`"),
        );
    }
    for v in &b.vrrp {
        if !(1..=255).contains(&v.router_id.value) {
            out.push(
                Diagnostic::error(
                    codes::VRRP_ROUTER_ID,
                    v.router_id.span,
                    format!("VRRP router id {} is out of range", v.router_id.value),
                )
                .with_label("must be 1..255")
                .with_help("pick a virtual router id from 1 to 255, unique on the segment"),
            );
        }
        let v6 = b
            .directors
            .first()
            .and_then(|d| d.addresses.first())
            .is_some_and(|a| a.addr.value.ip.is_ipv6());
        if let Some(auth) = v.auth.as_ref().filter(|_| v6) {
            out.push(
                Diagnostic::warning(codes::VRRP_IPV6_AUTH, auth.span, "VRRP between IPv6 directors has no authentication")
                    .with_label("ignored: VRRPv3 carries no secret")
                    .with_help("remove `auth`; protect the segment instead (VRRPv3, RFC 5798, dropped authentication)"),
            );
        }
        if let Some(auth) = &v.auth
            && let SecretSource::Inline(s) = &auth.secret
        {
            // Point at the secret but never repeat it.
            out.push(
                Diagnostic::error(codes::INLINE_SECRET, s.span, "the VRRP secret is written in the file")
                    .with_label("secret in plain text")
                    .with_help("read it at deploy time instead: `auth pass env VRRP_PASS` or `auth pass file \"/etc/lvsc/vrrp.secret\"`"),
            );
        }
    }
    for d in &b.directors {
        let dataplane = d.dataplane.as_ref().or(b.dataplane.as_ref());
        let checker = d.checker.as_ref().or(b.checker.as_ref());
        if let (Some(p), Some(c)) = (dataplane, checker)
            && p.value != "ipvs"
            && c.value == "keepalived"
        {
            out.push(
                Diagnostic::error(
                    codes::CHECKER,
                    c.span,
                    format!("keepalived cannot check the reals of the {} data plane", p.value),
                )
                .with_label("keepalived's checkers change IPVS only")
                .with_related(p.span, format!("{} named here", p.value))
                .with_help("use `checker lvsc` (the default there): `lvsc run` checks the reals and changes this data plane"),
            );
        }
    }
    let mut top: Option<(u64, Span)> = None;
    let mut masters = Vec::new();
    for d in &b.directors {
        if let Some(p) = &d.priority {
            if !(1..=254).contains(&p.value) {
                out.push(
                    Diagnostic::error(
                        codes::VRRP_PRIORITY,
                        p.span,
                        format!("VRRP priority {} is out of range", p.value),
                    )
                    .with_label("must be 1..254")
                    .with_help("255 is reserved for the address owner and 0 for a leaving master"),
                );
            }
            match top {
                Some((v, first)) if v == p.value && b.directors.len() > 1 => out.push(
                    Diagnostic::error(
                        codes::VRRP_SINGLE_MASTER,
                        p.span,
                        format!("two directors share the highest priority {v}"),
                    )
                    .with_label("same priority")
                    .with_related(first, "as this one")
                    .with_help(
                        "give exactly one director the highest priority, so one master is elected",
                    ),
                ),
                Some((v, _)) if v >= p.value => {}
                _ => top = Some((p.value, p.span)),
            }
        }
        if let Some(s) = d.state.as_ref().filter(|s| s.value == "master") {
            masters.push(s.span);
        }
    }
    if masters.len() > 1 {
        out.push(
            Diagnostic::error(
                codes::VRRP_SINGLE_MASTER,
                masters[1],
                "more than one director starts as master",
            )
            .with_label("second master")
            .with_related(masters[0], "first master")
            .with_help("one director is master; the others are `state backup`"),
        );
    }
}

fn no_director(span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::NO_DIRECTOR,
        span,
        "services are defined but no director carries them",
    )
    .with_label("nothing will answer on the VIPs")
    .with_help("add `balancer { director NAME ADDR/PREFIX on IF }`")
}
