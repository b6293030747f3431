//! Hashes that must give the same answer on every machine, in every run, and (for the
//! flow hash) in the XDP program: FNV-1a and a murmur3 finaliser, no random seeds.

/// FNV-1a, 64 bits.
pub fn fnv1a(data: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The murmur3 64-bit finaliser: spreads every input bit over the output.
pub fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The flow hash of the XDP program: addresses as 4 x 32-bit words each (IPv4 in the
/// first word), ports, protocol. The XDP program (backends/xdp/ebpf) computes exactly this.
pub fn flow(saddr: [u32; 4], daddr: [u32; 4], sport: u16, dport: u16, proto: u8) -> u32 {
    let mut h = u64::from(proto);
    for w in saddr.iter().chain(daddr.iter()) {
        h = mix(h ^ u64::from(*w));
    }
    h = mix(h ^ (u64::from(sport) << 16 | u64::from(dport)));
    (h ^ (h >> 32)) as u32
}

/// An address as the XDP program reads it: memory bytes taken as little-endian words,
/// IPv4 in the first word.
pub fn words(ip: std::net::IpAddr) -> [u32; 4] {
    let mut b = [0u8; 16];
    match ip {
        std::net::IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        std::net::IpAddr::V6(a) => b = a.octets(),
    }
    std::array::from_fn(|i| u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().expect("4 bytes")))
}

/// The hash the XDP program computes for a packet of a service: the whole flow, or only
/// the client address for `sh`/`mh` without `-port`.
pub fn packet(
    saddr: std::net::IpAddr,
    daddr: std::net::IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
    hash_ports: bool,
) -> u32 {
    if hash_ports {
        flow(words(saddr), words(daddr), sport, dport, proto)
    } else {
        flow(words(saddr), [0; 4], 0, 0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_values() {
        // Fixed outputs: a change here breaks every deployed table and the XDP program.
        assert_eq!(fnv1a(b"rs1", 0), 0x89c76f1960d75579);
        assert_eq!(mix(1), 0xb456bcfc34c2cb2c);
        assert_eq!(
            flow([0x0100_000a, 0, 0, 0], [0x6400_020c, 0, 0, 0], 40000, 80, 6),
            0xedf3e565
        );
        assert_ne!(
            flow([1, 0, 0, 0], [2, 0, 0, 0], 1000, 80, 6),
            flow([1, 0, 0, 0], [2, 0, 0, 0], 1001, 80, 6)
        );
    }
}
