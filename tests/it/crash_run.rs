//! Crash safety of `lvsc run`: on the nftables data plane in namespaces, with a client
//! busy on the service, the loop is sent SIGHUP with a changed file and killed (SIGKILL)
//! at a random moment of the reload, 20 times. Each time a new loop starts from the live
//! data plane and converges to the file (every real up, every service there), and the
//! client never saw a failed request.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::crash_xdp::Lcg;
use crate::differential::rig;
use crate::run_support::{RunLoop, wait_for};
use crate::support::system_test_can_run;

const KILLS: usize = 20;

fn cluster(changed: bool) -> String {
    let (w1, api) = if changed {
        (
            2,
            "\nservice api {\n  vip 10.77.0.104:80/tcp\n  forward nat\n  pool web\n}\n",
        )
    } else {
        (5, "")
    };
    format!(
        "cluster crashrun\n\nbalancer {{\n  dataplane nftables\n  director lb 10.77.0.2/24 on l0\n}}\n\n\
         pool web {{\n  port 80\n  check tcp every 300ms timeout 200ms retry 2\n  \
         real r1 10.77.0.11 weight {w1}\n  real r2 10.77.0.12 weight 3\n  \
         real r3 10.77.0.13 weight 1\n}}\n\n\
         service www {{\n  vip 10.77.0.100:80/tcp\n  forward nat\n  scheduler wrr\n  pool web\n}}\n{api}"
    )
}

/// Whether the loop reports every service of the file with every real up.
fn converged(lp: &RunLoop, services: usize) -> bool {
    lp.status().is_some_and(|s| {
        let list = s["services"].as_array().cloned().unwrap_or_default();
        list.len() == services
            && list.iter().all(|svc| {
                svc["reals"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(|r| r["state"] == "up"))
            })
    })
}

#[test]
fn killed_reloads_converge_on_restart_and_drop_no_request() {
    if !system_test_can_run("lvsc run crash safety", &["ip", "nft"]) {
        return;
    }
    let rig = rig("crn");
    rig.client.exec(
        "ip",
        &[
            "route",
            "replace",
            "10.77.0.96/27",
            "via",
            "10.77.0.2",
            "src",
            "10.200.0.1",
        ],
    );
    let file = rig.tmp.join("cluster.lvs");
    let socket = rig.tmp.join("run.sock");
    std::fs::write(&file, cluster(false)).unwrap();
    let mut lp = RunLoop::start(&rig.lb, &file, &socket, &rig.tmp, &[]);
    wait_for("every real up", Duration::from_secs(20), || {
        converged(&lp, 1)
    });
    let client = Command::new("ip")
        .args([
            "netns",
            "exec",
            &rig.client.name,
            env!("CARGO_BIN_EXE_lvsc-flows"),
        ])
        .args(["load", "10.77.0.100:80", "3600", "20", "5"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seed = u64::from(std::process::id());
    let mut rng = Lcg(seed);
    let mut moments = Vec::new();
    let mut midway = 0;
    for k in 0..KILLS {
        let changed = k % 2 == 0;
        std::fs::write(&file, cluster(changed)).unwrap();
        lp.hup();
        let at = Duration::from_secs_f64(0.05 * rng.next());
        std::thread::sleep(at);
        drop(lp); // SIGKILL
        // Whether the reload had logged its end before the kill.
        let log = std::fs::read_to_string(rig.tmp.join("run.log")).unwrap_or_default();
        let finished = log.contains("\"event\":\"reload\"");
        midway += usize::from(!finished);
        moments.push(format!(
            "{:.0} ms{}",
            at.as_secs_f64() * 1000.0,
            if finished { "" } else { " (mid-reload)" }
        ));
        // The data plane is still there, whole (one nft transaction or none).
        rig.lb.exec(
            "nft",
            &["list", "table", "inet", lvsc_nftables::DATAPLANE_TABLE],
        );
        lp = RunLoop::start(&rig.lb, &file, &socket, &rig.tmp, &[]);
        let services = if changed { 2 } else { 1 };
        wait_for(
            &format!("kill {k} (seed {seed}): converged after restart"),
            Duration::from_secs(20),
            || converged(&lp, services),
        );
    }
    lp.stop();
    let mut client = client;
    let _ = client.kill();
    let out = client.wait_with_output().unwrap();
    eprintln!(
        "lvsc run crash safety (seed {seed}): {KILLS} kills, {midway} before the reload was \
         logged done, at {moments:?}"
    );
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(
        errors.trim().is_empty(),
        "the service failed requests during the kills: {errors}"
    );
}
