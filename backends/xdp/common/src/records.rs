//! The records of the XDP program's maps, as both the program and the loader read them.
//!
//! Addresses are four 32-bit words holding the address's bytes in network order (IPv4 in
//! the first word), so that a little-endian load from the packet gives the key directly;
//! in memory they are exactly the address's 16 bytes.

use core::fmt;
use core::net::IpAddr;

/// A table slot that names no real (every real has weight 0).
pub const NO_REAL: u32 = u32::MAX;
/// [`SvcVal::forwarding`]: rewrite the destination MAC (direct routing).
pub const FWD_DIRECT: u8 = 1;
/// [`SvcVal::forwarding`]: IP-in-IP or IPv6-in-IPv6 encapsulation.
pub const FWD_TUNNEL: u8 = 2;

/// Entries of the `flows` map, the connection table: an LRU hash, so the oldest flows
/// make room for new ones.
pub const FLOWS: u32 = 65536;

/// Key of the `flows` map: one flow's addresses, ports and protocol, as the packet has
/// them (ports in host order).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Client address.
    pub saddr: [u32; 4],
    /// VIP.
    pub daddr: [u32; 4],
    /// Client port.
    pub sport: u16,
    /// VIP port.
    pub dport: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Padding (zero: keys are compared as bytes).
    pub pad: [u8; 3],
}

/// Key of the `services` map: what a packet is matched on.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SvcKey {
    /// The VIP.
    pub vip: [u32; 4],
    /// Destination port, host order; 0 matches every port (a firewall-mark service).
    pub port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// 4 or 6.
    pub family: u8,
}

/// Value of the `services` map: where a service's table and reals are.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SvcVal {
    /// First slot of the service's table in the `tables` map.
    pub table_offset: u32,
    /// Table size (prime).
    pub table_size: u32,
    /// Slot in the `counters` map.
    pub index: u32,
    /// [`FWD_DIRECT`] or [`FWD_TUNNEL`].
    pub forwarding: u8,
    /// What the slot is hashed from: [`crate::hash::HASH_CLIENT`], `HASH_FLOW` or
    /// `HASH_DEST` (see [`crate::service_flow`]).
    pub hash: u8,
    /// Bits at the end of the client address cleared before a client hash (the
    /// persistence netmask).
    pub host_bits: u8,
    /// Padding.
    pub pad: u8,
    /// First of the service's block in the `reals` map.
    pub first_real: u32,
    /// Reals in that block.
    pub reals: u32,
    /// The loader's fingerprint of table, reals and forwarding (the program ignores it).
    pub fingerprint: u64,
}

/// Element of the `reals` map: where a packet goes.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Real {
    /// The real's address.
    pub addr: [u32; 4],
    /// Outer source address in tunnel mode.
    pub src: [u32; 4],
    /// Next-hop MAC (the real in direct routing, the router towards it in tunnel mode)
    /// as three 16-bit halves in memory order, so the program copies it in three stores.
    pub mac: [u16; 3],
    /// 4 or 6.
    pub family: u8,
    /// Padding.
    pub pad: u8,
}

/// Element of the per-CPU `counters` map: one CPU's share of a service's traffic.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counter {
    /// Packets forwarded.
    pub packets: u64,
    /// Bytes forwarded (as received, before encapsulation).
    pub bytes: u64,
}

impl Real {
    /// The MAC as six bytes.
    pub fn mac_bytes(&self) -> [u8; 6] {
        let [a, b, c] = self.mac.map(u16::to_ne_bytes);
        [a[0], a[1], b[0], b[1], c[0], c[1]]
    }

    /// The MAC halves of six bytes, as [`Real::mac`] holds them.
    pub fn mac_halves(mac: [u8; 6]) -> [u16; 3] {
        [
            u16::from_ne_bytes([mac[0], mac[1]]),
            u16::from_ne_bytes([mac[2], mac[3]]),
            u16::from_ne_bytes([mac[4], mac[5]]),
        ]
    }
}

/// An address as the four words a record holds (IPv4 in the first).
pub fn addr_words(ip: IpAddr) -> [u32; 4] {
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    core::array::from_fn(|i| {
        u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]])
    })
}

/// The address a record holds as words, for `family` 4 or 6.
pub fn words_addr(words: [u32; 4], family: u8) -> IpAddr {
    let mut b = [0u8; 16];
    for (i, w) in words.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    if family == 4 {
        IpAddr::from([b[0], b[1], b[2], b[3]])
    } else {
        IpAddr::from(b)
    }
}

/// 4 or 6.
pub fn family(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 4 } else { 6 }
}

impl SvcKey {
    /// The key of a VIP, port and IP protocol.
    pub fn new(vip: IpAddr, port: u16, proto: u8) -> Self {
        SvcKey {
            vip: addr_words(vip),
            port,
            proto,
            family: family(vip),
        }
    }

    /// The VIP.
    pub fn ip(&self) -> IpAddr {
        words_addr(self.vip, self.family)
    }
}

/// As operators write a service: `192.0.2.1:80 tcp`, `[2001:db8::1]:* udp`.
impl fmt::Display for SvcKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = match self.proto {
            6 => "tcp",
            17 => "udp",
            132 => "sctp",
            _ => "?",
        };
        match (self.ip(), self.port) {
            (IpAddr::V6(a), 0) => write!(f, "[{a}]:* {proto}"),
            (a, 0) => write!(f, "{a}:* {proto}"),
            (a, p) => write!(f, "{} {proto}", core::net::SocketAddr::new(a, p)),
        }
    }
}

#[cfg(feature = "user")]
mod pod {
    // SAFETY: plain repr(C) data with explicit padding fields, valid for any bit pattern.
    unsafe impl aya::Pod for super::SvcKey {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::SvcVal {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::Real {}
    // SAFETY: as above.
    unsafe impl aya::Pod for super::Counter {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_have_no_hidden_padding() {
        // The sum of the named fields: a map copy carries no uninitialised bytes.
        assert_eq!(core::mem::size_of::<SvcKey>(), 20);
        assert_eq!(core::mem::size_of::<SvcVal>(), 32);
        assert_eq!(core::mem::size_of::<Real>(), 40);
        assert_eq!(core::mem::size_of::<Counter>(), 16);
    }

    extern crate std;
    use std::string::ToString;

    #[test]
    fn addresses_and_macs_round_trip() {
        for ip in ["10.0.0.1", "2001:db8::7", "0.0.0.0", "::"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(words_addr(addr_words(ip), family(ip)), ip);
        }
        // IPv4 10.0.0.1 is the little-endian word of its bytes.
        assert_eq!(
            addr_words("10.0.0.1".parse().unwrap()),
            [0x0100_000a, 0, 0, 0]
        );
        let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        let r = Real {
            addr: [0; 4],
            src: [0; 4],
            mac: Real::mac_halves(mac),
            family: 4,
            pad: 0,
        };
        assert_eq!(r.mac_bytes(), mac);
    }

    #[test]
    fn keys_print_as_operators_write_them() {
        let k = SvcKey::new("192.0.2.1".parse().unwrap(), 80, 6);
        assert_eq!(k.to_string(), "192.0.2.1:80 tcp");
        let k = SvcKey::new("2001:db8::1".parse().unwrap(), 0, 17);
        assert_eq!(k.to_string(), "[2001:db8::1]:* udp");
    }
}
