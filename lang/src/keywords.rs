//! One line of help per keyword, for hover and completion in editors.

/// `(keyword, what it does, an example)`.
pub const KEYWORDS: &[(&str, &str, &str)] = &[
    (
        "cluster",
        "Names the cluster; the name appears in every generated file.",
        "cluster web",
    ),
    (
        "defaults",
        "Values services and pools inherit: scheduler, forward, persistence, check, weight.",
        "defaults { scheduler wlc }",
    ),
    (
        "balancer",
        "The load-balancer tier: directors, VRRP, gateways, connection sync, sysctls.",
        "balancer { director lb1 192.0.2.2/24 on eth0 }",
    ),
    (
        "director",
        "A director (load balancer host): address/prefix, interface, VRRP priority.",
        "director lb1 192.0.2.2/24 on eth0 priority 150",
    ),
    (
        "vrrp",
        "The VRRP group that moves the VIPs between directors (keepalived vrrp_instance).",
        "vrrp 51 { advert 1s; auth pass env VRRP_PASS }",
    ),
    ("advert", "VRRP advertisement interval.", "advert 1s"),
    (
        "auth",
        "VRRP authentication; the secret is read at deploy time from env or file.",
        "auth pass env VRRP_PASS",
    ),
    (
        "interface",
        "Interface that carries the VRRP adverts.",
        "interface eth0",
    ),
    (
        "nopreempt",
        "A recovered higher-priority director does not take the VIPs back.",
        "nopreempt",
    ),
    (
        "address",
        "An address/prefix of a director on an interface.",
        "address 10.10.0.2/24 on eth1",
    ),
    (
        "priority",
        "VRRP priority, 1 to 254; the highest is master.",
        "priority 150",
    ),
    (
        "state",
        "Initial VRRP state: master or backup.",
        "state backup",
    ),
    (
        "gateway",
        "Inside address held by the VRRP master; NAT reals route through it.",
        "gateway 10.10.0.1/24 on eth1",
    ),
    (
        "sync",
        "IPVS connection synchronisation between directors (lvs_sync_daemon).",
        "sync eth0 id 51",
    ),
    (
        "sysctl",
        "A kernel setting on every director.",
        "sysctl net.ipv4.vs.conntrack 1",
    ),
    (
        "service",
        "A virtual service: VIP:port/proto or firewall mark, scheduler, forwarding, pool.",
        "service www { vip 192.0.2.100:80/tcp; pool web }",
    ),
    (
        "vip",
        "The virtual address clients connect to: ADDR:PORT/PROTO.",
        "vip 192.0.2.100:80/tcp",
    ),
    (
        "fwmark",
        "Match packets by firewall mark; with vip lines, those VIPs are grouped.",
        "fwmark 10",
    ),
    (
        "family",
        "Address family of a fwmark service without VIPs: inet or inet6.",
        "family inet6",
    ),
    (
        "forward",
        "Forwarding method: nat (masquerade), dr (direct routing) or tun (IP tunnel).",
        "forward tun ipip",
    ),
    (
        "scheduler",
        "IPVS scheduler and flags: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh.",
        "scheduler sh sh-port",
    ),
    (
        "persistence",
        "Client affinity: timeout and optional netmask (ipvsadm -p, -M).",
        "persistence 300s netmask 255.255.255.0",
    ),
    (
        "check",
        "Health check: tcp, http, https, misc or none.",
        "check http \"/healthz\" expect 200 every 5s",
    ),
    (
        "sorry",
        "Sorry server used when every real is down.",
        "sorry 192.0.2.250:80",
    ),
    (
        "quorum",
        "Minimum total weight of live reals, with hysteresis.",
        "quorum 2 hysteresis 1",
    ),
    (
        "pool",
        "A server array (in a service: the pool it sends to).",
        "pool web { real rs1 192.0.2.21 }",
    ),
    (
        "route",
        "Content-based routing: not an IPVS feature; the compiler explains the alternatives.",
        "route \"/static/*\" pool static",
    ),
    (
        "mtu",
        "Path MTU toward tunnel reals (leave room for the outer header).",
        "mtu 1480",
    ),
    ("ops", "One-packet scheduling, for UDP services.", "ops"),
    (
        "table-size",
        "Maglev lookup-table size for the XDP data plane (a prime).",
        "table-size 65537",
    ),
    ("port", "Default port of the pool's reals.", "port 8080"),
    ("weight", "Default weight of reals, 0 to 65535.", "weight 1"),
    (
        "real",
        "A real server: name, address[:port], weight, thresholds, via, drain.",
        "real rs1 192.0.2.21 weight 3",
    ),
    (
        "storage",
        "A shared file system: nfs, cifs, gfs2, ocfs2, gpfs, cephfs, glusterfs, coda, database.",
        "storage www-data { nfs 192.0.2.50:/export/www }",
    ),
    (
        "nfs",
        "An NFS export: ADDR:/path [version V].",
        "nfs 192.0.2.50:/export/www version 4.2",
    ),
    (
        "cifs",
        "A CIFS/SMB share: //server/share [version V] [credentials file PATH].",
        "cifs //192.0.2.60/share",
    ),
    (
        "gfs2",
        "A GFS2 cluster file system on a shared block device.",
        "gfs2 /dev/mapper/shared",
    ),
    ("server", "Host name of the storage server.", "server nas1"),
    (
        "export-options",
        "exports(5) options on the storage server.",
        "export-options \"ro,sync\"",
    ),
    (
        "mount",
        "Every real of a pool mounts the storage at PATH.",
        "mount /var/www on pool web options \"ro\"",
    ),
];

/// The help of `word`, if it is a keyword.
pub fn help(word: &str) -> Option<(&'static str, &'static str)> {
    KEYWORDS
        .iter()
        .find(|(k, _, _)| *k == word)
        .map(|(_, h, e)| (*h, *e))
}
