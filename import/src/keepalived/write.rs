//! The directors' models written as one `.lvs` cluster: the balancer (directors, VRRP,
//! sync, gateways), one service per IPVS service, and pools shared by the services whose
//! reals and checks are the same. What keepalived.conf does not hold is inferred or
//! written as a marked placeholder, each with a warning.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;

use super::model::{
    Check, Conf, GroupMember, Loc, RealServer, VirtualAddress, VirtualServer, VsKey,
};
use super::{Finding, Findings, Options, code};

/// The word that marks a value to fill in.
const PLACEHOLDER: &str = "PLACEHOLDER";

/// The environment variable the VRRP secret is read from.
const VRRP_SECRET_ENV: &str = "VRRP_PASS";

/// Writes the cluster; `confs` holds each director's file index and model.
pub fn cluster(confs: &[(usize, Conf)], options: &Options, out: &mut Findings) -> String {
    let cluster = if options.cluster.is_empty() {
        "imported"
    } else {
        &options.cluster
    };
    let mut text = String::new();
    let first = confs.first().map(|(_, c)| c);
    for line in first.map_or(&[][..], |c| &c.header[..]) {
        let _ = writeln!(text, "# {line}");
    }
    let _ = writeln!(
        text,
        "# Imported from keepalived.conf by `lvsc import keepalived`.\ncluster {cluster}\n"
    );
    let Some(first) = first else { return text };
    let services = services(first, confs[0].0, out);
    for (file, c) in &confs[1..] {
        compare(
            &services,
            &self::services(c, *file, &mut Findings::default()),
            *file,
            out,
        );
    }
    balancer(&mut text, confs, &services, out);
    pools_and_services(&mut text, &services, out);
    text
}

/// One IPVS service: what it matches, from which virtual server.
struct Service<'a> {
    name: String,
    vip: Option<(IpAddr, u16)>,
    fwmark: Option<u32>,
    vs: &'a VirtualServer,
    /// Where it is defined (the group member for a group).
    at: Loc,
}

fn services<'a>(conf: &'a Conf, file: usize, out: &mut Findings) -> Vec<Service<'a>> {
    let mut list = Vec::new();
    for vs in &conf.servers {
        match &vs.key {
            VsKey::Addr(ip, port) => list.push(Service {
                name: format!("vs-{}-{port}", dashed(ip)),
                vip: Some((*ip, *port)),
                fwmark: None,
                vs,
                at: vs.at,
            }),
            VsKey::Fwmark(m) => list.push(Service {
                name: format!("fwmark-{m}"),
                vip: None,
                fwmark: Some(*m),
                vs,
                at: vs.at,
            }),
            VsKey::Group(g) => {
                let Some((_, members)) = conf.groups.iter().find(|(n, _)| n == g) else {
                    out.push(Finding(
                        lvsc_lang::Diagnostic::error(
                            code::INVALID,
                            vs.at.span,
                            format!("no `virtual_server_group {g}`"),
                        )
                        .with_label("this group is not defined")
                        .with_help("define the group, or name the address and port"),
                        file,
                    ));
                    continue;
                };
                for (k, (m, at)) in members.iter().enumerate() {
                    let at = *at;
                    let name = format!("{}-{}", name_of(g), k + 1);
                    list.push(match m {
                        GroupMember::Addr(ip, port) => Service {
                            name,
                            vip: Some((*ip, *port)),
                            fwmark: None,
                            vs,
                            at,
                        },
                        GroupMember::Fwmark(f) => Service {
                            name,
                            vip: None,
                            fwmark: Some(*f),
                            vs,
                            at,
                        },
                    });
                }
            }
        }
    }
    // A VIP must be an address of its own: keepalived takes one that is a real's too,
    // lvsc does not (the real would answer for it).
    let reals: Vec<IpAddr> = conf
        .servers
        .iter()
        .flat_map(|v| v.reals.iter().map(|r| r.addr))
        .collect();
    list.retain(|s| {
        let Some((ip, port)) = s.vip.filter(|v| reals.contains(&v.0)) else { return true };
        out.push(Finding::warning(
            s.at,
            code::UNSUPPORTED,
            format!("the virtual service {} is left out: its VIP is also a real server's address", endpoint(&ip, Some(port))),
            "left out",
            "a VIP is an address of its own, held by the VRRP master; give the service another address".into(),
        ));
        false
    });
    list
}

