//! What one keepalived.conf says, in keepalived's terms: the statement tree read into
//! directors, VRRP instances, virtual servers and their checkers. Every statement is
//! either taken into the model or reported (left out, or approximated), never dropped
//! silently.

use std::net::IpAddr;

use lvsc_lang::Span;

use super::conf::{Node, Word};
use super::{Finding, Findings};

/// Where a statement is: its file and span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    /// Index into the sources.
    pub file: usize,
    /// The span in that file.
    pub span: Span,
}

/// One director's keepalived.conf, as far as lvsc can express it.
#[derive(Clone, Debug, Default)]
pub struct Conf {
    /// `global_defs { router_id }`.
    pub router_id: Option<String>,
    /// The VRRP instances, in order.
    pub vrrp: Vec<Vrrp>,
    /// `lvs_sync_daemon IF INSTANCE [id N]`.
    pub sync: Option<(String, Option<u8>)>,
    /// The virtual server groups: name and members.
    pub groups: Vec<(String, Vec<(GroupMember, Loc)>)>,
    /// The virtual servers, in order.
    pub servers: Vec<VirtualServer>,
    /// Comments before the first statement: the file's own header.
    pub header: Vec<String>,
}

/// A `vrrp_instance`.
#[derive(Clone, Debug, Default)]
pub struct Vrrp {
    /// Its name.
    pub name: String,
    /// Where it starts.
    pub at: Option<Loc>,
    /// `state MASTER|BACKUP`.
    pub master: Option<bool>,
    /// `interface`.
    pub interface: Option<String>,
    /// `virtual_router_id`.
    pub router_id: Option<u8>,
    /// `priority`.
    pub priority: Option<u8>,
    /// `advert_int`, in seconds.
    pub advert: Option<f64>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `authentication`: AH (not PASS), and where the inline secret was.
    pub auth: Option<(bool, Loc)>,
    /// `virtual_ipaddress`.
    pub addresses: Vec<VirtualAddress>,
    /// `unicast_src_ip` or `mcast_src_ip`: the director's own address.
    pub source: Option<IpAddr>,
    /// Comments before it.
    pub comments: Vec<String>,
}

/// One address of a `virtual_ipaddress` block.
#[derive(Clone, Debug)]
pub struct VirtualAddress {
    /// The address.
    pub ip: IpAddr,
    /// Its prefix, when written.
    pub prefix: Option<u8>,
    /// Its device, when written.
    pub dev: Option<String>,
    /// Where it is.
    pub at: Loc,
}

impl VirtualAddress {
    /// The prefix of its subnet: the written one, unless a host's (/32, /128), when a
    /// usual LAN's (/24, /64) is assumed.
    pub fn subnet_prefix(&self) -> u8 {
        let (host, lan) = if self.ip.is_ipv6() {
            (128, 64)
        } else {
            (32, 24)
        };
        self.prefix.filter(|p| *p < host).unwrap_or(lan)
    }
}

/// A member of a `virtual_server_group`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupMember {
    /// An address (a range expanded) and port.
    Addr(IpAddr, u16),
    /// A firewall mark.
    Fwmark(u32),
}

/// What a virtual server matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VsKey {
    /// `virtual_server IP PORT`.
    Addr(IpAddr, u16),
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

/// A `virtual_server`.
#[derive(Clone, Debug)]
pub struct VirtualServer {
    /// What it matches.
    pub key: VsKey,
    /// Where it starts.
    pub at: Loc,
    /// `lb_algo` (default `wlc`, as keepalived).
    pub algo: String,
    /// Scheduler flags, in lvsc's words (`sh-fallback`...).
    pub flags: Vec<String>,
    /// `lb_kind` in lvsc's words (`nat`, `dr`, `tun`).
    pub kind: String,
    /// `protocol` in lvsc's words.
    pub protocol: String,
    /// `persistence_timeout` in seconds.
    pub persistence: Option<u32>,
    /// `persistence_granularity`.
    pub granularity: Option<String>,
    /// `ops`.
    pub ops: bool,
    /// `quorum` and `hysteresis`.
    pub quorum: Option<(u32, u32)>,
    /// `sorry_server IP [PORT]`.
    pub sorry: Option<(IpAddr, Option<u16>)>,
    /// `delay_loop`, in seconds.
    pub delay_loop: Option<f64>,
    /// The real servers.
    pub reals: Vec<RealServer>,
    /// Comments before it.
    pub comments: Vec<String>,
}

