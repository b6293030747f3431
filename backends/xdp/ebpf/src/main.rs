//! The lvsc XDP load balancer. Its maps are filled from an lvsc map image by the loader
//! in `backends/xdp/src` (docs/map-image.md); the flow hash must stay equal to
//! `backends/ebpf/src/hash.rs` and the map records to `backends/xdp/src/layout.rs`.
#![no_std]
#![no_main]

use aya_ebpf::bindings::xdp_action::{XDP_DROP, XDP_PASS, XDP_TX};
use aya_ebpf::helpers::bpf_xdp_adjust_head;
use aya_ebpf::macros::{map, xdp};
use aya_ebpf::maps::{Array, HashMap, PerCpuArray};
use aya_ebpf::programs::XdpContext;

const FWD_TUNNEL: u8 = 2;
const NO_REAL: u32 = u32::MAX;
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

/// `layout::SvcKey`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SvcKey {
    /// As four little-endian words of the network-order bytes (IPv4 in the first).
    vip: [u32; 4],
    port: u16,
    proto: u8,
    family: u8,
}

/// `layout::SvcVal` (the last three fields are the loader's).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SvcVal {
    table_offset: u32,
    table_size: u32,
    index: u32,
    forwarding: u8,
    hash_ports: u8,
    pad: [u8; 2],
    first_real: u32,
    reals: u32,
    fingerprint: u64,
}

/// `layout::Real`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Real {
    addr: [u32; 4],
    src: [u32; 4],
    mac: [u16; 3],
    family: u8,
    pad: u8,
}

/// `layout::Counter`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Counter {
    packets: u64,
    bytes: u64,
}

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

#[inline(always)]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Addresses as four 32-bit words in network byte order read as little-endian words,
/// exactly as `hash.rs::flow` takes them.
#[inline(always)]
fn flow_hash(s: &[u32; 4], d: &[u32; 4], sport: u16, dport: u16, proto: u8) -> u32 {
    let mut h = u64::from(proto);
    for w in s {
        h = mix(h ^ u64::from(*w));
    }
    for w in d {
        h = mix(h ^ u64::from(*w));
    }
    h = mix(h ^ ((u64::from(sport) << 16) | u64::from(dport)));
    (h ^ (h >> 32)) as u32
}

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
    if svc.table_size == 0 {
        return None;
    }
    let h = if svc.hash_ports != 0 {
        flow_hash(&saddr, &daddr, sport, dport, proto)
    } else {
        flow_hash(&saddr, &[0; 4], 0, 0, 0)
    };
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
    let real = REALS.get(idx)?;
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
        return Some(encapsulate(ctx, real, own, ethertype, len));
    }
    unsafe {
        wr_mac(eth, real.mac);
        wr_mac(eth.add(6), own);
    }
    Some(XDP_TX)
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

#[unsafe(no_mangle)]
#[unsafe(link_section = "license")]
pub static LICENSE: [u8; 13] = *b"Dual MIT/GPL\0";

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
