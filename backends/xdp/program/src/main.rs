//! The lvsc XDP load balancer. Its maps are filled from an lvsc map image by the loader
//! in `backends/xdp/loader` (docs/map-image.md); the map records and the flow hash come
//! from `lvsc-xdp-common`, the one definition the loader compiles too.
#![no_std]
#![no_main]

use aya_ebpf::bindings::xdp_action::{XDP_DROP, XDP_PASS, XDP_TX};
use aya_ebpf::helpers::bpf_xdp_adjust_head;
use aya_ebpf::macros::{map, xdp};
use aya_ebpf::maps::{Array, HashMap, LruHashMap, PerCpuArray};
use aya_ebpf::programs::XdpContext;
use lvsc_xdp_common::{
    Counter, FLOWS, FWD_TUNNEL, FlowKey, NO_REAL, Real, SvcKey, SvcVal, service_flow,
};

const ETH_LEN: usize = 14;
const IPV4_LEN: usize = 20;
const IPV6_LEN: usize = 40;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const TCP: u8 = 6;
const UDP: u8 = 17;
const SCTP: u8 = 132;
const IPIP: u8 = 4;
const IPV6_IN: u8 = 41;
const BPF_F_MMAPABLE: u32 = 1 << 10;

#[map(name = "services")]
static SERVICES: HashMap<SvcKey, SvcVal> = HashMap::with_max_entries(65536, 0);

#[map(name = "reals")]
static REALS: Array<Real> = Array::with_max_entries(65536, 0);

/// Two table slots per 8-byte element (the kernel rounds array elements up to 8 bytes);
/// seen through mmap this is a packed little-endian u32 array. Sized by the loader.
#[map(name = "tables")]
static TABLES: Array<u64> = Array::with_max_entries(1 << 19, BPF_F_MMAPABLE);

#[map(name = "counters")]
static COUNTERS: PerCpuArray<Counter> = PerCpuArray::with_max_entries(65536, 0);

/// The connection table: the real each known flow went to, so that a table change (a
/// real added, a weight changed) moves no established flow. An LRU hash: flows that
/// stop are forgotten as new ones come.
#[map(name = "flows")]
static FLOWS_MAP: LruHashMap<FlowKey, Real> = LruHashMap::with_max_entries(FLOWS, 0);

/// A pointer to `len` bytes at `offset`, if the packet has them.
#[inline(always)]
fn at(ctx: &XdpContext, offset: usize, len: usize) -> Option<*mut u8> {
    let start = ctx.data();
    if start + offset + len > ctx.data_end() {
        return None;
    }
    Some((start + offset) as *mut u8)
}

// Every multi-byte field this program touches sits at an even offset from the packet's
// start, which the kernel keeps at least 2-byte aligned: 16-bit accesses are aligned,
// and the verifier sees one load or store where byte-wise copies would take two.

/// The 16 bits at `p`, in memory order (as `u16::from_ne_bytes`).
#[inline(always)]
unsafe fn rd16(p: *const u8) -> u16 {
    unsafe { *(p as *const u16) }
}

#[inline(always)]
unsafe fn wr16(p: *mut u8, v: u16) {
    unsafe { *(p as *mut u16) = v }
}

/// The 32 bits at `p` as a little-endian word of its bytes, as hash.rs reads addresses.
#[inline(always)]
unsafe fn rd32(p: *const u8) -> u32 {
    unsafe { u32::from(rd16(p)) | u32::from(rd16(p.add(2))) << 16 }
}

#[inline(always)]
unsafe fn wr32(p: *mut u8, v: u32) {
    unsafe {
        wr16(p, v as u16);
        wr16(p.add(2), (v >> 16) as u16);
    }
}

#[inline(always)]
unsafe fn wr_mac(p: *mut u8, mac: [u16; 3]) {
    unsafe {
        wr16(p, mac[0]);
        wr16(p.add(2), mac[1]);
        wr16(p.add(4), mac[2]);
    }
}

#[xdp]
pub fn lvsc_lb(ctx: XdpContext) -> u32 {
    balance(&ctx).unwrap_or(XDP_PASS)
}

