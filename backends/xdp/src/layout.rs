//! The kernel's view: the map records of the XDP program (ebpf/src/main.rs), and the services of a
//! map image grouped the way the loader installs them.

use std::collections::HashMap;
use std::net::IpAddr;

use lvsc_ebpf::hash::{fnv1a, mix};
use lvsc_ebpf::image::{Forwarding, Image, addr16};

use crate::Error;

/// A table slot that names no real (every real has weight 0).
pub const NO_REAL: u32 = u32::MAX;

/// `struct svc_key`: what a packet is matched on.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SvcKey {
    /// The VIP (IPv4 in the first four bytes).
    pub vip: [u8; 16],
    /// Destination port, host order; 0 matches every port.
    pub port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// 4 or 6.
    pub family: u8,
}

/// `struct svc_val`: where a service's table and reals are.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SvcVal {
    /// First slot of the service's table in the `tables` map.
    pub table_offset: u32,
    /// Table size (prime).
    pub table_size: u32,
    /// Slot in the `counters` map.
    pub index: u32,
    /// 1 direct routing, 2 tunnel.
    pub forwarding: u8,
    /// Whether the flow hash includes the ports.
    pub hash_ports: u8,
    /// Padding.
    pub pad: [u8; 2],
    /// First of the service's block in the `reals` map.
    pub first_real: u32,
    /// Reals in that block.
    pub reals: u32,
    /// Fingerprint of the table, the reals and the forwarding.
    pub fingerprint: u64,
}

/// `struct real`: where a packet goes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Real {
    /// The real's address (IPv4 in the first four bytes).
    pub addr: [u8; 16],
    /// Outer source address in tunnel mode.
    pub src: [u8; 16],
    /// Next-hop MAC: the real (direct routing) or the router towards it (tunnel).
    pub mac: [u8; 6],
    /// 4 or 6.
    pub family: u8,
    /// Padding.
    pub pad: u8,
}

/// `struct counter`: one CPU's share of a service's traffic.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    /// Packets forwarded.
    pub packets: u64,
    /// Bytes forwarded (as received, before encapsulation).
    pub bytes: u64,
}

// SAFETY: plain repr(C) data with explicit padding fields, valid for any bit pattern.
unsafe impl aya::Pod for SvcKey {}
// SAFETY: as above.
unsafe impl aya::Pod for SvcVal {}
// SAFETY: as above.
unsafe impl aya::Pod for Real {}
// SAFETY: as above.
unsafe impl aya::Pod for Counter {}

impl SvcKey {
    /// The key of a VIP, port and protocol.
    pub fn new(vip: IpAddr, port: u16, proto: u8) -> Self {
        let (vip16, family) = addr16(vip);
        SvcKey {
            vip: vip16,
            port,
            proto,
            family,
        }
    }

    /// The VIP as an address.
    pub fn ip(&self) -> IpAddr {
        if self.family == 4 {
            IpAddr::from([self.vip[0], self.vip[1], self.vip[2], self.vip[3]])
        } else {
            IpAddr::from(self.vip)
        }
    }
}

impl std::fmt::Display for SvcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let proto = match self.proto {
            6 => "tcp",
            17 => "udp",
            132 => "sctp",
            _ => "?",
        };
        match (self.ip(), self.port) {
            (IpAddr::V6(a), 0) => write!(f, "[{a}]:* {proto}"),
            (a, 0) => write!(f, "{a}:* {proto}"),
            (a, p) => write!(f, "{} {proto}", std::net::SocketAddr::new(a, p)),
        }
    }
}

/// One table with its reals, and every service key that uses it (a firewall-mark
/// service has one key per VIP, all sharing one table).
#[derive(Clone, Debug)]
pub struct Group<'a> {
    /// The keys that point at this table.
    pub keys: Vec<SvcKey>,
    /// 1 direct routing, 2 tunnel.
    pub forwarding: u8,
    /// Whether the flow hash includes the ports.
    pub hash_ports: bool,
    /// The table, borrowed from the image (no copy of hundreds of megabytes); entries
    /// are `base` plus an index into `reals`, or [`NO_REAL`].
    pub table: &'a [u32],
    /// The image's index of this group's first real.
    pub base: u32,
    /// The reals, MACs filled in.
    pub reals: Vec<Real>,
    /// What decides whether an installed service must be rewritten.
    pub fingerprint: u64,
}

/// The addresses whose MACs the program needs: each real's own address.
pub fn real_addresses(image: &Image) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = image.reals.iter().map(|r| r.addr).collect();
    v.sort();
    v.dedup();
    v
}

