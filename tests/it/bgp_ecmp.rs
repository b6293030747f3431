//! Active-active directors behind BGP ECMP, end to end in network namespaces with BIRD 2:
//! a router (BIRD, multipath routes into its kernel table, L4 hashing), three directors
//! (BIRD with the bird.conf `lvsc build` writes, `lvsc run` on XDP in generic mode),
//! four direct-routing reals, and a client behind the router (tests/bgp/).
//!
//! - The router holds a multipath route to the VIP through every director; 200 flows
//!   reach all three (their XDP counters).
//! - 30 connections keep talking while a director's link goes down: the router withdraws
//!   it, and every connection goes on through the other directors, which pick the same
//!   real (Maglev). Run without and with BFD; the longest wait is the failover time.
//! - A real that fails its check leaves every director's table; a service that loses
//!   quorum is withdrawn from BGP; `lvsc run` withdraws its VIPs when it stops.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::run_support::{RunLoop, send_flows, wait_for};
use crate::support::{Bpffs, Netns, Switch, run, system_test_can_run, temp_dir};

const VIP: &str = "10.99.0.10";
const DIRECTORS: [(&str, &str); 3] = [
    ("lb1", "10.77.0.2"),
    ("lb2", "10.77.0.3"),
    ("lb3", "10.77.0.4"),
];
const REALS: [(&str, &str); 4] = [
    ("r1", "10.77.0.11"),
    ("r2", "10.77.0.12"),
    ("r3", "10.77.0.13"),
    ("r4", "10.77.0.14"),
];