#[inline(always)]
fn balance(ctx: &XdpContext) -> Option<u32> {
    let len = (ctx.data_end() - ctx.data()) as u64;
    let eth = at(ctx, 0, ETH_LEN)?;
    let ethertype = u16::from_be(unsafe { rd16(eth.add(12)) });
    let mut saddr = [0u32; 4];
    let mut daddr = [0u32; 4];
    let (l4, proto, family) = match ethertype {
        ETH_P_IP => {
            let ip = at(ctx, ETH_LEN, IPV4_LEN)?;
            let ihl = usize::from(unsafe { *ip } & 0x0f);
            if ihl < 5 {
                return None;
            }
            if u16::from_be(unsafe { rd16(ip.add(6)) }) & 0x3fff != 0 {
                return None; // fragments carry no ports
            }
            saddr[0] = unsafe { rd32(ip.add(12)) };
            daddr[0] = unsafe { rd32(ip.add(16)) };
            (ETH_LEN + ihl * 4, unsafe { *ip.add(9) }, 4u8)
        }
        ETH_P_IPV6 => {
            let ip6 = at(ctx, ETH_LEN, IPV6_LEN)?;
            for i in 0..4 {
                saddr[i] = unsafe { rd32(ip6.add(8 + 4 * i)) };
                daddr[i] = unsafe { rd32(ip6.add(24 + 4 * i)) };
            }
            (ETH_LEN + IPV6_LEN, unsafe { *ip6.add(6) }, 6u8)
        }
        _ => return None,
    };
    let (sport, dport) = match proto {
        TCP | UDP => {
            // Source and destination ports lead both headers.
            let ports = at(ctx, l4, 4)?;
            unsafe { (u16::from_be(rd16(ports)), u16::from_be(rd16(ports.add(2)))) }
        }
        SCTP => (0, 0),
        _ => return None,
    };
    // A TCP SYN opens a new connection, even on a 4-tuple the table knows (a client
    // reusing its port, or a flow whose real was taken out): it is scheduled afresh.
    let syn = proto == TCP && {
        let flags = at(ctx, l4 + 13, 1)?;
        unsafe { *flags & 0x12 == 0x02 }
    };
    let mut key = SvcKey {
        vip: daddr,
        port: dport,
        proto,
        family,
    };
    let svc = match unsafe { SERVICES.get(&key) } {
        Some(s) => s,
        None => {
            key.port = 0; // a firewall-mark style service: any port
            unsafe { SERVICES.get(&key) }?
        }
    };
    let flow = FlowKey {
        saddr,
        daddr,
        sport,
        dport,
        proto,
        pad: [0; 3],
    };
    // A known flow keeps its real, whatever the table says now.
    let known = if syn {
        None
    } else {
        unsafe { FLOWS_MAP.get(&flow) }
    };
    let real: Real = match known {
        Some(r) => *r,
        None => {
            let r = *pick(svc, family, &saddr, &daddr, sport, dport, proto)?;
            // A full table evicts its oldest flow; a failed insert only costs the
            // next packet a lookup.
            let _ = FLOWS_MAP.insert(&flow, &r, 0);
            r
        }
    };
    if let Some(c) = COUNTERS.get_ptr_mut(svc.index) {
        unsafe {
            (*c).packets += 1;
            (*c).bytes += len;
        }
    }

    // The frame leaves from this host: its source is the MAC it was sent to (a switch
    // must not learn the client's MAC on this port).
    let own = unsafe { [rd16(eth), rd16(eth.add(2)), rd16(eth.add(4))] };
    if svc.forwarding == FWD_TUNNEL {
        return Some(encapsulate(ctx, &real, own, ethertype, len));
    }
    unsafe {
        wr_mac(eth, real.mac);
        wr_mac(eth.add(6), own);
    }
    Some(XDP_TX)
}

/// A new flow's real: the service's Maglev table at the flow's hash.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn pick(
    svc: &SvcVal,
    family: u8,
    saddr: &[u32; 4],
    daddr: &[u32; 4],
    sport: u16,
    dport: u16,
    proto: u8,
) -> Option<&'static Real> {
    if svc.table_size == 0 {
        return None;
    }
    let h = service_flow(
        svc.hash,
        svc.host_bits,
        family,
        saddr,
        daddr,
        sport,
        dport,
        proto,
    );
    let slot = svc.table_offset + h % svc.table_size;
    let pair = *TABLES.get(slot >> 1)?;
    let idx = if slot & 1 == 1 {
        (pair >> 32) as u32
    } else {
        pair as u32
    };
    if idx == NO_REAL {
        return None;
    }
    REALS.get(idx)
}

