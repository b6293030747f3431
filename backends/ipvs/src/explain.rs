//! Which real IPVS sends a flow to, for the schedulers the flow alone decides (`sh`,
//! `dh`), computed as the kernel's ip_vs_sh.c and ip_vs_dh.c do: a 256-bucket table
//! filled from the service's destination list, indexed by a multiplicative hash.

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
        "mh" => Pick::undetermined(
            "mh: IPVS's own Maglev table (siphash permutations) is not computed by lvsc",
        ),
        name => Pick::undetermined(format!(
            "{name}: decided by live connection counts or the order of arrival, not by the flow"
        )),
    }
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
    }
}
