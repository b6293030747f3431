//! The cluster IR: the checked, resolved model every backend compiles from.
//!
//! Plain data with no spans and no references to the syntax tree; defaults are already
//! applied and names resolved. [`crate::SourceMap`] traces items back to the source.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use lvsc_lang::Protocol;

/// `Display` as the words the language and the plan use (the same as their serde names).
macro_rules! words {
    ($ty:ty { $($variant:ident => $word:literal),* $(,)? }) => {
        impl $ty {
            /// The word for this value, as written in a `.lvs` file.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $word,)*
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(VrrpState { Master => "master", Backup => "backup" });
words!(AuthKind { Pass => "pass", Ah => "ah" });
words!(ForwardMethod { Nat => "nat", Dr => "dr", Tun => "tun" });
words!(Dataplane { Ipvs => "ipvs", Nftables => "nftables", Xdp => "xdp" });
words!(Checker { Keepalived => "keepalived", Lvsc => "lvsc" });
words!(Announce { Vrrp => "vrrp", Bgp => "bgp" });
words!(TunnelType { Ipip => "ipip", Gue => "gue", Gre => "gre" });
words!(StorageKind {
    Nfs => "nfs",
    Cifs => "cifs",
    Gfs2 => "gfs2",
    Ocfs2 => "ocfs2",
    Gpfs => "gpfs",
    Cephfs => "cephfs",
    Glusterfs => "glusterfs",
    Coda => "coda",
    Database => "database",
});

/// A whole cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// Cluster name.
    pub name: String,
    /// The load-balancer tier.
    pub balancer: Balancer,
    /// Virtual services, in source order; shared with the directors' views, which all
    /// carry every service (a copy each cost 20 MB at 10,000 services).
    pub services: std::sync::Arc<Vec<Service>>,
    /// Server arrays, in source order.
    pub pools: Vec<Pool>,
    /// Shared storage, in source order.
    pub storage: Vec<Storage>,
}

/// Directors and what they share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balancer {
    /// The directors.
    pub directors: Vec<Director>,
    /// The VRRP group, if the directors fail over.
    pub vrrp: Option<Vrrp>,
    /// Inside addresses held by the VRRP master (NAT reals' gateway).
    pub gateways: Vec<InterfaceAddress>,
    /// Connection synchronisation.
    pub sync: Option<Sync>,
    /// Extra kernel settings on every director.
    pub sysctls: BTreeMap<String, String>,
    /// BGP, if the directors announce VIPs to routers (active-active behind ECMP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgp: Option<Bgp>,
}

/// The directors' BGP sessions to the routers and the attributes of the VIP routes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bgp {
    /// The directors' AS number.
    pub asn: u32,
    /// The routers.
    pub neighbors: Vec<BgpNeighbor>,
    /// Hold time in seconds (`None`: the daemon's default, 240 s in BIRD, 180 s in FRR).
    pub hold_s: Option<u16>,
    /// Communities (`A:B`) and large communities (`A:B:C`) on the VIP routes.
    pub communities: Vec<String>,
    /// Local preference of the VIP routes.
    pub local_pref: Option<u32>,
}

/// A router the directors peer with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BgpNeighbor {
    /// Its address.
    pub addr: IpAddr,
    /// Its AS number.
    pub asn: u32,
    /// Where the session's TCP MD5 secret is read at deploy time.
    pub password: Option<SecretRef>,
    /// Whether BFD watches the session.
    pub bfd: bool,
}

/// Who brings a service's VIPs to the directors.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Announce {
    /// The VRRP master holds them (or the one director, without VRRP).
    #[default]
    Vrrp,
    /// Every director announces them over BGP while the service has quorum.
    Bgp,
}

impl Announce {
    /// Whether this is the default (left out of the serialised IR).
    pub fn is_vrrp(&self) -> bool {
        *self == Announce::Vrrp
    }
}

/// A director host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Director {
    /// Host name.
    pub name: String,
    /// Addresses; the first is the primary.
    pub addresses: Vec<InterfaceAddress>,
    /// VRRP priority (1..254).
    pub priority: u8,
    /// VRRP start state.
    pub state: VrrpState,
    /// What balances on it.
    pub dataplane: Dataplane,
    /// Who checks its reals.
    pub checker: Checker,
    /// Its BGP router id (with `bgp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_id: Option<std::net::Ipv4Addr>,
    /// Where rollout tools reach it, when not at its first address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage: Option<IpAddr>,
}

/// What balances on a director, and so who checks its reals.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dataplane {
    /// The kernel's IPVS table; keepalived checks the reals unless `checker lvsc`.
    #[default]
    Ipvs,
    /// The nftables data plane; `lvsc run` checks the reals.
    Nftables,
    /// The XDP load balancer; `lvsc run` checks the reals.
    Xdp,
}

