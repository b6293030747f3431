//! One cluster file, the same 2,000 client flows, each data plane in the kernel: which
//! real got each flow. tests/differential/cluster.lvs has reals weighted 5/3/1/0, a
//! round-robin service (`www`, 1,000 flows), a persistent one (`app`: 40 client /24s, 20
//! source ports each) and two UDP services hashed by client and port (`dns` by sh, `ntp`
//! by mh, 100 flows each).
//! Clients sit in a namespace with 100 addresses in 50 /24s; the director and four reals
//! in their own. For each data plane:
//!
//! - each real's share of `www` is within 2 points of its weight's share;
//! - the weight-0 real gets nothing;
//! - every `app` /24 stays on one real across its 20 source ports;
//! - after one weight change (r1 5 → 2), new connections of the `app` /24s: how many
//!   moved (nftables: none, its affinity sets survive; XDP: no more than the slots that
//!   changed owner, the Maglev bound);
//! - `lvsc explain` predicts the real the kernel picked for every flow the flow alone
//!   decides (Maglev, the nftables hashes, IPVS sh and mh); mismatches are reported, and
//!   must be 0.
//!
//! nftables runs the file with `forward nat`, XDP with `forward dr` (neither can do the
//! other's); IPVS runs it in the QEMU guest (tests/it/differential_qemu.rs).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Bpffs, Netns, Switch, system_test_can_run, temp_dir};

/// The reals and their addresses.
const REALS: [(&str, &str); 4] = [
    ("r1", "10.77.0.11"),
    ("r2", "10.77.0.12"),
    ("r3", "10.77.0.13"),
    ("r4", "10.77.0.14"),
];
const WEIGHTS: [u32; 4] = [5, 3, 1, 0];
const CHANGED: [u32; 4] = [2, 3, 1, 0];

/// The cluster file with a forwarding method and weights.
pub fn cluster(forward: &str, weights: [u32; 4]) -> String {
    let mut text = std::fs::read_to_string("tests/differential/cluster.lvs")
        .unwrap()
        .replace("forward nat", &format!("forward {forward}"));
    for ((name, ip), (old, new)) in REALS.iter().zip(WEIGHTS.iter().zip(weights)) {
        text = text.replace(
            &format!("real {name} {ip} weight {old}"),
            &format!("real {name} {ip} weight {new}"),
        );
    }
    text
}

/// Client addresses: 10.200.N.1 and 10.200.N.2 for 50 /24s.
pub fn clients() -> Vec<String> {
    (0..50)
        .flat_map(|n| [format!("10.200.{n}.1"), format!("10.200.{n}.2")])
        .collect()
}

/// The 2,000 flows, and (with `round` 1) the `app` flows after the weight change, on
/// fresh source ports.
pub fn flows(round: u16) -> Vec<String> {
    let mut out = Vec::new();
    let clients = clients();
    if round == 0 {
        for c in &clients {
            for p in 0..10 {
                out.push(format!("{c}:{}->10.77.0.100:80/tcp", 20000 + p));
            }
            out.push(format!("{c}:40000->10.77.0.102:53/udp"));
            out.push(format!("{c}:40001->10.77.0.103:123/udp"));
        }
    }
    for c in clients.iter().take(80) {
        for p in 0..10 {
            out.push(format!(
                "{c}:{}->10.77.0.101:81/tcp",
                30000 + 100 * round + p
            ));
        }
    }
    out
}

/// A flow's client /24.
pub fn network(flow: &str) -> String {
    let src = flow.split(':').next().unwrap();
    src.rsplit_once('.').unwrap().0.to_string()
}

/// `flow real` lines into a map.
pub fn answers(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(f, r)| (f.to_string(), r.to_string()))
        .collect()
}

/// What the test checks of one data plane's answers; returns the report lines.
pub struct Verdict {
    /// Lines for the log and the closing note.
    pub report: Vec<String>,
}