/// A `real_server`.
#[derive(Clone, Debug)]
pub struct RealServer {
    /// Its address.
    pub addr: IpAddr,
    /// Its port (none for fwmark services).
    pub port: Option<u16>,
    /// `weight` (default 1).
    pub weight: u32,
    /// `uthreshold`.
    pub upper: Option<u32>,
    /// `lthreshold`.
    pub lower: Option<u32>,
    /// Its checker, when lvsc can express it.
    pub check: Option<Check>,
    /// Where its checker is.
    pub check_at: Option<Loc>,
    /// Where it starts.
    pub at: Loc,
    /// Comments before it.
    pub comments: Vec<String>,
}

/// A checker lvsc can express.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// `tcp`, `http`, `https` or `misc`.
    pub kind: &'static str,
    /// The URL path (HTTP).
    pub path: Option<String>,
    /// The expected status (HTTP).
    pub status: Option<u16>,
    /// The command (MISC).
    pub command: Option<String>,
    /// `connect_port`.
    pub port: Option<u16>,
    /// `connect_timeout` or `misc_timeout`, in seconds.
    pub timeout: Option<f64>,
    /// `retry` (keepalived's: tries after the first failure).
    pub retry: Option<u32>,
    /// `delay_before_retry`, in seconds.
    pub delay_before_retry: Option<f64>,
}

/// Reads the statements of one director's file into its model.
pub fn read(nodes: &[Node], out: &mut Findings) -> Conf {
    let mut conf = Conf::default();
    let mut first = true;
    for n in nodes {
        if first {
            first = false;
            conf.header = n.comments.clone();
        }
        match n.key() {
            "#" => {}
            "global_defs" => global_defs(n, &mut conf, out),
            "vrrp_instance" => {
                if let Some(v) = vrrp_instance(n, &mut conf, out) {
                    conf.vrrp.push(v)
                }
            }
            "virtual_server_group" => {
                if let Some(g) = group(n, out) {
                    conf.groups.push(g)
                }
            }
            "virtual_server" => {
                if let Some(vs) = virtual_server(n, out) {
                    conf.servers.push(vs)
                }
            }
            "vrrp_sync_group" => out.unsupported(
                n,
                "a VRRP sync group is left out: lvsc has one VRRP group per cluster",
            ),
            "vrrp_script" | "track_script" => out.unsupported(
                n,
                "a VRRP tracking script is left out: lvsc moves the VIPs on the directors' health (VRRP) or the services' quorum (`announce bgp`)",
            ),
            _ => out.unsupported(n, &format!("`{}` has no lvsc equivalent and is left out", n.key())),
        }
    }
    conf
}

fn global_defs(n: &Node, conf: &mut Conf, out: &mut Findings) {
    for c in n.children() {
        match c.key() {
            "#" => {}
            "router_id" => conf.router_id = c.args().first().map(|w| w.text.clone()),
            "lvs_sync_daemon" => {
                let Some(interface) = c.args().first() else {
                    out.bad(c, "`lvs_sync_daemon` names no interface");
                    continue;
                };
                let id = c
                    .args()
                    .windows(2)
                    .find(|w| w[0].text == "id")
                    .and_then(|w| number(&w[1], out).map(|v: u8| v));
                if let Some(i) = interface_name(interface, out) {
                    conf.sync = Some((i, id));
                }
                if c.args().iter().any(|w| {
                    w.text == "maxlen" || w.text == "port" || w.text == "ttl" || w.text == "group"
                }) {
                    out.approximated(c, "the sync daemon's `maxlen`, `port`, `ttl` and `group` are left out: lvsc uses the kernel's defaults");
                }
            }
            _ => out.unsupported(
                c,
                &format!(
                    "`{}` (global_defs) has no lvsc equivalent and is left out",
                    c.key()
                ),
            ),
        }
    }
}

