//! Which real IPVS sends a flow to, for the schedulers the flow alone decides (`sh`,
//! `dh`, `mh`), computed as the kernel's ip_vs_sh.c, ip_vs_dh.c and ip_vs_mh.c do: sh
//! and dh fill a 256-bucket table from the service's destination list and index it by a
//! multiplicative hash; mh builds a Maglev table of 4093 slots from hsiphash
//! permutations of each destination and indexes it by the hsiphash of the client.

use std::net::IpAddr;

use lvsc_compiler::flow::{Flow, Pick};
use lvsc_compiler::ir::Service;

/// Buckets of the sh and dh tables (`CONFIG_IP_VS_SH_TAB_BITS`, `..._DH_TAB_BITS`: 8).
const TAB_BITS: u32 = 8;
const TAB_SIZE: usize = 1 << TAB_BITS;

/// The destination list in the kernel's order when `lvsc apply` added the reals in file
/// order: IPVS puts each new destination at the head of the list (`ipvsadm -Ln` sorts
/// them, so it does not show this; the differential test holds it to the kernel). A
/// real added by a later apply is first.
pub fn kernel_order(s: &Service) -> Vec<usize> {
    (0..s.reals.len()).rev().collect()
}

/// An address folded to 32 bits in host order, as IPVS hashes it.
fn fold(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(a) => u32::from(a),
        IpAddr::V6(a) => {
            // The four words xored in network order, then read in host order.
            let o = a.octets();
            let w = |i: usize| u32::from_ne_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            u32::from_be(w(0) ^ w(4) ^ w(8) ^ w(12))
        }
    }
}

/// `hash_32(v, 8)`: the golden-ratio multiplicative hash, top 8 bits.
fn hash_32(v: u32) -> usize {
    (v.wrapping_mul(0x61c8_8647) >> (32 - TAB_BITS)) as usize
}

/// sh's table: buckets filled in list order, each destination for `weight` buckets in
/// a row (a weight-0 one still takes one, and is then skipped as unavailable).
fn sh_table(s: &Service, order: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(TAB_SIZE);
    let (mut at, mut count) = (0, 0);
    while out.len() < TAB_SIZE && !order.is_empty() {
        let d = order[at % order.len()];
        out.push(d);
        count += 1;
        if count >= s.reals[d].weight {
            at += 1;
            count = 0;
        }
    }
    out
}

/// Which real IPVS sends `f` of `s` to, with the kernel's destination list `order`
/// (indexes into `s.reals`, see [`kernel_order`]).
pub fn pick(s: &Service, f: &Flow, order: &[usize]) -> Pick {
    if s.persistence.is_some() {
        return Pick::undetermined(
            "persistence: a client network's template decides once its first connection was scheduled",
        );
    }
    let available = |d: usize| s.reals[d].weight > 0;
    match s.scheduler.name.as_str() {
        "sh" => {
            let table = sh_table(s, order);
            if table.is_empty() {
                return Pick::undetermined("no destination: the packet is dropped");
            }
            let port = if s.scheduler.flags.iter().any(|x| x == "sh-port") {
                u32::from(f.sport)
            } else {
                0
            };
            let key = |offset: usize| (offset + hash_32(port.wrapping_add(fold(f.src)))) % TAB_SIZE;
            let first = key(0);
            if available(table[first]) {
                return Pick::real(table[first], format!("sh: bucket {first} of {TAB_SIZE}"));
            }
            if !s.scheduler.flags.iter().any(|x| x == "sh-fallback") {
                return Pick::undetermined(format!(
                    "sh: bucket {first} holds a real without weight: no destination (sh-fallback would look further)"
                ));
            }
            for offset in 0..TAB_SIZE {
                let b = key((offset + first) % TAB_SIZE);
                if available(table[b]) {
                    return Pick::real(table[b], format!("sh-fallback: bucket {b} of {TAB_SIZE}"));
                }
            }
            Pick::undetermined("sh-fallback: no real has weight")
        }
        "dh" => {
            if order.is_empty() {
                return Pick::undetermined("no destination: the packet is dropped");
            }
            let b = (fold(f.dst).wrapping_mul(2_654_435_761) as usize) & (TAB_SIZE - 1);
            let d = order[b % order.len()];
            if available(d) {
                Pick::real(d, format!("dh: bucket {b} of {TAB_SIZE}"))
            } else {
                Pick::undetermined(format!(
                    "dh: bucket {b} holds a real without weight: no destination"
                ))
            }
        }
        "mh" => mh(s, f, order),
        name => Pick::undetermined(format!(
            "{name}: decided by live connection counts or the order of arrival, not by the flow"
        )),
    }
}

/// Slots of IPVS's mh table: `primes[CONFIG_IP_VS_MH_TAB_INDEX - 8]`, the index being
/// 12 by default (and in Debian's kernels).
const MH_SIZE: u32 = 4093;
/// `IP_VS_MH_TAB_BITS`: weights are shifted down to this many bits.
const MH_BITS: u32 = 6;
/// The fixed keys of mh's two hashes (`generate_hash_secret` in ip_vs_mh.c).
const MH_KEY1: u64 = 2_654_435_761;
const MH_KEY2: u64 = 2_654_446_892;

