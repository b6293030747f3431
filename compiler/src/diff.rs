//! The difference between two clusters: what changes on which host, and what could hurt
//! traffic. `lvsc plan --from` shows it.
//!
//! Each object (service, real, VRRP role, mount, export, ...) is flattened into named
//! fields; a plan lists objects added, removed and changed, field by field. Secrets are
//! never in the IR, so they can never be in a plan.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::ir::{Check, Cluster, InterfaceAddress, Real, Service, ServiceKey, VrrpState};
use crate::views::{DirectorView, HostViews, RealServerView, StorageServerView, views_of};

/// Every change between two clusters, per host, and the risks it carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterDiff {
    /// HostViews with at least one change, in role order (directors, reals, storage).
    pub hosts: Vec<HostDiff>,
    /// Changes that can hurt live traffic.
    pub risks: Vec<Risk>,
}

impl ClusterDiff {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}

/// The changes on one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostDiff {
    /// Host name.
    pub host: String,
    /// `director`, `real-server` or `storage-server`.
    pub role: String,
    /// Object changes.
    pub changes: Vec<Change>,
}

/// One object added, removed or changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// What happens to it.
    pub action: Action,
    /// Its kind: `host`, `service`, `real`, `vrrp`, `address`, `sysctl`, `mount`, ...
    pub object: String,
    /// Its name, e.g. `www` or `www/rs1`.
    pub name: String,
    /// Field by field: for an added object the new values, for a removed one the old.
    pub fields: Vec<FieldChange>,
}

/// What happens to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Created.
    Add,
    /// Deleted.
    Remove,
    /// Modified in place.
    Change,
}

/// One field's old and new value (`None` where it does not exist).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Field name.
    pub field: String,
    /// Value before.
    pub old: Option<String>,
    /// Value after.
    pub new: Option<String>,
}

/// A change that can hurt traffic, with what to do instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Risk {
    /// Stable code, e.g. `lvsc::plan::real-removed-with-weight`.
    pub code: String,
    /// What the change does.
    pub message: String,
    /// How to make it safe.
    pub advice: String,
}

type Fields = BTreeMap<String, String>;

/// The plan that turns `old` into `new`.
pub fn diff(old: &Cluster, new: &Cluster) -> ClusterDiff {
    // The two sides are independent: derive them on two cores.
    // Real servers' views follow from the pools, the storage and what each service
    // forwards where; when none of that changed (weights did, say), no real's view did:
    // skip deriving 2 x 160,000 of them.
    let with_reals = !same_real_inputs(old, new);
    let (ho, hn) = std::thread::scope(|s| {
        let o = s.spawn(|| views_of(old, None, with_reals));
        let n = views_of(new, None, with_reals);
        (o.join().expect("views() does not panic"), n)
    });
    let mut out = Vec::new();
    host_diffs(
        &mut out,
        "director",
        &ho.directors,
        &hn.directors,
        |h| &h.name,
        director_objects,
    );
    host_diffs(
        &mut out,
        "real-server",
        &ho.reals,
        &hn.reals,
        |h| &h.name,
        |o, n| (o.map(real_objects), n.map(real_objects)),
    );
    host_diffs(
        &mut out,
        "storage-server",
        &ho.storage,
        &hn.storage,
        |h| &h.name,
        |o, n| (o.map(storage_objects), n.map(storage_objects)),
    );
    ClusterDiff {
        hosts: out,
        risks: risks(old, new, &ho, &hn),
    }
}

/// Whether everything real servers' views are derived from is the same on both sides:
/// the pools, the storage, and each service's name, pool, forwarding, VIPs and reals.
fn same_real_inputs(old: &Cluster, new: &Cluster) -> bool {
    old.pools == new.pools
        && old.storage == new.storage
        && old.services.len() == new.services.len()
        && old.services.iter().zip(new.services.iter()).all(|(a, b)| {
            a.name == b.name
                && a.pool == b.pool
                && a.forward == b.forward
                && a.vips == b.vips
                && a.reals.len() == b.reals.len()
                && a.reals.iter().zip(&b.reals).all(|(x, y)| x.name == y.name)
        })
}

/// Objects of one host: (kind, name) → fields.
type Objects = BTreeMap<(String, String), Fields>;

/// Objects of a host before and after (`None` where the host does not exist).
type ObjectPair = (Option<Objects>, Option<Objects>);

