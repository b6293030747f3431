//! The differential test on IPVS, in the QEMU guest (this host has no IPVS): the cluster
//! file of tests/it/differential.rs with `forward nat`, the same 2,000 flows from the
//! same client addresses, through a real IPVS table set by `lvsc apply`. The guest's
//! script (tests/differential/ipvs-guest.sh) sends them and prints who answered; this
//! test holds IPVS to the same checks as the other data planes, and to `lvsc explain`
//! for the flows the flow alone decides (sh, mh).

use crate::differential::{
    answers, check_answers, clients, cluster, explain, flows, mismatches, persistent_reals,
};
use crate::support::{Guest, system_test_can_run};

#[test]
fn ipvs_agrees_with_the_file_and_with_lvsc_explain() {
    if !system_test_can_run(
        "differential test (IPVS in QEMU)",
        &["qemu-system-x86_64", "cpio", "depmod", "apt-get"],
    ) {
        return;
    }
    let guest = Guest::new("diff-ipvs").with_flows();
    let dir = guest.dir.clone();
    let file = dir.join("cluster.lvs");
    std::fs::write(&file, cluster("nat", [5, 3, 1, 0])).unwrap();
    std::fs::write(dir.join("changed.lvs"), cluster("nat", [2, 3, 1, 0])).unwrap();
    let addrs: String = clients()
        .iter()
        .map(|a| format!("addr add {a}/32 dev c0\n"))
        .collect();
    std::fs::write(dir.join("addrs"), addrs).unwrap();
    let flow_file = dir.join("flows");
    std::fs::write(&flow_file, flows(0).join("\n") + "\n").unwrap();
    std::fs::write(dir.join("flows-after"), flows(1).join("\n") + "\n").unwrap();
    let out = guest.run("tests/differential/ipvs-guest.sh");
    let log = &out.log;
    let ok = |tag: &str| out.ok(tag);
    ok("apply");
    // `lvsc explain` assumes the kernel's destination list (the order sh fills its
    // buckets in) is the reverse of the order `lvsc apply` added the reals in; ipvsadm
    // sorts what it lists, so the mismatch count below is what shows it.
    ok("table");
    let got = answers(&ok("flows"));
    assert_eq!(got.len(), 2000, "{log}");
    let mut report = check_answers("ipvs", &got).report;
    let predicted = explain(&file, &flow_file, "ipvs");
    let (decided, wrong) = mismatches(&predicted, &got);
    report.push(format!(
        "ipvs: lvsc explain decided {decided} of {} flows, {} mismatches",
        got.len(),
        wrong.len()
    ));
    ok("apply-changed");
    let after = answers(&ok("flows-after"));
    assert!(
        after.values().all(|r| r != "error" && r != "r4"),
        "{after:?}"
    );
    let before = persistent_reals(&got);
    let after = persistent_reals(&after);
    let moved = before
        .iter()
        .filter(|(n, r)| after.get(*n) != Some(r))
        .count();
    report.push(format!(
        "ipvs: after r1's weight 5 -> 2, {moved} of {} persistent client /24s moved",
        before.len()
    ));
    for line in &report {
        eprintln!("{line}");
    }
    assert!(
        wrong.is_empty(),
        "ipvs: lvsc explain mispredicted {} of {decided} flows, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    assert!(decided >= 200, "the sh and mh flows were not all predicted");
    assert_eq!(
        moved, 0,
        "IPVS keeps its persistence templates over a weight change"
    );
}
