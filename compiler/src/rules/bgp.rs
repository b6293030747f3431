//! Active-active directors behind BGP ECMP: the sessions, the router ids, and which
//! services can be announced by every director at once.

use std::collections::HashMap;
use std::net::IpAddr;

use lvsc_lang::ast::SecretSource;
use lvsc_lang::{Diagnostic, Span};

use crate::codes;
use crate::ctx::Ctx;
use crate::ir::Announce;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let Some(b) = &ctx.file.balancer else {
        return;
    };
    for s in &ctx.file.services {
        if let Some(a) = s.announce.as_ref().filter(|a| a.value == "bgp")
            && b.bgp.is_empty()
        {
            out.push(
                Diagnostic::error(codes::BGP_ANNOUNCE, a.span, "`announce bgp` without a `bgp` block")
                    .with_label("nobody announces this VIP")
                    .with_help("add `bgp { asn N; neighbor ROUTER asn N }` to `balancer`, or remove `announce bgp`"),
            );
        }
        if s.announce.is_none() && !b.bgp.is_empty() && !b.vrrp.is_empty() {
            out.push(
                Diagnostic::error(codes::BGP_ANNOUNCE, s.name.span, "this service does not say whether VRRP or BGP brings its VIPs")
                    .with_label("the balancer has both")
                    .with_help("add `announce vrrp` (the master holds the VIPs) or `announce bgp` (every director announces them)"),
            );
        }
    }
    let Some(g) = b.bgp.first() else {
        return;
    };
    for extra in b.bgp.iter().skip(1) {
        out.push(
            Diagnostic::error(
                codes::BGP_ONE_BLOCK,
                extra.span,
                "more than one `bgp` block",
            )
            .with_label("second block")
            .with_related(g.span, "first block")
            .with_help("the directors share one BGP setup; put every neighbour in one `bgp` block"),
        );
    }
    if g.asn.is_none() {
        out.push(
            Diagnostic::error(
                codes::BGP_ASN,
                g.span,
                "`bgp` without the directors' AS number",
            )
            .with_label("no `asn`")
            .with_help("add `asn N` (a private AS is 64512 to 65534 or 4200000000 to 4294967294)"),
        );
    }
    if g.neighbors.is_empty() {
        out.push(
            Diagnostic::error(codes::BGP_NO_NEIGHBOR, g.span, "`bgp` without a neighbour")
                .with_label("nobody hears the announcements")
                .with_help("add `neighbor ROUTER-ADDRESS asn N` for each router"),
        );
    }
    for n in &g.neighbors {
        if n.asn.is_none() {
            out.push(
                Diagnostic::error(
                    codes::BGP_ASN,
                    n.addr.span,
                    "a neighbour without its AS number",
                )
                .with_label("no `asn`")
                .with_help(
                    "write `neighbor ADDR asn N`: the router's AS (the directors' own for iBGP)",
                ),
            );
        }
        let e = &n.addr.value;
        if e.prefix.is_some() || e.port.is_some() || e.path.is_some() {
            out.push(
                Diagnostic::error(
                    codes::BGP_ASN,
                    n.addr.span,
                    "a neighbour is a plain address",
                )
                .with_label("no prefix, port or path here")
                .with_help("write the router's address alone, like `neighbor 192.0.2.1 asn 65000`"),
            );
        }
        if let Some(p) = &n.password
            && let SecretSource::Inline(s) = &p.value
        {
            out.push(
                Diagnostic::error(codes::INLINE_SECRET, s.span, "the BGP password is written in the file")
                    .with_label("secret in plain text")
                    .with_help("read it at deploy time instead: `password env BGP_PASS` or `password file \"/etc/lvsc/bgp.secret\"`"),
            );
        }
    }
    for c in &g.communities {
        let parts: Vec<Option<u64>> = c.value.split(':').map(|p| p.parse().ok()).collect();
        let max = if parts.len() == 2 {
            65535
        } else {
            u64::from(u32::MAX)
        };
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_none_or(|p| p > max)) {
            out.push(
                Diagnostic::error(codes::BGP_COMMUNITY, c.span, format!("`{}` is not a BGP community", c.value))
                    .with_label("expected A:B or A:B:C")
                    .with_help("a community is two numbers up to 65535 (`65001:100`); a large community three up to 4294967295"),
            );
        }
    }
    let mut ids: HashMap<IpAddr, Span> = HashMap::new();
    for d in &b.directors {
        let explicit = d.router_id.as_ref();
        if let Some(r) = explicit
            && (!r.value.ip.is_ipv4() || r.value.prefix.is_some() || r.value.port.is_some())
        {
            out.push(
                Diagnostic::error(
                    codes::BGP_ROUTER_ID,
                    r.span,
                    "a router id is a plain IPv4 address",
                )
                .with_label("not an IPv4 address alone")
                .with_help("write `router-id 192.0.2.2` (IPv6-only directors need one too)"),
            );
            continue;
        }
        let id = explicit.map(|r| (r.value.ip, r.span)).or_else(|| {
            d.addresses
                .iter()
                .map(|a| (a.addr.value.ip, a.addr.span))
                .find(|(ip, _)| ip.is_ipv4())
        });
        match id {
            None => out.push(
                Diagnostic::error(codes::BGP_ROUTER_ID, d.name.span, format!("director {} has no BGP router id", d.name.value))
                    .with_label("no IPv4 address to take it from")
                    .with_help("add `router-id A.B.C.D` to the director: BGP names each speaker by an IPv4 address"),
            ),
            Some((ip, span)) => {
                if let Some(first) = ids.insert(ip, span) {
                    out.push(
                        Diagnostic::error(codes::BGP_ROUTER_ID, span, format!("router id {ip} is used twice"))
                            .with_label("second director")
                            .with_related(first, "first director")
                            .with_help("each director needs its own router id; routers drop a peer whose id they already know"),
                    );
                }
            }
        }
    }
    let announced: Vec<_> = ctx
        .file
        .services
        .iter()
        .filter(|s| ctx.announce(s) == Announce::Bgp)
        .collect();
    let Some(first) = announced.first() else {
        return;
    };
    let mut reported = std::collections::HashSet::new();
    for d in &b.directors {
        if let Some(c) = d
            .checker
            .as_ref()
            .or(b.checker.as_ref())
            .filter(|c| c.value == "keepalived" && reported.insert(c.span))
        {
            out.push(
                Diagnostic::error(codes::BGP_CHECKER, c.span, "keepalived cannot withdraw a BGP announcement")
                    .with_label("keepalived checks the reals here")
                    .with_related(first.name.span, "announced over BGP")
                    .with_help("use `checker lvsc` (the default with `bgp`): `lvsc run` announces a VIP only while its service has quorum"),
            );
        }
    }
    let ipvs = ctx.backend.map_or_else(
        || {
            b.directors.iter().any(|d| {
                d.dataplane
                    .as_ref()
                    .or(b.dataplane.as_ref())
                    .is_none_or(|p| p.value == "ipvs")
            })
        },
        |p| p == crate::ir::Dataplane::Ipvs,
    );
    // IPv4 VIPs go to IPv4 neighbours and IPv6 VIPs to IPv6 ones (no next hop of the
    // other family is configured).
    for v6 in [false, true] {
        let vip = announced
            .iter()
            .flat_map(|s| &s.vips)
            .find(|v| v.value.ip.is_ipv6() == v6);
        let peer = g.neighbors.iter().any(|n| n.addr.value.ip.is_ipv6() == v6);
        if let Some(v) = vip
            && !peer
            && !g.neighbors.is_empty()
        {
            let family = if v6 { "IPv6" } else { "IPv4" };
            out.push(
                Diagnostic::error(codes::BGP_NO_NEIGHBOR, v.span, format!("no {family} neighbour to announce this {family} VIP to"))
                    .with_label("nobody hears this announcement")
                    .with_help(format!("add a `neighbor` with an {family} address: each family's VIPs go over sessions of that family")),
            );
        }
    }
    for s in announced {
        if ctx.method(s) == "nat" {
            let span = ctx.forward(s).map_or(s.name.span, |f| f.method.span);
            out.push(
                Diagnostic::error(codes::BGP_NAT, span, "a NAT service cannot be announced by several directors")
                    .with_label("NAT replies return through one gateway")
                    .with_help("ECMP sends a connection's packets to any director, but a NAT real replies through its one gateway; use `forward dr` or `forward tun`, or `announce vrrp`"),
            );
        }
        let scheduler = ctx.scheduler(s);
        let name = scheduler.map_or(crate::ctx::DEFAULT_SCHEDULER, |x| x.name.value.as_str());
        if ipvs && !matches!(name, "mh" | "sh") {
            let span = scheduler.map_or(s.name.span, |x| x.name.span);
            out.push(
                Diagnostic::warning(codes::BGP_SCHEDULER, span, format!("`{name}` picks a real per director"))
                    .with_label("a flow that moves to another director may reach another real")
                    .with_help("use `scheduler mh` on IPVS: every director computes the same Maglev table, so a flow keeps its real when ECMP moves it"),
            );
        }
    }
}
