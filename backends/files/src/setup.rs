//! setup.sh for every host: what its role and forwarding methods need, with `up`,
//! `down` and `status`; every value shell-quoted.

use lvsc_compiler::ir::SecretRef;
use lvsc_compiler::views::{DirectorView, RealServerView, tunnel_device};
use serde::Serialize;

use crate::render::Renderer;

#[derive(Serialize, Default)]
struct Model {
    role: &'static str,
    sysctls: Vec<(String, String)>,
    loopback_vips: Vec<String>,
    tunnels: Vec<Tunnel>,
    nat_gateway: String,
    mounts: Vec<lvsc_compiler::views::MountView>,
    secret_from: String,
    secret_name: String,
    secret_file: String,
    nft_table: String,
    bgp_asn: String,
    bgp_secrets: Vec<BgpSecret>,
}

#[derive(Serialize)]
struct BgpSecret {
    addr: String,
    from: &'static str,
    name: String,
    file: String,
}

#[derive(Serialize)]
struct Tunnel {
    device: String,
    vip: String,
}

fn host_prefix(ip: std::net::IpAddr) -> String {
    if ip.is_ipv4() {
        format!("{ip}/32")
    } else {
        format!("{ip}/128")
    }
}

/// setup.sh for a director: sysctls, the VRRP and BGP secrets, the nftables ruleset.
pub fn director(r: &Renderer, cluster: &str, d: &DirectorView) -> String {
    let mut m = Model {
        role: "Director",
        sysctls: d.sysctls.clone().into_iter().collect(),
        nft_table: lvsc_nftables::BESIDE_IPVS_TABLE.into(),
        ..Model::default()
    };
    // VRRPv3 (IPv6) carries no authentication, so there is no secret to install.
    if let Some(v) = d.vrrp.as_ref().filter(|v| v.source.is_ipv4())
        && let Some(a) = &v.group.auth
    {
        (m.secret_from, m.secret_name) = match &a.secret {
            SecretRef::Env(n) => ("env".into(), n.clone()),
            SecretRef::File(p) => ("file".into(), p.clone()),
        };
        m.secret_file = crate::keepalived::auth_file(v.group.router_id);
    }
    if let Some(role) = &d.bgp {
        m.bgp_asn = role.bgp.asn.to_string();
        for (i, n) in role.bgp.neighbors.iter().enumerate() {
            let Some(secret) = &n.password else { continue };
            let (from, name) = match secret {
                SecretRef::Env(n) => ("env", n.clone()),
                SecretRef::File(p) => ("file", p.clone()),
            };
            m.bgp_secrets.push(BgpSecret {
                addr: n.addr.to_string(),
                from,
                name,
                file: crate::routing::secret_file(i),
            });
        }
    }
    r.render("setup.sh", cluster, &d.name, m)
}

/// setup.sh for a real server: VIPs on lo or tunnels, ARP and rp_filter settings, the
/// route through the directors, shared storage.
pub fn real(r: &Renderer, cluster: &str, v: &RealServerView) -> String {
    let m = Model {
        role: "Real server",
        sysctls: v.sysctls.clone().into_iter().collect(),
        loopback_vips: v.loopback_vips.iter().map(|ip| host_prefix(*ip)).collect(),
        tunnels: v
            .tunnel_vips
            .iter()
            .map(|(t, ip)| Tunnel {
                device: tunnel_device(*t, ip.is_ipv6()).into(),
                vip: host_prefix(*ip),
            })
            .collect(),
        nat_gateway: v.nat_gateway.map(|g| g.to_string()).unwrap_or_default(),
        mounts: v.mounts.clone(),
        ..Model::default()
    };
    r.render("setup.sh", cluster, &v.name, m)
}
