//! `lvsc run` on the XDP data plane, end to end in network namespaces: a client, the
//! director with the program on a veth (generic mode), direct-routing reals with HTTP
//! servers holding the VIPs on loopback. A real whose server stops is taken out by
//! switching its service's Maglev table alone: its flows move, the other reals' flows
//! stay, the other service is not touched; it comes back when it answers again; a real
//! added by SIGHUP gets nothing before its first check passes; with every real down the
//! sorry server answers; the kernel's counters reach the metrics.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::run_support::{Http, RunLoop, client_requests, client_stream, spread, wait_for};
use crate::support::{Bpffs, Netns, Switch, system_test_can_run, temp_dir};

const VIP: &str = "10.77.0.100";
const API_VIP: &str = "10.77.0.101";

fn cluster(extra_real: bool) -> String {
    let r4 = if extra_real {
        "  real r4 10.77.0.14 weight 2\n"
    } else {
        ""
    };
    format!(
        "cluster runxdp\n\
         balancer {{\n\
           dataplane xdp\n\
           director lb 10.77.0.2/24 on l0\n\
         }}\n\
         pool web {{\n\
           port 80\n\
           check http \"/\" expect 200 every 300ms timeout 200ms retry 2\n\
           real r1 10.77.0.11 weight 3\n\
           real r2 10.77.0.12 weight 2\n\
           real r3 10.77.0.13 weight 1\n\
         {r4}}}\n\
         pool api {{\n\
           port 80\n\
           check tcp every 300ms timeout 200ms retry 2\n\
           real a1 10.77.0.11\n\
           real a3 10.77.0.13\n\
         }}\n\
         service www {{\n\
           vip {VIP}:80/tcp\n\
           forward dr\n\
           scheduler mh mh-port\n\
           sorry 10.77.0.20:80\n\
           quorum 3\n\
           table-size 4099\n\
           pool web\n\
         }}\n\
         service api {{\n\
           vip {API_VIP}:80/tcp\n\
           forward dr\n\
           table-size 4099\n\
           pool api\n\
         }}\n"
    )
}