/// Who checks a director's reals and changes its data plane when one fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Checker {
    /// keepalived's checkers, from keepalived.conf (IPVS only).
    #[default]
    Keepalived,
    /// `lvsc run`; keepalived, if any, does VRRP only.
    Lvsc,
}

/// An address with prefix on an interface.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InterfaceAddress {
    /// Address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Interface name.
    pub interface: String,
}

impl InterfaceAddress {
    /// Whether `ip` lies in this address's subnet.
    pub fn contains(&self, ip: IpAddr) -> bool {
        crate::net::same_subnet(self.addr, ip, self.prefix)
    }
}

/// VRRP start state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VrrpState {
    /// Starts as master (the highest priority).
    Master,
    /// Starts as backup.
    Backup,
}

/// The VRRP group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vrrp {
    /// Virtual router id (1..255).
    pub router_id: u8,
    /// Advertisement interval in milliseconds.
    pub advert_ms: u64,
    /// Authentication, with the secret's source (never the secret).
    pub auth: Option<VrrpAuth>,
    /// Interface for adverts; `None` means each director's primary interface.
    pub interface: Option<String>,
    /// Whether a recovered higher-priority director takes the VIPs back.
    pub preempt: bool,
}

/// VRRP authentication.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpAuth {
    /// PASS or AH.
    pub kind: AuthKind,
    /// Where the secret is read at deploy time.
    pub secret: SecretRef,
}

/// VRRP authentication type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// Simple password.
    Pass,
    /// IPsec AH.
    Ah,
}

/// Where a secret comes from; the secret itself never enters the IR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", content = "name", rename_all = "lowercase")]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file.
    File(String),
}

/// IPVS connection synchronisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sync {
    /// Multicast interface.
    pub interface: String,
    /// Sync id.
    pub id: u8,
}

/// A virtual service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Name.
    pub name: String,
    /// How IPVS identifies it.
    pub key: ServiceKey,
    /// Addresses clients use; for a fwmark service, the VIPs that get the mark.
    pub vips: Vec<Vip>,
    /// Scheduler.
    pub scheduler: Scheduler,
    /// Forwarding method to every real.
    pub forward: Forward,
    /// Client persistence.
    pub persistence: Option<Persistence>,
    /// Health check of the reals.
    pub check: Check,
    /// Sorry server.
    pub sorry: Option<Destination>,
    /// Quorum.
    pub quorum: Option<Quorum>,
    /// One-packet scheduling.
    pub ops: bool,
    /// Path MTU toward tunnel reals.
    pub mtu: Option<u16>,
    /// Maglev table size for the XDP data plane.
    pub table_size: u32,
    /// Who brings its VIPs to the directors.
    #[serde(default, skip_serializing_if = "Announce::is_vrrp")]
    pub announce: Announce,
    /// The pool it sends to.
    pub pool: String,
    /// The pool's reals with this service's defaults applied.
    pub reals: Vec<Real>,
}

impl Service {
    /// The weight each real has in a hashing data plane's table (nftables, XDP): its
    /// own, except that `rr` ignores weights (any weight above 0 counts as 1) and `fo`
    /// gives everything to the first real of the highest weight, as IPVS does.
    pub fn table_weights(&self) -> Vec<u32> {
        let weights = self.reals.iter().map(|r| r.weight);
        match self.scheduler.name.as_str() {
            "rr" => weights.map(|w| u32::from(w > 0)).collect(),
            "fo" => {
                let top = self.reals.iter().map(|r| r.weight).max().unwrap_or(0);
                let first = self.reals.iter().position(|r| r.weight == top && top > 0);
                (0..self.reals.len())
                    .map(|i| u32::from(Some(i) == first))
                    .collect()
            }
            _ => weights.collect(),
        }
    }

    /// The address family of the service.
    pub fn is_ipv6(&self) -> bool {
        match &self.key {
            ServiceKey::Addr { ip, .. } => ip.is_ipv6(),
            ServiceKey::Fwmark { ipv6, .. } => *ipv6,
        }
    }
}

/// How IPVS identifies a service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ServiceKey {
    /// `VIP:port/proto`.
    Addr {
        /// VIP.
        ip: IpAddr,
        /// Port.
        port: u16,
        /// Protocol.
        proto: Protocol,
    },
    /// A firewall mark.
    Fwmark {
        /// The mark.
        mark: u32,
        /// Address family.
        ipv6: bool,
    },
}

/// A VIP with port and protocol.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Vip {
    /// Address.
    pub ip: IpAddr,
    /// Port.
    pub port: u16,
    /// Protocol.
    pub proto: Protocol,
}

/// A scheduler and its flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduler {
    /// IPVS scheduler name.
    pub name: String,
    /// Flags (`sh-fallback`, `sh-port`, `mh-fallback`, `mh-port`).
    pub flags: Vec<String>,
}