/// Shares, the weight-0 real, persistence: the checks that need no prediction.
pub fn check_answers(plane: &str, got: &BTreeMap<String, String>) -> Verdict {
    let mut report = Vec::new();
    let errors: Vec<&String> = got
        .iter()
        .filter(|(_, r)| *r == "error")
        .map(|(f, _)| f)
        .collect();
    assert!(
        errors.is_empty(),
        "{plane}: {} flows unanswered, e.g. {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
    assert!(
        got.values().all(|r| r != "r4"),
        "{plane}: the weight-0 real got flows"
    );
    let www: Vec<&String> = got
        .iter()
        .filter(|(f, _)| f.contains("->10.77.0.100:80/"))
        .map(|(_, r)| r)
        .collect();
    let total: u32 = WEIGHTS.iter().sum();
    let mut shares = Vec::new();
    for ((name, _), w) in REALS.iter().zip(WEIGHTS) {
        let share = www.iter().filter(|r| **r == name).count() as f64 / www.len() as f64;
        let want = f64::from(w) / f64::from(total);
        shares.push(format!(
            "{name} {:.1}% (weight {:.1}%)",
            share * 100.0,
            want * 100.0
        ));
        assert!(
            (share - want).abs() <= 0.02,
            "{plane}: {name} got {:.1}% of www, its weight's share is {:.1}%",
            share * 100.0,
            want * 100.0
        );
    }
    report.push(format!("{plane}: www shares: {}", shares.join(", ")));
    let per_net = persistent_reals(got);
    for (net, reals) in &per_net {
        assert_eq!(reals.len(), 1, "{plane}: {net}.0/24 went to {reals:?}");
    }
    report.push(format!(
        "{plane}: app: each of {} client /24s stayed on one real across 20 source ports",
        per_net.len()
    ));
    Verdict { report }
}

/// For each `app` client /24, the reals its flows went to.
pub fn persistent_reals(got: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (f, r) in got.iter().filter(|(f, _)| f.contains("->10.77.0.101:81/")) {
        out.entry(network(f)).or_default().insert(r.clone());
    }
    out
}

/// `lvsc explain --json` of every flow for one data plane: flow → predicted real
/// (`None`: the flow alone does not decide).
pub fn explain(file: &Path, flows: &Path, backend: &str) -> BTreeMap<String, Option<String>> {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(["explain", file.to_str().unwrap(), "--flows"])
        .arg(flows)
        .args(["--backend", backend, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let pick = v["picks"][backend]["real"].as_str().map(str::to_string);
            (v["flow"].as_str().unwrap().to_string(), pick)
        })
        .collect()
}

/// Flows the prediction decides, and those where the kernel picked another real.
pub fn mismatches(
    predicted: &BTreeMap<String, Option<String>>,
    got: &BTreeMap<String, String>,
) -> (usize, Vec<String>) {
    let mut decided = 0;
    let mut wrong = Vec::new();
    for (flow, real) in got {
        if let Some(Some(p)) = predicted.get(flow) {
            decided += 1;
            if p != real {
                wrong.push(format!("{flow}: predicted {p}, kernel {real}"));
            }
        }
    }
    (decided, wrong)
}

/// The namespaces of a test with traffic: client, director, switch, four reals serving.
pub struct Rig {
    /// The client (10.77.0.1, and 100 addresses 10.200.N.1-2).
    pub client: Netns,
    /// The director (10.77.0.2 on l0).
    pub lb: Netns,
    _sw: Switch,
    _reals: Vec<Netns>,
    servers: Vec<Child>,
    /// The test's folder.
    pub tmp: PathBuf,
}

impl Drop for Rig {
    fn drop(&mut self) {
        for s in &mut self.servers {
            let _ = s.kill();
            let _ = s.wait();
        }
    }
}

/// The namespaces: a switch, the client (100 addresses, VIPs via the director), the
/// director (forwarding, clients via the client), four reals (VIPs on loopback for
/// direct routing, clients via the director for NAT replies), each real serving its name.
pub fn rig(tag: &str) -> Rig {
    let tmp = temp_dir(tag);
    let sw = Switch::new(&format!("{tag}sw"));
    let plug = |ns: &Netns, dev: &str, port: &str, addr: &str| sw.plug(ns, dev, port, addr);
    let client = Netns::new(&format!("{tag}cl"));
    let lb = Netns::new(&format!("{tag}lb"));
    plug(&client, "c0", "p-c", "10.77.0.1/24");
    plug(&lb, "l0", "p-l", "10.77.0.2/24");
    let batch = tmp.join("addrs");
    let lines: String = clients()
        .iter()
        .map(|a| format!("addr add {a}/32 dev c0\n"))
        .collect();
    std::fs::write(&batch, lines).unwrap();
    client.exec("ip", &["-batch", batch.to_str().unwrap()]);
    client.exec("ip", &["route", "add", "10.77.0.96/27", "via", "10.77.0.2"]);
    lb.exec("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
    for k in ["all", "default", "l0"] {
        lb.exec(
            "sysctl",
            &["-qw", &format!("net.ipv4.conf.{k}.rp_filter=0")],
        );
    }
    lb.exec("ip", &["route", "add", "10.200.0.0/16", "via", "10.77.0.1"]);
    // NAT replies leave on the interface they came in on: no ICMP redirect may send a
    // real's replies straight to the client, around the NAT.
    for k in ["all", "default", "l0"] {
        lb.exec(
            "sysctl",
            &["-qw", &format!("net.ipv4.conf.{k}.send_redirects=0")],
        );
    }
    let mut reals = Vec::new();
    let mut servers = Vec::new();
    for (name, ip) in REALS {
        let ns = Netns::new(&format!("{tag}{name}"));
        plug(&ns, "e0", &format!("p-{name}"), &format!("{ip}/24"));
        ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_ignore=1"]);
        ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_announce=2"]);
        ns.exec("ip", &["addr", "add", "10.77.0.96/27", "dev", "lo"]);
        ns.exec("ip", &["route", "add", "10.200.0.0/16", "via", "10.77.0.2"]);
        ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.accept_redirects=0"]);
        let mut server = Command::new("ip")
            .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_lvsc-flows")])
            .args([
                "serve",
                name,
                "80,81",
                &format!("10.77.0.102:53,{ip}:53,10.77.0.103:123,{ip}:123"),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // It says `serving` once every socket is bound.
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(server.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "serving", "{name}'s server");
        servers.push(server);
        reals.push(ns);
    }
    Rig {
        client,
        lb,
        _sw: sw,
        _reals: reals,
        servers,
        tmp,
    }
}

impl Rig {
    /// Runs lvsc in the director; panics when it fails; its standard error.
    pub fn lvsc(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.lb.name, env!("CARGO_BIN_EXE_lvsc")])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "lvsc {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// `lvsc apply FILE` on nftables in the director; its standard error.
    pub fn apply_nftables(&self, file: &Path) -> String {
        self.lvsc(&["apply", file.to_str().unwrap(), "--backend", "nftables"])
    }

    /// `lvsc apply FILE` on XDP at the director's l0, pinned in `pins`; its standard error.
    pub fn apply_xdp(&self, file: &Path, pins: &Bpffs) -> String {
        let file = file.to_str().unwrap();
        let pins = pins.0.to_str().unwrap();
        self.lvsc(&[
            "apply",
            file,
            "--backend",
            "ebpf",
            "--iface",
            "l0",
            "--pin-dir",
            pins,
        ])
    }

    /// Sends the flows from the client; flow → real.
    fn send(&self, flows: &[String], name: &str) -> (PathBuf, BTreeMap<String, String>) {
        let file = self.tmp.join(name);
        std::fs::write(&file, flows.join("\n") + "\n").unwrap();
        let out = self.client.exec(
            "timeout",
            &[
                "300",
                env!("CARGO_BIN_EXE_lvsc-flows"),
                "send",
                file.to_str().unwrap(),
                "1000",
            ],
        );
        (file, answers(&out))
    }

    /// Waits (bounded) until a first flow of each service is answered.
    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let probe = [
                "10.200.49.2:1000->10.77.0.100:80/tcp".to_string(),
                "10.200.49.2:1001->10.77.0.102:53/udp".to_string(),
            ];
            let file = self.tmp.join("probe");
            std::fs::write(&file, probe.join("\n")).unwrap();
            let out = Command::new("ip")
                .args(["netns", "exec", &self.client.name])
                .args([env!("CARGO_BIN_EXE_lvsc-flows"), "send"])
                .arg(&file)
                .arg("300")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            if text.lines().count() == 2 && !text.contains("error") {
                return;
            }
            assert!(Instant::now() < deadline, "the VIPs never answered: {text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Runs one data plane through the whole sequence; returns its report.
fn run_plane(plane: &str, rig: &Rig, apply: &dyn Fn(&Path)) -> Vec<String> {
    let forward = if plane == "xdp" { "dr" } else { "nat" };
    let file = rig.tmp.join("cluster.lvs");
    std::fs::write(&file, cluster(forward, WEIGHTS)).unwrap();
    apply(&file);
    rig.wait_ready();
    let flows = flows(0);
    assert_eq!(flows.len(), 2000);
    let (flow_file, got) = rig.send(&flows, "flows");
    let mut report = check_answers(plane, &got).report;
    let predicted = explain(&file, &flow_file, plane);
    let (decided, wrong) = mismatches(&predicted, &got);
    report.push(format!(
        "{plane}: lvsc explain decided {decided} of {} flows, {} mismatches",
        got.len(),
        wrong.len()
    ));
    assert!(
        wrong.is_empty(),
        "{plane}: lvsc explain mispredicted {} of {decided} flows, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );

    // One weight change, then new connections of the same client /24s.
    let before = persistent_reals(&got);
    std::fs::write(&file, cluster(forward, CHANGED)).unwrap();
    let redirects = "net.ipv4.conf.all.send_redirects";
    if forward == "nat" {
        // A weight change only moves slots; the kernel settings the NAT needs are set
        // again all the same (something may have reset them since).
        rig.lb.exec("sysctl", &["-qw", &format!("{redirects}=1")]);
    }
    apply(&file);
    if forward == "nat" {
        assert_eq!(rig.lb.exec("sysctl", &["-n", redirects]).trim(), "0");
    }
    let (flow_file, answered) = rig.send(&flows_after(), "flows-after");
    assert!(
        answered.values().all(|r| r != "error" && r != "r4"),
        "{answered:?}"
    );
    let after = persistent_reals(&answered);
    for (net, reals) in &after {
        assert_eq!(
            reals.len(),
            1,
            "{plane}: {net}.0/24 split after the change: {reals:?}"
        );
    }
    let moved = before
        .iter()
        .filter(|(n, r)| after.get(*n) != Some(r))
        .count();
    report.push(format!(
        "{plane}: after r1's weight 5 -> 2, {moved} of {} persistent client /24s moved",
        before.len()
    ));
    if plane == "nftables" {
        assert_eq!(moved, 0, "affinity entries must survive a weight change");
        // Without its affinity entry a client would follow the new hash: show that the
        // change did move hash slots, so the entries are what held the clients.
        let predicted = explain(&file, &flow_file, plane);
        let would: BTreeSet<String> = predicted
            .iter()
            .filter(|(f, p)| p.as_ref().is_some_and(|p| !before[&network(f)].contains(p)))
            .map(|(f, _)| network(f))
            .collect();
        report.push(format!(
            "{plane}: without affinity entries {} of them would have moved",
            would.len()
        ));
        assert!(
            !would.is_empty(),
            "the weight change moved no hash slot of any client"
        );
    } else {
        // Maglev: a client moves only with its slot. Bound: the share of the table's
        // slots that changed owner (plus sampling room over 40 clients).
        let s_old = service("dr", WEIGHTS, "app");
        let s_new = service("dr", CHANGED, "app");
        let (a, b) = (
            lvsc_xdp_image::explain::table(&s_old).unwrap(),
            lvsc_xdp_image::explain::table(&s_new).unwrap(),
        );
        let changed = a.iter().zip(&b).filter(|(x, y)| x != y).count() as f64 / a.len() as f64;
        report.push(format!(
            "{plane}: Maglev bound: {:.1}% of the slots changed owner; {:.1}% of the clients moved",
            changed * 100.0,
            moved as f64 * 100.0 / before.len() as f64
        ));
        assert!(
            (moved as f64) <= changed * before.len() as f64 + 6.0,
            "{moved} clients moved, {:.1}% of slots changed",
            changed * 100.0
        );
        let predicted = explain(&file, &flow_file, plane);
        let (_, wrong) = mismatches(&predicted, &answered);
        assert!(wrong.is_empty(), "after the change: {wrong:?}");
    }
    report
}

/// The `app` flows after the weight change, on fresh ports.
fn flows_after() -> Vec<String> {
    flows(1)
}

/// A service of the cluster file as compiled.
fn service(forward: &str, weights: [u32; 4], name: &str) -> lvsc_compiler::ir::Service {
    let c = lvsc_compiler::compile_source(&cluster(forward, weights))
        .cluster
        .unwrap();
    c.services.iter().find(|s| s.name == name).unwrap().clone()
}

#[test]
fn nftables_and_xdp_agree_with_the_file_and_with_lvsc_explain() {
    if !system_test_can_run(
        "differential test (nftables, XDP)",
        &["ip", "nft", "bpf-linker"],
    ) {
        return;
    }
    let mut report = Vec::new();
    {
        let rig = rig("dfn");
        let apply = |file: &Path| {
            rig.apply_nftables(file);
        };
        report.extend(run_plane("nftables", &rig, &apply));
    }
    {
        let rig = rig("dfx");
        let pins = Bpffs::mount(rig.tmp.join("bpffs"));
        let apply = |file: &Path| {
            rig.apply_xdp(file, &pins);
        };
        report.extend(run_plane("xdp", &rig, &apply));
    }
    for line in &report {
        eprintln!("{line}");
    }
}
