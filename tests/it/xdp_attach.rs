//! The XDP load balancer attached for real: `lvsc apply --backend ebpf` puts the program
//! on a veth (generic mode, chosen automatically) in a director namespace on a bridge;
//! UDP datagrams from a client namespace reach the reals' namespaces by direct routing
//! and the reals answer the client themselves. Then: a dry run changes nothing, MACs
//! are found through gateways, an unchanged apply writes nothing, a changed weight
//! rewrites the services that use it and keeps their counters, a new service leaves
//! the others alone, growing past the maps swaps in a larger program while attached,
//! and `detach` removes it all.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::{Bpffs, Netns, run, system_test_can_run};

const VIP: &str = "10.77.0.100:7000";

unsafe extern "C" {
    fn setns(fd: i32, nstype: i32) -> i32;
}

/// Runs `f` on a thread inside `ns`: sockets it creates belong to that namespace.
fn in_ns<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{}", ns.name);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a valid namespace fd; CLONE_NEWNET moves only this thread.
        assert_eq!(unsafe { setns(file.as_raw_fd(), 0x4000_0000) }, 0);
        f()
    })
    .join()
    .unwrap()
}

/// `lvsc ARGS` inside the director namespace: (exit code, stdout, stderr).
fn lvsc(lb: &Netns, args: &[&str]) -> (i32, String, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &lb.name, env!("CARGO_BIN_EXE_lvsc")])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `lvsc COMMAND FILE --iface l0 --pin-dir PINS EXTRA...` inside the director namespace.
fn on_l0(
    lb: &Netns,
    command: &str,
    file: &Path,
    pins: &Path,
    extra: &[&str],
) -> (i32, String, String) {
    let mut args = vec![
        command,
        file.to_str().unwrap(),
        "--iface",
        "l0",
        "--pin-dir",
        pins.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    lvsc(lb, &args)
}

/// Writes `text` to `file` and applies it.
fn apply_text(lb: &Netns, file: &Path, text: &str, pins: &Path) -> String {
    std::fs::write(file, text).unwrap();
    apply(lb, file, pins)
}

fn apply(lb: &Netns, file: &Path, pins: &Path) -> String {
    // No --xdp-mode: on a veth the automatic choice must be generic.
    let (code, out, err) = on_l0(lb, "apply", file, pins, &["--backend", "ebpf"]);
    assert_eq!(code, 0, "apply failed: {out}{err}");
    out + &err
}

/// `flows` datagrams, each from its own source port, to `vip`; the real that answered each.
/// Each flow from a client port no earlier flow used: the program's connection table
/// keeps a known flow on its real (a drained one too), and only new flows show the table.
fn send(client: &Netns, vip: &'static str, flows: usize) -> Vec<String> {
    static NEXT_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(20000);
    in_ns(client, move || {
        (0..flows)
            .map(|i| {
                let port = NEXT_PORT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let s = UdpSocket::bind(("10.77.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
                s.connect(vip).unwrap();
                s.send(format!("flow {i}").as_bytes()).unwrap();
                let mut buf = [0u8; 64];
                match s.recv(&mut buf) {
                    Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
                    Err(_) => "lost".into(),
                }
            })
            .collect()
    })
}

fn count(answers: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for a in answers {
        *m.entry(a.clone()).or_default() += 1;
    }
    m
}

fn stats(lb: &Netns, pins: &Path) -> BTreeMap<String, u64> {
    let (code, out, err) = lvsc(
        lb,
        &[
            "stats",
            "--iface",
            "l0",
            "--pin-dir",
            pins.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["service"].as_str().unwrap().to_string(),
                s["packets"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The cluster with `extra` more services (VIPs .101 on) and r2's weight.
fn cluster(r2_weight: u32, extra: u8) -> String {
    let base = std::fs::read_to_string("tests/xdp/attach.lvs").unwrap();
    let mut s = base.replace(
        "real r2 10.77.0.12 weight 1",
        &format!("real r2 10.77.0.12 weight {r2_weight}"),
    );
    for i in 0..extra {
        s += &format!(
            "\nservice extra{i} {{\n  vip 10.77.0.{}:7000/udp\n  forward dr\n  pool app\n}}\n",
            101 + u32::from(i)
        );
    }
    s
}

#[test]
fn xdp_on_a_veth_forwards_to_the_reals() {
    if !system_test_can_run("XDP attach on veth", &["ip", "bpf-linker"]) {
        return;
    }
    let tmp = std::env::temp_dir().join(format!("lvsc-xdp-attach-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let pins = Bpffs::mount(tmp.join("bpffs"));
    let pins_dir = pins.0.clone();

    // A bridge in its own namespace; client, director and two reals plugged into it.
    let sw = Netns::new("xsw");
    let client = Netns::new("xcl");
    let lb = Netns::new("xlb");
    let r1 = Netns::new("xr1");
    let r2 = Netns::new("xr2");
    sw.exec("ip", &["link", "add", "br0", "type", "bridge"]);
    sw.exec("ip", &["link", "set", "br0", "up"]);
    for (ns, dev, port, addr) in [
        (&client, "c0", "p-c", "10.77.0.1/24"),
        (&lb, "l0", "p-l", "10.77.0.2/24"),
        (&r1, "e0", "p-r1", "10.77.0.11/24"),
        (&r2, "e0", "p-r2", "10.77.0.12/24"),
    ] {
        run(
            "ip",
            &[
                "link", "add", "name", dev, "netns", &ns.name, "type", "veth", "peer", "name",
                port, "netns", &sw.name,
            ],
        );
        sw.exec("ip", &["link", "set", port, "master", "br0", "up"]);
        ns.exec("ip", &["addr", "add", addr, "dev", dev]);
        ns.exec("ip", &["link", "set", dev, "up"]);
    }
    // The client reaches the VIPs through the director.
    client.exec("ip", &["route", "add", "10.77.0.96/27", "via", "10.77.0.2"]);
    // Direct-routing reals hold the VIPs on loopback and answer as them.
    let mut servers = Vec::new();
    for (ns, name) in [(&r1, "r1"), (&r2, "r2")] {
        ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_ignore=1"]);
        ns.exec("sysctl", &["-qw", "net.ipv4.conf.all.arp_announce=2"]);
        ns.exec("ip", &["addr", "add", "10.77.0.96/27", "dev", "lo"]);
        // One socket per VIP the test sends to, bound to it so that answers come from it.
        for vip in [100, 101, 119] {
            let sock = in_ns(ns, move || {
                UdpSocket::bind(format!("10.77.0.{vip}:7000")).unwrap()
            });
            let name = name.to_string();
            // Echo servers: answer every datagram with the real's name, until the test ends.
            servers.push(std::thread::spawn(move || {
                sock.set_read_timeout(Some(Duration::from_secs(120)))
                    .unwrap();
                let mut buf = [0u8; 64];
                while let Ok((_, from)) = sock.recv_from(&mut buf) {
                    let from: SocketAddr = from;
                    let _ = sock.send_to(name.as_bytes(), from);
                }
            }));
        }
    }

    // First apply: attached in generic mode, the service added.
    let file = tmp.join("cluster.lvs");
    let out = apply_text(&lb, &file, &cluster(1, 0), &pins_dir);
    assert!(out.contains("+ 10.77.0.100:7000 udp"), "{out}");
    assert!(out.contains("generic XDP"), "{out}");
    let link = lb.exec("ip", &["link", "show", "l0"]);
    assert!(link.contains("xdpgeneric"), "{link}");

    // 200 flows: every one answered, by weight 3:1 (binomial sd about 6; ±30 is 5 sd).
    let answers = send(&client, VIP, 200);
    let n = count(&answers);
    assert_eq!(n.get("lost"), None, "{n:?}");
    assert!(
        (120..=180).contains(&n["r1"]) && (20..=80).contains(&n["r2"]),
        "{n:?}"
    );
    // The same flow lands on the same real: one socket, ten datagrams.
    let same = in_ns(&client, || {
        let s = UdpSocket::bind("10.77.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.connect(VIP).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..10 {
            s.send(b"again").unwrap();
            let mut buf = [0u8; 64];
            let k = s.recv(&mut buf).unwrap();
            seen.insert(String::from_utf8_lossy(&buf[..k]).into_owned());
        }
        seen
    });
    assert_eq!(same.len(), 1, "{same:?}");
    assert_eq!(stats(&lb, &pins_dir)["10.77.0.100:7000 udp"], 210);
    // With the cluster file, services are named.
    let (code, out, err) = on_l0(&lb, "stats", &file, &pins_dir, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("10.77.0.100:7000 udp (echo)"), "{out}");
    assert!(out.contains(" 210 "), "{out}");

    // A dry run says what would change and changes nothing.
    std::fs::write(&file, cluster(2, 0)).unwrap();
    let (code, out, err) = on_l0(
        &lb,
        "apply",
        &file,
        &pins_dir,
        &["--backend", "ebpf", "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("~ 10.77.0.100:7000 udp") && err.contains("dry run"),
        "{out}{err}"
    );
    // `plan --iface` says the same, with the plan exit codes: 2 for changes.
    let (code, out, _) = on_l0(&lb, "plan", &file, &pins_dir, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("~ 10.77.0.100:7000 udp"), "{out}");
    std::fs::write(&file, cluster(1, 0)).unwrap();

    // Next-hop MACs: an on-link real's own, a routed real's gateway's; a real behind
    // another interface is refused, since XDP_TX leaves by the interface it came in by.
    let mac_of = |ns: &Netns| {
        let link = ns.exec("ip", &["-o", "link", "show", "e0"]);
        let at = link.find("link/ether ").unwrap() + 11;
        link[at..at + 17].to_string()
    };
    let (mac1, mac2) = (mac_of(&r1), mac_of(&r2));
    lb.exec(
        "ip",
        &["route", "add", "198.51.100.0/24", "via", "10.77.0.11"],
    );
    lb.exec(
        "ip",
        &["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
    );
    lb.exec("ip", &["addr", "add", "192.168.9.1/24", "dev", "d0"]);
    lb.exec("ip", &["link", "set", "d0", "up"]);
    let (found, refused) = in_ns(&lb, || {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let found =
            lvsc_xdp_loader::neighbour::resolve("l0", &[ip("198.51.100.31"), ip("10.77.0.12")])
                .unwrap();
        let fmt = |m: [u8; 6]| m.map(|b| format!("{b:02x}")).join(":");
        let found = (
            fmt(found[&ip("198.51.100.31")]),
            fmt(found[&ip("10.77.0.12")]),
        );
        let refused = lvsc_xdp_loader::neighbour::resolve("l0", &[ip("192.168.9.5")]).unwrap_err();
        (found, refused.to_string())
    });
    assert_eq!(found, (mac1, mac2));
    assert!(refused.contains("another interface"), "{refused}");

    // The same file again writes nothing, and plans nothing (exit 0).
    let (code, out, _) = on_l0(&lb, "plan", &file, &pins_dir, &[]);
    assert_eq!(code, 0, "{out}");
    let out = apply(&lb, &file, &pins_dir);
    assert!(
        out.contains("unchanged")
            && out.contains("0 table slots written")
            && out.contains("0 of 1 Maglev tables computed"),
        "{out}"
    );

    // One more service, and r2 drained: both services are rewritten (they share the
    // pool), the old one keeps its counters, and r2 gets nothing.
    let out = apply_text(&lb, &file, &cluster(0, 1), &pins_dir);
    assert!(out.contains("~ 10.77.0.100:7000 udp"), "{out}");
    assert!(out.contains("+ 10.77.0.101:7000 udp"), "{out}");
    let n = count(&send(&client, VIP, 50));
    assert_eq!(n.get("r1"), Some(&50), "{n:?}");
    let n = count(&send(&client, "10.77.0.101:7000", 20));
    assert_eq!(n.get("r1"), Some(&20), "{n:?}");
    let s = stats(&lb, &pins_dir);
    assert_eq!(s["10.77.0.100:7000 udp"], 260, "{s:?}");
    assert_eq!(s["10.77.0.101:7000 udp"], 20, "{s:?}");

    // Only the new service changes: the first one is left alone.
    let out = apply_text(&lb, &file, &cluster(0, 2), &pins_dir);
    assert!(out.contains("+ 10.77.0.102:7000 udp"), "{out}");
    assert!(
        out.contains("0 changed")
            && out.contains("2 unchanged")
            && out.contains("1 of 3 Maglev tables computed"),
        "{out}"
    );

    // Twenty services of 65,537 slots do not fit maps sized for three: a larger program
    // is filled aside and swapped in while the link stays attached.
    let out = apply_text(&lb, &file, &cluster(1, 19), &pins_dir);
    assert!(out.contains("swapped in"), "{out}");
    let link = lb.exec("ip", &["link", "show", "l0"]);
    assert!(link.contains("xdpgeneric"), "{link}");
    let n = count(&send(&client, "10.77.0.119:7000", 40));
    assert_eq!(n.get("lost"), None, "{n:?}");
    assert!(n.contains_key("r1") && n.contains_key("r2"), "{n:?}");
    let s = stats(&lb, &pins_dir);
    assert_eq!(s.len(), 20);
    // The counters came along into the larger maps.
    assert_eq!(s["10.77.0.100:7000 udp"], 260, "{s:?}");
    assert!(!pins_dir.join("l0/next").exists());

    // Detach: the interface has no program and the pins are gone.
    let (code, _, err) = lvsc(
        &lb,
        &[
            "detach",
            "--iface",
            "l0",
            "--pin-dir",
            pins_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let link = lb.exec("ip", &["link", "show", "l0"]);
    assert!(!link.contains("xdp"), "{link}");
    assert!(!pins_dir.join("l0").exists());
    // Detaching again is not an error, and says there was nothing; stats refuses.
    let detach = [
        "detach",
        "--iface",
        "l0",
        "--pin-dir",
        pins_dir.to_str().unwrap(),
    ];
    let (code, _, err) = lvsc(&lb, &detach);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing installed"), "{err}");
    let (code, _, err) = lvsc(
        &lb,
        &[
            "stats",
            "--iface",
            "l0",
            "--pin-dir",
            pins_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nothing is installed on l0"), "{err}");
    // Without the program the VIP is just an address nobody on the director holds.
    let n = count(&send(&client, VIP, 1));
    assert_eq!(n.get("lost"), Some(&1), "{n:?}");

    drop((sw, client, lb, r1, r2));
    let _ = std::fs::remove_dir_all(&tmp);
}
