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
pub(crate) struct Model<'a> {
    pub title: &'static str,
    pub table: &'static str,
    pub cluster: &'a str,
    pub host: &'a str,
    pub sets: Vec<SetModel>,
    pub maps: Vec<MapModel>,
    pub chains: Vec<Chain>,
    /// An empty set whose name marks the table's shape (see `dataplane::shape_mark`).
    pub mark: Option<String>,
}

/// A named map with its elements.
#[derive(Serialize)]
pub(crate) struct MapModel {
    pub name: String,
    /// `typeof KEY : VALUE`.
    pub typeof_: String,
    /// `key : value` items.
    pub elements: Vec<String>,
}

/// A dynamic set whose entries expire (persistence's client networks).
#[derive(Serialize)]
pub(crate) struct SetModel {
    pub name: String,
    /// `typeof KEY`.
    pub typeof_: String,
    /// Entry timeout, as nft writes durations (`600s`).
    pub timeout: String,
}

/// Lays out a ruleset with the one nftables template.
pub(crate) fn render(model: &Model<'_>) -> String {
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
pub(crate) struct Chain {
    pub name: &'static str,
    pub hook: &'static str,
    pub rules: Vec<String>,
}

pub(crate) fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "ip" } else { "ip6" }
}

/// `ip daddr 192.0.2.100 tcp dport 80`.
pub(crate) fn vip_match(v: &Vip) -> String {
    format!(
        "{} daddr {} {} dport {}",
        family(v.ip),
        v.ip,
        v.proto,
        v.port
    )
}

/// nftables comments are quoted strings; service names are words, so this is exact.
pub(crate) fn comment(s: &Service) -> String {
    format!("comment \"{}\"", s.name)
}

/// The ruleset a director runs beside IPVS.
pub fn beside_ipvs(cluster: &str, d: &DirectorView) -> String {
    let mut input = vec![
        "ip protocol vrrp accept comment \"VRRP adverts\"".to_string(),
        "ip6 nexthdr vrrp accept".to_string(),
    ];
    let mut marks = Vec::new();
    for s in d.services.iter() {
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
        sets: Vec::new(),
        maps: Vec::new(),
        chains,
        mark: None,
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