fn vrrp_instance(n: &Node, conf: &mut Conf, out: &mut Findings) -> Option<Vrrp> {
    let mut v = Vrrp {
        name: n
            .args()
            .first()
            .map_or_else(String::new, |w| w.text.clone()),
        at: Some(out.loc(n)),
        comments: n.comments.clone(),
        ..Vrrp::default()
    };
    for c in n.children() {
        let arg = c.args().first();
        match (c.key(), arg) {
            ("#", _) => {}
            ("state", Some(a)) => v.master = Some(a.text.eq_ignore_ascii_case("MASTER")),
            ("interface", Some(a)) => v.interface = interface_name(a, out),
            ("virtual_router_id", Some(a)) => v.router_id = number(a, out),
            ("priority", Some(a)) => v.priority = number(a, out),
            ("advert_int", Some(a)) => v.advert = seconds(a, out),
            ("nopreempt", _) => v.nopreempt = true,
            ("unicast_src_ip" | "mcast_src_ip", Some(a)) => v.source = address(a, out),
            ("lvs_sync_daemon_interface", Some(a)) => {
                if let Some(i) = interface_name(a, out) {
                    conf.sync = Some((i, None))
                }
            }
            ("authentication", _) => v.auth = authentication(c, out),
            ("virtual_ipaddress", _) => {
                for a in c.children() {
                    if a.key() == "#" {
                        continue;
                    }
                    let (addr, prefix) = match a.key().split_once('/') {
                        Some((a0, p)) => (a0, p.parse().ok()),
                        None => (a.key(), None),
                    };
                    let Ok(ip) = addr.parse::<IpAddr>() else {
                        out.bad(a, &format!("`{}` is not an address", a.key()));
                        continue;
                    };
                    let dev = a.args().windows(2).find(|w| w[0].text == "dev").and_then(|w| interface_name(&w[1], out));
                    if a.args().iter().any(|w| !matches!(w.text.as_str(), "dev" | "label" | "brd" | "scope")) && dev.is_none() {
                        out.approximated(a, "options of a virtual address other than its device are left out");
                    }
                    v.addresses.push(VirtualAddress {
                        ip,
                        prefix,
                        dev,
                        at: out.loc(a),
                    });
                }
            }
            ("virtual_ipaddress_excluded", _) => out.unsupported(
                c,
                "excluded virtual addresses are left out: lvsc floats every VIP and gateway itself",
            ),
            ("garp_master_delay" | "smtp_alert" | "version", _) => out.unsupported(
                c,
                &format!("`{}` is left out: lvsc writes keepalived's default", c.key()),
            ),
            ("track_script", _) => out.unsupported(
                c,
                "a tracking script is left out: lvsc moves the VIPs on the directors' health (VRRP) or the services' quorum (`announce bgp`)",
            ),
            ("track_interface", _) => out.unsupported(c, "tracked interfaces are left out: keepalived tracks the VRRP interface itself"),
            (k, _) if k.starts_with("notify") => out.unsupported(
                c,
                "a notify script is left out: lvsc runs no scripts on VRRP transitions (`lvsc status` and the metrics report them)",
            ),
            _ => out.unsupported(c, &format!("`{}` (vrrp_instance) has no lvsc equivalent and is left out", c.key())),
        }
    }
    Some(v)
}

fn authentication(n: &Node, out: &mut Findings) -> Option<(bool, Loc)> {
    let mut ah = false;
    let mut at = None;
    for c in n.children() {
        match c.key() {
            "auth_type" => {
                ah = c
                    .args()
                    .first()
                    .is_some_and(|a| a.text.eq_ignore_ascii_case("AH"))
            }
            "auth_pass" => {
                // The secret itself: never shown, never written.
                for a in c.args() {
                    out.secret(a.file, a.span);
                }
                at = Some(out.loc_span(c.file, c.key_span()));
            }
            "#" => {}
            _ => out.unsupported(c, &format!("`{}` (authentication) is left out", c.key())),
        }
    }
    at.map(|at| (ah, at))
}

