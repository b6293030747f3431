//! Forwarding methods: what NAT, DR and TUN each need from the network.

use std::net::IpAddr;

use lvsc_lang::ast::{Pool, Real, Service};
use lvsc_lang::{Diagnostic, Span};

use crate::codes;
use crate::ctx::Ctx;

/// Room for the outer IPv4 header (20 bytes) on a 1500-byte path.
const TUN_MTU_V4: u64 = 1480;
/// Room for the outer IPv6 header (40 bytes) on a 1500-byte path.
const TUN_MTU_V6: u64 = 1460;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for s in &ctx.file.services {
        let method = ctx.method(s);
        let fwd = ctx.forward(s);
        if let Some(f) = fwd
            && method != "tun"
            && let Some(span) = f
                .tunnel
                .as_ref()
                .map(|t| t.span)
                .or(f.port.as_ref().map(|p| p.span))
                .or(f.csum)
        {
            out.push(
                Diagnostic::error(
                    codes::TUNNEL_NOT_TUN,
                    span,
                    format!("tunnel settings on a `{method}` service"),
                )
                .with_label("only `forward tun` tunnels")
                .with_help("remove the tunnel settings or use `forward tun`"),
            );
        }
        let Some(pool) = ctx.pool_of(s) else { continue };
        match method {
            "dr" | "tun" => {
                port_mapping(ctx, s, pool, method, out);
                if method == "dr" {
                    dr_segment(ctx, s, pool, out);
                } else {
                    tun(ctx, s, out);
                }
            }
            _ => nat_route_back(ctx, pool, out),
        }
    }
}

fn port_mapping(ctx: &Ctx<'_>, s: &Service, pool: &Pool, method: &str, out: &mut Vec<Diagnostic>) {
    if s.fwmark.is_some() {
        return; // a fwmark service keeps each packet's own port
    }
    let Some(vip) = s.vips.first() else { return };
    let Some(vport) = vip.value.port else { return };
    for r in &pool.reals {
        if let Some((port, span)) = ctx.real_port(pool, r, Some(&vip.value))
            && port != vport
        {
            out.push(
                Diagnostic::error(codes::PORT_MAPPING, span, format!("{} cannot map port {vport} to {port}", method.to_uppercase()))
                    .with_label(format!("real `{}` listens on {port}", r.name.value))
                    .with_related(vip.span, format!("the VIP's port is {vport}"))
                    .with_help(format!(
                        "{} never rewrites the port: make the real listen on {vport}, or use `forward nat`",
                        if method == "dr" { "direct routing rewrites only the MAC address, so it" } else { "a tunnel wraps the packet unchanged, so it" }
                    )),
            );
        }
    }
}

fn dr_segment(ctx: &Ctx<'_>, s: &Service, pool: &Pool, out: &mut Vec<Diagnostic>) {
    let addrs: Vec<_> = ctx.director_addresses().collect();
    if addrs.is_empty() {
        return;
    }
    for r in &pool.reals {
        if !addrs.iter().any(|a| Ctx::in_subnet(a, r.addr.value.ip)) {
            out.push(
                Diagnostic::error(codes::DR_SEGMENT, r.addr.span, format!("DR real `{}` is not on a director's segment", r.name.value))
                    .with_label(format!("{} is outside every director subnet", r.addr.value.ip))
                    .with_related(s.name.span, "this service uses direct routing")
                    .with_help("direct routing only rewrites the MAC address: the real must share an L2 subnet with a director, or use `forward tun`"),
            );
        }
    }
}

fn nat_route_back(ctx: &Ctx<'_>, pool: &Pool, out: &mut Vec<Diagnostic>) {
    let routers: Vec<_> = ctx.routers().collect();
    if routers.is_empty() {
        return;
    }
    for r in &pool.reals {
        if nat_gateway(ctx, r).is_some() {
            continue;
        }
        let (span, label) = match &r.via {
            Some(v) => (
                v.span,
                format!("{} is not a director or gateway address", v.value.ip),
            ),
            None => (
                r.addr.span,
                format!("no director or gateway is on {}'s subnet", r.addr.value.ip),
            ),
        };
        out.push(
            Diagnostic::error(codes::NAT_ROUTE_BACK, span, format!("NAT real `{}` would not send its replies through a director", r.name.value))
                .with_label(label)
                .with_help("NAT rewrites replies on the way back, so the real's default route must be a director: put it on a director's inside subnet, add `gateway ADDR/PREFIX on IF` to the balancer, or fix `via`"),
        );
    }
}

/// The gateway a NAT real routes through: its `via` when that is a router, else the
/// balancer gateway or director address on its subnet (gateways first: they float).
pub fn nat_gateway(ctx: &Ctx<'_>, r: &Real) -> Option<IpAddr> {
    let gateways = ctx.file.balancer.iter().flat_map(|b| b.gateways.iter());
    if let Some(v) = &r.via {
        return ctx
            .routers()
            .any(|a| a.addr.value.ip == v.value.ip)
            .then_some(v.value.ip);
    }
    gateways
        .chain(ctx.director_addresses())
        .find(|a| Ctx::in_subnet(a, r.addr.value.ip) && a.addr.value.ip != r.addr.value.ip)
        .map(|a| a.addr.value.ip)
}

fn tun(ctx: &Ctx<'_>, s: &Service, out: &mut Vec<Diagnostic>) {
    let v6 = s
        .vips
        .first()
        .map(|v| v.value.ip.is_ipv6())
        .unwrap_or(s.family.as_ref().is_some_and(|f| f.value == "inet6"));
    let fwd = ctx.forward(s);
    let tunnel = fwd.and_then(|f| f.tunnel.as_ref());
    if v6 && let Some(t) = tunnel.filter(|t| t.value != "ipip") {
        out.push(
            Diagnostic::error(
                codes::TUN_IPV6_TYPE,
                t.span,
                format!("`{}` tunnels are not supported for IPv6 services", t.value),
            )
            .with_label("IPv4-only encapsulation")
            .with_help("IPv6 services tunnel as IPv6-in-IPv6: use `forward tun ipip`"),
        );
    }
    if let Some(t) = tunnel.filter(|t| t.value == "gue")
        && fwd.is_some_and(|f| f.port.is_none())
    {
        out.push(
            Diagnostic::error(codes::GUE_PORT, t.span, "a GUE tunnel needs a port")
                .with_label("no port")
                .with_help("add the reals' GUE port: `forward tun gue port 6080`"),
        );
    }
    let limit = if v6 { TUN_MTU_V6 } else { TUN_MTU_V4 };
    let (span, msg): (Span, String) = match &s.mtu {
        Some(m) if m.value > limit => (
            m.span,
            format!("MTU {} leaves no room for the tunnel header", m.value),
        ),
        Some(_) => return,
        None => (
            fwd.map_or(s.name.span, |f| f.span),
            "tunnelled packets may need fragmenting".into(),
        ),
    };
    out.push(
        Diagnostic::warning(codes::TUN_MTU, span, msg)
            .with_label(format!("the outer header adds {} bytes", if v6 { 40 } else { 20 }))
            .with_help(format!("set `mtu {limit}` (or lower) and clamp the MSS, so full-size packets are not fragmented or dropped")),
    );
}
