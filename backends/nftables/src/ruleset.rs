//! The two rulesets a director can run: beside IPVS (marks, accepts, NAT forwarding), or
//! as the whole load balancer for kernels without IPVS (the nftables data plane).

use std::net::IpAddr;

use lvsc_compiler::ir::{ForwardMethod, Service, Vip};
use lvsc_compiler::views::DirectorView;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// Table of the ruleset that runs beside IPVS.
pub const BESIDE_IPVS_TABLE: &str = "lvsc";
/// Table of the nftables data plane.
pub const DATAPLANE_TABLE: &str = "lvsc_dataplane";

/// A service the nftables data plane cannot carry, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("service {service}: {reason}")]
pub struct Refusal {
    /// The service.
    pub service: String,
    /// Why, and what to use instead.
    pub reason: String,
}

#[derive(Serialize)]
struct Model<'a> {
    title: &'static str,
    table: &'static str,
    cluster: &'a str,
    host: &'a str,
    chains: Vec<Chain>,
}

/// Lays out a ruleset with the one nftables template.
fn render(model: &Model<'_>) -> String {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let text = env
        .render_str(
            include_str!("../templates/nftables.conf.j2"),
            minijinja::Value::from(minijinja::value::Serde(model)),
        )
        .unwrap_or_else(|e| panic!("the nftables template does not fit its model: {e:#}"));
    // The template's own last newline is trimmed by the engine.
    text + "\n"
}

#[derive(Serialize)]
struct Chain {
    name: &'static str,
    hook: &'static str,
    rules: Vec<String>,
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "ip" } else { "ip6" }
}

/// `ip daddr 192.0.2.100 tcp dport 80`.
fn vip_match(v: &Vip) -> String {
    format!(
        "{} daddr {} {} dport {}",
        family(v.ip),
        v.ip,
        v.proto,
        v.port
    )
}

/// nftables comments are quoted strings; service names are words, so this is exact.
fn comment(s: &Service) -> String {
    format!("comment \"{}\"", s.name)
}

/// The ruleset a director runs beside IPVS.
pub fn beside_ipvs(cluster: &str, d: &DirectorView) -> String {
    let mut input = vec![
        "ip protocol vrrp accept comment \"VRRP adverts\"".to_string(),
        "ip6 nexthdr vrrp accept".to_string(),
    ];
    let mut marks = Vec::new();
    for s in &d.services {
        for v in &s.vips {
            input.push(format!("{} counter accept {}", vip_match(v), comment(s)));
            if let lvsc_compiler::ir::ServiceKey::Fwmark { mark, .. } = s.key {
                marks.push(format!(
                    "{} meta mark set {mark} {}",
                    vip_match(v),
                    comment(s)
                ));
            }
        }
    }
    let mut forward = vec!["ct state established,related accept".to_string()];
    let mut post = Vec::new();
    let nat = d
        .services
        .iter()
        .any(|s| s.forward.method == ForwardMethod::Nat);
    if nat {
        // NAT reals route through the director: let their traffic pass and give their
        // own outbound connections the director's address.
        for a in d.addresses.iter().skip(1) {
            let net = network(a.addr, a.prefix);
            forward.push(format!(
                "{} saddr {net} accept comment \"NAT reals\"",
                family(a.addr)
            ));
            post.push(format!(
                "{} saddr {net} oifname != \"{}\" masquerade comment \"NAT reals' own traffic\"",
                family(a.addr),
                a.interface
            ));
        }
    }
    let mut chains = vec![Chain {
        name: "input",
        hook: "type filter hook input priority filter; policy accept;",
        rules: input,
    }];
    if !marks.is_empty() {
        chains.push(Chain {
            name: "fwmarks",
            hook: "type filter hook prerouting priority mangle; policy accept;",
            rules: marks,
        });
    }
    chains.push(Chain {
        name: "forward",
        hook: "type filter hook forward priority filter; policy accept;",
        rules: forward,
    });
    if !post.is_empty() {
        chains.push(Chain {
            name: "postrouting",
            hook: "type nat hook postrouting priority srcnat; policy accept;",
            rules: post,
        });
    }
    render(&Model {
        title: "nftables beside IPVS",
        table: BESIDE_IPVS_TABLE,
        cluster,
        host: &d.name,
        chains,
    })
}

