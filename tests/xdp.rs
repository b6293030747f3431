//! The XDP program in the kernel: built from backends/ebpf/bpf/lb.c by clang, loaded
//! with bpftool, its maps filled from an lvsc map image, and run with
//! BPF_PROG_TEST_RUN (`bpftool prog run`) on crafted packets.

mod common;

use std::net::IpAddr;
use std::path::PathBuf;

use common::{run, system_test_can_run};
use lvsc_ebpf::hash;
use lvsc_ebpf::image::{Forwarding, Image};

const XDP_PASS: u32 = 2;
const XDP_TX: u32 = 3;

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn addr16(ip: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    b
}

/// The MAC the test gives real `i` (a real loader resolves it from the neighbour table).
fn mac(i: u32) -> [u8; 6] {
    [0x02, 0, 0, 0, 0, i as u8 + 1]
}

struct Prog {
    /// The pinned program and maps under /sys/fs/bpf.
    dir: PathBuf,
    /// Scratch files (bpffs holds only BPF objects).
    tmp: PathBuf,
}

impl Drop for Prog {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

impl Prog {
    fn load(image: &Image) -> Prog {
        let tmp = std::env::temp_dir().join(format!("lvsc-xdp-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let obj = tmp.join("lb.o");
        let inc = format!(
            "-I/usr/include/{}",
            String::from_utf8(run("gcc", &["-dumpmachine"]).into_bytes())
                .unwrap()
                .trim()
        );
        run(
            "clang",
            &[
                "-O2",
                "-g",
                "-target",
                "bpf",
                &inc,
                "-c",
                "backends/ebpf/bpf/lb.c",
                "-o",
                obj.to_str().unwrap(),
            ],
        );
        // Pinning needs the BPF file system; a fresh machine may not have it mounted.
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
        if !mounts.contains(" /sys/fs/bpf bpf ") {
            run("mount", &["-t", "bpf", "bpf", "/sys/fs/bpf"]);
        }
        let dir = PathBuf::from(format!("/sys/fs/bpf/lvsc-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let p = Prog {
            dir,
            tmp: tmp.clone(),
        };
        let d = p.dir.to_str().unwrap();
        run(
            "bpftool",
            &[
                "prog",
                "load",
                obj.to_str().unwrap(),
                &format!("{d}/prog"),
                "type",
                "xdp",
                "pinmaps",
                d,
            ],
        );
        // Every map entry from the image, in one bpftool process.
        let mut batch = String::new();
        for (i, s) in image.services.iter().enumerate() {
            let mut key = addr16(s.vip).to_vec();
            key.extend(s.port.to_le_bytes());
            key.extend([s.proto, if s.vip.is_ipv4() { 4 } else { 6 }]);
            let mut val = Vec::new();
            for v in [s.table_offset, s.table_size, i as u32] {
                val.extend(v.to_le_bytes());
            }
            val.extend([s.forwarding as u8, u8::from(s.hash_ports), 0, 0]);
            batch += &format!(
                "map update pinned {d}/services key hex {} value hex {}\n",
                hex(&key),
                hex(&val)
            );
        }
        for (i, r) in image.reals.iter().enumerate() {
            let mut val = addr16(r.addr).to_vec();
            val.extend(addr16(r.encap_source));
            val.extend(mac(i as u32));
            val.extend([if r.addr.is_ipv4() { 4 } else { 6 }, 0]);
            batch += &format!(
                "map update pinned {d}/reals key hex {} value hex {}\n",
                hex(&(i as u32).to_le_bytes()),
                hex(&val)
            );
        }
        for (i, t) in image.tables.iter().enumerate() {
            batch += &format!(
                "map update pinned {d}/tables key hex {} value hex {}\n",
                hex(&(i as u32).to_le_bytes()),
                hex(&t.to_le_bytes())
            );
        }
        let batch_file = tmp.join("batch");
        std::fs::write(&batch_file, batch).unwrap();
        run("bpftool", &["batch", "file", batch_file.to_str().unwrap()]);
        p
    }

    /// Runs the program once on `packet`: (return code, output bytes).
    fn run(&self, packet: &[u8]) -> (u32, Vec<u8>) {
        let input = self.tmp.join("packet.in");
        let output = self.tmp.join("packet.out");
        std::fs::write(&input, packet).unwrap();
        let _ = std::fs::remove_file(&output);
        let prog = format!("{}/prog", self.dir.display());
        let out = run(
            "bpftool",
            &[
                "prog",
                "run",
                "pinned",
                &prog,
                "data_in",
                input.to_str().unwrap(),
                "data_out",
                output.to_str().unwrap(),
                "repeat",
                "1",
            ],
        );
        let code = out
            .lines()
            .find_map(|l| l.strip_prefix("Return value: "))
            .and_then(|v| v.split(',').next())
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let bytes = std::fs::read(&output).unwrap_or_default();
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&output);
        (code, bytes)
    }
}

const ETH_SRC: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 1];
const ETH_DST: [u8; 6] = [0x02, 0xbb, 0, 0, 0, 2];

fn ipv4_checksum(h: &[u8]) -> u16 {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Ethernet + IPv4 or IPv6 + TCP header (+ a short payload).
fn tcp_packet(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> Vec<u8> {
    let mut tcp = Vec::new();
    tcp.extend(sport.to_be_bytes());
    tcp.extend(dport.to_be_bytes());
    tcp.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
    tcp.extend(b"hello");
    let mut p = ETH_DST.to_vec();
    p.extend(ETH_SRC);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            p.extend([0x08, 0x00]);
            let mut ip = vec![0x45, 0];
            ip.extend(((20 + tcp.len()) as u16).to_be_bytes());
            ip.extend([0, 0, 0x40, 0, 64, 6, 0, 0]);
            ip.extend(s.octets());
            ip.extend(d.octets());
            let c = ipv4_checksum(&ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            p.extend(ip);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            p.extend([0x86, 0xdd]);
            p.extend([0x60, 0, 0, 0]);
            p.extend((tcp.len() as u16).to_be_bytes());
            p.extend([6, 64]);
            p.extend(s.octets());
            p.extend(d.octets());
        }
        _ => unreachable!("one family per packet"),
    }
    p.extend(tcp);
    p
}

fn image() -> Image {
    let text = std::fs::read_to_string("tests/xdp/cluster.lvs").unwrap();
    let c = lvsc_compiler::compile_source(&text).cluster.unwrap();
    let d = &c.balancer.directors[0];
    let sources: Vec<IpAddr> = d.addresses.iter().map(|a| a.addr).collect();
    lvsc_ebpf::image::build(&c.services, &sources).unwrap()
}

/// The real the image sends a packet to, computed in Rust with the shared hash.
fn predicted(img: &Image, svc: usize, src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> u32 {
    let s = &img.services[svc];
    let h = hash::packet(src, dst, sport, dport, 6, s.hash_ports);
    img.tables[(s.table_offset + h % s.table_size) as usize]
}

#[test]
fn xdp_program_in_the_kernel() {
    if !system_test_can_run("XDP BPF_PROG_TEST_RUN", &["clang", "bpftool", "gcc"]) {
        return;
    }
    let img = image();
    let prog = Prog::load(&img);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let client = ip("203.0.113.7");

    // Direct routing: only the destination MAC changes, to the real the hash picks; the
    // same flow always lands on the same real, and the kernel agrees with the Rust hash.
    let mut seen = std::collections::BTreeSet::new();
    for sport in 40000..40040u16 {
        let pkt = tcp_packet(client, ip("192.0.2.100"), sport, 80);
        let (code, out) = prog.run(&pkt);
        assert_eq!(code, XDP_TX);
        let want = predicted(&img, 0, client, ip("192.0.2.100"), sport, 80);
        assert_eq!(
            &out[..6],
            &mac(want),
            "flow {sport}: the kernel and the Rust hash disagree"
        );
        assert_eq!(
            &out[6..],
            &pkt[6..],
            "direct routing changed more than the MAC"
        );
        assert_eq!(prog.run(&pkt).1, out, "the same flow moved");
        seen.insert(want);
    }
    assert!(!seen.contains(&2), "the drained real got a flow");
    assert_eq!(seen.len(), 2);

    // IP-in-IP: the exact bytes of the outer header.
    let pkt = tcp_packet(client, ip("192.0.2.101"), 41000, 443);
    let (code, out) = prog.run(&pkt);
    assert_eq!(code, XDP_TX);
    let real = &img.reals[predicted(&img, 1, client, ip("192.0.2.101"), 41000, 443) as usize];
    let inner = &pkt[14..];
    let mut outer = vec![0x45, 0];
    outer.extend(((20 + inner.len()) as u16).to_be_bytes());
    outer.extend([0, 0, 0x40, 0, 64, 4, 0, 0]);
    outer.extend(addr16(real.encap_source)[..4].iter());
    outer.extend(addr16(real.addr)[..4].iter());
    let c = ipv4_checksum(&outer);
    outer[10..12].copy_from_slice(&c.to_be_bytes());
    let mut want = mac(predicted(&img, 1, client, ip("192.0.2.101"), 41000, 443)).to_vec();
    want.extend(ETH_SRC);
    want.extend([0x08, 0x00]);
    want.extend(&outer);
    want.extend(inner);
    assert_eq!(real.encap_source, ip("192.0.2.2"));
    assert_eq!(out, want, "IPIP encapsulation bytes");

    // IPv6-in-IPv6.
    let c6 = ip("2001:db8:ffff::7");
    let pkt = tcp_packet(c6, ip("2001:db8::101"), 42000, 443);
    let (code, out) = prog.run(&pkt);
    assert_eq!(code, XDP_TX);
    let real = &img.reals[predicted(&img, 2, c6, ip("2001:db8::101"), 42000, 443) as usize];
    let inner = &pkt[14..];
    let mut want = mac(predicted(&img, 2, c6, ip("2001:db8::101"), 42000, 443)).to_vec();
    want.extend(ETH_SRC);
    want.extend([0x86, 0xdd, 0x60, 0, 0, 0]);
    want.extend((inner.len() as u16).to_be_bytes());
    want.extend([41, 64]);
    want.extend(addr16(real.encap_source));
    want.extend(addr16(real.addr));
    want.extend(inner);
    assert_eq!(real.encap_source, ip("2001:db8::2"));
    assert_eq!(out, want, "IPv6-in-IPv6 encapsulation bytes");

    // Everything that is not a VIP passes untouched.
    for pkt in [
        tcp_packet(client, ip("192.0.2.99"), 40000, 80), // another address
        tcp_packet(client, ip("192.0.2.100"), 40000, 81), // another port
        tcp_packet(c6, ip("2001:db8::102"), 40000, 443), // another IPv6 address
    ] {
        let (code, out) = prog.run(&pkt);
        assert_eq!((code, out), (XDP_PASS, pkt));
    }
    // Malformed and truncated packets pass untouched, never crash.
    let good = tcp_packet(client, ip("192.0.2.100"), 40000, 80);
    let mut bad_ihl = good.clone();
    bad_ihl[14] = 0x44;
    for pkt in [
        good[..14].to_vec(),
        good[..30].to_vec(),
        good[..35].to_vec(),
        bad_ihl,
        vec![0u8; 60],
    ] {
        let (code, out) = prog.run(&pkt);
        assert_eq!(code, XDP_PASS, "{pkt:?}");
        assert_eq!(out, pkt);
    }
    assert_eq!(img.services[0].forwarding, Forwarding::Direct);
}

/// Over 100,000 distinct flows the share of each real is its weight within one
/// percentage point (computed with the hash the kernel was just shown to share).
#[test]
fn flows_spread_by_weight() {
    let img = image();
    let mut n = [0u32; 3];
    for i in 0..100_000u32 {
        let src = IpAddr::from([10, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        n[predicted(
            &img,
            0,
            src,
            "192.0.2.100".parse().unwrap(),
            1024 + (i % 50000) as u16,
            80,
        ) as usize] += 1;
    }
    let share = |k: usize| f64::from(n[k]) / 100_000.0;
    assert!(
        (share(0) - 0.75).abs() < 0.01 && (share(1) - 0.25).abs() < 0.01 && n[2] == 0,
        "{n:?}"
    );
}

/// Nanoseconds per packet from BPF_PROG_TEST_RUN with repeat, for a VIP hit (direct
/// routing: the MAC rewrite is idempotent, so every repeat takes the same path) and a
/// miss. A figure for docs/perf.md, not an assertion:
/// `cargo test --test xdp -- --ignored --nocapture`.
#[test]
#[ignore]
fn xdp_nanoseconds_per_packet() {
    let img = image();
    let prog = Prog::load(&img);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    for (what, pkt) in [
        (
            "hit (direct routing)",
            tcp_packet(ip("203.0.113.7"), ip("192.0.2.100"), 40000, 80),
        ),
        (
            "miss",
            tcp_packet(ip("203.0.113.7"), ip("192.0.2.99"), 40000, 80),
        ),
    ] {
        let input = prog.tmp.join("bench.in");
        std::fs::write(&input, &pkt).unwrap();
        let p = format!("{}/prog", prog.dir.display());
        let out = run(
            "bpftool",
            &[
                "prog",
                "run",
                "pinned",
                &p,
                "data_in",
                input.to_str().unwrap(),
                "repeat",
                "1000000",
            ],
        );
        println!(
            "{what}: {}",
            out.lines().find(|l| l.contains("duration")).unwrap_or(&out)
        );
    }
}
