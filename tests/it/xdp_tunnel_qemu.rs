//! The XDP program's tunnel mode end to end, in the QEMU guest (this host has no ipip):
//! `lvsc apply --backend ebpf` on a director behind a router; TCP connections from a
//! client reach two reals through the IP-in-IP and IPv6-in-IPv6 headers the program
//! writes, the reals decapsulate and answer the client directly. The guest's script is
//! tests/xdp/tunnel-guest.sh.

use crate::support::{Guest, system_test_can_run};

/// The lines after `marker` up to the next `@@` line.
fn section<'a>(log: &'a str, marker: &str) -> Vec<&'a str> {
    log.lines()
        .skip_while(|l| *l != marker)
        .skip(1)
        .take_while(|l| !l.starts_with("@@"))
        .collect()
}

#[test]
fn xdp_tunnel_mode_in_a_real_kernel() {
    if !system_test_can_run(
        "XDP tunnel mode in QEMU",
        &[
            "qemu-system-x86_64",
            "cpio",
            "depmod",
            "apt-get",
            "bpf-linker",
        ],
    ) {
        return;
    }
    let guest = Guest::new("xdp-qemu");
    let dir = guest.dir.clone();
    std::fs::copy("tests/xdp/tunnel.lvs", dir.join("tunnel.lvs")).unwrap();
    let out = guest.run("tests/xdp/tunnel-guest.sh");
    let log = &out.log;

    let apply = section(log, "@@APPLY").join("\n");
    assert!(log.contains("@@APPLY-EXIT 0"), "{apply}\n{log}");
    assert!(apply.contains("+ 10.9.0.100:7000 tcp"), "{apply}");
    assert!(apply.contains("+ [fd00:9::100]:7000 tcp"), "{apply}");
    assert!(log.contains("xdpgeneric"), "{log}");

    // Every connection answered, by both reals (equal weights: 20 connections split
    // 20/0 with probability 2 in a million).
    for family in ["@@ANSWERS", "@@ANSWERS6"] {
        let answers = section(log, family);
        let by = |name: &str| answers.iter().filter(|l| l.trim() == name).count();
        assert_eq!(by("t1") + by("t2"), 20, "{family}: {answers:?}\n{log}");
        assert!(by("t1") > 0 && by("t2") > 0, "{family}: {answers:?}");
    }

    // The reals got their packets through the tunnel, and the director counted them.
    for device in ["TUNL0", "IP6TNL0"] {
        for t in ["t1", "t2"] {
            let rx: u64 = log
                .lines()
                .find_map(|l| l.strip_prefix(&format!("@@{device} {t} ")))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            assert!(rx > 0, "{t} decapsulated nothing on {device}:\n{log}");
        }
    }
    let stats: serde_json::Value =
        serde_json::from_str(&section(log, "@@STATS").join("\n")).unwrap();
    for s in stats.as_array().unwrap() {
        assert!(s["packets"].as_u64().unwrap() >= 60, "{stats}");
    }
    assert_eq!(stats.as_array().unwrap().len(), 2, "{stats}");
    let _ = std::fs::remove_dir_all(&dir);
}
