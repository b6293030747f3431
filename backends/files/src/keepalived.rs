//! keepalived.conf for a director: VRRP for the floating addresses, one virtual_server
//! per service with a health checker per real.
//!
//! The file is its head (global_defs, VRRP, groups) and then, per service, the head of
//! its `virtual_server`, one part per real and the closing brace. Each part is rendered
//! from its service (and real) alone: a plan compares the parts and renders only those
//! that differ and their neighbours, knowing the others' line counts from their shape.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use lvsc_compiler::ir::{
    AuthKind, Check, ForwardMethod, Real, Service, ServiceKey, TunnelType, VrrpState,
};
use lvsc_compiler::views::DirectorView;
use serde::Serialize;

use crate::BuildError;
use crate::render::RENDERER;

#[derive(Serialize)]
struct Model {
    director: String,
    sync: Option<SyncModel>,
    vrrp: Option<VrrpModel>,
    groups: Vec<GroupModel>,
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

/// The head of one service's `virtual_server`; borrows from the IR, so that modelling
/// 10,000 services to learn their line counts allocates little.
#[derive(Serialize, PartialEq, Eq, Hash)]
struct ServiceModel<'s> {
    name: &'s str,
    header: String,
    delay_loop: u64,
    lb_algo: &'s str,
    flags: &'s [String],
    lb_kind: &'static str,
    protocol: Option<&'static str>,
    ops: bool,
    persistence_timeout: u32,
    persistence_granularity: Option<String>,
    sorry: Option<String>,
    quorum: u32,
    hysteresis: u32,
    check: Option<CheckModel<'s>>,
}

#[derive(Serialize, PartialEq, Eq, Hash)]
struct CheckModel<'s> {
    kind: &'static str,
    url: Option<&'s str>,
    status: u16,
    misc: Option<&'s str>,
    port: Option<u16>,
    timeout: u64,
    retry: u32,
    delay: u64,
}

#[derive(Serialize)]
struct RealModel<'s> {
    name: &'s str,
    ip: IpAddr,
    port: u16,
    weight: u32,
    uthreshold: u32,
    lthreshold: u32,
}

impl ServiceModel<'_> {
    /// What decides the head's line count: which optional lines the template writes (it
    /// tests only whether a value is set, never what it is) and how many flags. Values
    /// hold no line breaks: the compiler refuses control characters.
    fn shape(&self) -> Shape {
        let bits = [
            self.protocol.is_some(),
            self.ops,
            self.persistence_timeout != 0,
            self.persistence_granularity.is_some(),
            self.sorry.is_some(),
            self.quorum != 0,
            self.check.is_some(),
        ];
        Shape::Head(bits, self.flags.len())
    }
}

impl CheckModel<'_> {
    /// The optional lines a real's check writes.
    fn shape(&self) -> [bool; 3] {
        [self.url.is_some(), self.misc.is_some(), self.port.is_some()]
    }
}

/// What decides a part's line count.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Head([bool; 7], usize),
    Real([bool; 2], Option<[bool; 3]>),
}