/// Reports the services of another director's file that differ from the first one's.
fn compare(first: &[Service<'_>], other: &[Service<'_>], file: usize, out: &mut Findings) {
    for s in other {
        let same = first
            .iter()
            .find(|f| f.vip == s.vip && f.fwmark == s.fwmark)
            .is_some_and(|f| {
                pool_key(f.vs) == pool_key(s.vs) && f.vs.algo == s.vs.algo && f.vs.kind == s.vs.kind
            });
        if !same {
            out.push(Finding::warning(
                s.vs.at,
                code::CONFLICT,
                format!("service `{}` differs from the first director's file", s.name),
                "not as in the first file",
                format!("every director runs the same services in lvsc: the import keeps the first file's; make this one match (file {file})"),
            ));
        }
    }
}

/// The balancer: directors with their addresses, VRRP, sync and gateways.
fn balancer(
    text: &mut String,
    confs: &[(usize, Conf)],
    services: &[Service<'_>],
    out: &mut Findings,
) {
    // lvsc has one VRRP group: the instance that holds most VIPs (the first on a tie).
    let vips = |v: &super::model::Vrrp| {
        services
            .iter()
            .filter(|s| {
                s.vip
                    .is_some_and(|x| v.addresses.iter().any(|a| a.ip == x.0))
            })
            .count()
    };
    let main = confs.iter().find_map(|(_, c)| {
        let best = c.vrrp.iter().map(vips).max()?;
        c.vrrp.iter().find(|v| vips(v) == best).cloned()
    });
    // Every instance's addresses, with the instance's interface.
    let all_addresses: Vec<(&VirtualAddress, Option<&String>)> = confs
        .iter()
        .flat_map(|(_, c)| c.vrrp.iter())
        .flat_map(|v| v.addresses.iter().map(|a| (a, v.interface.as_ref())))
        .collect();
    // Other instances than the one lvsc keeps.
    for (_, c) in confs {
        for v in c
            .vrrp
            .iter()
            .filter(|v| main.as_ref().is_none_or(|m| m.router_id != v.router_id))
        {
            if let Some(at) = v.at {
                out.push(Finding::warning(
                    at,
                    code::UNSUPPORTED,
                    format!("VRRP instance `{}` is left out: lvsc has one VRRP group per cluster (its addresses on NAT reals' subnets become gateways)", v.name),
                    "left out",
                    "keep its addresses in the one group as VIPs or gateways, or run the services it carries as another cluster".into(),
                ));
            }
        }
    }
    let used: Vec<IpAddr> = services
        .iter()
        .filter_map(|s| s.vip.map(|v| v.0))
        .chain(
            services
                .iter()
                .flat_map(|s| s.vs.reals.iter().map(|r| r.addr)),
        )
        .chain(
            confs
                .iter()
                .flat_map(|(_, c)| c.vrrp.iter().flat_map(|v| v.addresses.iter().map(|a| a.ip))),
        )
        .collect();
    let interface = main
        .as_ref()
        .and_then(|v| v.interface.clone())
        .unwrap_or_else(|| "eth0".into());
    // The subnet the directors' own addresses are on: the VRRP addresses', else the VIPs'.
    let base: (IpAddr, u8) = main
        .as_ref()
        .and_then(|v| v.addresses.first().map(|a| (a.ip, a.subnet_prefix())))
        .or_else(|| {
            services
                .iter()
                .find_map(|s| s.vip.map(|v| (v.0, default_prefix(&v.0))))
        })
        .or_else(|| {
            services.iter().find_map(|s| {
                s.vs.reals
                    .first()
                    .map(|r| (r.addr, default_prefix(&r.addr)))
            })
        })
        .unwrap_or(("192.0.2.0".parse().unwrap(), 24));
    // Gateways: the inside addresses NAT reals route back through.
    let mut gateways: Vec<(IpAddr, u8, String, bool)> = Vec::new();
    let mut dr_subnets: Vec<(IpAddr, u8)> = Vec::new();
    let covered =
        |a: &IpAddr, subnets: &[(IpAddr, u8)]| subnets.iter().any(|(s, p)| same_subnet(s, a, *p));
    for s in services {
        for r in &s.vs.reals {
            let mut have: Vec<(IpAddr, u8)> = vec![base];
            have.extend(gateways.iter().map(|g| (g.0, g.1)));
            have.extend(dr_subnets.iter().copied());
            if covered(&r.addr, &have) {
                continue;
            }
            if s.vs.kind == "nat" {
                let from_vrrp = all_addresses
                    .iter()
                    .find(|(a, _)| same_subnet(&a.ip, &r.addr, a.subnet_prefix()))
                    .map(|(a, dev)| {
                        let dev = a.dev.as_ref().or(*dev).unwrap_or(&interface);
                        (a.ip, a.subnet_prefix(), dev.clone(), false)
                    });
                let g = from_vrrp.unwrap_or_else(|| {
                    let p = default_prefix(&r.addr);
                    (
                        free_host(&r.addr, p, &used, 0, true),
                        p,
                        inside(&interface),
                        true,
                    )
                });
                gateways.push(g);
            } else if s.vs.kind == "dr" {
                dr_subnets.push((r.addr, default_prefix(&r.addr)));
            }
        }
    }
    let _ = writeln!(text, "balancer {{");
    if let Some(v) = &main {
        let rid = v.router_id.unwrap_or(1);
        for c in &v.comments {
            let _ = writeln!(text, "  # {c}");
        }
        let _ = writeln!(text, "  vrrp {rid} {{");
        if let Some(a) = v.advert {
            let _ = writeln!(text, "    advert {}", duration(a));
        }
        let _ = writeln!(text, "    interface {interface}");
        if v.nopreempt {
            let _ = writeln!(text, "    nopreempt");
        }
        if let Some((ah, at)) = v.auth {
            let _ = writeln!(
                text,
                "    auth {} env {VRRP_SECRET_ENV}",
                if ah { "ah" } else { "pass" }
            );
            out.push(Finding::warning(
                at,
                code::SECRET,
                "the VRRP password is written inline: the import reads it from an environment variable instead".into(),
                "secret not copied",
                format!("set {VRRP_SECRET_ENV} to this password where setup.sh runs on each director; the secret never enters the cluster file"),
            ));
        }
        let _ = writeln!(text, "  }}");
        // VRRP addresses that are neither a VIP nor a gateway.
        for a in &v.addresses {
            let vip = services.iter().any(|s| s.vip.is_some_and(|x| x.0 == a.ip));
            if !vip && !gateways.iter().any(|g| g.0 == a.ip) {
                out.push(Finding::warning(
                    a.at,
                    code::UNSUPPORTED,
                    format!("VRRP address {} is left out: it is no virtual server's VIP", a.ip),
                    "left out",
                    format!("lvsc's VRRP group holds the VIPs and the gateways; if reals route through {}, add `gateway {}/{} on IF`", a.ip, a.ip, a.subnet_prefix()),
                ));
            }
        }
        for s in services {
            if let Some((ip, _)) = s.vip
                && !v.addresses.iter().any(|a| a.ip == ip)
                && let Some(at) = v.at
            {
                out.push(Finding::approximated(
                    at,
                    format!("VIP {ip} (service `{}`) is not in this instance's virtual_ipaddress: lvsc's VRRP master holds it", s.name),
                ));
            }
        }
    }
    let mut names: Vec<String> = Vec::new();
    for (i, (file, c)) in confs.iter().enumerate() {
        let mut name = c
            .router_id
            .as_deref()
            .map(name_of)
            .unwrap_or_else(|| format!("lb{}", i + 1));
        if names.contains(&name) {
            name = format!("{name}-{}", i + 1);
        }
        names.push(name.clone());
        let v = c
            .vrrp
            .iter()
            .find(|v| main.as_ref().is_some_and(|m| m.router_id == v.router_id));
        let at = v
            .and_then(|v| v.at)
            .or(c.servers.first().map(|s| s.at))
            .unwrap_or(Loc {
                file: *file,
                span: lvsc_lang::Span::new(0, 0),
            });
        let own_if = v
            .and_then(|v| v.interface.clone())
            .unwrap_or_else(|| interface.clone());
        let _ = writeln!(text, "  director {name} {{");
        match v.and_then(|v| v.source) {
            Some(src) => {
                let p = if same_subnet(&src, &base.0, base.1) {
                    base.1
                } else {
                    default_prefix(&src)
                };
                let _ = writeln!(
                    text,
                    "    address {src}/{p} on {own_if} # {PLACEHOLDER}: check the prefix"
                );
                out.push(Finding::warning(at, code::PLACEHOLDER, format!("director `{name}`'s address is its VRRP source address {src}; the prefix /{p} is assumed"), "inferred", format!("check the prefix of `address {src}/{p}` in the imported file")));
            }
            None => {
                let a = free_host(&base.0, base.1, &used, i, false);
                let _ = writeln!(
                    text,
                    "    address {a}/{} on {own_if} # {PLACEHOLDER}: this director's own address",
                    base.1
                );
                out.push(Finding::warning(at, code::PLACEHOLDER, format!("director `{name}`'s own address is not in keepalived.conf: the import wrote {a}/{} on {own_if}", base.1), "placeholder", format!("replace the address marked {PLACEHOLDER} in the imported file with the director's own address, prefix and interface")));
            }
        }
        for (k, (net, p)) in dr_subnets.iter().enumerate() {
            let a = free_host(net, *p, &used, i, false);
            let _ = writeln!(
                text,
                "    address {a}/{p} on {own_if} # {PLACEHOLDER}: this director's address on the DR reals' segment"
            );
            if k == 0 {
                out.push(Finding::warning(at, code::PLACEHOLDER, format!("direct routing needs director `{name}` on its reals' segments; the import wrote {a}/{p}"), "placeholder", format!("replace the addresses marked {PLACEHOLDER} with the director's own")));
            }
        }
        if let Some(v) = v {
            if let Some(p) = v.priority {
                let p = if p == 255 {
                    out.push(Finding::approximated(
                        at,
                        "priority 255 (the address owner) becomes 254, lvsc's highest".into(),
                    ));
                    254
                } else {
                    p.max(1)
                };
                let _ = writeln!(text, "    priority {p}");
            }
            if let Some(m) = v.master {
                let _ = writeln!(text, "    state {}", if m { "master" } else { "backup" });
            }
        }
        let _ = writeln!(text, "  }}");
    }
    for (a, p, dev, placeholder) in &gateways {
        if *placeholder {
            let _ = writeln!(
                text,
                "  gateway {a}/{p} on {dev} # {PLACEHOLDER}: the NAT reals' default route"
            );
            let at = services.iter().find_map(|s| {
                s.vs.reals
                    .iter()
                    .find(|r| same_subnet(&r.addr, a, *p))
                    .map(|r| r.at)
            });
            if let Some(at) = at {
                out.push(Finding::warning(at, code::PLACEHOLDER, format!("NAT reals on {a}/{p} need a default route through the directors; keepalived.conf names none: the import wrote `gateway {a}/{p} on {dev}`"), "placeholder", format!("replace the gateway marked {PLACEHOLDER} with the address the reals route through, and the directors' inside interface")));
            }
        } else {
            let _ = writeln!(
                text,
                "  gateway {a}/{p} on {dev} # a VRRP address on the NAT reals' subnet"
            );
            let at = main
                .as_ref()
                .and_then(|v| v.at)
                .or(services.first().map(|s| s.at));
            if let Some(at) = at {
                out.push(Finding::warning(at, code::PLACEHOLDER, format!("the NAT reals on {a}/{p} route back through VRRP address {a} (inferred): the import wrote `gateway {a}/{p} on {dev}`"), "inferred", format!("check that the reals' default route is {a} and that {dev} is the directors' inside interface")));
            }
        }
    }
    let sync = confs.iter().find_map(|(_, c)| c.sync.clone());
    if let Some((interface, id)) = sync {
        match id {
            Some(id) => {
                let _ = writeln!(text, "  sync {interface} id {id}");
            }
            None => {
                let _ = writeln!(text, "  sync {interface}");
            }
        }
    }
    let _ = writeln!(text, "}}");
}

/// The pools (one per distinct set of reals and check) and the services.
fn pools_and_services(text: &mut String, services: &[Service<'_>], out: &mut Findings) {
    let mut pools: BTreeMap<String, String> = BTreeMap::new();
    let mut reported: Vec<Loc> = Vec::new();
    for s in services {
        let key = pool_key(s.vs);
        let pool = match pools.get(&key) {
            Some(name) => name.clone(),
            None => {
                let name = s.name.clone();
                pools.insert(key, name.clone());
                pool(text, &name, s.vs, &mut reported, out);
                name
            }
        };
        service(text, s, &pool);
    }
}

/// What makes two virtual servers' pools the same.
fn pool_key(vs: &VirtualServer) -> String {
    let mut key = String::new();
    for r in &vs.reals {
        let _ = write!(
            key,
            "{}:{:?}:{}:{:?}:{:?}:{:?};",
            r.addr, r.port, r.weight, r.upper, r.lower, r.check
        );
    }
    let _ = write!(key, "{:?}", vs.delay_loop);
    key
}

fn pool(
    text: &mut String,
    name: &str,
    vs: &VirtualServer,
    reported: &mut Vec<Loc>,
    out: &mut Findings,
) {
    let _ = writeln!(text, "\npool {name} {{");
    let first = vs.reals.iter().find(|r| r.check.is_some());
    match first.and_then(|r| r.check.as_ref()) {
        Some(c) => {
            let _ = writeln!(text, "  {}", check(c, vs.delay_loop));
            for r in &vs.reals {
                if r.check != first.and_then(|f| f.check.clone()) && !reported.contains(&r.at) {
                    reported.push(r.at);
                    out.push(Finding::approximated(
                        r.check_at.unwrap_or(r.at),
                        format!("this real's check differs from the first real's: lvsc checks every real of pool `{name}` like the first"),
                    ));
                }
            }
        }
        None => {
            let _ = writeln!(text, "  check none");
        }
    }
    let mut names: Vec<String> = Vec::new();
    for r in &vs.reals {
        for c in &r.comments {
            let _ = writeln!(text, "  # {c}");
        }
        let mut rname = format!("rs-{}", dashed(&r.addr));
        if names.contains(&rname) {
            rname = format!("{rname}-{}", r.port.unwrap_or(0));
        }
        names.push(rname.clone());
        let _ = write!(
            text,
            "  real {rname} {} weight {}",
            endpoint(&r.addr, r.port),
            r.weight
        );
        thresholds(text, r);
        text.push('\n');
    }
    let _ = writeln!(text, "}}");
}

fn thresholds(text: &mut String, r: &RealServer) {
    if let Some(u) = r.upper.filter(|u| *u > 0) {
        let _ = write!(text, " upper {u}");
    }
    if let Some(l) = r.lower.filter(|l| *l > 0) {
        let _ = write!(text, " lower {l}");
    }
}

/// A keepalived checker as an lvsc `check` line (keepalived's `retry` counts the tries
/// after the first failure; lvsc's counts them all).
fn check(c: &Check, delay_loop: Option<f64>) -> String {
    let mut line = format!("check {}", c.kind);
    match c.kind {
        "misc" => {
            let _ = write!(
                line,
                " {}",
                quoted(c.command.as_deref().unwrap_or("/bin/true"))
            );
        }
        "http" | "https" => {
            let _ = write!(line, " {}", quoted(c.path.as_deref().unwrap_or("/")));
            if let Some(s) = c.status {
                let _ = write!(line, " expect {s}");
            }
        }
        _ => {}
    }
    if let Some(p) = c.port.filter(|_| c.kind != "misc") {
        let _ = write!(line, " port {p}");
    }
    if let Some(d) = delay_loop {
        let _ = write!(line, " every {}", duration(d.max(0.1)));
    }
    if let Some(t) = c.timeout {
        let _ = write!(line, " timeout {}", duration(t.clamp(0.1, 3600.0)));
    }
    if let Some(r) = c.retry {
        let _ = write!(line, " retry {}", (r + 1).min(100));
    }
    line
}

fn service(text: &mut String, s: &Service<'_>, pool: &str) {
    let vs = s.vs;
    let _ = writeln!(text);
    for c in &vs.comments {
        let _ = writeln!(text, "# {c}");
    }
    let _ = writeln!(text, "service {} {{", s.name);
    if let Some((ip, port)) = s.vip {
        let _ = writeln!(text, "  vip {}/{}", endpoint(&ip, Some(port)), vs.protocol);
    }
    if let Some(m) = s.fwmark {
        let _ = writeln!(text, "  fwmark {m}");
        if vs.reals.first().is_some_and(|r| r.addr.is_ipv6()) {
            let _ = writeln!(text, "  family inet6");
        }
    }
    let _ = writeln!(text, "  forward {}", vs.kind);
    let _ = write!(text, "  scheduler {}", vs.algo);
    for f in &vs.flags {
        let _ = write!(text, " {f}");
    }
    text.push('\n');
    if let Some(t) = vs.persistence {
        let _ = write!(text, "  persistence {t}s");
        if let Some(g) = &vs.granularity {
            let _ = write!(text, " netmask {g}");
        }
        text.push('\n');
    }
    if let Some((q, h)) = vs.quorum {
        let _ = writeln!(text, "  quorum {q} hysteresis {h}");
    }
    if let Some((ip, port)) = vs.sorry {
        let _ = writeln!(text, "  sorry {}", endpoint(&ip, port));
    }
    if vs.ops {
        let _ = writeln!(text, "  ops");
    }
    let _ = writeln!(text, "  pool {pool}\n}}");
}

fn endpoint(ip: &IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (_, Some(p)) => format!("{ip}:{p}"),
        (_, None) => ip.to_string(),
    }
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Seconds as an lvsc duration.
fn duration(s: f64) -> String {
    let ms = (s * 1000.0).round() as u64;
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// An address as a name part: `192-168-200-2`, `ae00--1`.
fn dashed(ip: &IpAddr) -> String {
    ip.to_string().replace(['.', ':'], "-")
}

/// A keepalived name as an lvsc name: lower case, `_` as `-`, starting with a letter.
fn name_of(s: &str) -> String {
    let mut n: String = s
        .chars()
        .map(|c| match c {
            'A'..='Z' => c.to_ascii_lowercase(),
            'a'..='z' | '0'..='9' | '-' => c,
            _ => '-',
        })
        .collect();
    if !n.starts_with(|c: char| c.is_ascii_alphabetic()) {
        n.insert_str(0, "g-");
    }
    n
}

fn default_prefix(ip: &IpAddr) -> u8 {
    if ip.is_ipv6() { 64 } else { 24 }
}

fn same_subnet(a: &IpAddr, b: &IpAddr, prefix: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(*a) & m == u32::from(*b) & m
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(*a) & m == u128::from(*b) & m
        }
        _ => false,
    }
}

/// A host of the subnet no one uses: from the top down (`.250` for the first director,
/// `.254` for a gateway).
fn free_host(net: &IpAddr, prefix: u8, used: &[IpAddr], nth: usize, gateway: bool) -> IpAddr {
    let start: u128 = if gateway { 254 } else { 250 };
    let mut skip = nth;
    for h in (1..=start).rev() {
        let a = match net {
            IpAddr::V4(v4) => {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(prefix.min(32)))
                    .unwrap_or(0);
                IpAddr::from(std::net::Ipv4Addr::from((u32::from(*v4) & m) | h as u32))
            }
            IpAddr::V6(v6) => {
                let m = u128::MAX
                    .checked_shl(128 - u32::from(prefix.min(128)))
                    .unwrap_or(0);
                IpAddr::from(std::net::Ipv6Addr::from((u128::from(*v6) & m) | h))
            }
        };
        if used.contains(&a) {
            continue;
        }
        if skip == 0 {
            return a;
        }
        skip -= 1;
    }
    *net
}