fn host_diffs<T: PartialEq>(
    out: &mut Vec<HostDiff>,
    role: &str,
    old: &[T],
    new: &[T],
    name: impl Fn(&T) -> &String,
    objects: impl Fn(Option<&T>, Option<&T>) -> ObjectPair,
) {
    let old_by: BTreeMap<&String, &T> = old.iter().map(|h| (name(h), h)).collect();
    let new_by: BTreeMap<&String, &T> = new.iter().map(|h| (name(h), h)).collect();
    let mut names: Vec<&String> = new.iter().map(&name).collect();
    names.extend(old.iter().map(&name).filter(|n| !new_by.contains_key(n)));
    for n in names {
        let (o, w) = (old_by.get(n).copied(), new_by.get(n).copied());
        if o == w {
            continue; // most hosts of a big cluster are untouched: skip them whole
        }
        let mut changes = Vec::new();
        match (o, w) {
            (None, Some(_)) => changes.push(Change {
                action: Action::Add,
                object: "host".into(),
                name: n.clone(),
                fields: vec![],
            }),
            (Some(_), None) => changes.push(Change {
                action: Action::Remove,
                object: "host".into(),
                name: n.clone(),
                fields: vec![],
            }),
            _ => {}
        }
        let (oo, wo) = objects(o, w);
        diff_objects(
            &mut changes,
            &oo.unwrap_or_default(),
            &wo.unwrap_or_default(),
        );
        if !changes.is_empty() {
            out.push(HostDiff {
                host: n.clone(),
                role: role.into(),
                changes,
            });
        }
    }
}

fn diff_objects(out: &mut Vec<Change>, old: &Objects, new: &Objects) {
    for (key, nf) in new {
        match old.get(key) {
            None => out.push(change(Action::Add, key, &Fields::new(), nf)),
            Some(of) if of != nf => out.push(change(Action::Change, key, of, nf)),
            Some(_) => {}
        }
    }
    for (key, of) in old {
        if !new.contains_key(key) {
            out.push(change(Action::Remove, key, of, &Fields::new()));
        }
    }
}

fn change(action: Action, (object, name): &(String, String), old: &Fields, new: &Fields) -> Change {
    let mut fields = Vec::new();
    for (f, v) in new {
        if old.get(f) != Some(v) {
            fields.push(FieldChange {
                field: f.clone(),
                old: old.get(f).cloned(),
                new: Some(v.clone()),
            });
        }
    }
    for (f, v) in old {
        if !new.contains_key(f) {
            fields.push(FieldChange {
                field: f.clone(),
                old: Some(v.clone()),
                new: None,
            });
        }
    }
    Change {
        action,
        object: object.clone(),
        name: name.clone(),
        fields,
    }
}