fn real_shape(r: &RealModel<'_>, check: Option<&CheckModel<'_>>) -> Shape {
    Shape::Real(
        [r.uthreshold != 0, r.lthreshold != 0],
        check.map(CheckModel::shape),
    )
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

/// The group a firewall-mark service needs.
fn group(s: &Service) -> Option<GroupModel> {
    match s.key {
        ServiceKey::Fwmark { mark, .. } => Some(GroupModel {
            name: s.name.clone(),
            fwmark: mark,
        }),
        ServiceKey::Addr { .. } => None,
    }
}

/// Why keepalived cannot carry `s`, if it cannot.
fn refusal(s: &Service, director: &str) -> Option<BuildError> {
    let t = s.forward.tunnel.filter(|t| *t != TunnelType::Ipip)?;
    Some(BuildError {
        host: director.to_string(),
        message: format!(
            "service {}: keepalived 2.2 as Debian ships it cannot set the tunnel type ({t}); use `lvsc apply` (netlink) for GUE/GRE tunnels",
            s.name
        ),
    })
}

fn service(s: &Service) -> ServiceModel<'_> {
    let v6 = s.is_ipv6();
    let (header, protocol) = match &s.key {
        ServiceKey::Addr { ip, port, proto } => {
            let p = match proto {
                lvsc_compiler::ir::Protocol::Tcp => "TCP",
                lvsc_compiler::ir::Protocol::Udp => "UDP",
                lvsc_compiler::ir::Protocol::Sctp => "SCTP",
            };
            (format!("{ip} {port}"), Some(p))
        }
        ServiceKey::Fwmark { .. } => (format!("group {}", s.name), None),
    };
    let (every, timing) = match &s.check {
        Check::None => (5000, None),
        Check::Tcp { timing }
        | Check::Http { timing, .. }
        | Check::Https { timing, .. }
        | Check::Misc { timing, .. } => (timing.every_ms, Some(timing)),
    };
    let check = timing.map(|t| {
        let (kind, url, status, misc) = match &s.check {
            Check::Http { path, expect, .. } => ("HTTP_GET", Some(path.as_str()), *expect, None),
            Check::Https { path, expect, .. } => ("SSL_GET", Some(path.as_str()), *expect, None),
            Check::Misc { command, .. } => ("MISC_CHECK", None, 0, Some(command.as_str())),
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
    ServiceModel {
        name: &s.name,
        header,
        delay_loop: secs(every),
        lb_algo: &s.scheduler.name,
        flags: &s.scheduler.flags,
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
    }
}

fn real(r: &Real) -> RealModel<'_> {
    RealModel {
        name: &r.name,
        ip: r.ip,
        port: r.port,
        weight: r.weight,
        uthreshold: r.upper,
        lthreshold: r.lower,
    }
}

fn service_port(s: &Service) -> u16 {
    match s.key {
        ServiceKey::Addr { port, .. } => port,
        ServiceKey::Fwmark { .. } => 0,
    }
}

/// keepalived.conf of one director in parts, each rendered on demand (a plan renders
/// only the parts that change): the file's head, then per service the head of its
/// `virtual_server`, one part per real and the closing brace.
pub struct KeepalivedConf {
    head: String,
    services: Arc<Vec<Service>>,
    /// Where each service's parts begin (part 0 is the file's head), then the count.
    starts: Vec<usize>,
    /// Each part's line count.
    lines: Vec<u32>,
}

/// A part of a [`KeepalivedConf`] as a plan compares it: equal keys, equal text.
#[derive(PartialEq, Eq)]
pub struct PartKey<'a>(Key<'a>);

#[derive(PartialEq, Eq)]
enum Key<'a> {
    Head(&'a str),
    Service(Box<ServiceModel<'a>>),
    // A real's part shows the service's check too.
    Real(&'a Check, &'a Real),
    Close,
}

impl std::hash::Hash for PartKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(&self.0).hash(state);
        match &self.0 {
            Key::Head(h) => h.hash(state),
            Key::Service(m) => m.hash(state),
            // Equal reals have equal names; the name alone is quick and agrees.
            Key::Real(_, r) => r.name.hash(state),
            Key::Close => {}
        }
    }
}

/// A group of parts of a [`KeepalivedConf`] as a plan compares it first: the file's
/// head, or a service with its reals.
#[derive(PartialEq, Eq)]
pub struct GroupKey<'a>(Group<'a>);

#[derive(PartialEq, Eq)]
enum Group<'a> {
    Head(&'a str),
    Service(&'a Service),
}

impl std::hash::Hash for GroupKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self.0 {
            Group::Head(h) => h.hash(state),
            // Equal services have equal names; the name alone is quick and agrees.
            Group::Service(s) => s.name.hash(state),
        }
    }
}

/// Where a part is: the file's head, or a service's head, real or closing brace.
enum At {
    Head,
    Service(usize),
    Real(usize, usize),
    Close,
}

impl KeepalivedConf {
    /// Models `d`'s keepalived.conf; a service keepalived cannot carry goes to `errors`.
    pub fn new(cluster: &str, d: &DirectorView, errors: &mut Vec<BuildError>) -> Self {
        // Unless keepalived checks the reals (IPVS only), it only moves the VIPs: `lvsc
        // run` checks the reals and changes the data plane.
        let services = match d.checker {
            lvsc_compiler::ir::Checker::Keepalived => d.services.clone(),
            lvsc_compiler::ir::Checker::Lvsc => Arc::default(),
        };
        errors.extend(services.iter().filter_map(|s| refusal(s, &d.name)));
        let head = head(cluster, d, services.iter().filter_map(group).collect());
        // Parts of one shape have one line count: render one of each. Neighbours mostly
        // share a shape: ask the map only when it changes.
        let mut by_shape: HashMap<Shape, u32> = HashMap::new();
        let mut last: Option<(Shape, u32)> = None;
        let mut count = |shape: Shape, render: &dyn Fn() -> String| match &last {
            Some((s, n)) if *s == shape => *n,
            _ => {
                let n = *by_shape
                    .entry(shape)
                    .or_insert_with_key(|_| render().lines().count() as u32);
                last = Some((shape, n));
                n
            }
        };
        let parts = 1 + services.iter().map(|s| s.reals.len() + 2).sum::<usize>();
        let mut starts = Vec::with_capacity(services.len() + 1);
        let mut lines = Vec::with_capacity(parts);
        lines.push(head.lines().count() as u32);
        for s in services.iter() {
            starts.push(lines.len());
            let m = service(s);
            lines.push(count(m.shape(), &|| head_text(&m)));
            for r in &s.reals {
                let r = real(r);
                let shape = real_shape(&r, m.check.as_ref());
                lines.push(count(shape, &|| real_text(&r, m.check.as_ref())));
            }
            lines.push(1);
        }
        starts.push(lines.len());
        KeepalivedConf {
            head,
            services,
            starts,
            lines,
        }
    }