fn group(n: &Node, out: &mut Findings) -> Option<(String, Vec<(GroupMember, Loc)>)> {
    let name = n.args().first()?.text.clone();
    let mut members = Vec::new();
    for c in n.children() {
        if c.key() == "#" {
            continue;
        }
        if c.key() == "fwmark" {
            if let Some(m) = c.args().first().and_then(|a| number(a, out)) {
                members.push((GroupMember::Fwmark(m), out.loc(c)));
            }
            continue;
        }
        let Some(port) = c.args().first().and_then(|a| number::<u16>(a, out)) else {
            out.bad(c, "a group member needs an address and a port");
            continue;
        };
        match range(c.key()) {
            Some(addrs) => {
                let at = out.loc(c);
                members.extend(addrs.into_iter().map(|a| (GroupMember::Addr(a, port), at)))
            }
            None => out.bad(
                c,
                &format!("`{}` is not an address or address range", c.key()),
            ),
        }
    }
    Some((name, members))
}

/// `A.B.C.D` or `A.B.C.D-E` (the last part ranges), IPv6 alike on its last group.
fn range(text: &str) -> Option<Vec<IpAddr>> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(vec![ip]);
    }
    let (first, last) = text.rsplit_once('-')?;
    let ip: IpAddr = first.parse().ok()?;
    Some(match ip {
        IpAddr::V4(v4) => {
            let last: u8 = last.parse().ok()?;
            let o = v4.octets();
            (o[3]..=last)
                .map(|x| IpAddr::from([o[0], o[1], o[2], x]))
                .collect()
        }
        IpAddr::V6(v6) => {
            let last = u16::from_str_radix(last, 16).ok()?;
            let mut s = v6.segments();
            let from = s[7];
            (from..=last)
                .map(|x| {
                    s[7] = x;
                    IpAddr::from(s)
                })
                .collect()
        }
    })
}

