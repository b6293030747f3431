//! `lvsc run` on the nftables data plane, end to end in network namespaces: a client, a
//! director and reals with small HTTP servers (and a sorry server). The loop checks the
//! reals; stopping a real's server takes it out of its service's slot map (an element
//! update, not a reload), starting it again brings it back; a real added by SIGHUP gets
//! nothing before its first check passes; with every real down the sorry server answers
//! and the quorum is reported lost; a broken file on SIGHUP is refused and the loop keeps
//! running; the metrics pass `promtool check metrics`.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::run_support::{Http, RunLoop, client_requests, promtool_check, spread, wait_for};
use crate::support::{Netns, run, system_test_can_run, temp_dir};

/// The VIP (port 80).
const VIP: &str = "203.0.113.80";

/// The cluster: three reals by weight 3/2/1 behind one NAT VIP, a sorry server, checks
/// every 300 ms that take a real out after 2 failures (a 200 ms timeout each).
fn cluster(extra_real: bool, broken: bool) -> String {
    let r4 = if extra_real {
        "  real r4 10.99.0.14 weight 2\n"
    } else {
        ""
    };
    let junk = if broken { "  bogus directive\n" } else { "" };
    format!(
        "cluster runtest\n\
         balancer {{\n\
           dataplane nftables\n\
           director d1 {{\n\
             address 198.51.100.1/24 on eth0\n\
             address 10.99.0.1/24 on br0\n\
           }}\n\
         }}\n\
         pool web {{\n\
           port 8080\n\
           check http \"/\" expect 200 every 300ms timeout 200ms retry 2\n\
           real r1 10.99.0.11 weight 3\n\
           real r2 10.99.0.12 weight 2\n\
           real r3 10.99.0.13 weight 1\n\
         {r4}{junk}}}\n\
         service www {{\n\
           vip 203.0.113.80:80/tcp\n\
           forward nat\n\
           scheduler wrr\n\
           sorry 10.99.0.20:8080\n\
           quorum 3\n\
           pool web\n\
         }}\n"
    )
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

#[test]
fn run_checks_reals_and_changes_the_nftables_data_plane() {
    if !system_test_can_run(
        "lvsc run on nftables",
        &["ip", "nft", "python3", "promtool", "curl"],
    ) {
        return;
    }
    let tmp = temp_dir("run-nft");
    let client = Netns::new("rcl");
    let director = Netns::new("rd");
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
    director.exec("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
    let mut hosts = BTreeMap::new();
    for (name, ip) in [
        ("r1", "10.99.0.11"),
        ("r2", "10.99.0.12"),
        ("r3", "10.99.0.13"),
        ("r4", "10.99.0.14"),
        ("sorry", "10.99.0.20"),
    ] {
        let ns = Netns::new(&format!("r{name}"));
        let port = format!("to-{name}");
        veth(&ns, "eth0", &director, &port);
        director.exec("ip", &["link", "set", &port, "master", "br0"]);
        director.exec("ip", &["link", "set", &port, "up"]);
        ns.exec("ip", &["addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
        ns.exec("ip", &["link", "set", "eth0", "up"]);
        ns.exec("ip", &["route", "add", "default", "via", "10.99.0.1"]);
        hosts.insert(name, ns);
    }
    let mut servers: BTreeMap<&str, Http> = BTreeMap::new();
    for name in ["r1", "r2", "r3", "sorry"] {
        servers.insert(name, Http::start(&hosts[name], name, &tmp));
    }
    let file = tmp.join("cluster.lvs");
    std::fs::write(&file, cluster(false, false)).unwrap();
    let socket = tmp.join("run.sock");
    let lp = RunLoop::start(
        &director,
        &file,
        &socket,
        &tmp,
        &["--metrics", "127.0.0.1:9464"],
    );

    // Every real up (each passed a check), and the VIP answers.
    wait_for("every real up", Duration::from_secs(15), || {
        lp.status().is_some_and(|s| {
            s["services"][0]["reals"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["state"] == "up")
        })
    });
    let table = director.exec("nft", &["list", "table", "inet", "lvsc_dataplane"]);
    let shape = table
        .lines()
        .find(|l| l.contains("set lvsc_shape_"))
        .unwrap()
        .to_string();

    // 300 requests spread by weight 3 : 2 : 1.
    let answers = client_requests(&client, VIP, 300, 0.0, 0);
    let counts = spread(&answers);
    assert_eq!(counts.get("error"), None, "{counts:?}");
    for (name, want) in [("r1", 150), ("r2", 100), ("r3", 50)] {
        let got = counts.get(name).copied().unwrap_or(0);
        assert!(
            got.abs_diff(want) <= 15,
            "{name}: {got} of 300, want {want}: {counts:?}"
        );
    }

    // r2 stops answering. Its slots go to the others within every x retry + timeout
    // (0.8 s); until then, requests it gets fail. Measured, with slack.
    let traffic = crate::run_support::client_stream(&client, VIP, 120, 0.025);
    std::thread::sleep(Duration::from_millis(500));
    let killed = Instant::now();
    servers.remove("r2").unwrap().stop();
    let killed_at = killed.duration_since(traffic.started).as_secs_f64();
    let answers = traffic.finish();
    let failed: Vec<f64> = answers
        .iter()
        .filter(|(_, r)| r == "error")
        .map(|(t, _)| *t)
        .collect();
    let late_r2: Vec<f64> = answers
        .iter()
        .filter(|(t, r)| r == "r2" && *t > killed_at + 0.05)
        .map(|(t, _)| *t)
        .collect();
    let last_failure = failed.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "r2 died at {killed_at:.3}s: {} failed requests, the last at {:.3}s ({:.3}s after)",
        failed.len(),
        last_failure,
        last_failure - killed_at
    );
    assert!(late_r2.is_empty(), "r2 answered after it died: {late_r2:?}");
    assert!(
        failed.iter().all(|t| *t < killed_at + 0.8 + 1.5),
        "failures long after the detection bound: {failed:?}"
    );
    let tail = &answers[answers.len() - 20..];
    assert!(
        tail.iter().all(|(_, r)| r != "error" && r != "r2"),
        "{tail:?}"
    );
    let log = lp.log();
    assert!(log.contains("\"state\":\"down\""), "{log}");
    assert!(
        log.contains("slots of one map"),
        "an element update, not a reload: {log}"
    );
    let table = director.exec("nft", &["list", "table", "inet", "lvsc_dataplane"]);
    assert!(table.contains(&shape), "the table was reloaded");
    assert!(
        !table.contains("10.99.0.12"),
        "r2 still has slots:\n{table}"
    );

    // r2 comes back: after its next passing check it has its slots again.
    servers.insert("r2", Http::start(&hosts["r2"], "r2", &tmp));
    wait_for("r2 back", Duration::from_secs(10), || {
        director
            .exec("nft", &["list", "table", "inet", "lvsc_dataplane"])
            .contains("10.99.0.12")
    });
    let counts = spread(&client_requests(&client, VIP, 60, 0.0, 0));
    assert!(counts.get("r2").copied().unwrap_or(0) >= 10, "{counts:?}");

    // SIGHUP with a new real whose server is not up: it gets nothing; once its server
    // answers and a check passes, it takes its share.
    std::fs::write(&file, cluster(true, false)).unwrap();
    lp.hup();
    wait_for("the reload", Duration::from_secs(10), || {
        lp.log().contains("\"result\":\"applied\"")
    });
    std::thread::sleep(Duration::from_millis(900));
    let counts = spread(&client_requests(&client, VIP, 80, 0.0, 0));
    assert_eq!(
        counts.get("r4"),
        None,
        "r4 before its first check: {counts:?}"
    );
    assert_eq!(counts.get("error"), None, "{counts:?}");
    servers.insert("r4", Http::start(&hosts["r4"], "r4", &tmp));
    wait_for("r4 serving", Duration::from_secs(10), || {
        spread(&client_requests(&client, VIP, 20, 0.0, 0)).contains_key("r4")
    });

    // A broken file on SIGHUP: refused, and the loop runs on with the old one.
    std::fs::write(&file, cluster(true, true)).unwrap();
    lp.hup();
    wait_for("the refusal", Duration::from_secs(10), || {
        lp.log().contains("\"result\":\"refused\"")
    });
    assert!(lp.log().contains("lvsc::syntax::unknown-keyword"));
    let counts = spread(&client_requests(&client, VIP, 30, 0.0, 0));
    assert_eq!(counts.get("error"), None, "{counts:?}");

    // Every real down: the quorum is lost and the sorry server answers.
    for name in ["r1", "r2", "r3", "r4"] {
        servers.remove(name).unwrap().stop();
    }
    wait_for("the sorry server", Duration::from_secs(10), || {
        spread(&client_requests(&client, VIP, 3, 0.0, 0)).get("sorry") == Some(&3)
    });
    let status = lp.status().unwrap();
    assert_eq!(status["services"][0]["quorum_up"], false, "{status}");
    assert_eq!(status["services"][0]["sorry_active"], true, "{status}");
    let text = Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(["status", "--socket"])
        .arg(&socket)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("NO QUORUM"));

    // The metrics: quorum lost, transitions counted, and promtool finds nothing wrong.
    let metrics = director.exec("curl", &["-fsS", "http://127.0.0.1:9464/metrics"]);
    assert!(
        metrics.contains("lvsc_service_quorum{service=\"www\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lvsc_real_up{service=\"www\",real=\"r1\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("lvsc_real_transitions_total"), "{metrics}");
    promtool_check(&metrics);

    lp.stop();
    for (_, s) in servers {
        s.stop();
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
