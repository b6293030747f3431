//! `lvsc explain` and `lvsc check --backend` as a user runs them.

use crate::support::lvsc;

const FILE: &str = "tests/differential/cluster.lvs";

/// The differential cluster with direct routing (what XDP can run; nftables cannot).
fn dr_file() -> String {
    let dir = crate::support::temp_dir("explain");
    let path = dir.join("dr.lvs");
    let text = std::fs::read_to_string(FILE)
        .unwrap()
        .replace("forward nat", "forward dr");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn explain_names_a_real_per_data_plane_or_says_why_not() {
    let file = dr_file();
    let out = lvsc(&[
        "explain",
        &file,
        "--flow",
        "10.200.3.1:40000->10.77.0.102:53/udp",
        "--flow",
        "10.200.3.1:40000->10.77.0.100:80/tcp",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 8, "{text}");
    assert_eq!(
        lines[0],
        "10.200.3.1:40000->10.77.0.102:53/udp: service dns"
    );
    // sh is decided by the flow on IPVS and XDP; nftables cannot route directly.
    assert!(lines[1].starts_with("  ipvs      r"), "{text}");
    assert!(lines[1].contains("sh: bucket"), "{text}");
    assert!(lines[2].contains("lvsc check --backend nftables"), "{text}");
    assert!(lines[3].starts_with("  xdp       r"), "{text}");
    // wrr is decided by the flow only on XDP (a hash there).
    assert!(
        lines[5].starts_with("  ipvs      (not decided by the flow)"),
        "{text}"
    );
    assert!(lines[7].contains("slot"), "{text}");
    // The same flow, the same answer: deterministic.
    let again = lvsc(&[
        "explain",
        &file,
        "--flow",
        "10.200.3.1:40000->10.77.0.102:53/udp",
        "--backend",
        "xdp",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let xdp_line = lines[3].trim_start_matches("  xdp       ");
    assert!(xdp_line.starts_with(v["picks"]["xdp"]["real"].as_str().unwrap()));
    // NAT, as the file has it: nftables decides the sh flow.
    let nat = lvsc(&[
        "explain",
        FILE,
        "--flow",
        "10.200.3.1:40000->10.77.0.102:53/udp",
        "--backend",
        "nftables",
    ]);
    assert!(String::from_utf8_lossy(&nat.stdout).contains("jhash of the client address and port"));
}

#[test]
fn a_data_plane_that_cannot_run_the_file_picks_nothing() {
    // web-nat forwards by NAT (XDP cannot) and has thresholds (nftables cannot).
    let out = lvsc(&[
        "explain",
        "examples/web-nat.lvs",
        "--flow",
        "198.51.100.7:40000->203.0.113.10:80/tcp",
        "--json",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for plane in ["nftables", "xdp"] {
        assert!(v["picks"][plane]["real"].is_null(), "{v}");
        assert!(
            v["picks"][plane]["why"]
                .as_str()
                .unwrap()
                .contains(&format!("lvsc check --backend {plane}")),
            "{v}"
        );
    }
}

#[test]
fn explain_refuses_a_flow_no_service_takes_or_cannot_read() {
    let out = lvsc(&[
        "explain",
        FILE,
        "--flow",
        "10.200.3.1:1->10.77.0.109:80/tcp",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no service has VIP 10.77.0.109:80/tcp"));
    let out = lvsc(&["explain", FILE, "--flow", "10.200.3.1->10.77.0.100:80/tcp"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected SRC:PORT->VIP:PORT/PROTO"));
}

#[test]
fn check_backend_checks_for_that_data_plane() {
    // IPVS honours everything: the file is clean.
    let ipvs = lvsc(&["check", "examples/web-dr.lvs", "--backend", "ipvs"]);
    assert!(ipvs.status.success());
    // nftables cannot route directly: an error at the directive, with the reason.
    let nft = lvsc(&["check", "examples/web-dr.lvs", "--backend", "nftables"]);
    assert_eq!(nft.status.code(), Some(1));
    let err = String::from_utf8_lossy(&nft.stderr);
    assert!(err.contains("lvsc::dataplane::refused"), "{err}");
    assert!(
        err.contains("`forward dr` is not possible on the nftables data plane"),
        "{err}"
    );
    // XDP approximates wlc: a warning, which --deny-warnings turns into a failure.
    let xdp = lvsc(&[
        "check",
        "tests/rules/dataplane-approximated.lvs",
        "--backend",
        "xdp",
    ]);
    assert!(xdp.status.success());
    assert!(String::from_utf8_lossy(&xdp.stderr).contains("lvsc::dataplane::approximated"));
    let deny = lvsc(&[
        "check",
        "tests/rules/dataplane-approximated.lvs",
        "--backend",
        "xdp",
        "--deny-warnings",
    ]);
    assert_eq!(deny.status.code(), Some(1));
}
