//! Every keyword of the language: where it may stand (the grammar the lowering reads, in
//! the order diagnostics list them) and one line of help with an example (what the
//! language server's hover and completion show). A test holds the two together, so no
//! keyword exists without help and no help without a keyword.

/// A block whose directives are keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// The top level of a file.
    Top,
    /// `defaults { }`.
    Defaults,
    /// `balancer { }`.
    Balancer,
    /// `vrrp ID { }`.
    Vrrp,
    /// `director NAME { }`.
    Director,
    /// `bgp { }`.
    Bgp,
    /// `service NAME { }`.
    Service,
    /// `pool NAME { }`.
    Pool,
    /// `storage NAME { }`.
    Storage,
}

/// Where a keyword may stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A directive in a block.
    In(Block),
    /// An option after the arguments of this directive (`real ... weight 3`); for a check,
    /// of that kind of check; for a storage, of its file-system line.
    OptionOf(&'static str),
    /// One of the words this directive takes as a value (`forward dr`); for `storage`,
    /// the file-system kinds its block names.
    ValueOf(&'static str),
}

use Block::*;
use Place::*;

/// A keyword's help: what it does and an example.
#[derive(Clone, Copy, Debug)]
pub struct Keyword {
    /// The word.
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// An example line.
    pub example: &'static str,
}

const fn kw(name: &'static str, help: &'static str, example: &'static str) -> Keyword {
    Keyword {
        name,
        help,
        example,
    }
}

/// The words that may stand at each place, in the order diagnostics list them.
pub const GRAMMAR: &[(Place, &[&str])] = &[
    (
        In(Top),
        &[
            "cluster", "defaults", "balancer", "pool", "service", "storage",
        ],
    ),
    (
        In(Defaults),
        &["scheduler", "forward", "persistence", "check", "weight"],
    ),
    (
        In(Balancer),
        &[
            "vrrp",
            "director",
            "gateway",
            "sync",
            "sysctl",
            "dataplane",
            "checker",
            "bgp",
        ],
    ),
    (In(Vrrp), &["advert", "auth", "interface", "nopreempt"]),
    (
        In(Director),
        &[
            "address",
            "priority",
            "state",
            "dataplane",
            "checker",
            "router-id",
            "manage",
        ],
    ),
    (
        In(Bgp),
        &["asn", "neighbor", "hold", "community", "local-pref"],
    ),
    (
        In(Service),
        &[
            "vip",
            "fwmark",
            "family",
            "forward",
            "scheduler",
            "persistence",
            "check",
            "sorry",
            "quorum",
            "pool",
            "route",
            "mtu",
            "ops",
            "table-size",
            "announce",
        ],
    ),
    (In(Pool), &["port", "weight", "check", "real"]),
    (In(Storage), &["server", "export-options", "mount"]),
    (OptionOf("sync"), &["id"]),
    (
        OptionOf("director"),
        &[
            "priority",
            "state",
            "dataplane",
            "checker",
            "router-id",
            "manage",
        ],
    ),
    (OptionOf("neighbor"), &["asn", "password", "bfd"]),
    (OptionOf("forward"), &["port", "csum"]),
    (OptionOf("persistence"), &["netmask"]),
    (
        OptionOf("http"),
        &["expect", "port", "every", "timeout", "retry"],
    ),
    (OptionOf("tcp"), &["port", "every", "timeout", "retry"]),
    (OptionOf("misc"), &["every", "timeout", "retry"]),
    (OptionOf("quorum"), &["hysteresis"]),
    (OptionOf("route"), &["pool"]),
    (
        OptionOf("real"),
        &["weight", "upper", "lower", "via", "drain", "manage"],
    ),
    (OptionOf("storage"), &["version", "credentials"]),
    (OptionOf("server"), &["manage"]),
    (OptionOf("mount"), &["options"]),
    (
        ValueOf("storage"),
        &[
            "nfs",
            "cifs",
            "gfs2",
            "ocfs2",
            "gpfs",
            "cephfs",
            "glusterfs",
            "coda",
            "database",
        ],
    ),
    (ValueOf("auth"), &["pass", "ah", "env", "file"]),
    (ValueOf("credentials"), &["file"]),
    (ValueOf("address"), &["on"]),
    (ValueOf("mount"), &["on", "pool"]),
    (ValueOf("state"), &["master", "backup"]),
    (ValueOf("dataplane"), &["ipvs", "nftables", "xdp"]),
    (ValueOf("checker"), &["keepalived", "lvsc"]),
    (ValueOf("announce"), &["vrrp", "bgp"]),
    (ValueOf("password"), &["env", "file"]),
    (ValueOf("family"), &["inet", "inet6"]),
    (ValueOf("forward"), &["nat", "dr", "tun"]),
    (ValueOf("tun"), &["ipip", "gue", "gre"]),
    (ValueOf("check"), &["tcp", "http", "https", "misc", "none"]),
];

/// Every keyword's help, in the order completion offers them.
pub const KEYWORDS: &[Keyword] = &[
    kw(
        "cluster",
        "Names the cluster; the name appears in every generated file.",
        "cluster web",
    ),
    kw(
        "defaults",
        "Values services and pools inherit: scheduler, forward, persistence, check, weight.",
        "defaults { scheduler wlc }",
    ),
    kw(
        "balancer",
        "The load-balancer tier: directors, VRRP, gateways, connection sync, sysctls.",
        "balancer { director lb1 192.0.2.2/24 on eth0 }",
    ),
    kw(
        "service",
        "A virtual service: VIP:port/proto or firewall mark, scheduler, forwarding, pool.",
        "service www { vip 192.0.2.100:80/tcp; pool web }",
    ),
    kw(
        "pool",
        "A server array (in a service, a route or a mount: the pool it names).",
        "pool web { real rs1 192.0.2.21 }",
    ),
    kw(
        "storage",
        "A shared file system: nfs, cifs, gfs2, ocfs2, gpfs, cephfs, glusterfs, coda, database.",
        "storage www-data { nfs 192.0.2.50:/export/www }",
    ),
    kw(
        "director",
        "A director (load balancer host): address/prefix, interface, VRRP priority.",
        "director lb1 192.0.2.2/24 on eth0 priority 150",
    ),
    kw(
        "vrrp",
        "The VRRP group that moves the VIPs between directors (keepalived vrrp_instance).",
        "vrrp 51 { advert 1s; auth pass env VRRP_PASS }",
    ),
    kw(
        "gateway",
        "Inside address held by the VRRP master; NAT reals route through it.",
        "gateway 10.10.0.1/24 on eth1",
    ),
    kw(
        "sync",
        "IPVS connection synchronisation between directors (lvs_sync_daemon).",
        "sync eth0 id 51",
    ),
    kw(
        "id",
        "Sync id of the connection synchronisation daemon, 0 to 255 (default: the VRRP router id).",
        "sync eth0 id 51",
    ),
    kw(
        "sysctl",
        "A kernel setting on every director.",
        "sysctl net.ipv4.vs.conntrack 1",
    ),
    kw("advert", "VRRP advertisement interval.", "advert 1s"),
    kw(
        "auth",
        "VRRP authentication; the secret is read at deploy time from env or file.",
        "auth pass env VRRP_PASS",
    ),
    kw(
        "pass",
        "Simple password authentication of VRRP adverts (the default).",
        "auth pass env VRRP_PASS",
    ),
    kw(
        "ah",
        "IPsec AH authentication of VRRP adverts.",
        "auth ah file /etc/lvsc/vrrp.secret",
    ),
    kw(
        "env",
        "The secret is read from this environment variable at deploy time.",
        "auth pass env VRRP_PASS",
    ),
    kw(
        "file",
        "The secret (or credentials) is read from this file at deploy time.",
        "auth pass file /etc/lvsc/vrrp.secret",
    ),
    kw(
        "interface",
        "Interface that carries the VRRP adverts.",
        "interface eth0",
    ),
    kw(
        "nopreempt",
        "A recovered higher-priority director does not take the VIPs back.",
        "nopreempt",
    ),
    kw(
        "address",
        "An address/prefix of a director on an interface.",
        "address 10.10.0.2/24 on eth1",
    ),
    kw(
        "on",
        "The interface an address is on; for a mount, the pool whose reals mount it.",
        "address 10.10.0.2/24 on eth1",
    ),
    kw(
        "priority",
        "VRRP priority, 1 to 254; the highest is master.",
        "priority 150",
    ),
    kw(
        "state",
        "Initial VRRP state: master or backup.",
        "state backup",
    ),
    kw(
        "master",
        "Starts as VRRP master (holds the VIPs).",
        "state master",
    ),
    kw("backup", "Starts as VRRP backup.", "state backup"),
    kw(
        "dataplane",
        "What balances on a director: ipvs (the kernel's IPVS, checked by keepalived), nftables or xdp (checked by `lvsc run`).",
        "dataplane xdp",
    ),
    kw(
        "ipvs",
        "The kernel's IPVS table, set over netlink; keepalived checks the reals.",
        "dataplane ipvs",
    ),
    kw(
        "nftables",
        "The whole load balancer as one nftables ruleset (kernels without IPVS); `lvsc run` checks the reals.",
        "dataplane nftables",
    ),
    kw(
        "xdp",
        "The XDP load balancer on the director's interface; `lvsc run` checks the reals.",
        "dataplane xdp",
    ),
    kw(
        "checker",
        "Who checks a director's reals: keepalived (IPVS only, the default there) or lvsc (`lvsc run`, the only choice for nftables and xdp).",
        "checker lvsc",
    ),
    kw(
        "keepalived",
        "keepalived's checkers, from the keepalived.conf lvsc writes (IPVS only).",
        "checker keepalived",
    ),
    kw(
        "lvsc",
        "`lvsc run` checks the reals and changes the data plane; keepalived does VRRP only.",
        "checker lvsc",
    ),
    kw(
        "vip",
        "The virtual address clients connect to: ADDR:PORT/PROTO.",
        "vip 192.0.2.100:80/tcp",
    ),
    kw(
        "fwmark",
        "Match packets by firewall mark; with vip lines, those VIPs are grouped.",
        "fwmark 10",
    ),
    kw(
        "family",
        "Address family of a fwmark service without VIPs: inet or inet6.",
        "family inet6",
    ),
    kw("inet", "IPv4.", "family inet"),
    kw("inet6", "IPv6.", "family inet6"),
    kw(
        "forward",
        "Forwarding method: nat (masquerade), dr (direct routing) or tun (IP tunnel).",
        "forward tun ipip",
    ),
    kw(
        "nat",
        "Masquerading (ipvsadm -m): the director rewrites addresses; replies must come back through it.",
        "forward nat",
    ),
    kw(
        "dr",
        "Direct routing (ipvsadm -g): only the MAC is rewritten; reals share a segment with the director and hold the VIP on lo.",
        "forward dr",
    ),
    kw(
        "tun",
        "IP tunnelling (ipvsadm -i): packets reach the reals encapsulated; reals hold the VIP on a tunnel device.",
        "forward tun ipip",
    ),
    kw(
        "ipip",
        "IP-in-IP (IPv6-in-IPv6 for IPv6) encapsulation, the default for tun.",
        "forward tun ipip",
    ),
    kw(
        "gue",
        "Generic UDP encapsulation; needs `port`.",
        "forward tun gue port 6080",
    ),
    kw("gre", "GRE encapsulation.", "forward tun gre"),
    kw(
        "csum",
        "Checksums on the tunnel's outer header (GUE/GRE).",
        "forward tun gue port 6080 csum",
    ),
    kw(
        "scheduler",
        "IPVS scheduler and flags: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh.",
        "scheduler sh sh-port",
    ),
    kw(
        "persistence",
        "Client affinity: timeout and optional netmask (ipvsadm -p, -M).",
        "persistence 300s netmask 255.255.255.0",
    ),
    kw(
        "netmask",
        "Clients in one network of this mask (or prefix length) stick to one real together.",
        "persistence 300s netmask 255.255.255.0",
    ),
    kw(
        "check",
        "Health check: tcp, http, https, misc or none.",
        "check http \"/healthz\" expect 200 every 5s",
    ),
    kw("tcp", "Health check by TCP connect.", "check tcp every 2s"),
    kw(
        "http",
        "Health check by HTTP GET of a path, expecting a status.",
        "check http \"/healthz\" expect 200",
    ),
    kw(
        "https",
        "Health check by HTTPS GET of a path, expecting a status.",
        "check https \"/healthz\" expect 200",
    ),
    kw(
        "misc",
        "Health check by a command; exit 0 means up.",
        "check misc \"/usr/local/bin/probe\" every 10s",
    ),
    kw(
        "none",
        "No health check: reals are always up.",
        "check none",
    ),
    kw(
        "expect",
        "The HTTP status an http/https check expects (default 200).",
        "check http \"/\" expect 204",
    ),
    kw(
        "every",
        "How often a check runs (default 5s).",
        "check tcp every 2s",
    ),
    kw(
        "timeout",
        "How long a check may take (default 3s).",
        "check tcp timeout 1s",
    ),
    kw(
        "retry",
        "Failures in a row before a real is taken out (default 3).",
        "check tcp retry 2",
    ),
    kw(
        "sorry",
        "Sorry server used when every real is down.",
        "sorry 192.0.2.250:80",
    ),
    kw(
        "quorum",
        "Minimum total weight of live reals, with hysteresis.",
        "quorum 2 hysteresis 1",
    ),
    kw(
        "hysteresis",
        "How far above or below the quorum live weight must move before the service goes up or down.",
        "quorum 4 hysteresis 1",
    ),
    kw(
        "route",
        "Content-based routing: not an IPVS feature; the compiler explains the alternatives.",
        "route \"/static/*\" pool static",
    ),
    kw(
        "mtu",
        "Path MTU toward tunnel reals (leave room for the outer header).",
        "mtu 1480",
    ),
    kw("ops", "One-packet scheduling, for UDP services.", "ops"),
    kw(
        "table-size",
        "Maglev lookup-table size for the XDP data plane (a prime).",
        "table-size 65537",
    ),
    kw(
        "port",
        "A port: the pool's reals' default, the port a check probes, or the GUE port.",
        "port 8080",
    ),
    kw(
        "weight",
        "Weight of reals, 0 to 65535 (default 1).",
        "weight 1",
    ),
    kw(
        "real",
        "A real server: name, address[:port], weight, thresholds, via, drain.",
        "real rs1 192.0.2.21 weight 3",
    ),
    kw(
        "upper",
        "Upper connection threshold: no new connections above it (ipvsadm -x).",
        "real rs1 192.0.2.21 upper 1000",
    ),
    kw(
        "lower",
        "Lower connection threshold: new connections again below it (ipvsadm -y).",
        "real rs1 192.0.2.21 upper 1000 lower 800",
    ),
    kw(
        "via",
        "The gateway a NAT real routes its replies through (default: the balancer gateway on its subnet).",
        "real db1 10.10.0.11 via 10.10.0.1",
    ),
    kw(
        "drain",
        "Weight 0: no new connections, existing ones finish.",
        "real rs3 192.0.2.23 drain",
    ),
    kw(
        "nfs",
        "An NFS export: ADDR:/path [version V].",
        "nfs 192.0.2.50:/export/www version 4.2",
    ),
    kw(
        "cifs",
        "A CIFS/SMB share: //server/share [version V] [credentials file PATH].",
        "cifs //192.0.2.60/share",
    ),
    kw(
        "gfs2",
        "A GFS2 cluster file system on a shared block device.",
        "gfs2 /dev/mapper/shared",
    ),
    kw(
        "ocfs2",
        "An OCFS2 cluster file system on a shared block device.",
        "ocfs2 /dev/mapper/shared",
    ),
    kw(
        "gpfs",
        "An IBM Spectrum Scale (GPFS) file system, by its device name.",
        "gpfs gpfs0",
    ),
    kw(
        "cephfs",
        "A CephFS file system: monitors and path.",
        "cephfs 192.0.2.70:/",
    ),
    kw(
        "glusterfs",
        "A GlusterFS volume: server and volume.",
        "glusterfs 192.0.2.80:/gv0",
    ),
    kw(
        "coda",
        "A Coda distributed file system realm.",
        "coda coda.example.org",
    ),
    kw(
        "database",
        "A shared database the reals use (nothing to mount).",
        "database 192.0.2.90:5432",
    ),
    kw(
        "version",
        "Protocol version of an NFS or CIFS mount.",
        "nfs 192.0.2.50:/export version 4.2",
    ),
    kw(
        "credentials",
        "The credentials file of a CIFS mount (never the secret itself).",
        "cifs //192.0.2.60/share credentials file /etc/lvsc/cifs.cred",
    ),
    kw("server", "Host name of the storage server.", "server nas1"),
    kw(
        "export-options",
        "exports(5) options on the storage server.",
        "export-options \"ro,sync\"",
    ),
    kw(
        "bgp",
        "Active-active directors: each announces the VIPs to the routers over BGP (ECMP).",
        "bgp { asn 65001; neighbor 192.0.2.1 asn 65000 }",
    ),
    kw(
        "asn",
        "An AS number: the directors' own in `bgp`, the router's on a `neighbor`.",
        "asn 65001",
    ),
    kw(
        "neighbor",
        "A router the directors peer with: address, AS number, optional password and BFD.",
        "neighbor 192.0.2.1 asn 65000 password env BGP_PASS bfd",
    ),
    kw(
        "hold",
        "The BGP hold time: a silent session is dropped (and its routes withdrawn) after it.",
        "hold 9s",
    ),
    kw(
        "community",
        "A BGP community (A:B) or large community (A:B:C) on the VIP routes.",
        "community 65001:100",
    ),
    kw(
        "local-pref",
        "The local preference of the VIP routes (iBGP neighbours).",
        "local-pref 200",
    ),
    kw(
        "password",
        "The TCP MD5 secret of a BGP session, read at deploy time from the environment or a file.",
        "password env BGP_PASS",
    ),
    kw(
        "bfd",
        "Bidirectional forwarding detection on a BGP session: failover in a fraction of a second.",
        "neighbor 192.0.2.1 asn 65000 bfd",
    ),
    kw(
        "router-id",
        "A director's BGP router id (default: its first IPv4 address).",
        "director lb1 192.0.2.2/24 on eth0 router-id 192.0.2.2",
    ),
    kw(
        "manage",
        "Where rollout tools (the Ansible inventory) reach a host; default its first address.",
        "real rs1 10.0.0.21 manage 192.168.0.21",
    ),
    kw(
        "announce",
        "Who brings a service's VIPs to the directors: the VRRP master, or BGP from every director.",
        "announce bgp",
    ),
    kw(
        "mount",
        "Every real of a pool mounts the storage at PATH.",
        "mount /var/www on pool web options \"ro\"",
    ),
    kw(
        "options",
        "mount(8) options.",
        "mount /var/www on pool web options \"ro,hard\"",
    ),
];

/// The directives of `block`, in the order diagnostics list them: a storage block's
/// file-system kind (`ValueOf("storage")`) comes first, then its other directives.
pub fn directives_in(block: Block) -> Vec<&'static str> {
    let mut words = Vec::new();
    if block == Storage {
        words.extend_from_slice(at(ValueOf("storage")));
    }
    words.extend_from_slice(at(In(block)));
    words
}

