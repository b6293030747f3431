//! Per-host views: what each director, real server and storage server must have.
//!
//! Backends render these; they never look at the cluster as a whole again.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::ir::*;

/// Every host of the cluster and what it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostViews {
    /// Directors.
    pub directors: Vec<DirectorView>,
    /// Real servers.
    pub reals: Vec<RealServerView>,
    /// Storage servers.
    pub storage: Vec<StorageServerView>,
}

/// What one director must have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorView {
    /// Host name.
    pub name: String,
    /// Its own addresses.
    pub addresses: Vec<InterfaceAddress>,
    /// The IPVS services it carries (every director carries all, ready for failover),
    /// shared with the cluster.
    pub services: std::sync::Arc<Vec<Service>>,
    /// Addresses it holds while VRRP master: VIPs and gateways, with interface.
    pub floating: Vec<InterfaceAddress>,
    /// Its VRRP role.
    pub vrrp: Option<VrrpRole>,
    /// Connection sync.
    pub sync: Option<Sync>,
    /// Kernel settings.
    pub sysctls: BTreeMap<String, String>,
    /// What balances on it.
    pub dataplane: Dataplane,
    /// Who checks its reals.
    pub checker: Checker,
    /// Its BGP sessions and the VIPs it announces, with `bgp`.
    pub bgp: Option<BgpRole>,
    /// Where rollout tools reach it (`manage`, else its first address).
    pub manage: Option<IpAddr>,
}

/// The interface `lvsc run` puts announced VIPs on (as /32 or /128), where the routing
/// daemon picks them up: every Linux host has it, and a VIP there is local, as IPVS needs.
pub const ANNOUNCE_INTERFACE: &str = "lo";

/// A director's part in BGP: its sessions and the VIPs it announces while healthy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BgpRole {
    /// The sessions and route attributes (shared by every director).
    pub bgp: Bgp,
    /// Its router id.
    pub router_id: std::net::Ipv4Addr,
    /// The VIPs of the services announced over BGP, sorted.
    pub vips: Vec<IpAddr>,
}

/// A director's part in the VRRP group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpRole {
    /// The group.
    pub group: Vrrp,
    /// Start state.
    pub state: VrrpState,
    /// Priority.
    pub priority: u8,
    /// Interface adverts go out on.
    pub interface: String,
    /// Its own address on that interface (unicast source).
    pub source: IpAddr,
    /// The other directors' addresses on that interface.
    pub peers: Vec<IpAddr>,
}

/// What one real server must have.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealServerView {
    /// Host name.
    pub name: String,
    /// Address.
    pub ip: IpAddr,
    /// VIPs on `lo` (DR): the real accepts them without answering ARP.
    pub loopback_vips: BTreeSet<IpAddr>,
    /// VIPs on the tunnel device (TUN), by encapsulation.
    pub tunnel_vips: BTreeSet<(TunnelType, IpAddr)>,
    /// Default route through a director (NAT).
    pub nat_gateway: Option<IpAddr>,
    /// Kernel settings the forwarding method needs.
    pub sysctls: BTreeMap<String, String>,
    /// Shared storage to mount.
    pub mounts: Vec<MountView>,
    /// The services it serves (name, forwarding method).
    pub services: Vec<(String, ForwardMethod)>,
    /// Where rollout tools reach it (`manage`, else its address).
    pub manage: IpAddr,
}

/// One mount on a real.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountView {
    /// Storage name.
    pub storage: String,
    /// File system type as mount(8) names it.
    pub fstype: String,
    /// What to mount.
    pub source: String,
    /// Mount point.
    pub path: String,
    /// Options (version and credentials folded in).
    pub options: String,
}

/// What one storage server must export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageServerView {
    /// Host name.
    pub name: String,
    /// Address.
    pub ip: IpAddr,
    /// Exports.
    pub exports: Vec<ExportView>,
    /// Where rollout tools reach it (`manage`, else its address).
    pub manage: IpAddr,
}

