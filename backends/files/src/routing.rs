//! The routing daemon's configuration for a director that announces VIPs over BGP:
//! bird.conf (BIRD 2) and frr.conf (FRR), from the same model.

use lvsc_compiler::views::{ANNOUNCE_INTERFACE, BgpRole};
use serde::Serialize;

use crate::render::Renderer;

#[derive(Serialize)]
struct Model {
    router_id: String,
    asn: u32,
    interface: &'static str,
    vips4: Vec<String>,
    vips6: Vec<String>,
    communities: Vec<Vec<String>>,
    large_communities: Vec<Vec<String>>,
    local_pref: Option<u32>,
    hold: Option<u16>,
    keepalive: Option<u16>,
    bfd: bool,
    neighbors: Vec<Neighbor>,
}

#[derive(Serialize)]
struct Neighbor {
    name: String,
    addr: String,
    asn: u32,
    v6: bool,
    bfd: bool,
    /// The file (beside the daemon's config) setup.sh writes the secret into.
    secret_file: Option<String>,
}

/// The name of neighbour `i`'s secret file, beside the daemon's config.
pub fn secret_file(i: usize) -> String {
    format!("lvsc-bgp-peer{}.secret", i + 1)
}

fn model(role: &BgpRole) -> Model {
    let g = &role.bgp;
    let (large, small): (Vec<_>, Vec<_>) = g
        .communities
        .iter()
        .map(|c| c.split(':').map(str::to_string).collect::<Vec<_>>())
        .partition(|parts| parts.len() == 3);
    let prefix = |ip: &std::net::IpAddr| {
        if ip.is_ipv4() {
            format!("{ip}/32")
        } else {
            format!("{ip}/128")
        }
    };
    Model {
        router_id: role.router_id.to_string(),
        asn: g.asn,
        interface: ANNOUNCE_INTERFACE,
        vips4: role
            .vips
            .iter()
            .filter(|v| v.is_ipv4())
            .map(prefix)
            .collect(),
        vips6: role
            .vips
            .iter()
            .filter(|v| v.is_ipv6())
            .map(prefix)
            .collect(),
        communities: small,
        large_communities: large,
        local_pref: g.local_pref,
        // BGP sends a keepalive every third of the hold time.
        hold: g.hold_s,
        keepalive: g.hold_s.map(|h| (h / 3).max(1)),
        bfd: g.neighbors.iter().any(|n| n.bfd),
        neighbors: g
            .neighbors
            .iter()
            .enumerate()
            .map(|(i, n)| Neighbor {
                name: format!("peer{}", i + 1),
                addr: n.addr.to_string(),
                asn: n.asn,
                v6: n.addr.is_ipv6(),
                bfd: n.bfd,
                secret_file: n.password.as_ref().map(|_| secret_file(i)),
            })
            .collect(),
    }
}

/// bird.conf for a director with a BGP role.
pub fn bird(r: &Renderer, cluster: &str, host: &str, role: &BgpRole) -> String {
    r.render("bird.conf", cluster, host, model(role))
}

/// frr.conf for a director with a BGP role.
pub fn frr(r: &Renderer, cluster: &str, host: &str, role: &BgpRole) -> String {
    r.render("frr.conf", cluster, host, model(role))
}
