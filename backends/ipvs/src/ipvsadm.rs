//! ipvsadm's rule format (`ipvsadm -Sn` / `ipvsadm-restore`): write a table as rules,
//! and read rules back into a table so existing directors can be imported.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

use crate::attrs::{AF_INET, AF_INET6};
use crate::table::{
    Destination, F_ONEPACKET, F_PERSISTENT, F_SCHED1, F_SCHED2, Key, Table, VirtualService, fwd,
    host_netmask,
};

fn sched_flags(s: &VirtualService) -> Vec<String> {
    let prefix = match s.scheduler.as_str() {
        "sh" | "mh" => s.scheduler.clone(),
        _ => String::new(),
    };
    let mut out = Vec::new();
    for (bit, n) in [(F_SCHED1, 1), (F_SCHED2, 2)] {
        if s.flags & bit != 0 {
            out.push(match (prefix.as_str(), n) {
                ("", n) => format!("flag-{n}"),
                (p, 1) => format!("{p}-fallback"),
                (p, _) => format!("{p}-port"),
            });
        }
    }
    out
}

/// The `-M` netmask of a persistent service, when it is not the host mask.
pub fn netmask_text(s: &VirtualService) -> Option<String> {
    let af = s.key.af();
    if s.netmask == host_netmask(af) {
        return None;
    }
    Some(if af == AF_INET6 {
        s.netmask.to_string()
    } else {
        std::net::Ipv4Addr::from(s.netmask.to_ne_bytes()).to_string()
    })
}

/// The table as `ipvsadm -Sn` prints it (and `ipvsadm -R` reads it).
pub fn write_rules(t: &Table) -> String {
    let mut out = String::new();
    for s in t.services.values() {
        // The order ipvsadm -Sn prints: scheduler, persistence, netmask, ops, flags.
        let _ = write!(out, "-A {} -s {}", s.key, s.scheduler);
        if s.flags & F_PERSISTENT != 0 {
            let _ = write!(out, " -p {}", s.timeout);
            if let Some(m) = netmask_text(s) {
                let _ = write!(out, " -M {m}");
            }
        }
        if s.flags & F_ONEPACKET != 0 {
            out.push_str(" -o");
        }
        let flags = sched_flags(s);
        if !flags.is_empty() {
            let _ = write!(out, " -b {}", flags.join(","));
        }
        out.push('\n');
        for d in s.dests.values() {
            let how = match d.fwd {
                fwd::MASQ => "-m",
                fwd::TUNNEL => "-i",
                _ => "-g",
            };
            let _ = write!(
                out,
                "-a {} -r {} {how} -w {}",
                s.key,
                SocketAddr::new(d.addr, d.port),
                d.weight
            );
            if d.upper > 0 {
                let _ = write!(out, " -x {}", d.upper);
            }
            if d.lower > 0 {
                let _ = write!(out, " -y {}", d.lower);
            }
            if let Some((t, port, csum)) = d.tunnel {
                let name = match t {
                    1 => "gue",
                    2 => "gre",
                    _ => "ipip",
                };
                let _ = write!(out, " --tun-type {name}");
                if port != 0 {
                    let _ = write!(out, " --tun-port {port}");
                }
                if csum != 0 {
                    out.push_str(" --tun-csum");
                }
            }
            out.push('\n');
        }
    }
    out
}

/// A line of rules that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn parse_endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let a: SocketAddr = s.parse().ok()?;
    Some((a.ip(), a.port()))
}

