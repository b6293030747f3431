//! The XDP program in the kernel: built from backends/xdp/program (Rust, aya-ebpf) by
//! lvsc-xdp-loader's build script, loaded and filled from an lvsc map image by the loader
//! (aya), and run with BPF_PROG_TEST_RUN on crafted packets.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::support::system_test_can_run;
use lvsc_xdp_image::hash;
use lvsc_xdp_image::image::{Forwarding, Image};
use lvsc_xdp_loader::groups as layout;
use lvsc_xdp_loader::install::Loaded;

const XDP_PASS: u32 = 2;
const XDP_TX: u32 = 3;

fn addr16(ip: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    b
}

/// The MAC the test gives each real address (on a director the loader resolves it from
/// the neighbour table; tests/it/xdp_attach.rs covers that).
fn macs(img: &Image) -> HashMap<IpAddr, [u8; 6]> {
    layout::real_addresses(img)
        .into_iter()
        .enumerate()
        .map(|(i, a)| (a, [0x02, 0, 0, 0, 0, i as u8 + 1]))
        .collect()
}

/// The program, loaded and filled by the loader, not attached anywhere.
fn load(img: &Image) -> Loaded {
    // The bpffs is not needed for an unattached program, only root.
    Loaded::new(&layout::groups(img, &macs(img)).unwrap()).unwrap()
}