/// The directors' inside interface for a gateway keepalived.conf says nothing about.
fn inside(outside: &str) -> String {
    if outside == "eth1" {
        "eth2".into()
    } else {
        "eth1".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_values_in_lvsc_words() {
        assert_eq!(duration(6.0), "6s");
        assert_eq!(duration(0.5), "500ms");
        assert_eq!(name_of("LVS_DEVEL"), "lvs-devel");
        assert_eq!(name_of("1st"), "g-1st");
        assert_eq!(dashed(&"ae00::1".parse().unwrap()), "ae00--1");
    }

    #[test]
    fn placeholders_take_a_free_host_from_the_top() {
        let net: IpAddr = "192.168.200.0".parse().unwrap();
        let used: Vec<IpAddr> = vec!["192.168.200.250".parse().unwrap()];
        assert_eq!(
            free_host(&net, 24, &used, 0, false).to_string(),
            "192.168.200.249"
        );
        assert_eq!(
            free_host(&net, 24, &used, 1, false).to_string(),
            "192.168.200.248"
        );
        assert_eq!(
            free_host(&net, 24, &used, 0, true).to_string(),
            "192.168.200.254"
        );
        let v6: IpAddr = "ae00::10".parse().unwrap();
        assert_eq!(free_host(&v6, 64, &[], 0, false).to_string(), "ae00::fa");
    }

    #[test]
    fn keepalived_retries_count_after_the_first_failure() {
        let c = Check {
            kind: "tcp",
            path: None,
            status: None,
            command: None,
            port: Some(443),
            timeout: Some(3.0),
            retry: Some(3),
            delay_before_retry: Some(3.0),
        };
        assert_eq!(
            check(&c, Some(6.0)),
            "check tcp port 443 every 6s timeout 3s retry 4"
        );
    }
}
