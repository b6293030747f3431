//! End to end with real packets: a client, a director and three reals, each in its own
//! network namespace. The director is configured by `lvsc apply --backend nftables`,
//! the reals by their generated setup scripts; HTTP requests to the VIP must spread
//! over the reals by weight, and `setup.sh down` must leave each real as it was.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Netns, run, system_test_can_run};

const CLUSTER: &str = "tests/e2e/nat.lvs";
const REQUESTS: usize = 300;
/// Allowed distance from the exact weighted share, in requests (5 % of all requests).
/// `numgen inc` rotates exactly, so any miss means lost or misrouted requests.
const TOLERANCE: usize = 15;

/// What a real's `down` must restore: addresses, routes and the kernel settings.
fn snapshot(ns: &Netns) -> String {
    let mut s = ns.exec("ip", &["-o", "addr", "show"]);
    s += &ns.exec("ip", &["route", "show"]);
    s += &ns.exec(
        "sysctl",
        &[
            "net.ipv4.conf.all.arp_ignore",
            "net.ipv4.conf.all.arp_announce",
            "net.ipv4.conf.all.rp_filter",
        ],
    );
    s
}

fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    run(
        "ip",
        &[
            "link", "add", "name", a_if, "netns", &a.name, "type", "veth", "peer", "name", b_if,
            "netns", &b.name,
        ],
    );
}