/// One export and its clients.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportView {
    /// Storage name.
    pub storage: String,
    /// NFS or CIFS.
    pub kind: StorageKind,
    /// Exported path or share.
    pub path: String,
    /// Clients that mount it.
    pub clients: BTreeSet<IpAddr>,
    /// exports(5) options.
    pub options: String,
}

impl HostViews {
    /// Every host's name and role, in a stable order.
    pub fn roles(&self) -> Vec<(&str, &'static str)> {
        let d = self.directors.iter().map(|h| (h.name.as_str(), "director"));
        let r = self.reals.iter().map(|h| (h.name.as_str(), "real-server"));
        let s = self
            .storage
            .iter()
            .map(|h| (h.name.as_str(), "storage-server"));
        d.chain(r).chain(s).collect()
    }
}

/// Derives every host's view from the IR.
pub fn views(c: &Cluster) -> HostViews {
    views_of(c, None, true)
}

/// The views of the hosts in `only` (every host when `None`), and of no real server
/// without `with_reals`: a big cluster has 160,000 real servers, and a plan or a build
/// of a few hosts derives only theirs.
pub fn views_of(
    c: &Cluster,
    only: Option<&std::collections::BTreeSet<String>>,
    with_reals: bool,
) -> HostViews {
    let keep = |name: &str| only.is_none_or(|o| o.contains(name));
    let mut storage = storage_servers(c);
    storage.retain(|h| keep(&h.name));
    HostViews {
        directors: directors(c, &keep),
        reals: if with_reals {
            reals(c, &keep)
        } else {
            Vec::new()
        },
        storage,
    }
}

fn directors(c: &Cluster, keep: &dyn Fn(&str) -> bool) -> Vec<DirectorView> {
    let b = &c.balancer;
    let nat4 = c
        .services
        .iter()
        .any(|s| s.forward.method == ForwardMethod::Nat && !s.is_ipv6());
    let nat6 = c
        .services
        .iter()
        .any(|s| s.forward.method == ForwardMethod::Nat && s.is_ipv6());
    b.directors
        .iter()
        .filter(|d| keep(&d.name))
        .map(|d| {
            let primary = d.addresses.first();
            let on_iface = |ip: IpAddr| {
                let iface = d
                    .addresses
                    .iter()
                    .find(|a| a.contains(ip))
                    .or(primary)
                    .map_or_else(|| "eth0".to_string(), |a| a.interface.clone());
                let prefix = d
                    .addresses
                    .iter()
                    .find(|a| a.contains(ip))
                    .map_or(if ip.is_ipv4() { 32 } else { 128 }, |a| a.prefix);
                InterfaceAddress {
                    addr: ip,
                    prefix,
                    interface: iface,
                }
            };
            let vips: BTreeSet<IpAddr> = c
                .services
                .iter()
                .filter(|s| s.announce == Announce::Vrrp)
                .flat_map(|s| s.vips.iter().map(|v| v.ip))
                .collect();
            let mut floating: Vec<InterfaceAddress> = vips.into_iter().map(on_iface).collect();
            floating.extend(b.gateways.iter().cloned());
            let mut sysctls = BTreeMap::new();
            if nat4 {
                sysctls.insert("net.ipv4.ip_forward".into(), "1".into());
                // A NAT real's reply leaves the director on the interface it came in on
                // when the client shares it; an ICMP redirect would send the real's next
                // replies straight to the client, around the NAT. The kernel sends one
                // when `all` or the interface says so: turn off both.
                let mut ifaces: BTreeSet<&str> = ["all", "default"].into();
                ifaces.extend(d.addresses.iter().map(|a| a.interface.as_str()));
                ifaces.extend(b.gateways.iter().map(|a| a.interface.as_str()));
                for i in ifaces {
                    // sysctl keys write a VLAN's `eth0.100` as `eth0/100`.
                    let i = i.replace('.', "/");
                    sysctls.insert(format!("net.ipv4.conf.{i}.send_redirects"), "0".into());
                }
            }
            if nat6 {
                sysctls.insert("net.ipv6.conf.all.forwarding".into(), "1".into());
            }
            if !b.gateways.is_empty() || b.vrrp.is_some() {
                // VRRP moves addresses that are not configured at boot.
                sysctls.insert("net.ipv4.ip_nonlocal_bind".into(), "1".into());
            }
            sysctls.extend(b.sysctls.clone());
            let vrrp = b.vrrp.as_ref().and_then(|g| {
                let iface = g
                    .interface
                    .clone()
                    .or_else(|| primary.map(|a| a.interface.clone()))?;
                let source = d
                    .addresses
                    .iter()
                    .find(|a| a.interface == iface)
                    .or(primary)?
                    .addr;
                let peers = b
                    .directors
                    .iter()
                    .filter(|o| o.name != d.name)
                    .filter_map(|o| {
                        o.addresses
                            .iter()
                            .find(|a| a.interface == iface)
                            .or(o.addresses.first())
                            .map(|a| a.addr)
                    })
                    .collect();
                Some(VrrpRole {
                    group: g.clone(),
                    state: d.state,
                    priority: d.priority,
                    interface: iface,
                    source,
                    peers,
                })
            });
            let bgp = b.bgp.as_ref().and_then(|g| {
                let vips: BTreeSet<IpAddr> = c
                    .services
                    .iter()
                    .filter(|s| s.announce == Announce::Bgp)
                    .flat_map(|s| s.vips.iter().map(|v| v.ip))
                    .collect();
                Some(BgpRole {
                    bgp: g.clone(),
                    router_id: d.router_id?,
                    vips: vips.into_iter().collect(),
                })
            });
            DirectorView {
                manage: d.manage.or(primary.map(|a| a.addr)),
                bgp,
                name: d.name.clone(),
                addresses: d.addresses.clone(),
                services: c.services.clone(),
                floating,
                vrrp,
                sync: b.sync.clone(),
                sysctls,
                dataplane: d.dataplane,
                checker: d.checker,
            }
        })
        .collect()
}