/// Forwarding method.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forward {
    /// NAT, DR or TUN.
    pub method: ForwardMethod,
    /// Tunnel encapsulation (TUN only).
    pub tunnel: Option<TunnelType>,
    /// GUE port.
    pub tunnel_port: Option<u16>,
    /// Tunnel checksums.
    pub tunnel_csum: bool,
}

/// Forwarding method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ForwardMethod {
    /// Masquerading (ipvsadm -m).
    Nat,
    /// Direct routing (ipvsadm -g).
    Dr,
    /// IP tunnelling (ipvsadm -i).
    Tun,
}

/// Tunnel encapsulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TunnelType {
    /// IP-in-IP (IPv6-in-IPv6 for IPv6).
    Ipip,
    /// Generic UDP encapsulation.
    Gue,
    /// GRE.
    Gre,
}

/// Persistence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Persistence {
    /// Timeout in seconds.
    pub timeout_s: u32,
    /// Client netmask as a prefix length (32/128 when not given).
    pub prefix: u8,
}

/// A health check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Check {
    /// No check: reals are always considered up.
    None,
    /// TCP connect.
    Tcp {
        /// Timing.
        timing: CheckTiming,
    },
    /// HTTP GET.
    Http {
        /// URL path.
        path: String,
        /// Expected status.
        expect: u16,
        /// Timing.
        timing: CheckTiming,
    },
    /// HTTPS GET.
    Https {
        /// URL path.
        path: String,
        /// Expected status.
        expect: u16,
        /// Timing.
        timing: CheckTiming,
    },
    /// A command; exit 0 means up.
    Misc {
        /// Command line.
        command: String,
        /// Timing.
        timing: CheckTiming,
    },
}

/// When and how a check runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckTiming {
    /// Port to check instead of the real's.
    pub port: Option<u16>,
    /// Interval in milliseconds.
    pub every_ms: u64,
    /// Timeout in milliseconds.
    pub timeout_ms: u64,
    /// Failed checks in a row that take a real out (one pass puts it back).
    pub retry: u32,
}

/// An address and port (sorry server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    /// Address.
    pub ip: IpAddr,
    /// Port (`None`: the service's).
    pub port: Option<u16>,
}

/// Quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quorum {
    /// Minimum live weight.
    pub value: u32,
    /// Hysteresis.
    pub hysteresis: u32,
}

/// A real server as one service sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Real {
    /// Host name.
    pub name: String,
    /// Address.
    pub ip: IpAddr,
    /// Port.
    pub port: u16,
    /// Weight (0 when draining).
    pub weight: u32,
    /// Upper connection threshold (0: none).
    pub upper: u32,
    /// Lower connection threshold (0: none).
    pub lower: u32,
    /// Being drained.
    pub drain: bool,
}

/// A server array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    /// Name.
    pub name: String,
    /// Its real-server hosts.
    pub hosts: Vec<PoolHost>,
}

/// A real-server host in a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolHost {
    /// Host name.
    pub name: String,
    /// Address.
    pub ip: IpAddr,
    /// Default gateway (NAT): explicit `via` or the balancer gateway on its subnet.
    pub gateway: Option<IpAddr>,
    /// Where rollout tools reach it, when not at `ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage: Option<IpAddr>,
}

/// A shared file system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storage {
    /// Name.
    pub name: String,
    /// File system kind.
    pub kind: StorageKind,
    /// What is shared, as mount(8) spells it.
    pub source: String,
    /// Storage server, when the source names one.
    pub server: Option<StorageServer>,
    /// Protocol version.
    pub version: Option<String>,
    /// CIFS credentials file.
    pub credentials: Option<String>,
    /// exports(5) options.
    pub export_options: String,
    /// Who mounts it where.
    pub mounts: Vec<Mount>,
}

/// A storage server host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageServer {
    /// Host name.
    pub name: String,
    /// Address.
    pub ip: IpAddr,
    /// Exported path.
    pub path: String,
    /// Where rollout tools reach it, when not at `ip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage: Option<IpAddr>,
}

/// File system kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// NFS.
    Nfs,
    /// CIFS/SMB.
    Cifs,
    /// GFS2 on a shared block device.
    Gfs2,
    /// OCFS2 on a shared block device.
    Ocfs2,
    /// IBM Spectrum Scale.
    Gpfs,
    /// CephFS.
    Cephfs,
    /// GlusterFS.
    Glusterfs,
    /// Coda.
    Coda,
    /// A shared database (no mount).
    Database,
}

impl StorageKind {
    /// Whether one server exports it to every client (the seed's 4-to-8-client limit).
    pub fn is_single_server(self) -> bool {
        matches!(self, StorageKind::Nfs | StorageKind::Cifs)
    }
}

/// A mount on every real of a pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mount {
    /// Mount point.
    pub path: String,
    /// Pool whose reals mount it.
    pub pool: String,
    /// Mount options.
    pub options: String,
}