fn http_server(ns: &Netns, name: &str, root: &std::path::Path) -> Child {
    let dir = root.join(format!("www-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), name).unwrap();
    Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "python3",
            "-m",
            "http.server",
            "8080",
            "--bind",
            "0.0.0.0",
            "--directory",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The client: `REQUESTS` GETs to the VIP, each a new connection; prints `name count` lines.
const CLIENT: &str = r#"
import collections, sys, urllib.request
counts = collections.Counter()
for _ in range(int(sys.argv[1])):
    try:
        counts[urllib.request.urlopen("http://203.0.113.80/", timeout=2).read().decode()] += 1
    except Exception as e:
        counts["error"] += 1
for k, v in sorted(counts.items()):
    print(k, v)
"#;

#[test]
fn requests_spread_by_weight_and_down_restores_the_reals() {
    if !system_test_can_run("e2e nftables data plane", &["ip", "nft", "python3", "bash"]) {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("lvsc-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let client = Netns::new("cl");
    let director = Netns::new("d");
    let reals: Vec<(String, Netns)> = (1..=3)
        .map(|i| (format!("r{i}"), Netns::new(&format!("r{i}"))))
        .collect();

    veth(&client, "eth0", &director, "eth0");
    client.exec("ip", &["addr", "add", "198.51.100.2/24", "dev", "eth0"]);
    client.exec("ip", &["link", "set", "eth0", "up"]);
    client.exec(
        "ip",
        &["route", "add", "203.0.113.0/24", "via", "198.51.100.1"],
    );
    director.exec("ip", &["addr", "add", "198.51.100.1/24", "dev", "eth0"]);
    director.exec("ip", &["link", "set", "eth0", "up"]);
    director.exec("ip", &["link", "add", "br0", "type", "bridge"]);
    director.exec("ip", &["addr", "add", "10.99.0.1/24", "dev", "br0"]);
    director.exec("ip", &["link", "set", "br0", "up"]);
    let mut before = Vec::new();
    let mut servers = Vec::new();
    for (i, (name, ns)) in reals.iter().enumerate() {
        let port = format!("to-{name}");
        veth(ns, "eth0", &director, &port);
        director.exec("ip", &["link", "set", &port, "master", "br0"]);
        director.exec("ip", &["link", "set", &port, "up"]);
        ns.exec(
            "ip",
            &[
                "addr",
                "add",
                &format!("10.99.0.1{}/24", i + 1),
                "dev",
                "eth0",
            ],
        );
        ns.exec("ip", &["link", "set", "eth0", "up"]);
        before.push(snapshot(ns));
        servers.push(http_server(ns, name, &tmp));
    }

    // The reals: their generated scripts, exactly as an operator runs them.
    let out = tmp.join("build");
    run(
        env!("CARGO_BIN_EXE_lvsc"),
        &["build", CLUSTER, "--out", out.to_str().unwrap()],
    );
    let state = tmp.join("state");
    let script = |name: &str, action: &str, ns: &Netns| {
        let path = out.join(name).join("setup.sh");
        run(
            "ip",
            &[
                "netns",
                "exec",
                &ns.name,
                "env",
                &format!("LVSC_STATE_DIR={}", state.display()),
                "bash",
                path.to_str().unwrap(),
                action,
            ],
        );
    };
    for (name, ns) in &reals {
        script(name, "up", ns);
        script(name, "up", ns); // idempotent: a second `up` changes nothing
        assert!(
            ns.exec("ip", &["route", "show", "default"])
                .contains("via 10.99.0.1"),
            "{name} has no route back"
        );
    }

    // The director: one atomic nft transaction.
    director.exec(
        env!("CARGO_BIN_EXE_lvsc"),
        &["apply", CLUSTER, "--backend", "nftables"],
    );
    assert!(
        director
            .exec("nft", &["list", "tables"])
            .contains(lvsc_nftables::DATAPLANE_TABLE)
    );

    // Wait (bounded) until the servers answer through the VIP.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let probe = Command::new("ip")
            .args(["netns", "exec", &client.name, "python3", "-c", CLIENT, "1"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&probe.stdout).starts_with('r') {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the VIP never answered: {}",
            String::from_utf8_lossy(&probe.stdout)
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let report = client.exec(
        "timeout",
        &["120", "python3", "-c", CLIENT, &REQUESTS.to_string()],
    );
    let count = |name: &str| {
        report
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map_or(0, |n| n.trim().parse::<usize>().unwrap())
    };
    assert_eq!(count("error"), 0, "failed requests: {report}");
    assert_eq!(
        count("r1") + count("r2") + count("r3"),
        REQUESTS,
        "{report}"
    );
    // Weights 3 : 2 : drained.
    assert!(
        count("r1").abs_diff(REQUESTS * 3 / 5) <= TOLERANCE,
        "r1 share off: {report}"
    );
    assert!(
        count("r2").abs_diff(REQUESTS * 2 / 5) <= TOLERANCE,
        "r2 share off: {report}"
    );
    assert_eq!(count("r3"), 0, "the drained real got traffic: {report}");

    for (i, (name, ns)) in reals.iter().enumerate() {
        script(name, "down", ns);
        assert_eq!(
            snapshot(ns),
            before[i],
            "{name}: `down` did not restore the namespace"
        );
    }
    for mut s in servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn dr_real_setup_up_and_down_in_a_namespace() {
    if !system_test_can_run("DR real setup.sh", &["ip", "bash", "sysctl"]) {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("lvsc-dr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    run(
        env!("CARGO_BIN_EXE_lvsc"),
        &[
            "build",
            "examples/web-dr.lvs",
            "--out",
            tmp.to_str().unwrap(),
        ],
    );
    let ns = Netns::new("dr");
    let before = snapshot(&ns);
    let env = format!("LVSC_STATE_DIR={}", tmp.join("state").display());
    let script = tmp.join("rs1/setup.sh");
    ns.exec("env", &[&env, "bash", script.to_str().unwrap(), "up"]);
    assert!(
        ns.exec("ip", &["addr", "show", "lo"])
            .contains("192.0.2.100/32")
    );
    assert_eq!(
        ns.exec("sysctl", &["-n", "net.ipv4.conf.all.arp_ignore"])
            .trim(),
        "1"
    );
    assert_eq!(
        ns.exec("sysctl", &["-n", "net.ipv4.conf.lo.arp_announce"])
            .trim(),
        "2"
    );
    assert_eq!(
        ns.exec("env", &[&env, "bash", script.to_str().unwrap(), "status"])
            .trim(),
        "up"
    );
    ns.exec("env", &[&env, "bash", script.to_str().unwrap(), "down"]);
    assert_eq!(snapshot(&ns), before, "down did not restore the namespace");
    let _ = std::fs::remove_dir_all(&tmp);
}