/// What a DR real needs so it never answers ARP for the VIP it holds on lo.
const DR_SYSCTLS: [(&str, &str); 4] = [
    ("net.ipv4.conf.all.arp_ignore", "1"),
    ("net.ipv4.conf.all.arp_announce", "2"),
    ("net.ipv4.conf.lo.arp_ignore", "1"),
    ("net.ipv4.conf.lo.arp_announce", "2"),
];

fn reals(c: &Cluster, keep: &dyn Fn(&str) -> bool) -> Vec<RealServerView> {
    // Hash maps, not sorted maps: a big cluster has 160,000 (pool, real) pairs.
    let gateways: FxHashMap<(&str, &str), Option<IpAddr>> = c
        .pools
        .iter()
        .flat_map(|p| {
            // Only the hosts kept: a plan derives a few of 160,000.
            p.hosts
                .iter()
                .filter(|h| keep(&h.name))
                .map(move |h| ((p.name.as_str(), h.name.as_str()), h.gateway))
        })
        .collect();
    let mut index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut list: Vec<RealServerView> = Vec::new();
    for h in c
        .pools
        .iter()
        .flat_map(|p| &p.hosts)
        .filter(|h| keep(&h.name))
    {
        index.entry(h.name.as_str()).or_insert_with(|| {
            list.push(RealServerView {
                manage: h.manage.unwrap_or(h.ip),
                name: h.name.clone(),
                ip: h.ip,
                loopback_vips: BTreeSet::new(),
                tunnel_vips: BTreeSet::new(),
                nat_gateway: None,
                sysctls: BTreeMap::new(),
                mounts: Vec::new(),
                services: Vec::new(),
            });
            list.len() - 1
        });
    }
    for s in c.services.iter() {
        for r in &s.reals {
            let Some(v) = index.get(r.name.as_str()).map(|&i| &mut list[i]) else {
                continue;
            };
            v.services.push((s.name.clone(), s.forward.method));
            match s.forward.method {
                ForwardMethod::Dr => {
                    v.loopback_vips.extend(s.vips.iter().map(|x| x.ip));
                    for (k, val) in DR_SYSCTLS {
                        v.sysctls.insert(k.to_string(), val.to_string());
                    }
                }
                ForwardMethod::Tun => {
                    let t = s.forward.tunnel.unwrap_or(TunnelType::Ipip);
                    v.tunnel_vips.extend(s.vips.iter().map(|x| (t, x.ip)));
                    v.sysctls
                        .insert("net.ipv4.conf.all.rp_filter".into(), "0".into());
                    v.sysctls.insert(
                        format!("net.ipv4.conf.{}.rp_filter", tunnel_device(t, s.is_ipv6())),
                        "0".into(),
                    );
                    v.sysctls
                        .insert("net.ipv4.conf.all.arp_ignore".into(), "1".into());
                    v.sysctls
                        .insert("net.ipv4.conf.all.arp_announce".into(), "2".into());
                }
                ForwardMethod::Nat => {
                    v.nat_gateway = gateways
                        .get(&(s.pool.as_str(), r.name.as_str()))
                        .copied()
                        .flatten();
                }
            }
        }
    }
    for st in &c.storage {
        let (fstype, extra) = match st.kind {
            StorageKind::Nfs => ("nfs", st.version.as_ref().map(|v| format!("vers={v}"))),
            StorageKind::Cifs => (
                "cifs",
                [
                    st.version.as_ref().map(|v| format!("vers={v}")),
                    st.credentials.as_ref().map(|c| format!("credentials={c}")),
                ]
                .into_iter()
                .flatten()
                .reduce(|a, b| format!("{a},{b}")),
            ),
            StorageKind::Gfs2 => ("gfs2", None),
            StorageKind::Ocfs2 => ("ocfs2", None),
            StorageKind::Gpfs => ("gpfs", None),
            StorageKind::Cephfs => ("ceph", None),
            StorageKind::Glusterfs => ("glusterfs", None),
            StorageKind::Coda => ("coda", None),
            StorageKind::Database => continue,
        };
        for m in &st.mounts {
            let Some(pool) = c.pools.iter().find(|p| p.name == m.pool) else {
                continue;
            };
            let options = match &extra {
                Some(e) if m.options == "defaults" => e.clone(),
                Some(e) => format!("{},{e}", m.options),
                None => m.options.clone(),
            };
            for h in &pool.hosts {
                if let Some(v) = index.get(h.name.as_str()).map(|&i| &mut list[i])
                    && !v.mounts.iter().any(|x| x.path == m.path)
                {
                    v.mounts.push(MountView {
                        storage: st.name.clone(),
                        fstype: fstype.into(),
                        source: st.source.clone(),
                        path: m.path.clone(),
                        options: options.clone(),
                    });
                }
            }
        }
    }
    list
}

