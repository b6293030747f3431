//! `lvsc run` on a real IPVS table, in the QEMU guest (this host has no IPVS): a client,
//! a director and reals with busybox HTTP servers, all in network namespaces of the
//! guest. The guest's script (tests/run/ipvs-guest.sh) drives the scenario and prints
//! what it saw; this test reads it: the spread by weight, a real that dies (weight 0 in
//! the table, the failed requests counted), its return, a crash and restart that drops
//! nothing, a real added by SIGHUP that waits for its first check, a broken file refused,
//! the sorry server when the quorum is lost, and the metrics through promtool.

use crate::run_support::{answers, promtool_check, spread};
use crate::support::{Guest, system_test_can_run};

/// Detection bound of tests/run/ipvs.lvs: every 500 ms × retry 2 + timeout 300 ms.
const DETECT: f64 = 1.3;
/// Slack on top, for the emulated guest.
const SLACK: f64 = 3.0;

/// The lines of the guest's table for `real` (`ADDR:PORT`): its forwarding and weight.
fn table_weight(table: &str, real: &str) -> Option<u32> {
    table.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next()? == "->" && w.next()? == real)
            .then(|| w.nth(1)?.parse().ok())
            .flatten()
    })
}

#[test]
fn run_checks_reals_and_changes_ipvs_in_a_real_kernel() {
    if !system_test_can_run(
        "lvsc run on IPVS in QEMU",
        &[
            "qemu-system-x86_64",
            "cpio",
            "depmod",
            "apt-get",
            "keepalived",
            "promtool",
        ],
    ) {
        return;
    }
    let guest = Guest::new("run-ipvs");
    let dir = guest.dir.clone();
    let base = std::fs::read_to_string("tests/run/ipvs.lvs").unwrap();
    let r3 = "  real r3 10.99.0.13 weight 1\n";
    assert!(base.contains(r3));
    let with_r4 = base.replace(r3, &format!("{r3}  real r4 10.99.0.14 weight 2\n"));
    let broken = with_r4.replace(r3, &format!("{r3}  bogus directive\n"));
    std::fs::write(dir.join("base.lvs"), &base).unwrap();
    std::fs::write(dir.join("r4.lvs"), &with_r4).unwrap();
    std::fs::write(dir.join("broken.lvs"), &broken).unwrap();
    let out = guest.run("tests/run/ipvs-guest.sh");
    let get = |tag: &str| out.get(tag);
    let ok = |tag: &str| out.ok(tag);
    let events = get("log").0;

    ok("start");
    let table = ok("table-start");
    for (real, w) in [
        ("10.99.0.11:8080", 3),
        ("10.99.0.12:8080", 2),
        ("10.99.0.13:8080", 1),
    ] {
        assert_eq!(table_weight(&table, real), Some(w), "{table}");
    }

    // 300 requests spread by weight 3 : 2 : 1 (wrr: exactly, give or take the order).
    let counts = spread(&answers(&ok("spread")));
    assert_eq!(counts.get("error"), None, "{counts:?}");
    for (name, want) in [("r1", 150), ("r2", 100), ("r3", 50)] {
        let got = counts.get(name).copied().unwrap_or(0);
        assert!(got.abs_diff(want) <= 6, "{name}: {got} of 300: {counts:?}");
    }

    // r2 dies: no new request reaches it after the detection bound; the requests that
    // fail are those sent to it before the loop set its weight to 0.
    let killed: f64 = ok("killed").trim().parse().unwrap();
    let stream = answers(&ok("stream"));
    assert_eq!(stream.len(), 150);
    let failed: Vec<f64> = stream
        .iter()
        .filter(|(_, w)| w == "error")
        .map(|(t, _)| *t)
        .collect();
    let last = failed.iter().copied().fold(killed, f64::max);
    eprintln!(
        "IPVS: r2 died at {killed:.2}: {} failed requests of {}, the last {:.2}s after",
        failed.len(),
        stream.len(),
        last - killed
    );
    assert!(
        failed.iter().all(|t| *t <= killed + DETECT + SLACK),
        "failures after the detection bound: {failed:?} (died at {killed})"
    );
    let late: Vec<f64> = stream
        .iter()
        .filter(|(t, w)| w == "r2" && *t > killed + 0.1)
        .map(|(t, _)| *t)
        .collect();
    assert!(late.is_empty(), "r2 answered after it died: {late:?}");
    assert!(
        stream[stream.len() - 20..]
            .iter()
            .all(|(_, w)| w != "error" && w != "r2"),
        "{stream:?}"
    );
    let table = ok("table-r2-down");
    assert_eq!(
        table_weight(&table, "10.99.0.12:8080"),
        Some(0),
        "a dead real is weight 0 (its connections finish):\n{table}"
    );
    assert!(events.contains("\"real\":\"r2\"") && events.contains("\"state\":\"down\""));

    // Back after a passing check, with its share.
    ok("r2-back");
    let counts = spread(&answers(&ok("share-r2-back")));
    assert!(counts.get("r2").copied().unwrap_or(0) >= 15, "{counts:?}");

    // SIGKILL and a restart under traffic: the table was left as it was, and nothing
    // failed while the new process took over.
    let table = ok("table-crashed");
    for (real, w) in [
        ("10.99.0.11:8080", 3),
        ("10.99.0.12:8080", 2),
        ("10.99.0.13:8080", 1),
    ] {
        assert_eq!(table_weight(&table, real), Some(w), "{table}");
    }
    let restart = answers(&ok("restart-stream"));
    assert_eq!(restart.len(), 100);
    assert_eq!(
        spread(&restart).get("error"),
        None,
        "requests failed across a restart: {restart:?}"
    );
    ok("restarted");
    assert_eq!(events.matches("\"event\":\"start\"").count(), 2, "{events}");
    assert!(
        events.contains("\"was\":\"presumed\""),
        "the restart presumes the serving reals healthy: {events}"
    );

    // A real added by SIGHUP gets nothing before its first check passes.
    ok("reload");
    let counts = spread(&answers(&ok("r4-pending")));
    assert_eq!(
        counts.get("r4"),
        None,
        "r4 before its first check: {counts:?}"
    );
    assert_eq!(counts.get("error"), None, "{counts:?}");
    ok("r4-serving");

    // A broken file is refused; the loop goes on with the last good one.
    ok("refused");
    assert!(events.contains("lvsc::syntax::unknown-keyword"), "{events}");
    let counts = spread(&answers(&ok("after-refused")));
    assert_eq!(counts.get("error"), None, "{counts:?}");

    // Every real down: the sorry server answers, the quorum is reported lost.
    ok("sorry");
    let table = ok("table-sorry");
    assert_eq!(
        table_weight(&table, "10.99.0.20:8080").map(|w| w > 0),
        Some(true),
        "{table}"
    );
    let status: serde_json::Value = serde_json::from_str(&ok("status-json")).unwrap();
    assert_eq!(status["services"][0]["quorum_up"], false, "{status}");
    assert_eq!(status["services"][0]["sorry_active"], true, "{status}");
    assert!(ok("status-text").contains("NO QUORUM"));
    let metrics = ok("metrics");
    assert!(
        metrics.contains("lvsc_service_quorum{service=\"www\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("lvsc_real_up{service=\"www\",real=\"r1\"} 0"));
    promtool_check(&metrics);

    // SIGTERM ends the loop cleanly and leaves the table as it is.
    ok("stop");
    assert!(events.contains("\"event\":\"stop\""));
    let table = ok("table-stopped");
    assert!(table.contains("10.99.0.20:8080"), "{table}");
    let _ = std::fs::remove_dir_all(&dir);
}
