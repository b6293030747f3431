//! The typed syntax tree: what an operator wrote, checked for shape, with spans.
//!
//! This tree says nothing about whether the cluster works (that is the compiler's job);
//! it only knows which directives exist, where they may appear and what they take.

use serde::Serialize;

use crate::span::{Span, Spanned};
use crate::value::{Endpoint, Value};

/// A whole `.lvs` file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    /// `cluster NAME`.
    pub cluster: Option<Spanned<String>>,
    /// `defaults { ... }`.
    pub defaults: Option<Defaults>,
    /// `balancer { ... }`: the load-balancer tier.
    pub balancer: Option<Balancer>,
    /// `pool NAME { ... }`: the server arrays.
    pub pools: Vec<Pool>,
    /// `service NAME { ... }`: the virtual services.
    pub services: Vec<Service>,
    /// `storage NAME { ... }`: the shared-storage tier.
    pub storage: Vec<Storage>,
}

/// `defaults { ... }`: values services and pools inherit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Defaults {
    /// Scheduler for services that name none.
    pub scheduler: Option<Scheduler>,
    /// Forwarding method for services that name none.
    pub forward: Option<Forward>,
    /// Persistence for services that name none.
    pub persistence: Option<Persistence>,
    /// Health check for pools and services that name none.
    pub check: Option<Box<Check>>,
    /// Weight of reals that name none.
    pub weight: Option<Spanned<u64>>,
    /// The whole block.
    pub span: Span,
}

/// `balancer { ... }`: directors, VRRP and what they share.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Balancer {
    /// `vrrp ID { ... }` groups.
    pub vrrp: Vec<Vrrp>,
    /// `director NAME ...`.
    pub directors: Vec<Director>,
    /// `gateway ADDR/PREFIX on IF`: inside addresses held by the VRRP master (NAT reals route through them).
    pub gateways: Vec<InterfaceAddress>,
    /// `sync IF [id N]`: IPVS connection synchronisation between directors.
    pub sync: Option<Sync>,
    /// `sysctl KEY VALUE`: extra kernel settings on every director.
    pub sysctls: Vec<Sysctl>,
    /// `dataplane ipvs|nftables|xdp`: what balances on the directors that name none.
    pub dataplane: Option<Spanned<String>>,
    /// `checker keepalived|lvsc`: who checks the reals of the directors that name none.
    pub checker: Option<Spanned<String>>,
    /// `bgp { ... }` blocks (active-active directors behind ECMP).
    pub bgp: Vec<Bgp>,
    /// The whole block.
    pub span: Span,
}

/// `bgp { asn N; neighbor ADDR asn N ...; hold 9s; community A:B; local-pref N }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bgp {
    /// `asn N`: the directors' own AS number.
    pub asn: Option<Spanned<u64>>,
    /// `neighbor ADDR asn N [password ...] [bfd]`: the routers.
    pub neighbors: Vec<Neighbor>,
    /// `hold DURATION`: the BGP hold time.
    pub hold: Option<Spanned<u64>>,
    /// `community A:B`: communities on the VIP routes.
    pub communities: Vec<Spanned<String>>,
    /// `local-pref N`: local preference on the VIP routes (iBGP).
    pub local_pref: Option<Spanned<u64>>,
    /// The whole block.
    pub span: Span,
}

/// `neighbor ADDR asn N [password env NAME|file PATH] [bfd]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Neighbor {
    /// The router's address.
    pub addr: Spanned<Endpoint>,
    /// `asn N`: its AS number.
    pub asn: Option<Spanned<u64>>,
    /// `password env NAME|file PATH`: the TCP MD5 secret's source.
    pub password: Option<Spanned<SecretSource>>,
    /// `bfd`: fast failure detection on the session.
    pub bfd: Option<Span>,
    /// The whole directive.
    pub span: Span,
}

/// `vrrp ID { advert 1s; auth env NAME; ... }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vrrp {
    /// The virtual router id.
    pub router_id: Spanned<u64>,
    /// `advert DURATION`.
    pub advert: Option<Spanned<u64>>,
    /// `auth [pass|ah] (env NAME | file PATH | "inline")`.
    pub auth: Option<Auth>,
    /// `interface IF`: where adverts go (defaults to each director's first interface).
    pub interface: Option<Spanned<String>>,
    /// `nopreempt`.
    pub nopreempt: Option<Span>,
    /// The whole directive.
    pub span: Span,
}

/// VRRP authentication and where its secret comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Auth {
    /// `pass` or `ah` (default `pass`).
    pub kind: Option<Spanned<String>>,
    /// Where the secret is read at deploy time.
    pub secret: SecretSource,
    /// The whole directive.
    pub span: Span,
}

