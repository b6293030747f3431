//! `ipvsadm -Sn` output to a `.lvs` file: one pool per service (named after it), reals
//! named by address. Thresholds are not in `-Sn` output, so they cannot be recovered.

use std::fmt::Write;
use std::net::SocketAddr;

use lvsc_ipvs::ipvsadm::netmask_text;
use lvsc_ipvs::table::{F_ONEPACKET, F_PERSISTENT, F_SCHED1, F_SCHED2, Key, VirtualService, fwd};

use crate::{ImportError, formatted};

/// Imports rules as `ipvsadm -Sn` prints them, as a formatted `.lvs` file.
pub fn import(rules: &str, cluster: &str, director: &str) -> Result<String, ImportError> {
    let table = lvsc_ipvs::ipvsadm::parse_rules(rules).map_err(|e| ImportError::Syntax {
        line: e.line,
        message: e.message,
    })?;
    formatted(&to_lvs(&table, cluster, director))
}

/// One pool per service (named after it), reals named by address.
fn to_lvs(t: &lvsc_ipvs::Table, cluster: &str, director: &str) -> String {
    let mut out = format!("# Imported from ipvsadm rules by lvsc import.\ncluster {cluster}\n\n");
    let _ = writeln!(
        out,
        "# Give the director its real address, prefix and interface."
    );
    let _ = writeln!(
        out,
        "balancer {{\n  director {director} 192.0.2.1/24 on eth0\n}}"
    );
    for (i, s) in t.services.values().enumerate() {
        let name = format!("svc{}", i + 1);
        let _ = writeln!(out, "\npool {name} {{");
        for (j, d) in s.dests.values().enumerate() {
            let thresholds: String = [("upper", d.upper), ("lower", d.lower)]
                .iter()
                .filter(|(_, v)| *v > 0)
                .map(|(k, v)| format!(" {k} {v}"))
                .collect();
            let to = SocketAddr::new(d.addr, d.port);
            let _ = writeln!(
                out,
                "  real {name}-r{} {to} weight {}{thresholds}",
                j + 1,
                d.weight
            );
        }
        let _ = writeln!(out, "}}\n\nservice {name} {{");
        service_body(&mut out, s);
        let _ = writeln!(out, "  pool {name}\n}}");
    }
    out
}

fn service_body(out: &mut String, s: &VirtualService) {
    match &s.key {
        Key::Addr { ip, port, proto } => {
            let p = match proto {
                17 => "udp",
                132 => "sctp",
                _ => "tcp",
            };
            let _ = writeln!(out, "  vip {}/{p}", SocketAddr::new(*ip, *port));
        }
        Key::Fwmark { mark, af } => {
            let _ = writeln!(out, "  fwmark {mark}");
            if *af == lvsc_ipvs::attrs::AF_INET6 {
                let _ = writeln!(out, "  family inet6");
            }
        }
    }
    let method = s.dests.values().next().map_or("dr", |d| match d.fwd {
        fwd::MASQ => "nat",
        fwd::TUNNEL => "tun",
        _ => "dr",
    });
    let _ = writeln!(out, "  forward {method}");
    let mut sched = s.scheduler.clone();
    for (bit, what) in [(F_SCHED1, "fallback"), (F_SCHED2, "port")] {
        if s.flags & bit != 0 {
            let _ = write!(sched, " {}-{what}", s.scheduler);
        }
    }
    let _ = writeln!(out, "  scheduler {sched}");
    if s.flags & F_PERSISTENT != 0 {
        let _ = write!(out, "  persistence {}s", s.timeout);
        if let Some(m) = netmask_text(s) {
            let _ = write!(out, " netmask {m}");
        }
        out.push('\n');
    }
    if s.flags & F_ONEPACKET != 0 {
        out.push_str("  ops\n");
    }
}