/// A process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_in(ns: &Netns, args: &[&str], log: &Path) -> Proc {
    Proc(
        Command::new("ip")
            .args(["netns", "exec", &ns.name])
            .args(args)
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// The namespaces, daemons and loops of one run.
struct Ecmp {
    router: Netns,
    client: Netns,
    directors: Vec<Netns>,
    reals: Vec<Netns>,
    servers: BTreeMap<&'static str, Proc>,
    loops: Vec<RunLoop>,
    _birds: Vec<Proc>,
    _sw: Switch,
    pins: Bpffs,
    tmp: PathBuf,
}

impl Ecmp {
    fn start(tag: &str, bfd: bool) -> Ecmp {
        let tmp = temp_dir(tag);
        let pins = Bpffs::mount(tmp.join("bpffs"));
        let sw = Switch::new(&format!("{tag}sw"));
        let plug = |ns: &Netns, dev: &str, port: &str, addr: &str| sw.plug(ns, dev, port, addr);
        let router = Netns::new(&format!("{tag}rt"));
        plug(&router, "r0", "p-rt", "10.77.0.1/24");
        let client = Netns::new(&format!("{tag}cl"));
        run(
            "ip",
            &[
                "link",
                "add",
                "name",
                "c0",
                "netns",
                &client.name,
                "type",
                "veth",
                "peer",
                "name",
                "r1",
                "netns",
                &router.name,
            ],
        );
        client.exec("ip", &["addr", "add", "10.1.0.2/24", "dev", "c0"]);
        client.exec("ip", &["link", "set", "c0", "up"]);
        client.exec("ip", &["route", "add", "default", "via", "10.1.0.1"]);
        // A veth keeps the client socket's flow hash, and the router's ECMP uses it as it
        // is; Linux picks a new one when TCP retransmits, which here would move a stalled
        // connection to another director before the router withdraws the dead one. A
        // router hashes the headers: keep the hash, to measure what a router does.
        client.exec("sysctl", &["-qw", "net.core.txrehash=0"]);
        router.exec("ip", &["addr", "add", "10.1.0.1/24", "dev", "r1"]);
        router.exec("ip", &["link", "set", "r1", "up"]);
        router.exec("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
        // ECMP by the flow's addresses and ports, so one client's flows spread.
        router.exec("sysctl", &["-qw", "net.ipv4.fib_multipath_hash_policy=1"]);

        let mut reals = Vec::new();
        let mut servers = BTreeMap::new();
        for (name, ip) in REALS {
            let ns = Netns::new(&format!("{tag}{name}"));
            plug(&ns, "e0", &format!("p-{name}"), &format!("{ip}/24"));
            ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_ignore=1"]);
            ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_announce=2"]);
            ns.exec("ip", &["addr", "add", &format!("{VIP}/32"), "dev", "lo"]);
            // Replies go straight to the client, through the router (direct routing).
            ns.exec("ip", &["route", "add", "default", "via", "10.77.0.1"]);
            servers.insert(name, serve(&ns, name, &tmp));
            reals.push(ns);
        }

        let text = std::fs::read_to_string("tests/bgp/cluster.lvs").unwrap();
        let text = text.replace("#BFD#", if bfd { "bfd" } else { "" });
        let file = tmp.join("cluster.lvs");
        std::fs::write(&file, text).unwrap();
        let out = tmp.join("out");
        let built = Command::new(env!("CARGO_BIN_EXE_lvsc"))
            .arg("build")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );

        let router_conf = std::fs::read_to_string("tests/bgp/router.conf").unwrap();
        let router_conf = router_conf.replace("#BFD#", if bfd { "bfd on;" } else { "" });
        std::fs::write(tmp.join("router.conf"), router_conf).unwrap();
        let bird = |ns: &Netns, conf: &Path, name: &str| {
            let sock = tmp.join(format!("{name}.ctl"));
            spawn_in(
                ns,
                &[
                    "bird",
                    "-f",
                    "-c",
                    conf.to_str().unwrap(),
                    "-s",
                    sock.to_str().unwrap(),
                    "-P",
                    tmp.join(format!("{name}.pid")).to_str().unwrap(),
                ],
                &tmp.join(format!("{name}.bird.log")),
            )
        };
        let mut birds = vec![bird(&router, &tmp.join("router.conf"), "router")];
        let mut directors = Vec::new();
        let mut loops = Vec::new();
        for (name, ip) in DIRECTORS {
            let ns = Netns::new(&format!("{tag}{name}"));
            plug(&ns, "l0", &format!("p-{name}"), &format!("{ip}/24"));
            // A switch floods frames for a MAC it no longer knows (a director whose link
            // went down) to every port, and generic XDP on a veth sees frames for other
            // hosts too: the other directors would carry the gone director's flows
            // before the router withdrew it. A director's port gets only its own frames.
            sw.ns.exec(
                "bridge",
                &["link", "set", "dev", &format!("p-{name}"), "flood", "off"],
            );
            birds.push(bird(&ns, &out.join(name).join("bird.conf"), name));
            let dir = tmp.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            let pin_dir = pins.0.join(name);
            std::fs::create_dir_all(&pin_dir).unwrap();
            loops.push(RunLoop::start(
                &ns,
                &file,
                &dir.join("run.sock"),
                &dir,
                &[
                    "--host",
                    name,
                    "--iface",
                    "l0",
                    "--pin-dir",
                    pin_dir.to_str().unwrap(),
                ],
            ));
            directors.push(ns);
        }
        Ecmp {
            router,
            client,
            directors,
            reals,
            servers,
            loops,
            _birds: birds,
            _sw: sw,
            pins,
            tmp,
        }
    }

    /// The directors the router's route to the VIP goes through.
    fn next_hops(&self) -> Vec<String> {
        let out = self.router.exec("ip", &["-4", "route", "show", VIP]);
        out.split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .filter(|w| w[0] == "via")
            .map(|w| w[1].to_string())
            .collect()
    }

    /// Each director's XDP packet count for the service.
    fn packets(&self) -> Vec<u64> {
        DIRECTORS
            .iter()
            .zip(&self.directors)
            .map(|((name, _), ns)| {
                let pins = self.pins.0.join(name);
                let out = ns.exec(
                    env!("CARGO_BIN_EXE_lvsc"),
                    &[
                        "stats",
                        "--iface",
                        "l0",
                        "--pin-dir",
                        pins.to_str().unwrap(),
                        "--json",
                    ],
                );
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s["packets"].as_u64().unwrap())
                    .sum()
            })
            .collect()
    }

    /// 200 flows from the client, each from its own port: real → flows.
    fn flows(&self, round: u16) -> BTreeMap<String, usize> {
        let flows: Vec<String> = (0..200)
            .map(|i| format!("10.1.0.2:{}->{VIP}:80/tcp", 20000 + round * 1000 + i))
            .collect();
        send_flows(
            &self.client,
            &self.tmp.join(format!("flows{round}")),
            &flows,
        )
    }

    /// Waits until the status of the loops `which` (by index) says `ok` of every real.
    fn wait_reals(&self, what: &str, which: &[usize], ok: impl Fn(&str, &str) -> bool) {
        wait_for(what, Duration::from_secs(30), || {
            which.iter().map(|&i| &self.loops[i]).all(|lp| {
                lp.status().is_some_and(|s| {
                    s["services"].as_array().unwrap().iter().all(|svc| {
                        svc["reals"].as_array().unwrap().iter().all(|r| {
                            ok(
                                r["name"].as_str().unwrap_or(""),
                                r["state"].as_str().unwrap_or(""),
                            )
                        })
                    })
                })
            })
        });
    }

    /// 30 connections talking for `seconds` while `during` runs after `after`; the
    /// client's tally (JSON) and when `during` ran.
    fn talk_while(
        &self,
        seconds: f64,
        after: Duration,
        during: impl FnOnce(),
    ) -> serde_json::Value {
        let talk = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.client.name,
                env!("CARGO_BIN_EXE_lvsc-flows"),
            ])
            .args([
                "talk",
                &format!("{VIP}:80"),
                "30",
                &seconds.to_string(),
                "50",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(after);
        during();
        let out = talk.wait_with_output().unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

fn serve(ns: &Netns, name: &str, tmp: &Path) -> Proc {
    spawn_in(
        ns,
        &[env!("CARGO_BIN_EXE_lvsc-flows"), "serve", name, "80", "-"],
        &tmp.join(format!("{name}.serve.log")),
    )
}

/// One run: the route through every director, a director's link down under 30 talking
/// connections; the withdrawal time and the client's tally.
fn failover(tag: &str, bfd: bool) -> (Ecmp, Duration, serde_json::Value) {
    let e = Ecmp::start(tag, bfd);
    e.wait_reals("every real up on every director", &[0, 1, 2], |_, state| {
        state == "up"
    });
    wait_for(
        "a route to the VIP through the three directors",
        Duration::from_secs(60),
        || e.next_hops().len() == 3,
    );
    if bfd {
        // BFD watches each session (what makes the withdrawal fast, not the hold time).
        wait_for(
            "three BFD sessions up on the router",
            Duration::from_secs(30),
            || {
                let sock = e.tmp.join("router.ctl");
                let out = e.router.exec(
                    "birdc",
                    &["-s", sock.to_str().unwrap(), "show", "bfd", "sessions"],
                );
                out.lines().filter(|l| l.contains(" Up ")).count() == 3
            },
        );
    }
    // 200 flows spread over the three directors (their XDP counters) and every real.
    let before = e.packets();
    let spread = e.flows(0);
    let grew: Vec<u64> = e
        .packets()
        .iter()
        .zip(&before)
        .map(|(a, b)| a - b)
        .collect();
    eprintln!("BGP ECMP (bfd {bfd}): 200 flows: reals {spread:?}, packets per director {grew:?}");
    assert_eq!(spread.values().sum::<usize>(), 200, "{spread:?}");
    assert!(!spread.contains_key("error"), "{spread:?}");
    assert!(
        grew.iter().all(|&g| g > 0),
        "a director got no flow: {grew:?}"
    );
    let mut withdrawn = Duration::ZERO;
    let tally = e.talk_while(12.0, Duration::from_secs(3), || {
        let stopped = Instant::now();
        e.directors[1].exec("ip", &["link", "set", "l0", "down"]);
        wait_for(
            "the router to withdraw lb2",
            Duration::from_secs(30),
            || !e.next_hops().contains(&"10.77.0.3".to_string()),
        );
        withdrawn = stopped.elapsed();
    });
    let n = |k: &str| tally[k].as_u64().unwrap();
    assert_eq!(n("opened"), 30, "{tally}");
    // Each connection goes through lb2 with probability 1/3: none did in 1 of 190,000 runs.
    assert!(n("stalled") > 0, "no connection went through lb2: {tally}");
    assert_eq!(
        n("failed"),
        0,
        "connections broke when lb2 went (bfd {bfd}): {tally}"
    );
    assert_eq!(
        n("moved"),
        0,
        "a connection changed real (bfd {bfd}): {tally}"
    );
    (e, withdrawn, tally)
}

#[test]
fn active_active_directors_behind_bgp_ecmp_keep_connections_when_one_goes() {
    if !system_test_can_run("BGP ECMP with BIRD", &["bird", "birdc", "ip", "bpf-linker"]) {
        return;
    }
    // Without BFD: the router notices the silent director when the hold time (3 s) ends.
    let (e, withdrawn, tally) = failover("bgp", false);
    eprintln!(
        "BGP ECMP without BFD: lb2's link down → withdrawn after {:.2} s; 30 connections: {tally}",
        withdrawn.as_secs_f64()
    );

    // 200 flows reach every healthy director (lb1, lb3 now) and every real.
    let before = e.packets();
    let spread = e.flows(1);
    let after = e.packets();
    assert_eq!(spread.values().sum::<usize>(), 200, "{spread:?}");
    assert!(!spread.contains_key("error"), "{spread:?}");
    assert_eq!(spread.len(), 4, "{spread:?}");
    let grew: Vec<u64> = after.iter().zip(&before).map(|(a, b)| a - b).collect();
    assert!(
        grew[0] > 0 && grew[2] > 0,
        "lb1 and lb3 carry flows: {grew:?}"
    );
    assert_eq!(grew[1], 0, "lb2 is withdrawn: {grew:?}");
    eprintln!(
        "BGP ECMP: 200 flows after the failover: reals {spread:?}, packets per director {grew:?}"
    );

    // A real that fails its check leaves every director's table.
    let mut e = e;
    drop(e.servers.remove("r4"));
    // lb2, cut off, sees every real down; lb1 and lb3 carry the traffic.
    e.wait_reals("r4 down on lb1 and lb3", &[0, 2], |name, state| {
        (name == "r4") == (state == "down")
    });
    let spread = e.flows(2);
    assert_eq!(spread.values().sum::<usize>(), 200, "{spread:?}");
    assert!(
        !spread.contains_key("r4") && !spread.contains_key("error"),
        "{spread:?}"
    );

    // Quorum 3 of 4: with r3 gone too the service is withdrawn from BGP.
    drop(e.servers.remove("r3"));
    wait_for(
        "the router to lose the VIP",
        Duration::from_secs(30),
        || e.next_hops().is_empty(),
    );
    let routes = e.router.exec("ip", &["-4", "route", "show", VIP]);
    assert!(routes.trim().is_empty(), "{routes}");
    // Back above quorum: announced again.
    e.servers.insert("r3", serve(&e.reals[2], "r3", &e.tmp));
    wait_for(
        "the router to get the VIP back",
        Duration::from_secs(30),
        || e.next_hops().len() == 2,
    );

    // A stopped loop withdraws its VIPs.
    let lb1 = e.loops.remove(0);
    lb1.stop();
    let lo = e.directors[0].exec("ip", &["-4", "addr", "show", "dev", "lo"]);
    assert!(
        !lo.contains(VIP),
        "lb1 still holds the VIP after lvsc run stopped: {lo}"
    );
    wait_for(
        "the router to withdraw lb1",
        Duration::from_secs(30),
        || e.next_hops() == ["10.77.0.4"],
    );

    // A reloaded file that no longer announces the VIP (it moved) withdraws it at once:
    // lb3 takes it off `lo`, and the router loses its last route to it.
    let file = e.tmp.join("cluster.lvs");
    let moved = std::fs::read_to_string(&file)
        .unwrap()
        .replace(VIP, "10.99.0.20");
    std::fs::write(&file, moved).unwrap();
    e.loops[1].hup();
    wait_for(
        "lb3 to withdraw the VIP its reloaded file no longer names",
        Duration::from_secs(30),
        || {
            !e.directors[2]
                .exec("ip", &["-4", "addr", "show", "dev", "lo"])
                .contains(VIP)
        },
    );
    wait_for(
        "the router to lose the moved VIP",
        Duration::from_secs(30),
        || e.next_hops().is_empty(),
    );
    assert!(
        e.loops[1].log().contains("\"why\":\"reload\""),
        "no announce event of the reload: {}",
        e.loops[1].log()
    );
    drop(e);

    // With BFD: the router notices within a few hundred milliseconds.
    let (e, withdrawn_bfd, tally_bfd) = failover("bgpb", true);
    eprintln!(
        "BGP ECMP with BFD: lb2's link down → withdrawn after {:.2} s; 30 connections: {tally_bfd}",
        withdrawn_bfd.as_secs_f64()
    );
    drop(e);
}