/// Where a secret comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "from", content = "name", rename_all = "lowercase")]
pub enum SecretSource {
    /// `env NAME`.
    Env(Spanned<String>),
    /// `file PATH`.
    File(Spanned<String>),
    /// A quoted literal: accepted by the syntax so the compiler can reject it with a clear message.
    Inline(Spanned<String>),
}

/// `director NAME ADDR/PREFIX on IF priority N [state master|backup] [{ address ... }]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Director {
    /// Host name.
    pub name: Spanned<String>,
    /// Its addresses and interfaces; the first is the primary.
    pub addresses: Vec<InterfaceAddress>,
    /// VRRP priority.
    pub priority: Option<Spanned<u64>>,
    /// Explicit VRRP start state (`master` or `backup`).
    pub state: Option<Spanned<String>>,
    /// `dataplane ipvs|nftables|xdp`: what balances on this director.
    pub dataplane: Option<Spanned<String>>,
    /// `checker keepalived|lvsc`: who checks this director's reals.
    pub checker: Option<Spanned<String>>,
    /// `router-id ADDR`: its BGP router id (default: its first IPv4 address).
    pub router_id: Option<Spanned<Endpoint>>,
    /// `manage ADDR`: where rollout tools reach it (default: its first address).
    pub manage: Option<Spanned<Endpoint>>,
    /// The whole directive.
    pub span: Span,
}

/// `ADDR/PREFIX on IF`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterfaceAddress {
    /// Address with prefix length.
    pub addr: Spanned<Endpoint>,
    /// Interface name.
    pub interface: Option<Spanned<String>>,
    /// The whole clause.
    pub span: Span,
}

/// `sync IF [id N]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sync {
    /// Interface the sync daemon multicasts on.
    pub interface: Spanned<String>,
    /// Sync id (defaults to the VRRP router id).
    pub id: Option<Spanned<u64>>,
    /// The whole directive.
    pub span: Span,
}

/// `sysctl KEY VALUE`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sysctl {
    /// The key, e.g. `net.ipv4.vs.conntrack`.
    pub key: Spanned<String>,
    /// The value as written.
    pub value: Spanned<String>,
}

/// `service NAME { ... }`: a virtual server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Name.
    pub name: Spanned<String>,
    /// `vip ADDR:PORT/PROTO`: the address clients use (several with `fwmark`).
    pub vips: Vec<Spanned<Endpoint>>,
    /// `fwmark N`: the service matches packets with this firewall mark.
    pub fwmark: Option<Spanned<u64>>,
    /// `family inet|inet6` for a fwmark service without VIPs.
    pub family: Option<Spanned<String>>,
    /// `forward nat|dr|tun ...`.
    pub forward: Option<Forward>,
    /// `scheduler NAME [FLAG...]`.
    pub scheduler: Option<Scheduler>,
    /// `persistence DURATION [netmask MASK]`.
    pub persistence: Option<Persistence>,
    /// `check ...` (overrides the pool's).
    pub check: Option<Box<Check>>,
    /// `sorry ADDR[:PORT]`: where traffic goes when no real is up.
    pub sorry: Option<Spanned<Endpoint>>,
    /// `quorum N [hysteresis N]`.
    pub quorum: Option<Quorum>,
    /// `pool NAME`.
    pub pool: Option<Spanned<String>>,
    /// `route "PATTERN" pool NAME`: content-based routing (rejected by the compiler).
    pub routes: Vec<Route>,
    /// `mtu N`: path MTU toward tunnel reals.
    pub mtu: Option<Spanned<u64>>,
    /// `ops`: one-packet scheduling (UDP).
    pub ops: Option<Span>,
    /// `table-size N`: Maglev table size for the XDP data plane.
    pub table_size: Option<Spanned<u64>>,
    /// `announce vrrp|bgp`: who makes the VIPs reach this director.
    pub announce: Option<Spanned<String>>,
    /// The whole block.
    pub span: Span,
}

/// `forward nat|dr|tun [ipip|gue|gre] [port N] [csum]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Forward {
    /// `nat`, `dr` or `tun`.
    pub method: Spanned<String>,
    /// Tunnel encapsulation for `tun`: `ipip`, `gue` or `gre`.
    pub tunnel: Option<Spanned<String>>,
    /// `port N`: GUE destination port.
    pub port: Option<Spanned<u64>>,
    /// `csum`: tunnel checksums.
    pub csum: Option<Span>,
    /// The whole directive.
    pub span: Span,
}

/// `scheduler NAME [FLAG...]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scheduler {
    /// The scheduler (`wlc`, `sh`, `mh`, ...).
    pub name: Spanned<String>,
    /// Flags such as `sh-port` or `mh-fallback`.
    pub flags: Vec<Spanned<String>>,
    /// The whole directive.
    pub span: Span,
}