/// Groups an image's services by table and fills in each real's next-hop MAC.
pub fn groups<'a>(
    image: &'a Image,
    macs: &HashMap<IpAddr, [u8; 6]>,
) -> Result<Vec<Group<'a>>, Error> {
    let mut by_table: HashMap<u32, usize> = HashMap::new();
    let mut out: Vec<Group<'a>> = Vec::new();
    for s in &image.services {
        let key = SvcKey::new(s.vip, s.port, s.proto);
        if let Some(&g) = by_table.get(&s.table_offset) {
            out[g].keys.push(key);
            continue;
        }
        let first = s.first_real as usize;
        let mut reals = Vec::with_capacity(s.reals as usize);
        for r in &image.reals[first..first + s.reals as usize] {
            let (addr, family) = addr16(r.addr);
            let mac = *macs
                .get(&r.addr)
                .ok_or_else(|| Error(format!("no next-hop MAC for real {}", r.addr)))?;
            reals.push(Real {
                addr,
                src: addr16(r.encap_source).0,
                mac,
                family,
                pad: 0,
            });
        }
        let start = s.table_offset as usize;
        let table = &image.tables[start..start + s.table_size as usize];
        let forwarding = match s.forwarding {
            Forwarding::Direct => 1,
            Forwarding::Tunnel => 2,
        };
        let fingerprint = fingerprint(forwarding, s.hash_ports, table, s.first_real, &reals);
        by_table.insert(s.table_offset, out.len());
        out.push(Group {
            keys: vec![key],
            forwarding,
            hash_ports: s.hash_ports,
            table,
            base: s.first_real,
            reals,
            fingerprint,
        });
    }
    Ok(out)
}

impl Group<'_> {
    /// Slot `i` of the table as an index into this group's reals (or [`NO_REAL`]).
    pub fn real_at(&self, i: usize) -> u32 {
        relative(self.table[i], self.base)
    }
}

fn relative(t: u32, base: u32) -> u32 {
    if t == NO_REAL { NO_REAL } else { t - base }
}

/// A hash of everything the program reads for a service except where it lives (so
/// table entries count relative to the group's first real).
fn fingerprint(forwarding: u8, hash_ports: bool, table: &[u32], base: u32, reals: &[Real]) -> u64 {
    let mut h = fnv1a(&[forwarding, u8::from(hash_ports)], 0);
    h = fnv1a(&(table.len() as u32).to_le_bytes(), h);
    // Tables are large: mix two slots at a time rather than byte by byte.
    for pair in table.chunks(2) {
        let lo = relative(pair[0], base);
        let hi = pair.get(1).map_or(0, |&x| relative(x, base));
        h = mix(h ^ (u64::from(lo) | u64::from(hi) << 32));
    }
    for r in reals {
        h = fnv1a(&r.addr, h);
        h = fnv1a(&r.src, h);
        h = fnv1a(&r.mac, h);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_match_the_c_layout() {
        // The program declares the same records (ebpf/src/main.rs); these are their sizes.
        assert_eq!(std::mem::size_of::<SvcKey>(), 20);
        assert_eq!(std::mem::size_of::<SvcVal>(), 32);
        assert_eq!(std::mem::size_of::<Real>(), 40);
        assert_eq!(std::mem::size_of::<Counter>(), 16);
    }

    #[test]
    fn a_changed_mac_changes_the_fingerprint() {
        let r = Real {
            addr: [1; 16],
            src: [0; 16],
            mac: [2; 6],
            family: 4,
            pad: 0,
        };
        let a = fingerprint(1, true, &[0, 0, 0], 0, &[r]);
        let b = fingerprint(1, true, &[0, 0, 0], 0, &[Real { mac: [3; 6], ..r }]);
        assert_ne!(a, b);
        assert_eq!(a, fingerprint(1, true, &[0, 0, 0], 0, &[r]));
        assert_ne!(a, fingerprint(2, true, &[0, 0, 0], 0, &[r]));
    }

    #[test]
    fn keys_print_as_operators_write_them() {
        let k = SvcKey::new("192.0.2.1".parse().unwrap(), 80, 6);
        assert_eq!(k.to_string(), "192.0.2.1:80 tcp");
        let k = SvcKey::new("2001:db8::1".parse().unwrap(), 0, 17);
        assert_eq!(k.to_string(), "[2001:db8::1]:* udp");
    }
}
