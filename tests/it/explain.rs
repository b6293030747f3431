//! `lvsc explain` and `lvsc check --backend` as a user runs them.

use crate::support::lvsc;

const FILE: &str = "tests/differential/cluster.lvs";

#[test]
fn explain_names_a_real_per_data_plane_or_says_why_not() {
    let out = lvsc(&[
        "explain",
        FILE,
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
    // sh is decided by the flow on every data plane; wrr only on XDP (a hash there).
    for l in &lines[1..4] {
        assert!(l.contains(" r"), "{l}");
    }
    assert!(
        lines[5].starts_with("  ipvs      (not decided by the flow)"),
        "{text}"
    );
    assert!(lines[6].contains("numgen inc"), "{text}");
    assert!(lines[7].contains("slot"), "{text}");
    // The same flow, the same answer: deterministic.
    let again = lvsc(&[
        "explain",
        FILE,
        "--flow",
        "10.200.3.1:40000->10.77.0.102:53/udp",
        "--backend",
        "nftables",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let nft_line = lines[2].trim_start_matches("  nftables  ");
    assert!(nft_line.starts_with(v["picks"]["nftables"]["real"].as_str().unwrap()));
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
