//! Hashes that must give the same answer on every machine and in every run: FNV-1a for
//! names (Maglev permutations, checksums), and the XDP program's flow hash
//! ([`lvsc_xdp_common::hash`]) for the flow of a packet given as addresses.

use std::net::IpAddr;

pub use lvsc_xdp_common::hash::{flow, mix};
use lvsc_xdp_common::{addr_words, service_flow};

pub use lvsc_maglev::fnv1a;

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
        let c: IpAddr = "10.0.0.1".parse().unwrap();
        let v: IpAddr = "12.2.0.100".parse().unwrap();
        assert_eq!(packet(c, v, 40000, 80, 6, true), 0xedf3e565);
    }
}