/// The kernel's fallback tunnel device for an encapsulation.
pub fn tunnel_device(t: TunnelType, ipv6: bool) -> &'static str {
    match (t, ipv6) {
        (TunnelType::Ipip, false) => "tunl0",
        (TunnelType::Ipip, true) => "ip6tnl0",
        (TunnelType::Gre, _) => "gre0",
        (TunnelType::Gue, _) => "gue0",
    }
}

fn storage_servers(c: &Cluster) -> Vec<StorageServerView> {
    let mut out: Vec<StorageServerView> = Vec::new();
    for st in &c.storage {
        let Some(server) = &st.server else { continue };
        let clients: BTreeSet<IpAddr> = st
            .mounts
            .iter()
            .filter_map(|m| c.pools.iter().find(|p| p.name == m.pool))
            .flat_map(|p| p.hosts.iter().map(|h| h.ip))
            .collect();
        let export = ExportView {
            storage: st.name.clone(),
            kind: st.kind,
            path: server.path.clone(),
            clients,
            options: st.export_options.clone(),
        };
        match out.iter_mut().find(|v| v.name == server.name) {
            Some(v) => v.exports.push(export),
            None => out.push(StorageServerView {
                manage: server.manage.unwrap_or(server.ip),
                name: server.name.clone(),
                ip: server.ip,
                exports: vec![export],
            }),
        }
    }
    out
}
