//! Changes under load: while a client keeps 20 connections alive and opens new ones
//! (200 requests a second, half each), lvsc applies, one after another, a weight change,
//! an added real, an added service, a drain, the drained real's removal and (XDP) a
//! service so large that a bigger program is swapped in. For the nftables and XDP data
//! planes in namespaces: every request of every step must succeed and no kept
//! connection may be reset. The counts are printed for the notes.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::differential::{Rig, rig};
use crate::support::{Bpffs, system_test_can_run};

/// Seconds of load per step; the change lands a third of the way in.
const SECONDS: f64 = 3.0;

/// The steps: a name and the file's text after it.
pub fn steps(forward: &str, xdp: bool) -> Vec<(&'static str, String)> {
    let base = std::fs::read_to_string("tests/hitless/cluster.lvs")
        .unwrap()
        .replace("forward nat", &format!("forward {forward}"));
    let weight = base.replace("r1 10.77.0.11 weight 5", "r1 10.77.0.11 weight 2");
    let real = weight.replace(
        "  real r3 10.77.0.13 weight 1\n",
        "  real r3 10.77.0.13 weight 1\n  real r4 10.77.0.14 weight 2\n",
    );
    let service = format!(
        "{real}\nservice api {{\n  vip 10.77.0.104:80/tcp\n  forward {forward}\n  \
         table-size 4099\n  pool web\n}}\n"
    );
    let drain = service.replace("r2 10.77.0.12 weight 3", "r2 10.77.0.12 drain");
    let removed = drain.replace("  real r2 10.77.0.12 drain\n", "");
    let mut out = vec![
        ("weight change", weight),
        ("added real", real),
        ("added service", service),
        ("real drained", drain),
        ("drained real removed", removed.clone()),
    ];
    if xdp {
        // Far more slots than the maps were sized for: a larger program is swapped in.
        out.push((
            "larger program",
            format!(
                "{removed}\nservice big {{\n  vip 10.77.0.105:80/tcp\n  forward {forward}\n  \
                 table-size 1048573\n  pool web\n}}\n"
            ),
        ));
    }
    out
}

/// The load generator's counts for one step.
fn load_during(rig: &Rig, change: impl FnOnce() -> String) -> (serde_json::Value, String) {
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &rig.client.name,
            env!("CARGO_BIN_EXE_lvsc-flows"),
        ])
        .args(["load", "10.77.0.100:80", &SECONDS.to_string(), "200", "20"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs_f64(SECONDS / 3.0));
    let said = change();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let counts: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_else(|e| {
        panic!(
            "load generator: {e}: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (counts, said)
}

fn run_steps(plane: &str, rig: &Rig, apply: &dyn Fn(&Path) -> String) -> Vec<String> {
    let xdp = plane == "xdp";
    let forward = if xdp { "dr" } else { "nat" };
    let file = rig.tmp.join("cluster.lvs");
    let base = std::fs::read_to_string("tests/hitless/cluster.lvs")
        .unwrap()
        .replace("forward nat", &format!("forward {forward}"));
    std::fs::write(&file, base).unwrap();
    apply(&file);
    // The client's requests come from 10.200.0.1, which the reals route back through
    // the director (for NAT).
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
    let mut report = Vec::new();
    let mut swapped = false;
    for (step, text) in steps(forward, xdp) {
        let (counts, said) = load_during(rig, || {
            std::fs::write(&file, &text).unwrap();
            apply(&file)
        });
        swapped |= said.contains("a larger program was swapped in");
        report.push(format!("{plane}: {step}: {counts} ({})", said.trim()));
        let n = |k: &str| counts[k].as_u64().unwrap();
        assert_eq!(n("opened"), 20, "{plane}: {step}: {counts}");
        assert!(
            n("kept_ok") + n("new_ok") > (SECONDS * 200.0 * 0.9) as u64,
            "{plane}: {step}: too few requests: {counts}"
        );
        assert_eq!(
            (n("kept_failed"), n("new_failed"), n("resets")),
            (0, 0, 0),
            "{plane}: {step}: {counts}"
        );
    }
    if xdp {
        assert!(swapped, "no step swapped in a larger program: {report:#?}");
    }
    report
}

#[test]
fn changes_under_load_drop_nothing_on_nftables_and_xdp() {
    if !system_test_can_run(
        "hitless changes (nftables, XDP)",
        &["ip", "nft", "bpf-linker"],
    ) {
        return;
    }
    let mut report = Vec::new();
    {
        let rig = rig("hln");
        let apply = |file: &Path| rig.apply_nftables(file);
        report.extend(run_steps("nftables", &rig, &apply));
    }
    {
        let rig = rig("hlx");
        let pins = Bpffs::mount(rig.tmp.join("bpffs"));
        let apply = |file: &Path| rig.apply_xdp(file, &pins);
        report.extend(run_steps("xdp", &rig, &apply));
    }
    for line in &report {
        eprintln!("{line}");
    }
}
