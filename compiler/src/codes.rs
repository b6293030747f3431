//! Stable codes of the compiler's rules, one family per module under `rules/`.

/// No `cluster NAME` line.
pub const MISSING_CLUSTER: &str = "lvsc::names::missing-cluster";
/// Two definitions with one name.
pub const DUPLICATE_NAME: &str = "lvsc::names::duplicate";
/// A reference to a pool that does not exist.
pub const UNKNOWN_POOL: &str = "lvsc::names::unknown-pool";
/// A pool no service or mount uses.
pub const UNUSED_POOL: &str = "lvsc::names::unused-pool";
/// A storage nobody mounts.
pub const UNUSED_STORAGE: &str = "lvsc::names::unused-storage";
/// A service without a pool.
pub const NO_POOL: &str = "lvsc::service::no-pool";
/// A VIP without port and protocol, or with a prefix or path.
pub const VIP_FORM: &str = "lvsc::service::vip-form";
/// Two services with one VIP:port/proto or one firewall mark.
pub const DUPLICATE_VIP: &str = "lvsc::service::duplicate-vip";
/// A VIP that is also a real's or a director's own address.
pub const VIP_CONFLICT: &str = "lvsc::service::vip-conflict";
/// IPv4 and IPv6 mixed in one service.
pub const MIXED_FAMILY: &str = "lvsc::service::mixed-family";
/// A scheduler IPVS does not have.
pub const UNKNOWN_SCHEDULER: &str = "lvsc::service::unknown-scheduler";
/// A scheduler flag on a scheduler that does not take it.
pub const SCHEDULER_FLAG: &str = "lvsc::service::scheduler-flag";
/// A persistence netmask that is not a valid mask for the service's family.
pub const PERSISTENCE_NETMASK: &str = "lvsc::service::persistence-netmask";
/// Content-based (KTCPVS-style) routing.
pub const CONTENT_ROUTING: &str = "lvsc::service::content-routing";
/// The same real address and port twice in one pool.
pub const DUPLICATE_REAL: &str = "lvsc::pool::duplicate-real";
/// A weight outside 0..65535.
pub const WEIGHT_RANGE: &str = "lvsc::pool::weight-range";
/// Connection thresholds that cannot work.
pub const THRESHOLDS: &str = "lvsc::pool::thresholds";
/// DR or TUN real whose port differs from the VIP's.
pub const PORT_MAPPING: &str = "lvsc::forward::port-mapping";
/// Tunnel settings on a service that does not tunnel.
pub const TUNNEL_NOT_TUN: &str = "lvsc::forward::tunnel-without-tun";
/// DR real outside every director's subnet.
pub const DR_SEGMENT: &str = "lvsc::dr::not-on-segment";
/// NAT real whose replies would not pass a director.
pub const NAT_ROUTE_BACK: &str = "lvsc::nat::no-route-back";
/// TUN over IPv6 with an encapsulation IPVS cannot send over IPv6.
pub const TUN_IPV6_TYPE: &str = "lvsc::tun::ipv6-tunnel-type";
/// TUN without an MTU that leaves room for the outer header.
pub const TUN_MTU: &str = "lvsc::tun::mtu";
/// GUE without a port.
pub const GUE_PORT: &str = "lvsc::tun::gue-port";
/// VRRP router id outside 1..255.
pub const VRRP_ROUTER_ID: &str = "lvsc::vrrp::router-id";
/// VRRP priority outside 1..254.
pub const VRRP_PRIORITY: &str = "lvsc::vrrp::priority";
/// Not exactly one director that will be master.
pub const VRRP_SINGLE_MASTER: &str = "lvsc::vrrp::single-master";
/// Authentication on a VRRP group of IPv6 directors (VRRPv3 has none).
pub const VRRP_IPV6_AUTH: &str = "lvsc::vrrp::ipv6-auth";
/// More than one `vrrp` group.
pub const VRRP_ONE_GROUP: &str = "lvsc::vrrp::one-group";
/// Services but no director.
pub const NO_DIRECTOR: &str = "lvsc::balancer::no-director";
/// A director or gateway address without a prefix length.
pub const ADDRESS_PREFIX: &str = "lvsc::balancer::address-prefix";
/// A secret written in the file.
pub const INLINE_SECRET: &str = "lvsc::secret::inline";
/// An NFS/CIFS export mounted by more reals than one server carries well.
pub const SINGLE_SERVER_SCALE: &str = "lvsc::storage::single-server-scale";
/// A storage source in the wrong form for its kind.
pub const STORAGE_SOURCE: &str = "lvsc::storage::source";
/// Text that generated files cannot carry safely (control characters, a quote in a
/// keepalived string, whitespace in a URL path).
pub const UNSAFE_TEXT: &str = "lvsc::text::unsafe";

/// Every rule code, for tests that need one fixture per code.
pub const ALL: &[&str] = &[
    MISSING_CLUSTER,
    DUPLICATE_NAME,
    UNKNOWN_POOL,
    UNUSED_POOL,
    UNUSED_STORAGE,
    NO_POOL,
    VIP_FORM,
    DUPLICATE_VIP,
    VIP_CONFLICT,
    MIXED_FAMILY,
    UNKNOWN_SCHEDULER,
    SCHEDULER_FLAG,
    PERSISTENCE_NETMASK,
    CONTENT_ROUTING,
    DUPLICATE_REAL,
    WEIGHT_RANGE,
    THRESHOLDS,
    PORT_MAPPING,
    TUNNEL_NOT_TUN,
    DR_SEGMENT,
    NAT_ROUTE_BACK,
    TUN_IPV6_TYPE,
    TUN_MTU,
    GUE_PORT,
    VRRP_ROUTER_ID,
    VRRP_PRIORITY,
    VRRP_SINGLE_MASTER,
    VRRP_IPV6_AUTH,
    VRRP_ONE_GROUP,
    NO_DIRECTOR,
    ADDRESS_PREFIX,
    INLINE_SECRET,
    SINGLE_SERVER_SCALE,
    STORAGE_SOURCE,
    UNSAFE_TEXT,
];
