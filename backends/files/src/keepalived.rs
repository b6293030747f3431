//! keepalived.conf for a director: VRRP for the floating addresses, one virtual_server
//! per service with a health checker per real.

use lvsc_compiler::ir::{
    AuthKind, Check, ForwardMethod, Service, ServiceKey, TunnelType, VrrpState,
};
use lvsc_compiler::views::DirectorView;
use serde::Serialize;

use crate::BuildError;

#[derive(Serialize)]
struct Model {
    director: String,
    sync: Option<SyncModel>,
    vrrp: Option<VrrpModel>,
    groups: Vec<GroupModel>,
    services: Vec<ServiceModel>,
}

#[derive(Serialize)]
struct SyncModel {
    interface: String,
    instance: String,
    id: u8,
}

#[derive(Serialize)]
struct VrrpModel {
    name: String,
    state: &'static str,
    interface: String,
    router_id: u8,
    priority: u8,
    advert: String,
    nopreempt: bool,
    auth_type: Option<&'static str>,
    auth_file: String,
    vips: Vec<String>,
    excluded: Vec<String>,
}

#[derive(Serialize)]
struct GroupModel {
    name: String,
    fwmark: u32,
}

#[derive(Serialize)]
struct ServiceModel {
    name: String,
    header: String,
    delay_loop: u64,
    lb_algo: String,
    flags: Vec<String>,
    lb_kind: &'static str,
    protocol: Option<&'static str>,
    ops: bool,
    persistence_timeout: u32,
    persistence_granularity: Option<String>,
    sorry: Option<String>,
    quorum: u32,
    hysteresis: u32,
    check: Option<CheckModel>,
    reals: Vec<RealModel>,
}

#[derive(Serialize)]
struct CheckModel {
    kind: &'static str,
    url: Option<String>,
    status: u16,
    misc: Option<String>,
    port: Option<u16>,
    timeout: u64,
    retry: u32,
    delay: u64,
}

#[derive(Serialize)]
struct RealModel {
    name: String,
    address: String,
    weight: u32,
    uthreshold: u32,
    lthreshold: u32,
}

/// The name of the auth include file written at deploy time.
pub fn auth_file(router_id: u8) -> String {
    format!("lvsc-vrrp-{router_id}.auth")
}

/// Seconds for keepalived, which counts whole seconds (at least 1).
fn secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

/// A dotted IPv4 netmask, or `None` for a host mask (keepalived's default).
fn netmask(prefix: u8) -> Option<String> {
    (prefix < 32).then(|| {
        let bits = u32::MAX.checked_shl(u32::from(32 - prefix)).unwrap_or(0);
        std::net::Ipv4Addr::from(bits).to_string()
    })
}

fn service(
    s: &Service,
    errors: &mut Vec<BuildError>,
    director: &str,
) -> (Option<GroupModel>, ServiceModel) {
    let v6 = s.is_ipv6();
    let (header, group, protocol) = match &s.key {
        ServiceKey::Addr { ip, port, proto } => {
            let p = match proto {
                lvsc_compiler::ir::Protocol::Tcp => "TCP",
                lvsc_compiler::ir::Protocol::Udp => "UDP",
                lvsc_compiler::ir::Protocol::Sctp => "SCTP",
            };
            (format!("{ip} {port}"), None, Some(p))
        }
        ServiceKey::Fwmark { mark, .. } => {
            let g = GroupModel {
                name: s.name.clone(),
                fwmark: *mark,
            };
            (format!("group {}", s.name), Some(g), None)
        }
    };
    if let Some(t) = s.forward.tunnel.filter(|t| *t != TunnelType::Ipip) {
        errors.push(BuildError {
            host: director.to_string(),
            message: format!(
                "service {}: keepalived 2.2 as Debian ships it cannot set the tunnel type ({t}); use `lvsc apply` (netlink) for GUE/GRE tunnels",
                s.name
            ),
        });
    }
    let (every, timing) = match &s.check {
        Check::None => (5000, None),
        Check::Tcp { timing }
        | Check::Http { timing, .. }
        | Check::Https { timing, .. }
        | Check::Misc { timing, .. } => (timing.every_ms, Some(timing)),
    };
    let check = timing.map(|t| {
        let (kind, url, status, misc) = match &s.check {
            Check::Http { path, expect, .. } => ("HTTP_GET", Some(path.clone()), *expect, None),
            Check::Https { path, expect, .. } => ("SSL_GET", Some(path.clone()), *expect, None),
            Check::Misc { command, .. } => ("MISC_CHECK", None, 0, Some(command.clone())),
            _ => ("TCP_CHECK", None, 0, None),
        };
        CheckModel {
            kind,
            url,
            status,
            misc,
            port: t.port,
            timeout: secs(t.timeout_ms),
            // keepalived counts the checks after the first failure; lvsc the failures in a
            // row that take a real out.
            retry: t.retry.saturating_sub(1),
            delay: secs(t.every_ms),
        }
    });
    let model = ServiceModel {
        name: s.name.clone(),
        header,
        delay_loop: secs(every),
        lb_algo: s.scheduler.name.clone(),
        flags: s.scheduler.flags.clone(),
        lb_kind: match s.forward.method {
            ForwardMethod::Nat => "NAT",
            ForwardMethod::Dr => "DR",
            ForwardMethod::Tun => "TUN",
        },
        protocol,
        ops: s.ops,
        persistence_timeout: s.persistence.as_ref().map_or(0, |p| p.timeout_s),
        // keepalived takes a dotted mask for IPv4 and a prefix length for IPv6.
        persistence_granularity: s.persistence.as_ref().and_then(|p| match v6 {
            true if p.prefix < 128 => Some(p.prefix.to_string()),
            true => None,
            false => netmask(p.prefix),
        }),
        sorry: s
            .sorry
            .as_ref()
            .map(|d| format!("{} {}", d.ip, d.port.unwrap_or(service_port(s)))),
        quorum: s.quorum.as_ref().map_or(0, |q| q.value),
        hysteresis: s.quorum.as_ref().map_or(0, |q| q.hysteresis),
        check,
        reals: s
            .reals
            .iter()
            .map(|r| RealModel {
                name: r.name.clone(),
                address: format!("{} {}", r.ip, r.port),
                weight: r.weight,
                uthreshold: r.upper,
                lthreshold: r.lower,
            })
            .collect(),
    };
    (group, model)
}

