//! Stable codes of the compiler's rules, one family per module under `rules/`.

lvsc_lang::codes! {
    /// No `cluster NAME` line.
    MISSING_CLUSTER = "lvsc::names::missing-cluster";
    /// Two definitions with one name.
    DUPLICATE_NAME = "lvsc::names::duplicate";
    /// A reference to a pool that does not exist.
    UNKNOWN_POOL = "lvsc::names::unknown-pool";
    /// A pool no service or mount uses.
    UNUSED_POOL = "lvsc::names::unused-pool";
    /// A storage nobody mounts.
    UNUSED_STORAGE = "lvsc::names::unused-storage";
    /// A service without a pool.
    NO_POOL = "lvsc::service::no-pool";
    /// A VIP without port and protocol, or with a prefix or path.
    VIP_FORM = "lvsc::service::vip-form";
    /// Two services with one VIP:port/proto or one firewall mark.
    DUPLICATE_VIP = "lvsc::service::duplicate-vip";
    /// A VIP that is also a real's or a director's own address.
    VIP_CONFLICT = "lvsc::service::vip-conflict";
    /// IPv4 and IPv6 mixed in one service.
    MIXED_FAMILY = "lvsc::service::mixed-family";
    /// A scheduler IPVS does not have.
    UNKNOWN_SCHEDULER = "lvsc::service::unknown-scheduler";
    /// A scheduler flag on a scheduler that does not take it.
    SCHEDULER_FLAG = "lvsc::service::scheduler-flag";
    /// A persistence netmask that is not a valid mask for the service's family.
    PERSISTENCE_NETMASK = "lvsc::service::persistence-netmask";
    /// A Maglev table size that is not prime.
    TABLE_SIZE = "lvsc::service::table-size";
    /// Content-based (KTCPVS-style) routing.
    CONTENT_ROUTING = "lvsc::service::content-routing";
    /// The same real address and port twice in one pool.
    DUPLICATE_REAL = "lvsc::pool::duplicate-real";
    /// A weight outside 0..65535.
    WEIGHT_RANGE = "lvsc::pool::weight-range";
    /// Connection thresholds that cannot work.
    THRESHOLDS = "lvsc::pool::thresholds";
    /// DR or TUN real whose port differs from the VIP's.
    PORT_MAPPING = "lvsc::forward::port-mapping";
    /// Tunnel settings on a service that does not tunnel.
    TUNNEL_NOT_TUN = "lvsc::forward::tunnel-without-tun";
    /// DR real outside every director's subnet.
    DR_SEGMENT = "lvsc::dr::not-on-segment";
    /// NAT real whose replies would not pass a director.
    NAT_ROUTE_BACK = "lvsc::nat::no-route-back";
    /// TUN over IPv6 with an encapsulation IPVS cannot send over IPv6.
    TUN_IPV6_TYPE = "lvsc::tun::ipv6-tunnel-type";
    /// TUN without an MTU that leaves room for the outer header.
    TUN_MTU = "lvsc::tun::mtu";
    /// GUE without a port.
    GUE_PORT = "lvsc::tun::gue-port";
    /// VRRP router id outside 1..255.
    VRRP_ROUTER_ID = "lvsc::vrrp::router-id";
    /// VRRP priority outside 1..254.
    VRRP_PRIORITY = "lvsc::vrrp::priority";
    /// Not exactly one director that will be master.
    VRRP_SINGLE_MASTER = "lvsc::vrrp::single-master";
    /// Authentication on a VRRP group of IPv6 directors (VRRPv3 has none).
    VRRP_IPV6_AUTH = "lvsc::vrrp::ipv6-auth";
    /// More than one `vrrp` group.
    VRRP_ONE_GROUP = "lvsc::vrrp::one-group";
    /// More than one `bgp` block.
    BGP_ONE_BLOCK = "lvsc::bgp::one-block";
    /// A `bgp` block or neighbour without its AS number.
    BGP_ASN = "lvsc::bgp::asn";
    /// A `bgp` block without a neighbour.
    BGP_NO_NEIGHBOR = "lvsc::bgp::no-neighbor";
    /// A director without a usable BGP router id, or two with one.
    BGP_ROUTER_ID = "lvsc::bgp::router-id";
    /// A community that is not `A:B` (16-bit parts) or `A:B:C` (32-bit parts).
    BGP_COMMUNITY = "lvsc::bgp::community";
    /// A service whose announcer is missing or not said where both exist.
    BGP_ANNOUNCE = "lvsc::bgp::announce";
    /// A NAT service announced by several active directors.
    BGP_NAT = "lvsc::bgp::nat";
    /// keepalived checking the reals of a director that announces over BGP.
    BGP_CHECKER = "lvsc::bgp::checker";
    /// A scheduler whose choice of real depends on the director (flows that move break).
    BGP_SCHEDULER = "lvsc::bgp::scheduler";
    /// Services but no director.
    NO_DIRECTOR = "lvsc::balancer::no-director";
    /// keepalived's checkers named for a data plane they cannot drive.
    CHECKER = "lvsc::balancer::checker";
    /// A feature a data plane honours only in part.
    DATAPLANE_APPROXIMATED = "lvsc::dataplane::approximated";
    /// A feature a data plane cannot honour.
    DATAPLANE_REFUSED = "lvsc::dataplane::refused";
    /// A director or gateway address without a prefix length.
    ADDRESS_PREFIX = "lvsc::balancer::address-prefix";
    /// A secret written in the file.
    INLINE_SECRET = "lvsc::secret::inline";
    /// An NFS/CIFS export mounted by more reals than one server carries well.
    SINGLE_SERVER_SCALE = "lvsc::storage::single-server-scale";
    /// A storage source in the wrong form for its kind.
    STORAGE_SOURCE = "lvsc::storage::source";
    /// Text that generated files cannot carry safely (control characters, a quote in a
    /// keepalived string, whitespace in a URL path).
    UNSAFE_TEXT = "lvsc::text::unsafe";
}
