//! Crash safety of `lvsc apply` on IPVS, in the QEMU guest: with 250 services installed
//! and a client busy on one of them, an apply of 1,000 services is killed (SIGKILL) at
//! 20 random moments (tests/crash/ipvs-guest.sh). After each kill: `lvsc plan` exits 0
//! or 2 (never an error), the next apply converges, a plan after it finds nothing to
//! change; and the client's service never stopped answering.

use crate::crash_xdp::{Lcg, cluster};
use crate::support::{Guest, system_test_can_run};

const KILLS: usize = 20;

#[test]
fn killed_applies_leave_a_truthful_plan_and_traffic_flowing_on_ipvs() {
    if !system_test_can_run(
        "IPVS crash safety in QEMU",
        &["qemu-system-x86_64", "cpio", "depmod", "apt-get"],
    ) {
        return;
    }
    let guest = Guest::new("crash-ipvs").with_flows();
    let dir = guest.dir.clone();
    std::fs::write(dir.join("half.lvs"), cluster(250, "nat")).unwrap();
    std::fs::write(dir.join("full.lvs"), cluster(1000, "nat")).unwrap();
    let seed = u64::from(std::process::id());
    let mut rng = Lcg(seed);
    let kills: String = (0..KILLS)
        .map(|_| format!("{:.3}\n", 0.8 * rng.next()))
        .collect();
    std::fs::write(dir.join("kills"), kills).unwrap();
    let out = guest.run("tests/crash/ipvs-guest.sh");
    let log = &out.log;
    let get = |tag: &str| out.get(tag);
    let (setup, code) = get("setup");
    assert_eq!(code, 0, "{setup}\n{log}");
    let mut landed = 0;
    let mut delays = Vec::new();
    for k in 1..=KILLS {
        let (line, _) = get(&format!("kill-{k}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let field = |name: &str| {
            let i = words.iter().position(|w| *w == name).unwrap();
            words[i + 1].to_string()
        };
        let n = |name: &str| field(name).parse::<i32>().unwrap();
        landed += usize::from(n("apply_status") != 0);
        delays.push(field("delay"));
        assert!(
            n("plan") == 0 || n("plan") == 2,
            "kill {k} (seed {seed}): plan failed: {line}"
        );
        assert_eq!(n("apply"), 0, "kill {k} (seed {seed}): {line}");
        assert_eq!(
            n("plan_after"),
            0,
            "kill {k} (seed {seed}): not converged: {line}"
        );
        assert_eq!(n("back"), 0, "kill {k} (seed {seed}): {line}");
    }
    eprintln!(
        "IPVS crash safety (seed {seed}): {KILLS} kills ({landed} during the apply) at {delays:?} s; {}",
        setup.trim()
    );
    let (errors, _) = get("client-errors");
    assert!(
        errors.trim().is_empty(),
        "the installed service stopped answering during the kills: {errors}"
    );
}