fn virtual_server(n: &Node, out: &mut Findings) -> Option<VirtualServer> {
    let args = n.args();
    let key = match args.first().map(|w| w.text.as_str()) {
        Some("fwmark") => VsKey::Fwmark(number(args.get(1)?, out)?),
        Some("group") => VsKey::Group(args.get(1)?.text.clone()),
        Some(_) => {
            let ip = address(&args[0], out)?;
            let port = match args.get(1) {
                Some(p) => number(p, out)?,
                None => 0,
            };
            VsKey::Addr(ip, port)
        }
        None => {
            out.bad(
                n,
                "`virtual_server` needs an address and port, `fwmark N` or `group NAME`",
            );
            return None;
        }
    };
    let mut vs = VirtualServer {
        key,
        at: out.loc(n),
        algo: "wlc".into(),
        flags: Vec::new(),
        kind: "nat".into(),
        protocol: "tcp".into(),
        persistence: None,
        granularity: None,
        ops: false,
        quorum: None,
        sorry: None,
        delay_loop: None,
        reals: Vec::new(),
        comments: n.comments.clone(),
    };
    let mut hysteresis = 0;
    let mut alpha = false;
    for c in n.children() {
        let arg = c.args().first();
        match (c.key(), arg) {
            ("#", _) => {}
            ("lb_algo", Some(a)) => match a.text.to_ascii_lowercase() {
                // A scheduler is a word of letters; the compiler knows which exist.
                w if !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()) => vs.algo = w,
                _ => out.bad_word(a, &format!("`{}` is not a scheduler", a.text)),
            },
            ("lb_kind" | "lvs_method", Some(a)) => {
                vs.kind = match a.text.to_ascii_uppercase().as_str() {
                    "NAT" => "nat",
                    "DR" => "dr",
                    "TUN" => "tun",
                    _ => {
                        out.bad(c, &format!("`{}` is not NAT, DR or TUN", a.text));
                        "nat"
                    }
                }
                .into()
            }
            ("protocol", Some(a)) => match a.text.to_ascii_lowercase().as_str() {
                p @ ("tcp" | "udp" | "sctp") => vs.protocol = p.into(),
                _ => out.bad_word(a, &format!("`{}` is not TCP, UDP or SCTP", a.text)),
            },
            ("persistence_timeout", Some(a)) => vs.persistence = number(a, out),
            ("persistence_granularity", Some(a)) => {
                // A netmask (IPv4) or a prefix length (IPv6).
                if a.text.parse::<IpAddr>().is_ok() || a.text.parse::<u8>().is_ok_and(|p| p <= 128) {
                    vs.granularity = Some(a.text.clone())
                } else {
                    out.bad_word(a, &format!("`{}` is not a netmask or prefix length", a.text))
                }
            }
            ("ops", _) => vs.ops = true,
            ("quorum", Some(a)) => vs.quorum = number(a, out).map(|q| (q, 0)),
            ("hysteresis", Some(a)) => hysteresis = number(a, out).unwrap_or(0),
            ("delay_loop", Some(a)) => vs.delay_loop = seconds(a, out),
            ("alpha", _) => alpha = true,
            ("sorry_server", Some(a)) => {
                vs.sorry = address(a, out).map(|ip| (ip, c.args().get(1).and_then(|p| number(p, out))))
            }
            ("real_server", Some(_)) => {
                if let Some(r) = real_server(c, out) {
                    vs.reals.push(r)
                }
            }
            (flag @ ("sh-port" | "sh-fallback" | "mh-port" | "mh-fallback"), _) => vs.flags.push(flag.into()),
            ("flag-1", _) => vs.flags.push("fallback".into()),
            ("flag-2", _) => vs.flags.push("port".into()),
            ("virtualhost", _) => out.unsupported(c, "`virtualhost` (the Host header of HTTP checks) is left out: lvsc's checks send the real's address"),
            ("quorum_up" | "quorum_down", _) => out.unsupported(c, "a quorum script is left out: lvsc reports quorum in `lvsc status` and the metrics, and `announce bgp` withdraws the VIP without quorum"),
            ("omega", _) => out.unsupported(c, "`omega` (quorum scripts at shutdown) is left out: lvsc runs no quorum scripts"),
            ("inhibit_on_failure", _) => {}
            ("sorry_server_inhibit" | "sorry_server_lvs_method", _) => out.unsupported(c, &format!("`{}` is left out: lvsc's sorry server uses the service's forwarding method", c.key())),
            (k, _) if k.starts_with("notify") || k == "smtp_alert" => out.unsupported(c, &format!("`{k}` is left out: lvsc sends no notifications (`lvsc status` and the metrics report reals and quorum)")),
            _ => out.unsupported(c, &format!("`{}` (virtual_server) has no lvsc equivalent and is left out", c.key())),
        }
    }
    // Flags named by number mean the scheduler's own.
    for f in &mut vs.flags {
        if !f.contains('-') {
            *f = format!("{}-{f}", vs.algo);
        }
    }
    if let Some((_, h)) = &mut vs.quorum {
        *h = hysteresis;
    }
    if !alpha && vs.reals.iter().any(|r| r.check.is_some()) {
        out.approximated(
            n,
            "without `alpha` keepalived starts every real as up; lvsc (keepalived `alpha`) sends a real traffic only once its first check passes",
        );
    }
    if let Some(d) = vs.delay_loop {
        let retry_delay = vs.reals.iter().find_map(|r| {
            r.check
                .as_ref()
                .and_then(|c| c.delay_before_retry)
                .zip(r.check_at)
        });
        if let Some((r, at)) = retry_delay.filter(|(r, _)| (r - d).abs() > f64::EPSILON) {
            out.push(Finding::approximated(at, format!("`delay_before_retry {r}` differs from `delay_loop {d}`: lvsc retries a failed check after `every` ({d}s)")));
        }
    }
    Some(vs)
}

