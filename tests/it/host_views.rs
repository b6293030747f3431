//! Per-host views: what each forwarding method and storage kind puts on which host.

use std::net::IpAddr;

use lvsc_compiler::HostViews;
use lvsc_compiler::ir::{ForwardMethod, TunnelType};

fn views(example: &str) -> HostViews {
    let text = std::fs::read_to_string(format!("examples/{example}")).unwrap();
    let c = lvsc_compiler::compile_source(&text)
        .cluster
        .expect("example compiles");
    lvsc_compiler::views(&c)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn dr_reals_hold_the_vip_on_lo_and_ignore_arp() {
    let h = views("web-dr.lvs");
    let rs1 = h.reals.iter().find(|r| r.name == "rs1").unwrap();
    assert!(rs1.loopback_vips.contains(&ip("192.0.2.100")));
    assert_eq!(rs1.sysctls["net.ipv4.conf.all.arp_ignore"], "1");
    assert_eq!(rs1.sysctls["net.ipv4.conf.lo.arp_announce"], "2");
    assert_eq!(rs1.nat_gateway, None);
    let lb1 = h.directors.iter().find(|d| d.name == "lb1").unwrap();
    let role = lb1.vrrp.as_ref().unwrap();
    assert_eq!(
        (role.priority, role.state),
        (150, lvsc_compiler::ir::VrrpState::Master)
    );
    assert_eq!(role.peers, vec![ip("192.0.2.3")]);
    assert!(
        lb1.floating
            .iter()
            .any(|a| a.addr == ip("192.0.2.100") && a.interface == "eth0" && a.prefix == 24)
    );
    assert!(
        !lb1.sysctls.contains_key("net.ipv4.ip_forward"),
        "DR needs no forwarding"
    );
    assert!(!lb1.sysctls.keys().any(|k| k.ends_with("send_redirects")));
    assert_eq!(lb1.sync.as_ref().unwrap().id, 51);
}

#[test]
fn nat_reals_route_through_the_floating_gateway_and_directors_forward() {
    let h = views("web-nat.lvs");
    for r in &h.reals {
        assert_eq!(r.nat_gateway, Some(ip("10.10.0.1")), "{}", r.name);
        assert!(r.loopback_vips.is_empty());
        assert_eq!(
            r.services,
            vec![("shop-http".to_string(), ForwardMethod::Nat)]
        );
    }
    let lb2 = h.directors.iter().find(|d| d.name == "lb2").unwrap();
    assert_eq!(lb2.sysctls["net.ipv4.ip_forward"], "1");
    // No ICMP redirect may send a real's replies around the NAT: `all` and every
    // interface of the director (the kernel sends one if either says so).
    for i in ["all", "default", "eth0", "eth1"] {
        assert_eq!(
            lb2.sysctls[&format!("net.ipv4.conf.{i}.send_redirects")],
            "0",
            "{i}"
        );
    }
    assert!(
        lb2.floating
            .iter()
            .any(|a| a.addr == ip("10.10.0.1") && a.interface == "eth1")
    );
    assert_eq!(lb2.vrrp.as_ref().unwrap().interface, "eth0");
}

#[test]
fn tun_reals_hold_the_vip_on_the_tunnel_with_relaxed_rp_filter() {
    let h = views("tun-two-sites.lvs");
    let ams1 = h.reals.iter().find(|r| r.name == "ams1").unwrap();
    assert!(
        ams1.tunnel_vips
            .contains(&(TunnelType::Ipip, ip("198.51.100.80")))
    );
    assert_eq!(ams1.sysctls["net.ipv4.conf.tunl0.rp_filter"], "0");
    assert_eq!(ams1.sysctls["net.ipv4.conf.all.rp_filter"], "0");
}

#[test]
fn storage_servers_export_to_the_pools_that_mount() {
    let h = views("nfs-pool.lvs");
    let nas1 = h.storage.iter().find(|s| s.name == "nas1").unwrap();
    assert_eq!(nas1.ip, ip("192.0.2.50"));
    let e = &nas1.exports[0];
    assert_eq!(e.path, "/export/static");
    assert_eq!(e.clients.len(), 4);
    assert!(e.clients.contains(&ip("192.0.2.71")));
    let media1 = h.reals.iter().find(|r| r.name == "media1").unwrap();
    let nfs = media1.mounts.iter().find(|m| m.fstype == "nfs").unwrap();
    assert_eq!(
        (nfs.source.as_str(), nfs.path.as_str()),
        ("192.0.2.50:/export/static", "/var/www/static")
    );
    assert!(nfs.options.contains("vers=4.2"));
    let cifs = media1.mounts.iter().find(|m| m.fstype == "cifs").unwrap();
    assert!(cifs.options.contains("credentials=/etc/lvsc/uploads.cred"));
    let gfs = views("gfs2-pool.lvs");
    assert!(
        gfs.storage.is_empty(),
        "a cluster file system has no single export server"
    );
    assert!(gfs.reals.iter().all(|r| {
        r.mounts
            .iter()
            .any(|m| m.fstype == "gfs2" && m.path == "/srv/shared")
    }));
}

#[test]
fn every_ir_item_traces_back_to_its_source() {
    let text = std::fs::read_to_string("examples/web-dr.lvs").unwrap();
    let map = lvsc_compiler::source_map(&text);
    let at = |key: &str| {
        let span = map
            .get(key)
            .unwrap_or_else(|| panic!("{key} not in the source map"));
        &text[span.start()..span.end()]
    };
    assert!(at("service/www").starts_with("service www {"));
    assert!(at("pool/web").starts_with("pool web {"));
    assert_eq!(at("real/web/rs2"), "real rs2 192.0.2.22 weight 1");
    assert!(at("director/lb2").starts_with("director lb2 192.0.2.3/24"));
    assert!(at("vrrp").starts_with("vrrp 51 {"));
}