impl Block {
    /// The keyword that opens the block (`top` for the file itself).
    pub fn keyword(self) -> &'static str {
        match self {
            Top => "top",
            Defaults => "defaults",
            Balancer => "balancer",
            Vrrp => "vrrp",
            Director => "director",
            Bgp => "bgp",
            Service => "service",
            Pool => "pool",
            Storage => "storage",
        }
    }
}

/// The keywords that may stand at `place`, in the order diagnostics list them.
pub fn at(place: Place) -> &'static [&'static str] {
    GRAMMAR
        .iter()
        .find(|(p, _)| *p == place)
        .map_or(&[], |(_, words)| words)
}

/// The entry of `word`, if it is a keyword.
pub fn get(word: &str) -> Option<&'static Keyword> {
    KEYWORDS.iter().find(|k| k.name == word)
}

/// The help and example of `word`, if it is a keyword.
pub fn help(word: &str) -> Option<(&'static str, &'static str)> {
    get(word).map(|k| (k.help, k.example))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_of_the_grammar_has_help_and_every_help_a_place() {
        for (place, words) in GRAMMAR {
            for w in *words {
                assert!(get(w).is_some(), "{w} ({place:?}) has no help");
            }
        }
        for (i, k) in KEYWORDS.iter().enumerate() {
            assert!(!k.help.is_empty() && !k.example.is_empty(), "{}", k.name);
            assert!(
                GRAMMAR.iter().any(|(_, w)| w.contains(&k.name)),
                "{} stands nowhere in the grammar",
                k.name
            );
            assert!(
                KEYWORDS[i + 1..].iter().all(|o| o.name != k.name),
                "{} twice",
                k.name
            );
        }
    }

    #[test]
    fn cluster_file_systems_are_storage_directives_with_help() {
        // Once missing from the hover help.
        for kind in ["ocfs2", "gpfs", "cephfs", "glusterfs", "coda", "database"] {
            assert!(directives_in(Storage).contains(&kind), "{kind}");
            assert!(help(kind).is_some(), "{kind}");
        }
        let words = directives_in(Storage);
        assert_eq!(words.len(), 12);
        assert_eq!(&words[9..], ["server", "export-options", "mount"]);
    }
}