fn real_server(n: &Node, out: &mut Findings) -> Option<RealServer> {
    let addr = address(&n.args()[0], out)?;
    let port = match n.args().get(1) {
        Some(p) => Some(number(p, out)?),
        None => None,
    };
    let mut r = RealServer {
        addr,
        port,
        weight: 1,
        upper: None,
        lower: None,
        check: None,
        check_at: None,
        at: out.loc(n),
        comments: n.comments.clone(),
    };
    let mut inhibit = false;
    for c in n.children() {
        let arg = c.args().first();
        match (c.key(), arg) {
            ("#", _) => {}
            ("weight", Some(a)) => r.weight = number(a, out).unwrap_or(1),
            ("uthreshold", Some(a)) => r.upper = number(a, out),
            ("lthreshold", Some(a)) => r.lower = number(a, out),
            ("inhibit_on_failure", _) => inhibit = true,
            ("TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "MISC_CHECK", _) => {
                let check = checker(c, out);
                if r.check.is_some() {
                    out.unsupported(c, "a second checker on one real is left out: lvsc checks a real one way");
                } else {
                    r.check = Some(check);
                    r.check_at = Some(out.loc(c));
                }
            }
            (k @ ("SMTP_CHECK" | "DNS_CHECK" | "UDP_CHECK" | "PING_CHECK" | "BFD_CHECK" | "FILE_CHECK"), _) => out.unsupported(
                c,
                &format!("`{k}` is left out: lvsc checks with tcp, http, https or misc (a `check misc` script can do the rest)"),
            ),
            (k, _) if k.starts_with("notify") || k == "smtp_alert" => out.unsupported(c, &format!("`{k}` is left out: lvsc sends no notifications (`lvsc status` and the metrics report reals)")),
            _ => out.unsupported(c, &format!("`{}` (real_server) has no lvsc equivalent and is left out", c.key())),
        }
    }
    if !inhibit && r.check.is_some() {
        out.approximated(
            n,
            "without `inhibit_on_failure` keepalived removes a failed real; lvsc keeps it at weight 0 so that its connections finish",
        );
    }
    Some(r)
}

fn checker(n: &Node, out: &mut Findings) -> Check {
    let mut check = Check {
        kind: match n.key() {
            "TCP_CHECK" => "tcp",
            "HTTP_GET" => "http",
            "SSL_GET" => "https",
            _ => "misc",
        },
        path: None,
        status: None,
        command: None,
        port: None,
        timeout: None,
        retry: None,
        delay_before_retry: None,
    };
    let mut urls = 0;
    for c in n.children() {
        let arg = c.args().first();
        match (c.key(), arg) {
            ("#", _) => {}
            ("connect_port", Some(a)) => check.port = number(a, out),
            ("connect_timeout" | "misc_timeout", Some(a)) => check.timeout = seconds(a, out),
            ("retry" | "nb_get_retry", Some(a)) => check.retry = number(a, out),
            ("delay_before_retry", Some(a)) => check.delay_before_retry = seconds(a, out),
            ("misc_path", Some(a)) => check.command = Some(a.text.clone()),
            ("url", _) => {
                urls += 1;
                if urls > 1 {
                    out.unsupported(c, "a second URL is left out: lvsc's HTTP check asks for one path");
                    continue;
                }
                url(c, &mut check, out);
            }
            ("username" | "password", _) => {
                for a in c.args() {
                    out.secret(a.file, a.span);
                }
                out.unsupported(c, "check credentials are left out (never copied): lvsc's checks send none; give the real a path that needs no login");
            }
            ("virtualhost", _) => out.unsupported(c, "`virtualhost` is left out: lvsc's checks send the real's address as Host"),
            ("connect_ip" | "bindto" | "bind_port" | "bind_if" | "connect_ip6", _) => out.unsupported(
                c,
                &format!("`{}` is left out: lvsc checks the real at its own address, from the director's", c.key()),
            ),
            ("warmup" | "misc_dynamic" | "user" | "fwmark" | "enable_sni" | "tls_compliant" | "http_protocol" | "delay_loop", _) => {
                out.unsupported(c, &format!("`{}` ({}) is left out", c.key(), n.key()))
            }
            _ => out.unsupported(c, &format!("`{}` ({}) has no lvsc equivalent and is left out", c.key(), n.key())),
        }
    }
    if check.kind == "misc" && check.command.is_none() {
        out.bad(n, "a MISC_CHECK without `misc_path`");
    }
    check
}