/// Puts an outer IPv4 or IPv6 header in front of the packet, addressed to the real.
#[inline(always)]
fn encapsulate(ctx: &XdpContext, real: &Real, own: [u16; 3], inner: u16, len: u64) -> u32 {
    let outer = if real.family == 4 { IPV4_LEN } else { IPV6_LEN };
    if unsafe { bpf_xdp_adjust_head(ctx.ctx, -(outer as i32)) } != 0 {
        return XDP_DROP;
    }
    let Some(eth) = at(ctx, 0, ETH_LEN + outer) else {
        return XDP_DROP;
    };
    let next = if inner == ETH_P_IP { IPIP } else { IPV6_IN };
    unsafe {
        wr_mac(eth, real.mac);
        wr_mac(eth.add(6), own);
        let o = eth.add(ETH_LEN);
        if real.family == 4 {
            wr16(eth.add(12), ETH_P_IP.to_be());
            let total = (len - ETH_LEN as u64 + IPV4_LEN as u64) as u16;
            // Version/IHL and TOS, total length, id, DF (fragmenting is the MTU rule's
            // business), TTL and protocol; the checksum over those words and the addresses.
            let words = [0x4500u16, total, 0, 0x4000, (64 << 8) | u16::from(next)];
            let mut sum = 0u32;
            for (i, w) in words.iter().enumerate() {
                wr16(o.add(2 * i), w.to_be());
                sum += u32::from(*w);
            }
            wr32(o.add(12), real.src[0]);
            wr32(o.add(16), real.addr[0]);
            for v in [real.src[0], real.addr[0]] {
                // The words hold network-order bytes little-endian: swap each half back.
                sum +=
                    u32::from((v as u16).swap_bytes()) + u32::from(((v >> 16) as u16).swap_bytes());
            }
            sum = (sum & 0xffff) + (sum >> 16);
            sum = (sum & 0xffff) + (sum >> 16);
            wr16(o.add(10), (!(sum as u16)).to_be());
        } else {
            wr16(eth.add(12), ETH_P_IPV6.to_be());
            let payload = (len - ETH_LEN as u64) as u16;
            wr16(o, 0x6000u16.to_be());
            wr16(o.add(2), 0);
            wr16(o.add(4), payload.to_be());
            wr16(o.add(6), ((u16::from(next) << 8) | 64).to_be());
            for i in 0..4 {
                wr32(o.add(8 + 4 * i), real.src[i]);
                wr32(o.add(24 + 4 * i), real.addr[i]);
            }
        }
    }
    XDP_TX
}

/// Where the echo's request starts: after an Ethernet header.
const ECHO_AT: usize = ETH_LEN;
/// The request (a service key) and the answer (the service and its first real).
const ECHO_LEN: usize = 20 + 31 + 39;

/// Test support, never attached: reads a service key from the packet (field by field,
/// little endian: four address words, port, protocol, family), looks it up and writes
/// the service's record and its first real back, field by field, after the request.
/// The loader's tests compare that with what they wrote, so the kernel side and the
/// loader are shown to read every field of the shared records alike.
#[xdp]
pub fn lvsc_records_echo(ctx: XdpContext) -> u32 {
    echo(&ctx).unwrap_or(XDP_DROP)
}

#[inline(always)]
fn echo(ctx: &XdpContext) -> Option<u32> {
    let p = at(ctx, ECHO_AT, ECHO_LEN)?;
    let key = unsafe {
        SvcKey {
            vip: [rd32(p), rd32(p.add(4)), rd32(p.add(8)), rd32(p.add(12))],
            port: u16::from_le_bytes([*p.add(16), *p.add(17)]),
            proto: *p.add(18),
            family: *p.add(19),
        }
    };
    let svc = unsafe { SERVICES.get(&key) }?;
    let mut o = unsafe { p.add(20) };
    unsafe {
        o = put(o, &svc.table_offset.to_le_bytes());
        o = put(o, &svc.table_size.to_le_bytes());
        o = put(o, &svc.index.to_le_bytes());
        o = put(o, &[svc.forwarding, svc.hash, svc.host_bits]);
        o = put(o, &svc.first_real.to_le_bytes());
        o = put(o, &svc.reals.to_le_bytes());
        o = put(o, &svc.fingerprint.to_le_bytes());
        let real = REALS.get(svc.first_real)?;
        for w in real.addr {
            o = put(o, &w.to_le_bytes());
        }
        for w in real.src {
            o = put(o, &w.to_le_bytes());
        }
        for h in real.mac {
            o = put(o, &h.to_ne_bytes());
        }
        put(o, &[real.family]);
    }
    Some(XDP_TX)
}

/// Writes `bytes` at `o` (inside the range `echo` checked) and returns the next place.
#[inline(always)]
unsafe fn put(o: *mut u8, bytes: &[u8]) -> *mut u8 {
    for (i, b) in bytes.iter().enumerate() {
        unsafe { *o.add(i) = *b };
    }
    unsafe { o.add(bytes.len()) }
}

#[unsafe(no_mangle)]
#[unsafe(link_section = "license")]
pub static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
