//! The hot standby, run (tests/failover/ipvs-guest.sh): in the QEMU guest, two director
//! namespaces run the real keepalived with the keepalived.conf that `lvsc build` wrote
//! for each (VRRP, the IPVS virtual server and the connection sync daemon). The master
//! dies; the backup must hold the VIP within 3 x advert + skew, the client's 20
//! established connections must go on (synchronised to the backup), and the master,
//! back, takes the VIP again (no `nopreempt` in the file). Then the same with
//! `nopreempt` written: the master, back, leaves the VIP on the backup. Then the same with
//! `nopreempt` written: the master, back, leaves the VIP on the backup.

use crate::support::{Guest, system_test_can_run, temp_dir};

/// 3 x advert (1 s) + skew ((256 - 100) / 256 s), in hundredths of a second.
const MASTER_DOWN_CS: u64 = 300 + 61;
/// For the emulated guest and the 100 ms poll.
const SLACK_CS: u64 = 150;

#[test]
fn the_backup_takes_over_and_synchronised_connections_survive() {
    if !system_test_can_run(
        "VRRP failover in QEMU",
        &[
            "qemu-system-x86_64",
            "cpio",
            "depmod",
            "apt-get",
            "keepalived",
        ],
    ) {
        return;
    }
    let guest = Guest::new("failover").with_flows();
    let dir = guest.dir.clone();
    let text = std::fs::read_to_string("tests/failover/cluster.lvs").unwrap();
    let nopreempt = text.replace("    advert 1s\n", "    advert 1s\n    nopreempt\n");
    assert_ne!(text, nopreempt);
    for (file_text, into) in [(text, dir.clone()), (nopreempt, dir.join("nopreempt"))] {
        let build = temp_dir("failover-build");
        let file = build.join("cluster.lvs");
        std::fs::write(&file, file_text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lvsc"))
            .arg("build")
            .arg(&file)
            .arg("--out")
            .arg(build.join("out"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for host in ["lb1", "lb2"] {
            std::fs::create_dir_all(into.join(host)).unwrap();
            std::fs::copy(
                build.join("out").join(host).join("keepalived.conf"),
                into.join(host).join("keepalived.conf"),
            )
            .unwrap();
            // What setup.sh writes at deploy time from VRRP_PASS.
            std::fs::write(
                into.join(host).join("lvsc-vrrp-51.auth"),
                "auth_pass failover\n",
            )
            .unwrap();
        }
    }
    let out = guest.run("tests/failover/ipvs-guest.sh");
    let log = &out.log;
    let get = |tag: &str| out.get(tag);
    let (master, code) = get("master");
    assert_eq!(code, 0, "lb1 never became master:\n{log}");
    assert!(!master.contains("both hold the VIP"), "{master}");
    assert!(
        master.contains("10.77.0.100:80"),
        "lb2 has no virtual server:\n{master}"
    );
    let synced: u64 = get("synced").0.trim().parse().unwrap_or(0);
    let (failover, code) = get("failover");
    assert_eq!(code, 0, "lb2 never took the VIP:\n{log}");
    let took: u64 = failover
        .split_whitespace()
        .nth(1)
        .and_then(|t| t.parse().ok())
        .unwrap();
    let survived = get("survived").0;
    let load = get("load").0;
    let errors = get("load-errors").0;
    eprintln!(
        "failover: backup held the VIP {:.2} s after the master died (3 x advert + skew = {:.2} s); \
         {synced} connections synchronised to the backup before; established: {}; steady load: {} ({} errors)",
        took as f64 / 100.0,
        MASTER_DOWN_CS as f64 / 100.0,
        survived.trim(),
        load.trim(),
        errors.lines().count()
    );
    assert!(
        took <= MASTER_DOWN_CS + SLACK_CS,
        "the backup took {took} cs (bound {MASTER_DOWN_CS} + {SLACK_CS})"
    );
    assert!(synced > 0, "no connection was synchronised to the backup");
    assert!(
        survived.contains("survived 20 of 20"),
        "established connections lost in the failover: {survived}\n{log}"
    );
    let (_, code) = get("back");
    assert_eq!(
        code, 0,
        "the master, back, did not take the VIP again:\n{log}"
    );
    // nopreempt, as written: the master, back, leaves the VIP where it is.
    assert_eq!(get("nopreempt-master").1, 0, "nopreempt: no master:\n{log}");
    assert_eq!(
        get("nopreempt-failover").1,
        0,
        "nopreempt: no failover:\n{log}"
    );
    let (back, code) = get("nopreempt-back");
    assert_eq!(
        code, 0,
        "nopreempt: the master took the VIP back: {back}\n{log}"
    );
}
