//! Hashes that must give the same answer on every machine and in every run: FNV-1a for
//! names (Maglev permutations, checksums), and the XDP program's flow hash
//! ([`lvsc_xdp_common::hash`]) for the flow of a packet given as addresses.

use std::net::IpAddr;

pub use lvsc_xdp_common::hash::{flow, mix};
use lvsc_xdp_common::{addr_words, service_flow};

/// FNV-1a, 64 bits.
pub fn fnv1a(data: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The hash the XDP program computes for a packet of a service: the whole flow, or only
/// the client address for `sh`/`mh` without `-port`.
pub fn packet(
    saddr: IpAddr,
    daddr: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
    hash_ports: bool,
) -> u32 {
    service_flow(
        hash_ports,
        &addr_words(saddr),
        &addr_words(daddr),
        sport,
        dport,
        proto,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_values() {
        // Fixed outputs: a change here breaks every deployed table.
        assert_eq!(fnv1a(b"rs1", 0), 0x89c76f1960d75579);
        let c: IpAddr = "10.0.0.1".parse().unwrap();
        let v: IpAddr = "12.2.0.100".parse().unwrap();
        assert_eq!(packet(c, v, 40000, 80, 6, true), 0xedf3e565);
    }
}