/// `ip_vs_mh_hashkey`: hsiphash of `offset + port + address` as a 32-bit word. On 64-bit
/// kernels hsiphash is SipHash-1-3 with the key's two words, truncated to 32 bits.
fn mh_hash(ip: IpAddr, port: u16, key: u64, offset: u32) -> u32 {
    use std::hash::Hasher;
    let v = offset.wrapping_add(u32::from(port)).wrapping_add(fold(ip));
    let mut h = siphasher::sip::SipHasher13::new_with_keys(key, key);
    h.write(&v.to_ne_bytes());
    h.finish() as u32
}

/// mh's lookup table as indexes into `s.reals` (`None` for an empty slot), filled as
/// `ip_vs_mh_populate` does: destinations in list order, each taking `turns` free
/// slots of its permutation before the next.
fn mh_table(s: &Service, order: &[usize]) -> Vec<Option<usize>> {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let m = MH_SIZE;
    let mut table = vec![None; m as usize];
    // A destination added with weight 0 has last_weight 0: it takes no slot.
    let weights: Vec<u32> = order.iter().map(|&d| s.reals[d].weight).collect();
    let g = weights
        .iter()
        .filter(|&&w| w > 0)
        .fold(0, |g, &w| gcd(w, g));
    if g == 0 {
        return table;
    }
    let top = weights.iter().max().copied().unwrap_or(0) / g;
    let shift = (32 - top.leading_zeros()).saturating_sub(MH_BITS);
    let mut perm = Vec::new();
    let mut skip = Vec::new();
    let mut turns = Vec::new();
    for (&d, &w) in order.iter().zip(&weights) {
        let r = &s.reals[d];
        perm.push(mh_hash(r.ip, r.port, MH_KEY1, 0) % m);
        skip.push(mh_hash(r.ip, r.port, MH_KEY2, 0) % (m - 1) + 1);
        let t = (w / g) >> shift;
        turns.push(if t > 0 { t } else { u32::from(w != 0) });
    }
    let mut taken = vec![false; m as usize];
    let mut n = 0;
    loop {
        for i in 0..order.len() {
            for _ in 0..turns[i] {
                while taken[perm[i] as usize] {
                    perm[i] = (perm[i] + skip[i]) % m;
                }
                taken[perm[i] as usize] = true;
                table[perm[i] as usize] = Some(order[i]);
                n += 1;
                if n == m {
                    return table;
                }
            }
        }
    }
}

/// mh's lookup table of `s` as `lvsc apply` installs it: each slot's real (an index into
/// `s.reals`), `None` where no real has weight.
pub fn mh_slots(s: &Service) -> Vec<Option<usize>> {
    mh_table(s, &kernel_order(s))
}

/// IPVS mh: the client (and its port with `mh-port`) hashed into the Maglev table.
fn mh(s: &Service, f: &Flow, order: &[usize]) -> Pick {
    let table = mh_table(s, order);
    let port = if s.scheduler.flags.iter().any(|x| x == "mh-port") {
        f.sport
    } else {
        0
    };
    let slot = |offset: u32| (mh_hash(f.src, port, MH_KEY1, offset) % MH_SIZE) as usize;
    let first = slot(0);
    let Some(d) = table[first] else {
        return Pick::undetermined("mh: no real has weight: no destination");
    };
    if s.reals[d].weight > 0 {
        return Pick::real(d, format!("mh: slot {first} of {MH_SIZE}"));
    }
    if !s.scheduler.flags.iter().any(|x| x == "mh-fallback") {
        return Pick::undetermined(format!(
            "mh: slot {first} holds a real without weight: no destination (mh-fallback would look further)"
        ));
    }
    for offset in 0..MH_SIZE {
        let b = slot((offset + first as u32) % MH_SIZE);
        match table[b] {
            None => break,
            Some(d) if s.reals[d].weight > 0 => {
                return Pick::real(d, format!("mh-fallback: slot {b} of {MH_SIZE}"));
            }
            Some(_) => {}
        }
    }
    Pick::undetermined("mh-fallback: no real has weight")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sh_buckets_follow_weights_in_list_order() {
        let text = include_str!("../../../examples/web-nat.lvs");
        let c = lvsc_compiler::compile_source(text).cluster.unwrap();
        let mut s = c.services[0].clone();
        s.reals.truncate(3);
        assert_eq!(s.reals.len(), 3);
        for (r, w) in s.reals.iter_mut().zip([3, 1, 0]) {
            r.weight = w;
        }
        let t = sh_table(&s, &[0, 1, 2]);
        assert_eq!(&t[..6], &[0, 0, 0, 1, 2, 0]);
        assert_eq!(t.len(), TAB_SIZE);
        assert_eq!(kernel_order(&s), vec![2, 1, 0]);
        // mh: shares follow weights; the weight-0 real has no slot.
        let t = mh_table(&s, &kernel_order(&s));
        let share = |d: usize| t.iter().filter(|x| **x == Some(d)).count();
        assert_eq!(share(2), 0);
        assert!(
            share(0) > 2 * share(1) && share(1) > 0,
            "{} {}",
            share(0),
            share(1)
        );
        assert!(t.iter().all(Option::is_some));
    }
}
