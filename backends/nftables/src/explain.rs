//! Which real the nftables data plane sends a flow to, computed as the kernel does:
//! nft's `jhash` is the kernel's `jhash()` over the key's bytes as they sit in nft's
//! registers, scaled to the slot count (`reciprocal_scale`), then the slot map.

use lvsc_compiler::flow::{Flow, Pick};
use lvsc_compiler::ir::Service;

use crate::dataplane::{HASH_SEED, slot_count, slot_reals};

/// The kernel's `jhash()` (include/linux/jhash.h, Bob Jenkins' lookup3).
pub fn jhash(key: &[u8], initval: u32) -> u32 {
    fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
        *a = a.wrapping_sub(*c);
        *a ^= c.rotate_left(4);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a);
        *b ^= a.rotate_left(6);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b);
        *c ^= b.rotate_left(8);
        *b = b.wrapping_add(*a);
        *a = a.wrapping_sub(*c);
        *a ^= c.rotate_left(16);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a);
        *b ^= a.rotate_left(19);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b);
        *c ^= b.rotate_left(4);
        *b = b.wrapping_add(*a);
    }
    fn fin(a: &mut u32, b: &mut u32, c: &mut u32) {
        *c ^= *b;
        *c = c.wrapping_sub(b.rotate_left(14));
        *a ^= *c;
        *a = a.wrapping_sub(c.rotate_left(11));
        *b ^= *a;
        *b = b.wrapping_sub(a.rotate_left(25));
        *c ^= *b;
        *c = c.wrapping_sub(b.rotate_left(16));
        *a ^= *c;
        *a = a.wrapping_sub(c.rotate_left(4));
        *b ^= *a;
        *b = b.wrapping_sub(a.rotate_left(14));
        *c ^= *b;
        *c = c.wrapping_sub(b.rotate_left(24));
    }
    let word = |k: &[u8]| {
        let mut w = [0u8; 4];
        w[..k.len().min(4)].copy_from_slice(&k[..k.len().min(4)]);
        u32::from_le_bytes(w)
    };
    let init = 0xdead_beefu32
        .wrapping_add(key.len() as u32)
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut k = key;
    while k.len() > 12 {
        a = a.wrapping_add(word(&k[0..4]));
        b = b.wrapping_add(word(&k[4..8]));
        c = c.wrapping_add(word(&k[8..12]));
        mix(&mut a, &mut b, &mut c);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    // The tail: bytes added little-endian into a, b, c (missing bytes are zero).
    a = a.wrapping_add(word(&k[..k.len().min(4)]));
    if k.len() > 4 {
        b = b.wrapping_add(word(&k[4..k.len().min(8)]));
    }
    if k.len() > 8 {
        c = c.wrapping_add(word(&k[8..]));
    }
    fin(&mut a, &mut b, &mut c);
    c
}

/// `jhash ... mod N`: the hash scaled to `0..n` as nft_hash does.
pub fn jhash_mod(key: &[u8], n: u32) -> u32 {
    ((u64::from(jhash(key, HASH_SEED)) * u64::from(n)) >> 32) as u32
}

fn bytes(ip: std::net::IpAddr) -> Vec<u8> {
    match ip {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The client's address with the persistence netmask applied.
fn client_network(s: &Service, f: &Flow) -> Vec<u8> {
    let mut b = bytes(f.src);
    let keep = s
        .persistence
        .as_ref()
        .map_or(b.len() * 8, |p| usize::from(p.prefix));
    for (i, byte) in b.iter_mut().enumerate() {
        let bits = keep.saturating_sub(i * 8).min(8);
        *byte &= (0xff00u16 >> bits) as u8;
    }
    b
}

/// Which real the nftables data plane sends flow `f` of service `s` to, and why.
pub fn pick(s: &Service, f: &Flow) -> Pick {
    let Some(table) = slot_reals(s) else {
        return Pick::undetermined("no real has weight: the flow is dropped");
    };
    let m = slot_count(s);
    let by_port = s.scheduler.flags.iter().any(|x| x.ends_with("-port"));
    let (key, what) = if s.persistence.is_some() {
        (client_network(s, f), "the client network")
    } else {
        match s.scheduler.name.as_str() {
            "dh" => (bytes(f.dst), "the destination address"),
            "sh" | "mh" if by_port => {
                // A concatenation: each part padded to 4 bytes in nft's registers.
                let mut k = bytes(f.src);
                k.extend(f.sport.to_be_bytes());
                k.extend([0, 0]);
                (k, "the client address and port")
            }
            "sh" | "mh" => (bytes(f.src), "the client address"),
            "rr" | "wrr" | "fo" => {
                return Pick::undetermined(format!(
                    "numgen inc: new connections take the {m} slots in turn, so the order of arrival decides"
                ));
            }
            _ => {
                return Pick::undetermined(format!(
                    "numgen random: a new connection takes one of the {m} slots at random"
                ));
            }
        }
    };
    let slot = jhash_mod(&key, m);
    let real = table[slot as usize] as usize;
    let mut why = format!("jhash of {what} mod {m} = slot {slot}");
    if s.persistence.is_some() {
        why += ", unless the client network has an affinity entry for another real";
    }
    Pick::real(real, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jhash_matches_the_kernel() {
        // The empty key gives the initial value, as in the kernel; that every other key
        // hashes as the kernel's does is shown against nftables itself by the
        // differential test (tests/it/differential.rs), flow by flow.
        assert_eq!(jhash(&[], 0), 0xdead_beef);
        assert_eq!(jhash(&[], 1), 0xdead_bef0);
        let a = jhash(&[10, 0, 0, 1], HASH_SEED);
        assert_ne!(a, jhash(&[10, 0, 0, 2], HASH_SEED));
        assert_ne!(
            jhash(&[1, 2, 3, 4, 5, 6, 7, 8], 0),
            jhash(&[1, 2, 3, 4, 5, 6, 7, 9], 0)
        );
        let long: Vec<u8> = (0..13).collect();
        assert_ne!(jhash(&long, 0), jhash(&long[..12], 0));
        for n in [61, 67, 4093] {
            assert!(jhash_mod(&[192, 0, 2, 1], n) < n);
        }
    }
}