/// Reads `ipvsadm -Sn` output into a table.
pub fn parse_rules(text: &str) -> Result<Table, RuleError> {
    let mut t = Table::default();
    for (n, line) in text.lines().enumerate() {
        let err = |m: &str| RuleError {
            line: n + 1,
            message: format!("{m}: {line}"),
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() || words[0].starts_with('#') {
            continue;
        }
        let add_service = match words[0] {
            "-A" | "--add-service" => true,
            "-a" | "--add-server" => false,
            _ => return Err(err("expected -A or -a")),
        };
        let mut key = None;
        let (mut sched, mut flags, mut timeout, mut mask, mut six) =
            ("wlc".to_string(), 0u32, 0u32, None::<String>, false);
        let mut dest = Destination {
            addr: "0.0.0.0".parse().expect("valid"),
            port: 0,
            fwd: fwd::DROUTE,
            weight: 1,
            upper: 0,
            lower: 0,
            tunnel: None,
        };
        let (mut tun_type, mut tun_port, mut tun_csum) = (0u8, 0u16, 0u16);
        let mut i = 1;
        while i < words.len() {
            let w = words[i];
            let arg = words.get(i + 1).copied();
            let take = || arg.ok_or_else(|| err(&format!("{w} needs a value")));
            match w {
                "-t" | "--tcp-service" | "-u" | "--udp-service" | "--sctp-service" => {
                    let (ip, port) =
                        parse_endpoint(take()?).ok_or_else(|| err("bad service address"))?;
                    let proto = match w {
                        "-u" | "--udp-service" => 17,
                        "--sctp-service" => 132,
                        _ => 6,
                    };
                    key = Some(Key::Addr { ip, port, proto });
                    i += 1;
                }
                "-f" | "--fwmark-service" => {
                    key = Some(Key::Fwmark {
                        mark: take()?.parse().map_err(|_| err("bad fwmark"))?,
                        af: AF_INET,
                    });
                    i += 1;
                }
                "-6" | "--ipv6" => six = true,
                "-s" | "--scheduler" => {
                    sched = take()?.to_string();
                    i += 1;
                }
                "-b" | "--sched-flags" => {
                    for f in take()?.split(',') {
                        flags |= if f.ends_with("fallback") || f == "flag-1" {
                            F_SCHED1
                        } else {
                            F_SCHED2
                        };
                    }
                    i += 1;
                }
                "-p" | "--persistent" => {
                    flags |= F_PERSISTENT;
                    // The timeout is optional in ipvsadm; -Sn always prints it.
                    match arg.and_then(|a| a.parse().ok()) {
                        Some(v) => {
                            timeout = v;
                            i += 1;
                        }
                        None => timeout = 300,
                    }
                }
                "-M" | "--netmask" => {
                    mask = Some(take()?.to_string());
                    i += 1;
                }
                "-o" | "--ops" => flags |= F_ONEPACKET,
                "-r" | "--real-server" => {
                    let (ip, port) =
                        parse_endpoint(take()?).ok_or_else(|| err("bad real server address"))?;
                    (dest.addr, dest.port) = (ip, port);
                    i += 1;
                }
                "-g" | "--gatewaying" => dest.fwd = fwd::DROUTE,
                "-i" | "--ipip" => dest.fwd = fwd::TUNNEL,
                "-m" | "--masquerading" => dest.fwd = fwd::MASQ,
                "-w" | "--weight" => {
                    dest.weight = take()?.parse().map_err(|_| err("bad weight"))?;
                    i += 1;
                }
                "-x" | "--u-threshold" => {
                    dest.upper = take()?.parse().map_err(|_| err("bad threshold"))?;
                    i += 1;
                }
                "-y" | "--l-threshold" => {
                    dest.lower = take()?.parse().map_err(|_| err("bad threshold"))?;
                    i += 1;
                }
                "--tun-type" => {
                    tun_type = match take()? {
                        "ipip" => 0,
                        "gue" => 1,
                        "gre" => 2,
                        _ => return Err(err("bad tunnel type")),
                    };
                    i += 1;
                }
                "--tun-port" => {
                    tun_port = take()?.parse().map_err(|_| err("bad tunnel port"))?;
                    i += 1;
                }
                "--tun-nocsum" => {}
                "--tun-csum" | "--tun-remcsum" => tun_csum = 1,
                _ => return Err(err(&format!("unknown option {w}"))),
            }
            i += 1;
        }
        let mut key = key.ok_or_else(|| err("no service (-t, -u, --sctp-service or -f)"))?;
        if let Key::Fwmark { af, .. } = &mut key
            && six
        {
            *af = AF_INET6;
        }
        if add_service {
            let af = key.af();
            let netmask = match mask {
                Some(m) if af == AF_INET6 => m.parse().map_err(|_| err("bad IPv6 netmask"))?,
                Some(m) => u32::from_ne_bytes(
                    m.parse::<std::net::Ipv4Addr>()
                        .map_err(|_| err("bad netmask"))?
                        .octets(),
                ),
                None => host_netmask(af),
            };
            let vs = VirtualService {
                key: key.clone(),
                scheduler: sched,
                flags,
                timeout,
                netmask,
                dests: Default::default(),
            };
            t.services.insert(key, vs);
        } else {
            if dest.fwd == fwd::TUNNEL {
                dest.tunnel = Some((tun_type, tun_port, tun_csum));
            }
            let vs = t
                .services
                .get_mut(&key)
                .ok_or_else(|| err("real server of a service not defined above"))?;
            vs.dests.insert((dest.addr, dest.port), dest);
        }
    }
    Ok(t)
}
