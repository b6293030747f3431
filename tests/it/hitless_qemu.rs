//! Changes under load on IPVS, in the QEMU guest: the steps of tests/it/hitless.rs (NAT),
//! each applied by `lvsc apply` while a client keeps 10 connections alive and opens new
//! ones (50 requests a second: the guest is emulated). tests/hitless/ipvs-guest.sh
//! drives it. Every request of every step must succeed, the removal of the drained real
//! included: with `expire_nodest_conn` 0 (the default) IPVS keeps forwarding the
//! connections of a real that is gone, and the kept connections to it are still open.

use crate::hitless::steps;
use crate::support::{Guest, system_test_can_run};

#[test]
fn changes_under_load_on_ipvs() {
    if !system_test_can_run(
        "hitless changes (IPVS in QEMU)",
        &["qemu-system-x86_64", "cpio", "depmod", "apt-get"],
    ) {
        return;
    }
    let guest = Guest::new("hitless-ipvs").with_flows();
    let dir = guest.dir.clone();
    let base = std::fs::read_to_string("tests/hitless/cluster.lvs").unwrap();
    std::fs::write(dir.join("step0.lvs"), base).unwrap();
    let steps = steps("nat", false);
    for (i, (_, text)) in steps.iter().enumerate() {
        std::fs::write(dir.join(format!("step{}.lvs", i + 1)), text).unwrap();
    }
    let out = guest.run("tests/hitless/ipvs-guest.sh");
    let log = &out.log;
    let ok = |tag: &str| out.ok(tag);
    ok("apply-base");
    let mut report = Vec::new();
    let mut counts = Vec::new();
    for (i, (step, _)) in steps.iter().enumerate() {
        ok(&format!("apply-{}", i + 1));
        let text = ok(&format!("load-{}", i + 1));
        let c: serde_json::Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("{step}: {e}: {text}\n{log}"));
        report.push(format!("ipvs: {step}: {c}"));
        counts.push((*step, c));
    }
    for line in &report {
        eprintln!("{line}");
    }
    for (step, c) in &counts {
        let n = |k: &str| c[k].as_u64().unwrap();
        assert_eq!(n("opened"), 10, "{step}: {c}");
        assert!(
            n("kept_ok") + n("new_ok") > 150,
            "{step}: too few requests: {c}"
        );
        assert_eq!(
            (n("kept_failed"), n("new_failed"), n("resets")),
            (0, 0, 0),
            "ipvs: {step}: {c}"
        );
    }
}