fn service_port(s: &Service) -> u16 {
    match s.key {
        ServiceKey::Addr { port, .. } => port,
        ServiceKey::Fwmark { .. } => 0,
    }
}

/// Renders keepalived.conf for one director.
pub fn render(
    r: &crate::render::Renderer,
    cluster: &str,
    d: &DirectorView,
    errors: &mut Vec<BuildError>,
) -> String {
    let mut groups = Vec::new();
    let mut services = Vec::new();
    // Unless keepalived checks the reals (IPVS only), it only moves the VIPs: `lvsc run`
    // checks the reals and changes the data plane.
    let ipvs = d.checker == lvsc_compiler::ir::Checker::Keepalived;
    for s in d.services.iter().filter(|_| ipvs) {
        let (g, m) = service(s, errors, &d.name);
        groups.extend(g);
        services.push(m);
    }
    let vrrp = d.vrrp.as_ref().map(|v| {
        let src_v6 = v.source.is_ipv6();
        let (vips, excluded): (Vec<_>, Vec<_>) =
            d.floating.iter().partition(|a| a.addr.is_ipv6() == src_v6);
        let show = |a: &lvsc_compiler::ir::InterfaceAddress| {
            format!("{}/{} dev {}", a.addr, a.prefix, a.interface)
        };
        VrrpModel {
            name: format!("VI_{}", v.group.router_id),
            // keepalived refuses an initial MASTER with AH and with nopreempt: start
            // every director as BACKUP then, and let the priorities elect the master.
            state: match (&v.group.auth, v.group.preempt) {
                (Some(a), _) if a.kind == AuthKind::Ah => "BACKUP",
                (_, false) => "BACKUP",
                _ if v.state == VrrpState::Master => "MASTER",
                _ => "BACKUP",
            },
            interface: v.interface.clone(),
            router_id: v.group.router_id,
            priority: v.priority,
            advert: secs(v.group.advert_ms).to_string(),
            nopreempt: !v.group.preempt,
            // VRRPv3 (IPv6) has no authentication; the compiler warns about it.
            auth_type: v
                .group
                .auth
                .as_ref()
                .filter(|_| !src_v6)
                .map(|a| match a.kind {
                    AuthKind::Pass => "PASS",
                    AuthKind::Ah => "AH",
                }),
            auth_file: auth_file(v.group.router_id),
            vips: vips.into_iter().map(show).collect(),
            excluded: excluded.into_iter().map(show).collect(),
        }
    });
    let sync = d.sync.as_ref().zip(vrrp.as_ref()).map(|(s, v)| SyncModel {
        interface: s.interface.clone(),
        instance: v.name.clone(),
        id: s.id,
    });
    r.render(
        "keepalived.conf",
        cluster,
        &d.name,
        Model {
            director: d.name.clone(),
            sync,
            vrrp,
            groups,
            services,
        },
    )
}
