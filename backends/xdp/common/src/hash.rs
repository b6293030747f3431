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

/// The hash a service picks its table slot by: the whole flow, or with `hash_ports`
/// off (`sh`/`mh` without `-port`) the client address alone.
#[inline(always)]
pub fn service_flow(
    hash_ports: bool,
    saddr: &[u32; 4],
    daddr: &[u32; 4],
    sport: u16,
    dport: u16,
    proto: u8,
) -> u32 {
    if hash_ports {
        flow(saddr, daddr, sport, dport, proto)
    } else {
        flow(saddr, &[0; 4], 0, 0, 0)
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
        let a = service_flow(false, &[1, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6);
        assert_eq!(
            a,
            service_flow(false, &[1, 0, 0, 0], &[3, 0, 0, 0], 2000, 81, 17)
        );
        assert_ne!(
            a,
            service_flow(false, &[4, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6)
        );
        assert_eq!(
            service_flow(true, &[1, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6),
            flow(&[1, 0, 0, 0], &[2, 0, 0, 0], 1000, 80, 6)
        );
    }
}