    fn at(&self, i: usize) -> At {
        if i == 0 {
            return At::Head;
        }
        let s = self.starts.partition_point(|&b| b <= i) - 1;
        match i - self.starts[s] {
            0 => At::Service(s),
            j if j <= self.services[s].reals.len() => At::Real(s, j - 1),
            _ => At::Close,
        }
    }

    /// How many groups of parts: the file's head, then each service.
    pub fn groups(&self) -> usize {
        1 + self.services.len()
    }

    /// Group `g` as a plan compares it.
    pub fn group_key(&self, g: usize) -> GroupKey<'_> {
        GroupKey(match g {
            0 => Group::Head(&self.head),
            _ => Group::Service(&self.services[g - 1]),
        })
    }

    /// Group `g`'s first part; [`Self::groups`] gives [`Self::parts`].
    pub fn group_start(&self, g: usize) -> usize {
        match g {
            0 => 0,
            _ => self.starts[g - 1],
        }
    }

    /// How many parts: the file's head, then each service's.
    pub fn parts(&self) -> usize {
        self.starts[self.starts.len() - 1]
    }

    /// Part `i` as a plan compares it.
    pub fn key(&self, i: usize) -> PartKey<'_> {
        PartKey(match self.at(i) {
            At::Head => Key::Head(&self.head),
            At::Service(s) => Key::Service(Box::new(service(&self.services[s]))),
            At::Real(s, r) => Key::Real(&self.services[s].check, &self.services[s].reals[r]),
            At::Close => Key::Close,
        })
    }

    /// Part `i`'s line count.
    pub fn lines(&self, i: usize) -> usize {
        self.lines[i] as usize
    }

    /// Part `i`'s text.
    pub fn text(&self, i: usize) -> String {
        match self.at(i) {
            At::Head => self.head.clone(),
            At::Service(s) => head_text(&service(&self.services[s])),
            At::Real(s, r) => {
                let s = &self.services[s];
                real_text(&real(&s.reals[r]), service(s).check.as_ref())
            }
            At::Close => "}\n".into(),
        }
    }

    /// The whole file.
    pub fn whole(&self) -> String {
        (0..self.parts()).map(|i| self.text(i)).collect()
    }
}

fn head_text(m: &ServiceModel<'_>) -> String {
    RENDERER.render_plain(
        "keepalived-service",
        minijinja::context! { s => minijinja::Value::from(minijinja::value::Serde(m)) },
    )
}

fn real_text(r: &RealModel<'_>, check: Option<&CheckModel<'_>>) -> String {
    RENDERER.render_plain(
        "keepalived-real",
        minijinja::context! {
            r => minijinja::Value::from(minijinja::value::Serde(r)),
            check => minijinja::Value::from(minijinja::value::Serde(check)),
        },
    )
}

/// The head of `d`'s keepalived.conf.
fn head(cluster: &str, d: &DirectorView, groups: Vec<GroupModel>) -> String {
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
    RENDERER.render(
        "keepalived.conf",
        cluster,
        &d.name,
        Model {
            director: d.name.clone(),
            sync,
            vrrp,
            groups,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every part's known line count is its rendered one, and the parts make the file,
    /// over every example (all the optional lines the templates have).
    #[test]
    fn line_counts_from_the_shape_match_the_rendered_parts() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
        let mut parts = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_none_or(|x| x != "lvs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let Some(c) = lvsc_compiler::compile_source(&text).cluster else {
                continue;
            };
            for d in lvsc_compiler::views(&c).directors {
                let k = KeepalivedConf::new(&c.name, &d, &mut Vec::new());
                let mut whole = String::new();
                for i in 0..k.parts() {
                    let t = k.text(i);
                    assert_eq!(t.lines().count(), k.lines(i), "{path:?} {i}: {t}");
                    assert!(t.ends_with('\n'), "{path:?} {i}: {t}");
                    whole += &t;
                    parts += 1;
                }
                assert_eq!(whole, k.whole());
            }
        }
        assert!(parts >= 60, "the examples make {parts} parts");
    }
}
