//! The flow hash: the same answer in the XDP program, in the Maglev image builder and in
//! `lvsc explain`, on every machine and in every run (no random seed).

/// The murmur3 64-bit finaliser: spreads every input bit over the output.
#[inline(always)]
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The hash of a flow: addresses as four 32-bit words each (the address's bytes in
/// network order read as little-endian words, IPv4 in the first word), ports, protocol.
#[inline(always)]
pub fn flow(saddr: &[u32; 4], daddr: &[u32; 4], sport: u16, dport: u16, proto: u8) -> u32 {
    let mut h = u64::from(proto);
    for w in saddr {
        h = mix(h ^ u64::from(*w));
    }
    for w in daddr {
        h = mix(h ^ u64::from(*w));
    }
    h = mix(h ^ ((u64::from(sport) << 16) | u64::from(dport)));
    (h ^ (h >> 32)) as u32
}

/// A service's slot is picked by the client address alone (`sh`/`mh` without `-port`,
/// and persistence, with the netmask applied).
pub const HASH_CLIENT: u8 = 0;
/// ... by the whole flow: addresses, ports and protocol.
pub const HASH_FLOW: u8 = 1;
/// ... by the destination address alone (`dh`).
pub const HASH_DEST: u8 = 2;

/// `addr` (words as in [`flow`]) with every bit after the first `keep` cleared: the
/// network a persistence netmask keeps of a client.
#[inline(always)]
pub fn masked(addr: &[u32; 4], keep: u32) -> [u32; 4] {
    let mut out = [0u32; 4];
    let mut i = 0;
    while i < 4 {
        let start = 32 * i as u32;
        let mask = if keep >= start + 32 {
            u32::MAX
        } else if keep <= start {
            0
        } else {
            // The mask in network order, read as the little-endian word of its bytes.
            (u32::MAX << (32 - (keep - start))).swap_bytes()
        };
        out[i] = addr[i] & mask;
        i += 1;
    }
    out
}

/// The hash a service picks its table slot by, in hash mode `mode` ([`HASH_CLIENT`],
/// [`HASH_FLOW`], [`HASH_DEST`]); `host_bits` of the client address (family 4 or 6) are
/// cleared first in [`HASH_CLIENT`] mode.
#[inline(always)]
#[allow(clippy::too_many_arguments)] // one packet's fields, as the program reads them
pub fn service_flow(
    mode: u8,
    host_bits: u8,
    family: u8,
    saddr: &[u32; 4],
    daddr: &[u32; 4],
    sport: u16,
    dport: u16,
    proto: u8,
) -> u32 {
    match mode {
        HASH_FLOW => flow(saddr, daddr, sport, dport, proto),
        HASH_DEST => flow(&[0; 4], daddr, 0, 0, 0),
        _ => {
            let bits: u32 = if family == 6 { 128 } else { 32 };
            let keep = bits.saturating_sub(u32::from(host_bits));
            flow(&masked(saddr, keep), &[0; 4], 0, 0, 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_values() {
        // Fixed outputs: a change here breaks every deployed table and the XDP program.
        assert_eq!(mix(1), 0xb456bcfc34c2cb2c);
        assert_eq!(
            flow(
                &[0x0100_000a, 0, 0, 0],
                &[0x6400_020c, 0, 0, 0],
                40000,
                80,
                6
            ),
            0xedf3e565
        );
        assert_ne!(
            flow(&[1, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6),
            flow(&[1, 0, 0, 0], &[2, 0, 0, 0], 1001, 80, 6)
        );
    }

    #[test]
    fn without_ports_only_the_client_counts() {
        let client = |s: &[u32; 4], d: &[u32; 4], sp, dp, p| {
            service_flow(HASH_CLIENT, 0, 4, s, d, sp, dp, p)
        };
        let a = client(&[1, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6);
        assert_eq!(a, client(&[1, 0, 0, 0], &[3, 0, 0, 0], 2000, 81, 17));
        assert_ne!(a, client(&[4, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6));
        assert_eq!(
            service_flow(HASH_FLOW, 0, 4, &[1, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6),
            flow(&[1, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6)
        );
        let dest = |s: &[u32; 4]| service_flow(HASH_DEST, 0, 4, s, &[2, 0, 0, 0], 1, 80, 6);
        assert_eq!(dest(&[1, 0, 0, 0]), dest(&[9, 0, 0, 0]));
    }

    #[test]
    fn a_netmask_hashes_the_clients_network() {
        // 10.1.2.3 and 10.1.2.200 share a /24; 10.1.3.3 does not.
        let w = |a: [u8; 4]| [u32::from_le_bytes(a), 0, 0, 0];
        let h = |a| service_flow(HASH_CLIENT, 8, 4, &w(a), &[0; 4], 1, 2, 6);
        assert_eq!(h([10, 1, 2, 3]), h([10, 1, 2, 200]));
        assert_ne!(h([10, 1, 2, 3]), h([10, 1, 3, 3]));
        assert_eq!(masked(&w([10, 1, 2, 3]), 24), w([10, 1, 2, 0]));
        assert_eq!(masked(&w([10, 1, 2, 3]), 20), w([10, 1, 0, 0]));
        // IPv6 /64: the second half of the address is cleared.
        let a = [1, 2, 3, 4];
        assert_eq!(masked(&a, 64), [1, 2, 0, 0]);
        let v6 = |a: &[u32; 4]| service_flow(HASH_CLIENT, 64, 6, a, &[0; 4], 1, 2, 6);
        assert_eq!(v6(&a), v6(&[1, 2, 9, 9]));
    }
}
