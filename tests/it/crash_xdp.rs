//! Crash safety of `lvsc apply` on the XDP data plane: with 250 services installed and a
//! client busy on one of them, an apply of 1,000 services (4,099-slot tables: they do
//! not fit the maps sized for 250, so each apply swaps in a larger program) is killed
//! (SIGKILL) at 20 random moments. After each kill: `lvsc plan` runs and says
//! there is something to do or not (never an error), the pin folder holds no orphan,
//! the next apply converges and a plan after it finds nothing to change; and the client's
//! service never stopped answering.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::differential::{Rig, rig};
use crate::support::{Bpffs, system_test_can_run};

const KILLS: usize = 20;

/// The cluster with services s0 (port 80, the one the client uses) and s1..s`n`-1 on
/// ports 10001.. (nobody listens there: they only fill the maps), forwarding by
/// `forward`.
pub fn cluster(n: usize, forward: &str) -> String {
    let mut text = String::from(
        "cluster crash\n\nbalancer {\n  director lb 10.77.0.2/24 on l0\n}\n\n\
         pool web {\n  real r1 10.77.0.11 weight 3\n  real r2 10.77.0.12 weight 2\n  \
         real r3 10.77.0.13 weight 1\n}\n",
    );
    for i in 0..n {
        let port = if i == 0 { 80 } else { 10000 + i };
        text += &format!(
            "\nservice s{i} {{\n  vip 10.77.0.100:{port}/tcp\n  forward {forward}\n  scheduler mh\n  \
             table-size 4099\n  pool web\n}}\n"
        );
    }
    text
}

/// A small deterministic generator: the kill moments, reproducible from the seed.
pub struct Lcg(pub u64);

impl Lcg {
    /// The next number in [0, 1).
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn lvsc(rig: &Rig, args: &[&str]) -> (i32, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &rig.lb.name, env!("CARGO_BIN_EXE_lvsc")])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

#[test]
fn killed_applies_leave_a_truthful_plan_no_orphans_and_traffic_flowing() {
    if !system_test_can_run("XDP crash safety", &["ip", "bpf-linker"]) {
        return;
    }
    let rig = rig("crx");
    let pins = Bpffs::mount(rig.tmp.join("bpffs"));
    let pin_dir = pins.0.to_str().unwrap().to_string();
    let half = rig.tmp.join("half.lvs");
    let full = rig.tmp.join("full.lvs");
    std::fs::write(&half, cluster(250, "dr")).unwrap();
    std::fs::write(&full, cluster(1000, "dr")).unwrap();
    let xdp = |cmd: &str, file: &Path| {
        lvsc(
            &rig,
            &[
                cmd,
                file.to_str().unwrap(),
                "--iface",
                "l0",
                "--pin-dir",
                &pin_dir,
            ],
        )
    };
    let apply = |file: &Path| {
        let mut args = vec!["apply", file.to_str().unwrap()];
        args.extend(["--backend", "ebpf", "--iface", "l0", "--pin-dir", &pin_dir]);
        lvsc(&rig, &args)
    };
    let (code, out) = apply(&half);
    assert_eq!(code, 0, "{out}");
    // A swap cut short before its link switch leaves staged pins nobody reads: the next
    // command that opens the pins removes them.
    std::fs::create_dir(pins.0.join("l0/next")).unwrap();
    let (code, out) = xdp("plan", &half);
    assert_eq!(code, 0, "{out}");
    assert!(!pins.0.join("l0/next").exists(), "staged pins left behind");
    // How long an unkilled apply of the rest takes: the window the kills fall in.
    let started = Instant::now();
    let (code, out) = apply(&full);
    assert_eq!(code, 0, "{out}");
    let window = started.elapsed();
    assert!(
        out.contains("a larger program was swapped in"),
        "the apply did not swap programs: {out}"
    );
    let (code, out) = apply(&half);
    assert_eq!(code, 0, "{out}");

    // The client: kept and new connections to s0 for the whole test.
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
    let client = Command::new("ip")
        .args([
            "netns",
            "exec",
            &rig.client.name,
            env!("CARGO_BIN_EXE_lvsc-flows"),
        ])
        .args(["load", "10.77.0.100:80", "3600", "50", "10"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let seed = std::process::id() as u64;
    let mut rng = Lcg(seed);
    let allowed = [
        "services", "reals", "tables", "counters", "flows", "prog", "link",
    ];
    let mut killed_in = Vec::new();
    for k in 0..KILLS {
        // The first full apply loaded the program cold; later ones are quicker.
        let at = window.mul_f64(0.6 * rng.next());
        let mut child = Command::new("ip")
            .args(["netns", "exec", &rig.lb.name, env!("CARGO_BIN_EXE_lvsc")])
            .args(["apply", full.to_str().unwrap(), "--backend", "ebpf"])
            .args(["--iface", "l0", "--pin-dir", &pin_dir])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        let _ = child.kill();
        let status = child.wait().unwrap();
        killed_in.push(format!(
            "{:.0} ms{}",
            at.as_secs_f64() * 1000.0,
            if status.success() {
                " (had finished)"
            } else {
                ""
            }
        ));

        // The plan tells what is there: 2 (changes) or 0 (the apply had finished).
        let (code, out) = xdp("plan", &full);
        assert!(
            code == 0 || code == 2,
            "kill {k} at {at:?} (seed {seed}): plan failed: {out}"
        );
        let names: Vec<String> = std::fs::read_dir(pins.0.join("l0"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| allowed.contains(&n.as_str())),
            "kill {k} at {at:?} (seed {seed}): orphaned pins: {names:?}"
        );
        // The next apply converges; a plan after it has nothing to do.
        let (code, out) = apply(&full);
        assert_eq!(code, 0, "kill {k} (seed {seed}): {out}");
        let (code, out) = xdp("plan", &full);
        assert_eq!(code, 0, "kill {k} (seed {seed}): not converged: {out}");
        let (code, out) = apply(&half);
        assert_eq!(code, 0, "kill {k} (seed {seed}): {out}");
    }
    // The client ran all along: stop it and read its counts.
    let _ = Command::new("kill")
        .args(["-INT", &client.id().to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(200));
    let mut client = client;
    let _ = client.kill();
    let out = client.wait_with_output().unwrap();
    eprintln!("XDP crash safety (seed {seed}): {KILLS} kills at {killed_in:?}; window {window:?}");
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(
        errors.trim().is_empty(),
        "the installed service stopped answering during the kills: {errors}"
    );
}
