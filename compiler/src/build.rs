//! Lowers a checked syntax tree to the cluster IR: defaults applied, names resolved.
//!
//! Runs only when the rules found no error, so it may rely on what they checked.

use std::net::IpAddr;

use lvsc_lang::ast::{self, SecretSource, SourceFile};
use lvsc_lang::{Protocol, Value};

use crate::ctx::{Ctx, DEFAULT_SCHEDULER};
use crate::ir::*;
use crate::rules::nat_gateway;

/// Default Maglev table size (a prime).
pub const DEFAULT_TABLE_SIZE: u32 = 65537;

/// Whether `n` is prime (Maglev table sizes must be, so every skip visits every slot).
pub fn is_prime(n: u32) -> bool {
    n >= 2
        && (2..)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// Builds the IR.
pub fn build(ctx: &Ctx<'_>) -> Cluster {
    let f: &SourceFile = ctx.file;
    let balancer = f.balancer.as_ref().map(balancer).unwrap_or_default();
    let services = f
        .services
        .iter()
        .filter_map(|s| service(ctx, s))
        .collect::<Vec<_>>()
        .into();
    let pools = f
        .pools
        .iter()
        .map(|p| Pool {
            name: p.name.value.clone(),
            hosts: p
                .reals
                .iter()
                .map(|r| PoolHost {
                    name: r.name.value.clone(),
                    ip: r.addr.value.ip,
                    gateway: nat_gateway(ctx, r),
                    manage: r.manage.as_ref().map(|m| m.value.ip),
                })
                .collect(),
        })
        .collect();
    let storage = f.storage.iter().map(storage).collect();
    let name = f
        .cluster
        .as_ref()
        .map_or_else(|| "cluster".to_string(), |c| c.value.clone());
    Cluster {
        name,
        balancer,
        services,
        pools,
        storage,
    }
}

fn iface(a: &ast::InterfaceAddress) -> InterfaceAddress {
    InterfaceAddress {
        addr: a.addr.value.ip,
        prefix: a.addr.value.prefix.unwrap_or(32),
        interface: a
            .interface
            .as_ref()
            .map_or_else(|| "eth0".to_string(), |i| i.value.clone()),
    }
}

fn balancer(b: &ast::Balancer) -> Balancer {
    let top = b
        .directors
        .iter()
        .filter_map(|d| d.priority.as_ref().map(|p| p.value))
        .max();
    let explicit_master = b
        .directors
        .iter()
        .any(|d| d.state.as_ref().is_some_and(|s| s.value == "master"));
    let directors = b
        .directors
        .iter()
        .enumerate()
        .map(|(i, d)| {
            // Without priorities the first director leads: 100, 99, ...
            let priority = d
                .priority
                .as_ref()
                .map_or(100u64.saturating_sub(i as u64).max(1), |p| p.value)
                as u8;
            let state = match d.state.as_ref().map(|s| s.value.as_str()) {
                Some("master") => VrrpState::Master,
                Some(_) => VrrpState::Backup,
                None if !explicit_master
                    && (top == Some(u64::from(priority)) || (top.is_none() && i == 0)) =>
                {
                    VrrpState::Master
                }
                None => VrrpState::Backup,
            };
            let dataplane = match d.dataplane.as_ref().or(b.dataplane.as_ref()) {
                Some(p) if p.value == "nftables" => Dataplane::Nftables,
                Some(p) if p.value == "xdp" => Dataplane::Xdp,
                _ => Dataplane::Ipvs,
            };
            // keepalived's checkers drive IPVS only; the other data planes have lvsc run,
            // and so do directors that announce over BGP (lvsc run withdraws the routes).
            let checker = match d.checker.as_ref().or(b.checker.as_ref()) {
                Some(c) if c.value == "lvsc" => Checker::Lvsc,
                Some(_) => Checker::Keepalived,
                None if dataplane == Dataplane::Ipvs && b.bgp.is_empty() => Checker::Keepalived,
                None => Checker::Lvsc,
            };
            let router_id = (!b.bgp.is_empty())
                .then(|| {
                    let explicit = d.router_id.as_ref().map(|r| r.value.ip);
                    let first_v4 = d
                        .addresses
                        .iter()
                        .map(|a| a.addr.value.ip)
                        .find(IpAddr::is_ipv4);
                    match explicit.or(first_v4) {
                        Some(IpAddr::V4(ip)) => Some(ip),
                        _ => None, // refused by the rules
                    }
                })
                .flatten();
            Director {
                name: d.name.value.clone(),
                addresses: d.addresses.iter().map(iface).collect(),
                priority,
                state,
                dataplane,
                checker,
                router_id,
                manage: d.manage.as_ref().map(|m| m.value.ip),
            }
        })
        .collect();
    let vrrp = b.vrrp.first().map(|v| {
        Vrrp {
            router_id: v.router_id.value as u8,
            advert_ms: v.advert.as_ref().map_or(1000, |a| a.value),
            auth: v.auth.as_ref().and_then(|a| {
                let kind = if a.kind.as_ref().is_some_and(|k| k.value == "ah") {
                    AuthKind::Ah
                } else {
                    AuthKind::Pass
                };
                let secret = match &a.secret {
                    SecretSource::Env(n) => SecretRef::Env(n.value.clone()),
                    SecretSource::File(p) => SecretRef::File(p.value.clone()),
                    SecretSource::Inline(_) => return None, // rejected by the rules
                };
                Some(VrrpAuth { kind, secret })
            }),
            interface: v.interface.as_ref().map(|i| i.value.clone()),
            preempt: v.nopreempt.is_none(),
        }
    });
    let sync = b.sync.as_ref().map(|s| Sync {
        interface: s.interface.value.clone(),
        id: s
            .id
            .as_ref()
            .map(|i| i.value as u8)
            .or(vrrp.as_ref().map(|v| v.router_id))
            .unwrap_or(0),
    });
    let bgp = b.bgp.first().map(|g| {
        Bgp {
            asn: g.asn.as_ref().map_or(0, |a| a.value as u32),
            neighbors: g
                .neighbors
                .iter()
                .map(|n| BgpNeighbor {
                    addr: n.addr.value.ip,
                    asn: n.asn.as_ref().map_or(0, |a| a.value as u32),
                    password: n.password.as_ref().and_then(|p| match &p.value {
                        SecretSource::Env(n) => Some(SecretRef::Env(n.value.clone())),
                        SecretSource::File(p) => Some(SecretRef::File(p.value.clone())),
                        SecretSource::Inline(_) => None, // rejected by the rules
                    }),
                    bfd: n.bfd.is_some(),
                })
                .collect(),
            hold_s: g.hold.as_ref().map(|h| (h.value / 1000) as u16),
            communities: g.communities.iter().map(|c| c.value.clone()).collect(),
            local_pref: g.local_pref.as_ref().map(|l| l.value as u32),
        }
    });
    Balancer {
        bgp,
        directors,
        vrrp,
        gateways: b.gateways.iter().map(iface).collect(),
        sync,
        sysctls: b
            .sysctls
            .iter()
            .map(|s| (s.key.value.clone(), s.value.value.clone()))
            .collect(),
    }
}

/// A service's IR; `None` only for a service the rules should have refused (no VIP and
/// no mark, no pool), so a gap in the rules drops a service instead of crashing.
fn service(ctx: &Ctx<'_>, s: &ast::Service) -> Option<Service> {
    let vips: Vec<Vip> = s
        .vips
        .iter()
        .map(|v| Vip {
            ip: v.value.ip,
            port: v.value.port.unwrap_or(0),
            proto: v.value.proto.unwrap_or(Protocol::Tcp),
        })
        .collect();
    let ipv6 = vips
        .first()
        .map(|v| v.ip.is_ipv6())
        .unwrap_or(s.family.as_ref().is_some_and(|f| f.value == "inet6"));
    let key = match (&s.fwmark, vips.first()) {
        (Some(m), _) => ServiceKey::Fwmark {
            mark: m.value as u32,
            ipv6,
        },
        (None, Some(v)) => ServiceKey::Addr {
            ip: v.ip,
            port: v.port,
            proto: v.proto,
        },
        (None, None) => return None,
    };
    let sch = ctx.scheduler(s);
    let scheduler = Scheduler {
        name: sch.map_or(DEFAULT_SCHEDULER.to_string(), |x| x.name.value.clone()),
        flags: sch
            .map(|x| x.flags.iter().map(|f| f.value.clone()).collect())
            .unwrap_or_default(),
    };
    let fwd = ctx.forward(s);
    let method = match ctx.method(s) {
        "nat" => ForwardMethod::Nat,
        "tun" => ForwardMethod::Tun,
        _ => ForwardMethod::Dr,
    };
    let forward = Forward {
        method,
        tunnel: (method == ForwardMethod::Tun).then(|| {
            match fwd
                .and_then(|f| f.tunnel.as_ref())
                .map(|t| t.value.as_str())
            {
                Some("gue") => TunnelType::Gue,
                Some("gre") => TunnelType::Gre,
                _ => TunnelType::Ipip,
            }
        }),
        tunnel_port: fwd.and_then(|f| f.port.as_ref()).map(|p| p.value as u16),
        tunnel_csum: fwd.is_some_and(|f| f.csum.is_some()),
    };
    let width = if ipv6 { 128 } else { 32 };
    let persistence = ctx.persistence(s).map(|p| Persistence {
        timeout_s: (p.timeout.value / 1000).max(1) as u32,
        prefix: match p.netmask.as_ref().map(|m| &m.value) {
            Some(Value::Number(n)) => *n as u8,
            Some(Value::Addr(e)) => crate::net::mask_prefix(e.ip).unwrap_or(width),
            _ => width,
        },
    });
    let pool = ctx.pool_of(s)?;
    let default_weight = pool
        .weight
        .as_ref()
        .or(ctx.defaults.weight.as_ref())
        .map_or(1, |w| w.value) as u32;
    let reals = pool
        .reals
        .iter()
        .map(|r| {
            let drain = r.drain.is_some();
            Real {
                name: r.name.value.clone(),
                ip: r.addr.value.ip,
                port: if s.fwmark.is_some() && r.addr.value.port.is_none() && pool.port.is_none() {
                    0
                } else {
                    ctx.real_port(pool, r, s.vips.first().map(|v| &v.value))
                        .map_or(0, |(p, _)| p)
                },
                weight: if drain {
                    0
                } else {
                    r.weight.as_ref().map_or(default_weight, |w| w.value as u32)
                },
                upper: r.upper.as_ref().map_or(0, |u| u.value as u32),
                lower: r.lower.as_ref().map_or(0, |u| u.value as u32),
                drain,
            }
        })
        .collect();
    Some(Service {
        name: s.name.value.clone(),
        key,
        vips,
        scheduler,
        forward,
        persistence,
        check: check(ctx.check(s)),
        sorry: s.sorry.as_ref().map(|d| Destination {
            ip: d.value.ip,
            port: d.value.port,
        }),
        quorum: s.quorum.as_ref().map(|q| Quorum {
            value: q.value.value as u32,
            hysteresis: q.hysteresis.as_ref().map_or(0, |h| h.value as u32),
        }),
        ops: s.ops.is_some(),
        mtu: s.mtu.as_ref().map(|m| m.value as u16),
        table_size: s
            .table_size
            .as_ref()
            .map_or(DEFAULT_TABLE_SIZE, |t| t.value as u32),
        announce: ctx.announce(s),
        pool: pool.name.value.clone(),
        reals,
    })
}

fn check(c: Option<&ast::Check>) -> Check {
    let Some(c) = c else { return Check::None };
    let timing = CheckTiming {
        port: c.port.as_ref().map(|p| p.value as u16),
        every_ms: c.every.as_ref().map_or(5000, |d| d.value),
        timeout_ms: c.timeout.as_ref().map_or(3000, |d| d.value),
        retry: c.retry.as_ref().map_or(3, |r| r.value as u32),
    };
    let target = c
        .target
        .as_ref()
        .map_or_else(|| "/".to_string(), |t| t.value.clone());
    let expect = c.expect.as_ref().map_or(200, |e| e.value as u16);
    match c.kind.value.as_str() {
        "tcp" => Check::Tcp { timing },
        "http" => Check::Http {
            path: target,
            expect,
            timing,
        },
        "https" => Check::Https {
            path: target,
            expect,
            timing,
        },
        "misc" => Check::Misc {
            command: target,
            timing,
        },
        _ => Check::None,
    }
}

fn storage(s: &ast::Storage) -> Storage {
    let kind = match s.kind.value.as_str() {
        "nfs" => StorageKind::Nfs,
        "cifs" => StorageKind::Cifs,
        "gfs2" => StorageKind::Gfs2,
        "ocfs2" => StorageKind::Ocfs2,
        "gpfs" => StorageKind::Gpfs,
        "cephfs" => StorageKind::Cephfs,
        "glusterfs" => StorageKind::Glusterfs,
        "coda" => StorageKind::Coda,
        _ => StorageKind::Database,
    };
    let server_name = s
        .server
        .as_ref()
        .map_or_else(|| s.name.value.clone(), |n| n.value.clone());
    let manage = s.manage.as_ref().map(|m| m.value.ip);
    let (source, server) = match &s.source.value {
        Value::Addr(e) => {
            let path = e.path.clone().unwrap_or_default();
            let server = (kind == StorageKind::Nfs).then(|| StorageServer {
                name: server_name,
                ip: e.ip,
                path: path.clone(),
                manage,
            });
            (e.to_string(), server)
        }
        Value::Path(p) | Value::Str(p) => {
            // `//192.0.2.60/share`: the server is the first component when it is an address.
            let server = (kind == StorageKind::Cifs)
                .then(|| p.trim_start_matches('/').split_once('/'))
                .flatten()
                .and_then(|(host, share)| {
                    Some(StorageServer {
                        name: server_name,
                        ip: host.parse().ok()?,
                        path: format!("/{share}"),
                        manage,
                    })
                });
            (p.clone(), server)
        }
        Value::Word(w) => (w.clone(), None),
        other => (format!("{other:?}"), None),
    };
    Storage {
        name: s.name.value.clone(),
        kind,
        source,
        server,
        version: s.version.as_ref().map(|v| v.value.clone()),
        credentials: s.credentials.as_ref().map(|c| c.value.clone()),
        export_options: s.export_options.as_ref().map_or_else(
            || "rw,sync,no_subtree_check".to_string(),
            |o| o.value.clone(),
        ),
        mounts: s
            .mounts
            .iter()
            .map(|m| Mount {
                path: m.path.value.clone(),
                pool: m.pool.value.clone(),
                options: m
                    .options
                    .as_ref()
                    .map_or_else(|| "defaults".to_string(), |o| o.value.clone()),
            })
            .collect(),
    }
}
