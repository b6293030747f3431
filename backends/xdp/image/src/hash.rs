//! Hashes that must give the same answer on every machine and in every run: FNV-1a for
//! names (Maglev permutations, checksums), and the XDP program's flow hash
//! ([`lvsc_xdp_common::hash`]) for the flow of a packet given as addresses.

use std::net::IpAddr;

pub use lvsc_xdp_common::hash::{flow, mix};
use lvsc_xdp_common::{addr_words, service_flow};

use crate::image::ServiceRecord;

pub use lvsc_maglev::fnv1a;

/// The hash the XDP program computes for a packet of service record `s`: the whole
/// flow, the (masked) client address or the destination, as the record says.
pub fn packet(
    s: &ServiceRecord,
    saddr: IpAddr,
    daddr: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
) -> u32 {
    service_flow(
        s.hash,
        s.host_bits,
        if saddr.is_ipv4() { 4 } else { 6 },
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
        let c: IpAddr = "10.0.0.1".parse().unwrap();
        let v: IpAddr = "12.2.0.100".parse().unwrap();
        let s = crate::image::ServiceRecord {
            vip: v,
            port: 80,
            proto: 6,
            forwarding: crate::image::Forwarding::Direct,
            hash: lvsc_xdp_common::HASH_FLOW,
            host_bits: 0,
            table_offset: 0,
            table_size: 7,
            first_real: 0,
            reals: 0,
        };
        assert_eq!(packet(&s, c, v, 40000, 80, 6), 0xedf3e565);
    }
}