fn url(n: &Node, check: &mut Check, out: &mut Findings) {
    for c in n.children() {
        match c.key() {
            "#" => {}
            "path" => check.path = c.args().first().map(|a| a.text.clone()),
            "status_code" => {
                let single = (c.args().len() == 1)
                    .then(|| c.args()[0].text.parse::<u16>().ok())
                    .flatten();
                match single {
                    Some(s) => check.status = Some(s),
                    None => {
                        // The first status of the first range or list.
                        let first = c
                            .args()
                            .first()
                            .and_then(|a| a.text.split('-').next().and_then(|s| s.parse().ok()));
                        check.status = first;
                        out.approximated(c, &format!(
                            "lvsc's HTTP check expects one status; it expects {} here, not the whole list",
                            first.map_or_else(|| "200".to_string(), |s: u16| s.to_string())
                        ));
                    }
                }
            }
            "digest" => out.unsupported(
                c,
                "`digest` is left out: lvsc's HTTP check looks at the status only",
            ),
            _ => out.unsupported(c, &format!("`{}` (url) is left out", c.key())),
        }
    }
}

fn number<T: std::str::FromStr>(w: &Word, out: &mut Findings) -> Option<T> {
    let v = w.text.parse().ok();
    if v.is_none() {
        out.bad_word(w, &format!("`{}` is not a number in range", w.text));
    }
    v
}

fn seconds(w: &Word, out: &mut Findings) -> Option<f64> {
    let v = w
        .text
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0);
    if v.is_none() {
        out.bad_word(w, &format!("`{}` is not a number of seconds", w.text));
    }
    v
}

/// An interface name as both Linux and the `.lvs` language take it: at most 15 bytes, a
/// letter or `_` first, then letters, digits, `_`, `-` and `.` (nothing that could end
/// a word or start a comment in the file the import writes).
fn interface_name(w: &Word, out: &mut Findings) -> Option<String> {
    let t = w.text.as_str();
    let ok = (1..=15).contains(&t.len())
        && t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !ok {
        out.bad_word(w, &format!("`{t}` is not an interface name lvsc can write"));
    }
    ok.then(|| t.to_string())
}

fn address(w: &Word, out: &mut Findings) -> Option<IpAddr> {
    let v = w.text.parse().ok();
    if v.is_none() {
        out.bad_word(w, &format!("`{}` is not an address", w.text));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The findings of reading `text` as one file.
    fn findings(text: &str) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("lvsc-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("k.conf");
        std::fs::write(&f, text).unwrap();
        let mut r = super::super::conf::Reader::default();
        let nodes = r.read(&f).unwrap();
        let mut out = Findings::default();
        read(&nodes, &mut out);
        std::fs::remove_dir_all(dir).unwrap();
        out.list.iter().map(|(_, d)| d.message.clone()).collect()
    }

    #[test]
    fn words_written_into_the_lvs_file_are_validated() {
        let found = findings(
            "vrrp_instance V {\n  interface eth0;director\n}\nvirtual_server 10.0.0.1 80 {\n  lb_algo rr;x\n  protocol tcp#x\n  persistence_granularity 255.0.0.0;x\n}\n",
        );
        for bad in [
            "`eth0;director` is not an interface",
            "`rr;x` is not a scheduler",
            "`tcp#x` is not TCP",
            "`255.0.0.0;x` is not a netmask",
        ] {
            assert!(found.iter().any(|f| f.contains(bad)), "{bad}: {found:?}");
        }
        assert!(findings("vrrp_instance V {\n  interface bond0.100\n}\n").is_empty());
    }

    #[test]
    fn ranges_expand_on_their_last_part() {
        assert_eq!(range("192.168.200.3-5").unwrap().len(), 3);
        assert_eq!(range("ae00::2-9").unwrap().len(), 8);
        assert_eq!(range("10.0.0.1").unwrap().len(), 1);
        assert!(range("host-1").is_none());
    }
}