#[test]
fn run_checks_reals_and_switches_one_xdp_table() {
    if !system_test_can_run("lvsc run on XDP", &["ip", "python3", "bpf-linker", "curl"]) {
        return;
    }
    let tmp = temp_dir("run-xdp");
    let pins = Bpffs::mount(tmp.join("bpffs"));
    let sw = Switch::new("rxsw");
    let client = Netns::new("rxcl");
    let lb = Netns::new("rxlb");
    let mut hosts = BTreeMap::new();
    let plug = |ns: &Netns, dev: &str, port: &str, addr: &str| sw.plug(ns, dev, port, addr);
    plug(&client, "c0", "p-c", "10.77.0.1/24");
    plug(&lb, "l0", "p-l", "10.77.0.2/24");
    client.exec("ip", &["route", "add", "10.77.0.96/27", "via", "10.77.0.2"]);
    for (name, ip) in [
        ("r1", "10.77.0.11"),
        ("r2", "10.77.0.12"),
        ("r3", "10.77.0.13"),
        ("r4", "10.77.0.14"),
        ("sorry", "10.77.0.20"),
    ] {
        let ns = Netns::new(&format!("rx{name}"));
        plug(&ns, "e0", &format!("p-{name}"), &format!("{ip}/24"));
        // Direct routing: the VIPs on loopback, never answered for by ARP.
        ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_ignore=1"]);
        ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_announce=2"]);
        ns.exec("ip", &["addr", "add", "10.77.0.96/27", "dev", "lo"]);
        hosts.insert(name, ns);
    }
    let mut servers: BTreeMap<&str, Http> = BTreeMap::new();
    for name in ["r1", "r2", "r3", "sorry"] {
        servers.insert(name, Http::start_on(&hosts[name], name, &tmp, 80));
    }
    let file = tmp.join("cluster.lvs");
    std::fs::write(&file, cluster(false)).unwrap();
    let socket = tmp.join("run.sock");
    let pin_dir = pins.0.to_str().unwrap().to_string();
    let lp = RunLoop::start(
        &lb,
        &file,
        &socket,
        &tmp,
        &[
            "--iface",
            "l0",
            "--pin-dir",
            &pin_dir,
            "--metrics",
            "127.0.0.1:9465",
        ],
    );
    wait_for("every real up", Duration::from_secs(20), || {
        lp.status().is_some_and(|s| {
            s["services"].as_array().unwrap().iter().all(|svc| {
                svc["reals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["state"] == "up")
            })
        })
    });
    let link = lb.exec("ip", &["link", "show", "l0"]);
    assert!(link.contains("xdpgeneric"), "{link}");

    // 300 flows by weight 3 : 2 : 1 (Maglev over random source ports: binomial).
    let counts = spread(&client_requests(&client, VIP, 300, 0.0, 0));
    assert_eq!(counts.get("error"), None, "{counts:?}");
    for (name, want) in [("r1", 150), ("r2", 100), ("r3", 50)] {
        let got = counts.get(name).copied().unwrap_or(0);
        assert!(
            got.abs_diff(want) <= 35,
            "{name}: {got}, want {want}: {counts:?}"
        );
    }

    // 200 fixed flows (fixed source ports), to see which move when r2 goes.
    let before = client_requests(&client, VIP, 200, 0.0, 41000);
    let api_before = client_requests(&client, API_VIP, 50, 0.0, 42000);
    let traffic = client_stream(&client, VIP, 120, 0.025);
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
    let last_failure = failed.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "r2 died at {killed_at:.3}s: {} failed requests, the last {:.3}s after",
        failed.len(),
        last_failure - killed_at
    );
    assert!(
        answers
            .iter()
            .all(|(t, r)| r != "r2" || *t <= killed_at + 0.05),
        "r2 answered after it died"
    );
    let tail = &answers[answers.len() - 20..];
    assert!(tail.iter().all(|(_, r)| r != "error"), "{tail:?}");
    // Only r2's flows moved (Maglev may reshuffle a few slots more); api is untouched.
    let after = client_requests(&client, VIP, 200, 0.0, 41000);
    let moved = before
        .iter()
        .zip(&after)
        .filter(|((_, b), (_, a))| b != "r2" && a != b)
        .count();
    eprintln!("flows of r1 and r3 that moved when r2 went: {moved} of 200");
    assert!(moved <= 10, "{moved} flows of the other reals moved");
    assert!(
        after.iter().all(|(_, a)| a != "r2" && a != "error"),
        "{after:?}"
    );
    let api_after = client_requests(&client, API_VIP, 50, 0.0, 42000);
    let who = |v: &[(f64, String)]| v.iter().map(|(_, w)| w.clone()).collect::<Vec<_>>();
    assert_eq!(who(&api_before), who(&api_after), "api's flows moved");
    let log = lp.log();
    assert!(
        log.lines()
            .any(|l| l.contains("\"services\":[\"www\"]")
                && l.contains("0 added, 1 changed, 0 removed")),
        "one table switched: {log}"
    );

    // r2 back; a new real by SIGHUP waits for its first pass.
    servers.insert("r2", Http::start_on(&hosts["r2"], "r2", &tmp, 80));
    wait_for("r2 back", Duration::from_secs(10), || {
        spread(&client_requests(&client, VIP, 30, 0.0, 0)).contains_key("r2")
    });
    std::fs::write(&file, cluster(true)).unwrap();
    lp.hup();
    wait_for("the reload", Duration::from_secs(15), || {
        lp.log().contains("\"result\":\"applied\"")
    });
    std::thread::sleep(Duration::from_millis(900));
    let counts = spread(&client_requests(&client, VIP, 80, 0.0, 0));
    assert_eq!(
        counts.get("r4"),
        None,
        "r4 before its first check: {counts:?}"
    );
    servers.insert("r4", Http::start_on(&hosts["r4"], "r4", &tmp, 80));
    wait_for("r4 serving", Duration::from_secs(10), || {
        spread(&client_requests(&client, VIP, 40, 0.0, 0)).contains_key("r4")
    });

    // Every real of www down: the sorry server answers; api, whose reals are also
    // r1 and r3, loses them too.
    for name in ["r1", "r2", "r3", "r4"] {
        servers.remove(name).unwrap().stop();
    }
    wait_for("the sorry server", Duration::from_secs(10), || {
        spread(&client_requests(&client, VIP, 3, 0.0, 0)).get("sorry") == Some(&3)
    });
    let status = lp.status().unwrap();
    let www = &status["services"][0];
    assert_eq!(www["quorum_up"], false, "{status}");
    assert_eq!(www["sorry_active"], true, "{status}");
    // The kernel's counters, in the metrics (refreshed every 5 s).
    wait_for(
        "XDP counters in the metrics",
        Duration::from_secs(12),
        || {
            let m = lb.exec("curl", &["-fsS", "http://127.0.0.1:9465/metrics"]);
            m.lines().any(|l| {
                l.starts_with("lvsc_dataplane_packets_total{service=\"www\"}") && !l.ends_with(" 0")
            })
        },
    );
    lp.stop();
    // The program stays attached when the loop ends: the next start takes it over.
    assert!(
        lb.exec("ip", &["link", "show", "l0"])
            .contains("xdpgeneric")
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
