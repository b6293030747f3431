//! Maglev consistent hashing with weights (Eisenbud et al., NSDI 2016, §3.4), the lookup
//! tables of the XDP data plane and of the nftables data plane's slot maps.
//!
//! Each backend walks its own permutation of the table (offset and skip from two hashes
//! of its name); backends take turns claiming their next free slot. Weights set how
//! often a backend gets a turn, so its share of the table follows its weight, and a
//! weight-0 backend gets none. Deterministic: names and weights fully decide the table,
//! so every director builds the same one.

pub use lvsc_compiler::is_prime;

/// FNV-1a, 64 bits: the hash of names (and of checksums) that must give the same answer
/// on every machine and in every run.
pub fn fnv1a(data: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Default table size: a prime well above backends x 100, as the paper advises.
pub const DEFAULT_SIZE: u32 = 65537;

/// The lookup table: slot → backend index. `None` when no backend has weight.
pub fn table(backends: &[(&str, u32)], size: u32) -> Option<Vec<u32>> {
    assert!(is_prime(size), "Maglev table size must be prime");
    let max = backends.iter().map(|b| b.1).max().filter(|&m| m > 0)?;
    let m = u64::from(size);
    let perm: Vec<(u64, u64)> = backends
        .iter()
        .map(|(name, _)| {
            (
                fnv1a(name.as_bytes(), 0) % m,
                fnv1a(name.as_bytes(), 0x9e37_79b9) % (m - 1) + 1,
            )
        })
        .collect();
    // Each backend's next probe, (offset + n * skip) % size, kept by addition: a
    // division per probe was most of the time of building a table.
    let mut next: Vec<u64> = perm.iter().map(|p| p.0).collect();
    let mut credit = vec![0u64; backends.len()];
    let mut slots = vec![u32::MAX; size as usize];
    let mut filled = 0u64;
    while filled < m {
        for (i, &(_, w)) in backends.iter().enumerate() {
            // A backend gets a turn each time its accumulated weight passes the largest.
            credit[i] += u64::from(w);
            if credit[i] < u64::from(max) {
                continue;
            }
            credit[i] -= u64::from(max);
            let skip = perm[i].1;
            loop {
                let c = next[i] as usize;
                next[i] += skip;
                if next[i] >= m {
                    next[i] -= m;
                }
                if slots[c] == u32::MAX {
                    slots[c] = i as u32;
                    filled += 1;
                    break;
                }
            }
            if filled == m {
                break;
            }
        }
    }
    Some(slots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_stable() {
        // A change here moves every deployed table.
        assert_eq!(fnv1a(b"rs1", 0), 0x89c76f1960d75579);
    }

    fn shares(t: &[u32], n: usize) -> Vec<f64> {
        let mut c = vec![0usize; n];
        for &s in t {
            c[s as usize] += 1;
        }
        c.iter().map(|&x| x as f64 / t.len() as f64).collect()
    }

    #[test]
    fn shares_follow_weights_and_weight_zero_gets_nothing() {
        let t = table(&[("a", 3), ("b", 2), ("c", 1), ("d", 0)], DEFAULT_SIZE).unwrap();
        let s = shares(&t, 4);
        for (got, want) in s.iter().zip([0.5, 1.0 / 3.0, 1.0 / 6.0, 0.0]) {
            assert!((got - want).abs() < 0.005, "{s:?}");
        }
        assert_eq!(s[3], 0.0);
        assert!(table(&[("a", 0)], 7).is_none());
    }

    #[test]
    fn deterministic() {
        let a = table(&[("rs1", 1), ("rs2", 1)], 251).unwrap();
        assert_eq!(a, table(&[("rs1", 1), ("rs2", 1)], 251).unwrap());
    }

    /// Removing one of N equal backends moves at most 1/N of the table plus a margin:
    /// the slots it held, plus stated 2 % reshuffle among the rest.
    #[test]
    fn removing_a_backend_moves_little() {
        for n in [3usize, 10, 50] {
            let names: Vec<String> = (0..n).map(|i| format!("real-{i}")).collect();
            let all: Vec<(&str, u32)> = names.iter().map(|s| (s.as_str(), 1)).collect();
            let before = table(&all, DEFAULT_SIZE).unwrap();
            let after = table(&all[1..], DEFAULT_SIZE).unwrap();
            // Indices shift by one after removing backend 0.
            let moved = before
                .iter()
                .zip(&after)
                .filter(|(b, a)| **b != 0 && **b != **a + 1)
                .count();
            let removed = before.iter().filter(|b| **b == 0).count();
            let margin = 0.02 * DEFAULT_SIZE as f64;
            let changed = (moved + removed) as f64;
            assert!(
                changed <= DEFAULT_SIZE as f64 / n as f64 + margin,
                "n={n}: {changed} slots changed"
            );
        }
    }
}