fn fields<const N: usize>(pairs: [(&str, String); N]) -> Fields {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// How IPVS names a service: `192.0.2.100:80/tcp` or `fwmark 10`.
pub fn service_key(s: &Service) -> String {
    match &s.key {
        ServiceKey::Addr { ip, port, proto } => {
            format!("{}/{proto}", std::net::SocketAddr::new(*ip, *port))
        }
        ServiceKey::Fwmark { mark, ipv6 } => {
            format!("fwmark {mark}{}", if *ipv6 { " inet6" } else { "" })
        }
    }
}

fn check_text(c: &Check) -> String {
    match c {
        Check::None => "none".into(),
        Check::Tcp { timing } => format!(
            "tcp every {}ms timeout {}ms",
            timing.every_ms, timing.timeout_ms
        ),
        Check::Http {
            path,
            expect,
            timing,
        } => format!("http {path} expect {expect} every {}ms", timing.every_ms),
        Check::Https {
            path,
            expect,
            timing,
        } => format!("https {path} expect {expect} every {}ms", timing.every_ms),
        Check::Misc { command, timing } => {
            format!(
                "misc {} every {}ms",
                lvsc_lang::value::quote(command),
                timing.every_ms
            )
        }
    }
}

fn service_fields(s: &Service) -> Fields {
    let vips: Vec<String> = s
        .vips
        .iter()
        .map(|v| format!("{}:{}/{}", v.ip, v.port, v.proto))
        .collect();
    let forward = match (s.forward.method, s.forward.tunnel) {
        (m, Some(t)) => format!("{m} {t}"),
        (m, None) => m.to_string(),
    };
    fields([
        ("key", service_key(s)),
        (
            "vips",
            if s.vips.len() > 1 {
                vips.join(", ")
            } else {
                String::new()
            },
        ),
        (
            "scheduler",
            [s.scheduler.name.clone()]
                .into_iter()
                .chain(s.scheduler.flags.iter().cloned())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        ("forward", forward),
        (
            "persistence",
            s.persistence
                .as_ref()
                .map_or(String::new(), |p| format!("{}s /{}", p.timeout_s, p.prefix)),
        ),
        ("check", check_text(&s.check)),
        (
            "sorry",
            s.sorry.as_ref().map_or(String::new(), |d| {
                format!("{}:{}", d.ip, d.port.unwrap_or(0))
            }),
        ),
        (
            "quorum",
            s.quorum.as_ref().map_or(String::new(), |q| {
                format!("{} hysteresis {}", q.value, q.hysteresis)
            }),
        ),
        ("ops", if s.ops { "on".into() } else { String::new() }),
        ("mtu", s.mtu.map_or(String::new(), |m| m.to_string())),
        ("pool", s.pool.clone()),
    ])
}

/// A director's objects before and after; services equal on both sides are left out
/// (a 10,000-service director with a few changes flattens only those).
fn director_objects(old: Option<&DirectorView>, new: Option<&DirectorView>) -> ObjectPair {
    fn by_name(d: Option<&DirectorView>) -> BTreeMap<&str, &Service> {
        d.map(|d| d.services.iter().map(|s| (s.name.as_str(), s)).collect())
            .unwrap_or_default()
    }
    // Addresses held on both sides alike make no object either (a big cluster floats
    // 10,000 VIPs).
    fn floating(d: Option<&DirectorView>) -> BTreeSet<&InterfaceAddress> {
        d.map(|d| d.floating.iter().collect()).unwrap_or_default()
    }
    let (os, ns) = (by_name(old), by_name(new));
    let (of, nf) = (floating(old), floating(new));
    (
        old.map(|d| director_side(d, &changed(d, &ns), &nf)),
        new.map(|d| director_side(d, &changed(d, &os), &of)),
    )
}

/// The services of `d` that differ from `theirs`, each with only the reals that differ
/// from their counterpart's of the same name: a weight changed in a big cluster makes
/// one object each side, not one per real of every service it touches.
fn changed<'a>(
    d: &'a DirectorView,
    theirs: &BTreeMap<&str, &Service>,
) -> Vec<(&'a Service, Vec<&'a Real>)> {
    d.services
        .iter()
        .filter_map(|s| {
            let t = theirs.get(s.name.as_str());
            if t == Some(&s) {
                return None;
            }
            let same: HashMap<&str, &Real> = t
                .map(|t| t.reals.iter().map(|r| (r.name.as_str(), r)).collect())
                .unwrap_or_default();
            let reals = s
                .reals
                .iter()
                .filter(|r| same.get(r.name.as_str()) != Some(r))
                .collect();
            Some((s, reals))
        })
        .collect::<Vec<_>>()
}

fn director_side(
    d: &DirectorView,
    services: &[(&Service, Vec<&Real>)],
    their_floating: &BTreeSet<&InterfaceAddress>,
) -> Objects {
    let mut o = Objects::new();
    for (s, reals) in services {
        o.insert(("service".into(), s.name.clone()), service_fields(s));
        for r in reals {
            let f = fields([
                ("address", format!("{}:{}", r.ip, r.port)),
                ("weight", r.weight.to_string()),
                (
                    "upper",
                    if r.upper > 0 {
                        r.upper.to_string()
                    } else {
                        String::new()
                    },
                ),
                (
                    "lower",
                    if r.lower > 0 {
                        r.lower.to_string()
                    } else {
                        String::new()
                    },
                ),
                ("drain", if r.drain { "yes".into() } else { String::new() }),
            ]);
            o.insert(("real".into(), format!("{}/{}", s.name, r.name)), f);
        }
    }
    for a in d.floating.iter().filter(|a| !their_floating.contains(a)) {
        o.insert(
            ("address".into(), format!("{}/{}", a.addr, a.prefix)),
            fields([("interface", a.interface.clone())]),
        );
    }
    // IPVS checked by keepalived is the default: anything else is an object of its own.
    if d.dataplane != crate::ir::Dataplane::Ipvs || d.checker != crate::ir::Checker::Keepalived {
        let by = match d.checker {
            crate::ir::Checker::Keepalived => "keepalived",
            crate::ir::Checker::Lvsc => "lvsc run",
        };
        o.insert(
            ("dataplane".into(), d.dataplane.to_string()),
            fields([("checked-by", by.to_string())]),
        );
    }
    if let Some(v) = &d.vrrp {
        let auth = v
            .group
            .auth
            .as_ref()
            .map_or(String::new(), |a| match &a.secret {
                crate::ir::SecretRef::Env(n) => format!("{} from env {n}", a.kind),
                crate::ir::SecretRef::File(p) => format!("{} from file {p}", a.kind),
            });
        let f = fields([
            ("router-id", v.group.router_id.to_string()),
            ("state", v.state.to_string()),
            ("priority", v.priority.to_string()),
            ("interface", v.interface.clone()),
            ("advert", format!("{}ms", v.group.advert_ms)),
            ("preempt", v.group.preempt.to_string()),
            ("auth", auth),
        ]);
        o.insert(("vrrp".into(), format!("VI_{}", v.group.router_id)), f);
    }
    if let Some(s) = &d.sync {
        o.insert(
            ("sync".into(), s.interface.clone()),
            fields([("id", s.id.to_string())]),
        );
    }
    sysctls(&mut o, &d.sysctls);
    o
}

fn sysctls(o: &mut Objects, s: &BTreeMap<String, String>) {
    for (k, v) in s {
        o.insert(("sysctl".into(), k.clone()), fields([("value", v.clone())]));
    }
}

fn real_objects(r: &RealServerView) -> Objects {
    let mut o = Objects::new();
    for v in &r.loopback_vips {
        o.insert(
            ("vip-on-lo".into(), v.to_string()),
            fields([("device", "lo".into())]),
        );
    }
    for (t, v) in &r.tunnel_vips {
        o.insert(
            ("vip-on-tunnel".into(), v.to_string()),
            fields([("tunnel", t.to_string())]),
        );
    }
    if let Some(g) = r.nat_gateway {
        o.insert(
            ("route".into(), "default".into()),
            fields([("via", g.to_string())]),
        );
    }
    for m in &r.mounts {
        o.insert(
            ("mount".into(), m.path.clone()),
            fields([
                ("type", m.fstype.clone()),
                ("source", m.source.clone()),
                ("options", m.options.clone()),
            ]),
        );
    }
    sysctls(&mut o, &r.sysctls);
    o
}

fn storage_objects(s: &StorageServerView) -> Objects {
    let mut o = Objects::new();
    for e in &s.exports {
        let clients: Vec<String> = e.clients.iter().map(|c| c.to_string()).collect();
        o.insert(
            ("export".into(), e.path.clone()),
            fields([
                ("clients", clients.join(" ")),
                ("options", e.options.clone()),
            ]),
        );
    }
    o
}

fn risk(code: &str, message: String, advice: &str) -> Risk {
    Risk {
        code: format!("lvsc::plan::{code}"),
        message,
        advice: advice.into(),
    }
}

fn master(h: &HostViews) -> Option<&str> {
    h.directors
        .iter()
        .filter_map(|d| d.vrrp.as_ref().map(|v| (d, v)))
        .max_by_key(|(_, v)| (v.state == VrrpState::Master, v.priority))
        .map(|(d, _)| d.name.as_str())
}

fn risks(old: &Cluster, new: &Cluster, ho: &HostViews, hn: &HostViews) -> Vec<Risk> {
    let mut out = Vec::new();
    let new_by: BTreeMap<&str, &Service> =
        new.services.iter().map(|s| (s.name.as_str(), s)).collect();
    for o in old.services.iter() {
        let Some(n) = new_by.get(o.name.as_str()) else {
            out.push(risk(
                "vip-removed",
                format!(
                    "service {} ({}) is removed: clients of its VIP lose the service",
                    o.name,
                    service_key(o)
                ),
                "move clients away first (DNS, announcements), then remove the service",
            ));
            continue;
        };
        for v in o.vips.iter().filter(|v| !n.vips.contains(v)) {
            out.push(risk(
                "vip-removed",
                format!(
                    "service {}: VIP {}:{}/{} is removed",
                    o.name, v.ip, v.port, v.proto
                ),
                "move clients to the new address before removing the old one",
            ));
        }
        for r in &o.reals {
            if r.weight > 0 && !n.reals.iter().any(|x| x.name == r.name) {
                out.push(risk(
                    "real-removed-with-weight",
                    format!("service {}: real {} is removed while it still has weight {}", o.name, r.name, r.weight),
                    "drain it first: mark it `drain`, apply, wait for its connections to finish, then remove it",
                ));
            }
        }
        if !o.reals.is_empty() && n.reals.iter().all(|r| r.weight == 0) {
            out.push(risk(
                "last-real-removed",
                format!(
                    "service {} is left without a real server that takes traffic",
                    o.name
                ),
                "keep at least one real with weight, or remove the service on purpose",
            ));
        }
        if o.scheduler != n.scheduler {
            out.push(risk(
                "scheduler-change",
                format!(
                    "service {}: scheduler {} → {} on a live service",
                    o.name, o.scheduler.name, n.scheduler.name
                ),
                "a scheduler change reshuffles new connections; do it in a quiet hour",
            ));
        }
        if o.persistence != n.persistence {
            out.push(risk(
                "persistence-change",
                format!("service {}: persistence changes on a live service", o.name),
                "clients may lose their affinity to a real; expect re-logins or cache misses",
            ));
        }
        if o.forward.method != n.forward.method {
            out.push(risk(
                "forward-change",
                format!(
                    "service {}: forwarding {} → {}",
                    o.name, o.forward.method, n.forward.method
                ),
                "run the reals' new setup.sh (VIP on lo, tunnel or route) before changing the directors",
            ));
        }
    }
    if let (Some(a), Some(b)) = (master(ho), master(hn))
        && a != b
    {
        out.push(risk(
            "master-moves",
            format!("the VRRP master moves from {a} to {b}"),
            "expect a failover: connections without sync are lost; apply on the new master last",
        ));
    }
    out
}