fn run(prog: &mut Loaded, packet: &[u8]) -> (u32, Vec<u8>) {
    prog.test_run(packet).unwrap()
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

/// Ethernet + IPv4 or IPv6 + TCP SYN (+ a short payload).
fn tcp_packet(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> Vec<u8> {
    tcp_packet_flags(src, dst, sport, dport, 0x02)
}

/// Ethernet + IPv4 or IPv6 + TCP header with `flags` (+ a short payload).
fn tcp_packet_flags(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut tcp = Vec::new();
    tcp.extend(sport.to_be_bytes());
    tcp.extend(dport.to_be_bytes());
    tcp.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
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
    image_of(&std::fs::read_to_string("tests/xdp/cluster.lvs").unwrap())
}

fn image_of(text: &str) -> Image {
    let c = lvsc_compiler::compile_source(text).cluster.unwrap();
    let d = &c.balancer.directors[0];
    let sources: Vec<IpAddr> = d.addresses.iter().map(|a| a.addr).collect();
    lvsc_xdp_image::image::build(&c.services, &sources).unwrap()
}

/// The real the image sends a packet to, computed in Rust with the shared hash.
fn predicted(img: &Image, svc: usize, src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> u32 {
    let s = &img.services[svc];
    let h = hash::packet(s, src, dst, sport, dport, 6);
    img.tables[(s.table_offset + h % s.table_size) as usize]
}

#[test]
fn xdp_program_in_the_kernel() {
    if !system_test_can_run("XDP BPF_PROG_TEST_RUN", &["bpf-linker"]) {
        return;
    }
    let img = image();
    let mut prog = load(&img);
    let mac = |i: u32| macs(&img)[&img.reals[i as usize].addr];
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let client = ip("203.0.113.7");

    // Direct routing: only the destination MAC changes, to the real the hash picks; the
    // same flow always lands on the same real, and the kernel agrees with the Rust hash.
    let mut seen = std::collections::BTreeSet::new();
    for sport in 40000..40040u16 {
        let pkt = tcp_packet(client, ip("192.0.2.100"), sport, 80);
        let (code, out) = run(&mut prog, &pkt);
        assert_eq!(code, XDP_TX);
        let want = predicted(&img, 0, client, ip("192.0.2.100"), sport, 80);
        assert_eq!(
            &out[..6],
            &mac(want),
            "flow {sport}: the kernel and the Rust hash disagree"
        );
        assert_eq!(
            &out[6..12],
            &ETH_DST,
            "the source MAC is not the director's"
        );
        assert_eq!(
            &out[12..],
            &pkt[12..],
            "direct routing changed more than the MACs"
        );
        assert_eq!(run(&mut prog, &pkt).1, out, "the same flow moved");
        seen.insert(want);
    }
    assert!(!seen.contains(&2), "the drained real got a flow");
    assert_eq!(seen.len(), 2);

    // IP-in-IP: the exact bytes of the outer header.
    let pkt = tcp_packet(client, ip("192.0.2.101"), 41000, 443);
    let (code, out) = run(&mut prog, &pkt);
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
    want.extend(ETH_DST);
    want.extend([0x08, 0x00]);
    want.extend(&outer);
    want.extend(inner);
    assert_eq!(real.encap_source, ip("192.0.2.2"));
    assert_eq!(out, want, "IPIP encapsulation bytes");

    // IPv6-in-IPv6.
    let c6 = ip("2001:db8:ffff::7");
    let pkt = tcp_packet(c6, ip("2001:db8::101"), 42000, 443);
    let (code, out) = run(&mut prog, &pkt);
    assert_eq!(code, XDP_TX);
    let real = &img.reals[predicted(&img, 2, c6, ip("2001:db8::101"), 42000, 443) as usize];
    let inner = &pkt[14..];
    let mut want = mac(predicted(&img, 2, c6, ip("2001:db8::101"), 42000, 443)).to_vec();
    want.extend(ETH_DST);
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
        let (code, out) = run(&mut prog, &pkt);
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
        let (code, out) = run(&mut prog, &pkt);
        assert_eq!(code, XDP_PASS, "{pkt:?}");
        assert_eq!(out, pkt);
    }
    assert_eq!(img.services[0].forwarding, Forwarding::Direct);
}

/// Over 100,000 distinct flows, run through the program in the kernel, the share of
/// each real is its weight within one percentage point, and the drained real gets none.
#[test]
fn flows_spread_by_weight_in_the_kernel() {
    if !system_test_can_run("XDP 100,000 flows", &["bpf-linker"]) {
        return;
    }
    let img = image();
    let mut prog = load(&img);
    let by_mac: HashMap<[u8; 6], IpAddr> = macs(&img).into_iter().map(|(a, m)| (m, a)).collect();
    let vip: IpAddr = "192.0.2.100".parse().unwrap();
    let mut n: HashMap<IpAddr, u32> = HashMap::new();
    for i in 0..100_000u32 {
        let src = IpAddr::from([10, (i >> 16) as u8, (i >> 8) as u8, i as u8]);
        let sport = 1024 + (i % 50000) as u16;
        let (code, out) = run(&mut prog, &tcp_packet(src, vip, sport, 80));
        assert_eq!(code, XDP_TX);
        let mac: [u8; 6] = out[..6].try_into().unwrap();
        *n.entry(by_mac[&mac]).or_default() += 1;
        if i % 1000 == 0 {
            // The kernel and the Rust hash still agree.
            let want = img.reals[predicted(&img, 0, src, vip, sport, 80) as usize].addr;
            assert_eq!(by_mac[&mac], want);
        }
    }
    let share = |a: &str| f64::from(n.get(&a.parse().unwrap()).copied().unwrap_or(0)) / 100_000.0;
    assert!(
        (share("192.0.2.21") - 0.75).abs() < 0.01
            && (share("192.0.2.22") - 0.25).abs() < 0.01
            && share("192.0.2.23") == 0.0,
        "{n:?}"
    );
    // Every packet was counted against the service.
    let installed = prog.maps().installed().unwrap();
    let web = installed[&lvsc_xdp_common::SvcKey::new(vip, 80, 6)];
    assert_eq!(prog.maps().counter(web.index).unwrap().packets, 100_000);
}

/// The connection table: a flow the program has seen keeps its real when the service's
/// table changes under it (a weight change moves slots); a SYN on the same 4-tuple is a
/// new connection and follows the new table, as does a flow never seen.
#[test]
fn an_established_flow_keeps_its_real_when_the_table_changes() {
    if !system_test_can_run("XDP connection table", &["bpf-linker"]) {
        return;
    }
    const ACK: u8 = 0x10;
    let img = image();
    let mut prog = load(&img);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let (client, vip) = (ip("203.0.113.9"), ip("192.0.2.100"));
    let real_of = |prog: &mut Loaded, sport: u16, flags: u8| {
        let (code, out) = run(prog, &tcp_packet_flags(client, vip, sport, 80, flags));
        assert_eq!(code, XDP_TX);
        <[u8; 6]>::try_from(&out[..6]).unwrap()
    };
    let before: Vec<[u8; 6]> = (30000..30400).map(|p| real_of(&mut prog, p, ACK)).collect();

    // d1 3 → 1, d2 1 → 3: many slots change owner.
    let text = std::fs::read_to_string("tests/xdp/cluster.lvs")
        .unwrap()
        .replace("weight 3", "weight 1")
        .replace("d2 192.0.2.22 weight 1", "d2 192.0.2.22 weight 3");
    let changed = image_of(&text);
    prog.update(&layout::groups(&changed, &macs(&changed)).unwrap())
        .unwrap();
    let mac = |i: u32| macs(&changed)[&changed.reals[i as usize].addr];
    let mut moved_by_table = 0;
    for (i, p) in (30000..30400).enumerate() {
        assert_eq!(
            real_of(&mut prog, p, ACK),
            before[i],
            "established flow {p} moved"
        );
        let now = mac(predicted(&changed, 0, client, vip, p, 80));
        moved_by_table += usize::from(now != before[i]);
        // A new connection on the same 4-tuple follows the new table.
        assert_eq!(real_of(&mut prog, p, 0x02), now, "SYN of {p}");
    }
    assert!(
        moved_by_table > 50,
        "the change moved only {moved_by_table} slots"
    );
    // A flow never seen follows the new table, SYN or not.
    for p in 50000..50100 {
        let now = mac(predicted(&changed, 0, client, vip, p, 80));
        assert_eq!(real_of(&mut prog, p, ACK), now, "new flow {p}");
    }
}

/// Nanoseconds per packet from BPF_PROG_TEST_RUN with repeat, for a new connection
/// (a SYN is always scheduled afresh and written to the connection table), a known flow
/// (found in the connection table) and a miss; direct routing, so every repeat takes the
/// same path (the MAC rewrite is idempotent). A figure for docs/perf.md, not an assertion:
/// `cargo test --release --test it xdp_nanoseconds -- --ignored --nocapture`.
#[test]
#[ignore]
fn xdp_nanoseconds_per_packet() {
    let img = image();
    let mut prog = load(&img);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    for (what, pkt, code) in [
        (
            "new connection (SYN: flow hash, Maglev slot, connection table write)",
            tcp_packet(ip("203.0.113.7"), ip("192.0.2.100"), 40000, 80),
            XDP_TX,
        ),
        (
            "known flow (ACK: connection table hit)",
            tcp_packet_flags(ip("203.0.113.7"), ip("192.0.2.100"), 40001, 80, 0x10),
            XDP_TX,
        ),
        (
            "miss",
            tcp_packet(ip("203.0.113.7"), ip("192.0.2.99"), 40000, 80),
            XDP_PASS,
        ),
    ] {
        let (rc, _, per_run) = prog.test_run_repeat(&pkt, 1_000_000).unwrap();
        assert_eq!(rc, code);
        println!("{what}: {} ns per packet", per_run.as_nanos());
    }
}

/// The records are defined once (lvsc-xdp-common), but compiled twice: for the host and
/// for the BPF target. The program's record echo reads every field of what the loader
/// wrote, as the kernel side sees it, and writes it back field by field.
#[test]
fn the_kernel_reads_every_record_field_as_the_loader_wrote_it() {
    if !system_test_can_run("XDP record round trip", &["bpf-linker"]) {
        return;
    }
    let img = image();
    let groups = layout::groups(&img, &macs(&img)).unwrap();
    let mut prog = Loaded::new(&groups).unwrap();
    let installed = prog.maps().installed().unwrap();
    assert!(!installed.is_empty());
    for (key, val) in &installed {
        // The request: an Ethernet header, then the key field by field, little endian.
        let mut pkt = vec![0u8; 14];
        for w in key.vip {
            pkt.extend(w.to_le_bytes());
        }
        pkt.extend(key.port.to_le_bytes());
        pkt.extend([key.proto, key.family]);
        pkt.resize(128, 0);
        let (code, out) = prog.echo_records(&pkt).unwrap();
        assert_eq!(code, XDP_TX, "{key} not found by the kernel");
        let mut at = 34;
        let mut take = |n: usize| {
            let b = out[at..at + n].to_vec();
            at += n;
            b
        };
        let u32_ = |b: Vec<u8>| u32::from_le_bytes(b.try_into().unwrap());
        assert_eq!(u32_(take(4)), val.table_offset, "{key}: table_offset");
        assert_eq!(u32_(take(4)), val.table_size, "{key}: table_size");
        assert_eq!(u32_(take(4)), val.index, "{key}: index");
        assert_eq!(
            take(3),
            vec![val.forwarding, val.hash, val.host_bits],
            "{key}: flags"
        );
        assert_eq!(u32_(take(4)), val.first_real, "{key}: first_real");
        assert_eq!(u32_(take(4)), val.reals, "{key}: reals");
        let fp = u64::from_le_bytes(take(8).try_into().unwrap());
        assert_eq!(fp, val.fingerprint, "{key}: fingerprint");
        let real = groups
            .iter()
            .find(|g| g.keys.contains(key))
            .map(|g| g.reals[0])
            .unwrap();
        for (i, w) in real.addr.iter().enumerate() {
            assert_eq!(u32_(take(4)), *w, "{key}: real addr word {i}");
        }
        for (i, w) in real.src.iter().enumerate() {
            assert_eq!(u32_(take(4)), *w, "{key}: real src word {i}");
        }
        assert_eq!(take(6), real.mac_bytes().to_vec(), "{key}: real mac");
        assert_eq!(take(1), vec![real.family], "{key}: real family");
    }
}
