//! `lvsc import ipvsadm [FILE|-]`: turn `ipvsadm -Sn` output into a formatted .lvs file.

use std::fmt::Write;
use std::io::Read;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, bail};
use lvsc_ipvs::table::{
    F_ONEPACKET, F_PERSISTENT, F_SCHED1, F_SCHED2, Key, VirtualService, fwd, host_netmask,
};

/// What to import.
#[derive(clap::Subcommand, Debug)]
pub enum Source {
    /// Rules as `ipvsadm -Sn` prints them.
    Ipvsadm {
        /// File with the rules (`-` or nothing reads standard input).
        file: Option<String>,
        /// Cluster name for the generated file.
        #[arg(long, default_value = "imported")]
        cluster: String,
        /// Director name for the generated file.
        #[arg(long, default_value = "director")]
        director: String,
    },
}

/// Runs the command.
pub fn run(source: Source) -> anyhow::Result<ExitCode> {
    let Source::Ipvsadm {
        file,
        cluster,
        director,
    } = source;
    let mut text = String::new();
    match file.as_deref() {
        None | Some("-") => {
            std::io::stdin().read_to_string(&mut text)?;
        }
        Some(p) => text = std::fs::read_to_string(p).with_context(|| format!("reading {p}"))?,
    }
    let table = match lvsc_ipvs::ipvsadm::parse_rules(&text) {
        Ok(t) => t,
        Err(e) => bail!("line {}: {}", e.line, e.message),
    };
    let lvs = to_lvs(&table, &cluster, &director);
    let formatted = lvsc_lang::format(&lvs)
        .map_err(|d| anyhow::anyhow!("internal: generated text does not parse: {d:?}"))?;
    print!("{formatted}");
    Ok(ExitCode::SUCCESS)
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
            let _ = write!(
                out,
                "  real {name}-r{} {} weight {}",
                j + 1,
                SocketAddr::new(d.addr, d.port),
                d.weight
            );
            if d.upper > 0 {
                let _ = write!(out, " upper {}", d.upper);
            }
            if d.lower > 0 {
                let _ = write!(out, " lower {}", d.lower);
            }
            out.push('\n');
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
        if s.netmask != host_netmask(s.key.af()) {
            if s.key.af() == lvsc_ipvs::attrs::AF_INET6 {
                let _ = write!(out, " netmask {}", s.netmask);
            } else {
                let _ = write!(
                    out,
                    " netmask {}",
                    std::net::Ipv4Addr::from(s.netmask.to_ne_bytes())
                );
            }
        }
        out.push('\n');
    }
    if s.flags & F_ONEPACKET != 0 {
        out.push_str("  ops\n");
    }
}