/// `persistence DURATION [netmask MASK|PREFIXLEN]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Persistence {
    /// Timeout in milliseconds.
    pub timeout: Spanned<u64>,
    /// Client netmask: a dotted mask or a prefix length.
    pub netmask: Option<Spanned<Value>>,
    /// The whole directive.
    pub span: Span,
}

/// `check KIND ...`: a health check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `tcp`, `http`, `https`, `misc` or `none`.
    pub kind: Spanned<String>,
    /// URL path for http/https, command for misc.
    pub target: Option<Spanned<String>>,
    /// `expect STATUS` for http/https.
    pub expect: Option<Spanned<u64>>,
    /// `port N`: check another port than the real's.
    pub port: Option<Spanned<u64>>,
    /// `every DURATION`.
    pub every: Option<Spanned<u64>>,
    /// `timeout DURATION`.
    pub timeout: Option<Spanned<u64>>,
    /// `retry N`.
    pub retry: Option<Spanned<u64>>,
    /// The whole directive.
    pub span: Span,
}

/// `quorum N [hysteresis N]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quorum {
    /// Minimum total weight of live reals.
    pub value: Spanned<u64>,
    /// Hysteresis around the quorum.
    pub hysteresis: Option<Spanned<u64>>,
    /// The whole directive.
    pub span: Span,
}

/// `route "PATTERN" pool NAME`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    /// What the request must match.
    pub pattern: Spanned<String>,
    /// Where it would go.
    pub pool: Option<Spanned<String>>,
    /// The whole directive.
    pub span: Span,
}

/// `pool NAME { ... }`: a server array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pool {
    /// Name.
    pub name: Spanned<String>,
    /// `port N`: the reals' port when a real names none.
    pub port: Option<Spanned<u64>>,
    /// `weight N`: weight of reals that name none.
    pub weight: Option<Spanned<u64>>,
    /// `check ...`: shared health check.
    pub check: Option<Box<Check>>,
    /// `real ...`.
    pub reals: Vec<Real>,
    /// The whole block.
    pub span: Span,
}

/// `real NAME ADDR[:PORT] [weight N] [upper N] [lower N] [via ADDR] [drain]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Real {
    /// Host name.
    pub name: Spanned<String>,
    /// Address and optional port.
    pub addr: Spanned<Endpoint>,
    /// Weight.
    pub weight: Option<Spanned<u64>>,
    /// Upper connection threshold.
    pub upper: Option<Spanned<u64>>,
    /// Lower connection threshold.
    pub lower: Option<Spanned<u64>>,
    /// `via ADDR`: the real's default gateway (NAT). Boxed, like `manage`: rare, and a
    /// real is in the file 160,000 times in a big cluster.
    pub via: Option<Box<Spanned<Endpoint>>>,
    /// `drain`: weight 0, existing connections finish.
    pub drain: Option<Span>,
    /// `manage ADDR`: where rollout tools reach it (default: its address).
    pub manage: Option<Box<Spanned<Endpoint>>>,
    /// The whole directive.
    pub span: Span,
}

/// `storage NAME { ... }`: one shared file system.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Storage {
    /// Name.
    pub name: Spanned<String>,
    /// `nfs`, `cifs`, `gfs2`, `ocfs2`, `gpfs`, `cephfs`, `glusterfs`, `coda` or `database`.
    pub kind: Spanned<String>,
    /// What is shared: `ADDR:/path`, `//server/share`, a device path, a name or `ADDR:PORT`.
    pub source: Spanned<Value>,
    /// `version V` of the protocol (NFS 3, 4.2; SMB 3.0).
    pub version: Option<Spanned<String>>,
    /// `credentials file PATH` (CIFS).
    pub credentials: Option<Spanned<String>>,
    /// `server NAME`: the storage host's name (defaults to the storage name).
    pub server: Option<Spanned<String>>,
    /// `server NAME manage ADDR`: where rollout tools reach it (default: the source's address).
    pub manage: Option<Spanned<Endpoint>>,
    /// `export options "..."`: exports(5) options on the server.
    pub export_options: Option<Spanned<String>>,
    /// `mount PATH on pool NAME [options "..."]`.
    pub mounts: Vec<Mount>,
    /// The whole block.
    pub span: Span,
}

/// `mount PATH on pool NAME [options "..."]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mount {
    /// Mount point on the reals.
    pub path: Spanned<String>,
    /// The pool whose reals mount it.
    pub pool: Spanned<String>,
    /// Mount options.
    pub options: Option<Spanned<String>>,
    /// The whole directive.
    pub span: Span,
}