fn network(ip: IpAddr, prefix: u8) -> String {
    match ip {
        IpAddr::V4(a) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            format!("{}/{prefix}", std::net::Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            format!("{}/{prefix}", std::net::Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

/// The whole load balancer as one nftables ruleset (NAT services only); the services
/// it cannot carry are refused, each with its reason.
pub fn dataplane(cluster: &str, d: &DirectorView) -> Result<String, Vec<Refusal>> {
    let mut pre = Vec::new();
    let mut refusals = Vec::new();
    for s in &d.services {
        if s.forward.method != ForwardMethod::Nat {
            refusals.push(Refusal {
                service: s.name.clone(),
                reason: format!(
                    "the nftables data plane forwards by NAT only; {} needs IPVS or the XDP data plane",
                    if s.forward.method == ForwardMethod::Dr {
                        "direct routing"
                    } else {
                        "IP tunnelling"
                    }
                ),
            });
            continue;
        }
        let Some(choice) = selector(s) else {
            pre.push(format!(
                "{} drop comment \"{}: no real has weight\"",
                vip_match(&s.vips[0]),
                s.name
            ));
            continue;
        };
        for v in &s.vips {
            pre.push(format!(
                "{} dnat {} {choice} {}",
                vip_match(v),
                family(v.ip),
                comment(s)
            ));
        }
    }
    let chains = vec![
        Chain {
            name: "prerouting",
            hook: "type nat hook prerouting priority dstnat; policy accept;",
            rules: pre,
        },
        Chain {
            name: "forward",
            hook: "type filter hook forward priority filter; policy accept;",
            rules: vec!["ct state established,related accept".into()],
        },
    ];
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(render(&Model {
        title: "nftables data plane",
        table: DATAPLANE_TABLE,
        cluster,
        host: &d.name,
        chains,
    }))
}

/// `addr . port to numgen inc mod 6 map { 0-2 : 10.0.0.11 . 8080, ... }`: each real gets as many
/// slots as its weight; `None` when no real has weight.
fn selector(s: &Service) -> Option<String> {
    let v6 = s.is_ipv6();
    let mut entries = Vec::new();
    let mut next = 0u64;
    for r in s.reals.iter().filter(|r| r.weight > 0) {
        let (first, last) = (next, next + u64::from(r.weight) - 1);
        next = last + 1;
        let slots = if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        };
        let addr = r.ip;
        // Port 0 (fwmark services) keeps the client's destination port.
        entries.push(if r.port == 0 {
            format!("{slots} : {addr}")
        } else {
            format!("{slots} : {addr} . {}", r.port)
        });
    }
    if next == 0 {
        return None;
    }
    let saddr = if v6 { "ip6 saddr" } else { "ip saddr" };
    let daddr = if v6 { "ip6 daddr" } else { "ip daddr" };
    let proto = s
        .vips
        .first()
        .map_or("tcp".to_string(), |v| v.proto.to_string());
    let flags = &s.scheduler.flags;
    let hash_port = flags.iter().any(|f| f.ends_with("-port"));
    // rr/wrr rotate exactly; hashing schedulers hash the client; the rest (least
    // connection and friends, which need state nftables lacks) pick at random by weight.
    let how = match s.scheduler.name.as_str() {
        "rr" | "wrr" if s.persistence.is_none() => format!("numgen inc mod {next}"),
        "dh" => format!("jhash {daddr} mod {next}"),
        "sh" | "mh" if hash_port => format!("jhash {saddr} . {proto} sport mod {next}"),
        "sh" | "mh" => format!("jhash {saddr} mod {next}"),
        _ if s.persistence.is_some() => format!("jhash {saddr} mod {next}"),
        _ => format!("numgen random mod {next}"),
    };
    let with_port = s.reals.iter().any(|r| r.port != 0);
    let target = if with_port { "addr . port to" } else { "to" };
    Some(format!("{target} {how} map {{ {} }}", entries.join(", ")))
}
