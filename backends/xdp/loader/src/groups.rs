//! An image's services grouped the way the loader installs them: one table with its
//! reals per group, every service key that uses it, and the fingerprint that decides
//! whether an installed service must be rewritten.

use std::collections::HashMap;
use std::net::IpAddr;

use lvsc_xdp_common::{FWD_DIRECT, FWD_TUNNEL, NO_REAL, Real, SvcKey, addr_words, family};
use lvsc_xdp_image::hash::{fnv1a, mix};
use lvsc_xdp_image::image::{Forwarding, Image, UNCOMPUTED};

use crate::Error;

/// One table with its reals, and every service key that uses it (a firewall-mark
/// service has one key per VIP, all sharing one table).
#[derive(Clone, Debug)]
pub struct Group<'a> {
    /// The keys that point at this table.
    pub keys: Vec<SvcKey>,
    /// 1 direct routing, 2 tunnel.
    pub forwarding: u8,
    /// What the slot is hashed from (`lvsc_xdp_common::HASH_*`).
    pub hash: u8,
    /// Client host bits cleared before a client hash.
    pub host_bits: u8,
    /// The table, borrowed from the image (no copy of hundreds of megabytes); entries
    /// are `base` plus an index into `reals`, or [`NO_REAL`]. Empty when the image did
    /// not compute it (the service is installed unchanged).
    pub table: &'a [u32],
    /// The table's size (its length, when computed).
    pub table_size: u32,
    /// The image's index of this group's first real.
    pub base: u32,
    /// The reals, MACs filled in.
    pub reals: Vec<Real>,
    /// What decides whether an installed service must be rewritten.
    pub fingerprint: u64,
}

/// The addresses whose MACs the program needs: each real's own address.
pub fn real_addresses(image: &Image) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = image.reals.iter().map(|r| r.addr).collect();
    v.sort();
    v.dedup();
    v
}

/// What decides each service's table ([`lvsc_xdp_image::image::table_inputs`]), by key.
pub type TableInputs = HashMap<SvcKey, u64>;

/// The table inputs of `services`, under each of their keys.
pub fn table_inputs(services: &[lvsc_compiler::ir::Service]) -> TableInputs {
    services
        .iter()
        .flat_map(|s| {
            let h = lvsc_xdp_image::image::table_inputs(s);
            lvsc_xdp_image::image::match_keys(s)
                .into_iter()
                .map(move |(ip, port, proto)| (SvcKey::new(ip, port, proto), h))
        })
        .collect()
}

/// Groups an image's services by table and fills in each real's next-hop MAC; the
/// fingerprints hash the tables themselves.
pub fn groups<'a>(
    image: &'a Image,
    macs: &HashMap<IpAddr, [u8; 6]>,
) -> Result<Vec<Group<'a>>, Error> {
    groups_with(image, macs, None)
}

/// [`groups`], the fingerprints hashing each table's inputs when known (so that an
/// image without the tables of unchanged services fingerprints them all the same).
pub fn groups_with<'a>(
    image: &'a Image,
    macs: &HashMap<IpAddr, [u8; 6]>,
    inputs: Option<&TableInputs>,
) -> Result<Vec<Group<'a>>, Error> {
    let mut by_table: HashMap<u32, usize> = HashMap::new();
    let mut out: Vec<Group<'a>> = Vec::new();
    for s in &image.services {
        let key = SvcKey::new(s.vip, s.port, s.proto);
        if let Some(&g) = by_table.get(&s.table_offset) {
            out[g].keys.push(key);
            continue;
        }
        let first = s.first_real as usize;
        let mut reals = Vec::with_capacity(s.reals as usize);
        for r in &image.reals[first..first + s.reals as usize] {
            let mac = *macs.get(&r.addr).ok_or(Error::NoMac { real: r.addr })?;
            reals.push(Real {
                addr: addr_words(r.addr),
                src: addr_words(r.encap_source),
                mac: Real::mac_halves(mac),
                family: family(r.addr),
                pad: 0,
            });
        }
        let table: &[u32] = if s.table_offset >= UNCOMPUTED {
            &[]
        } else {
            let start = s.table_offset as usize;
            &image.tables[start..start + s.table_size as usize]
        };
        let forwarding = match s.forwarding {
            Forwarding::Direct => FWD_DIRECT,
            Forwarding::Tunnel => FWD_TUNNEL,
        };
        let table_hash = match inputs.and_then(|i| i.get(&key)) {
            Some(h) => *h,
            None => table_content(table, s.first_real),
        };
        let fingerprint = fingerprint(
            [forwarding, s.hash, s.host_bits],
            s.table_size,
            table_hash,
            &reals,
        );
        by_table.insert(s.table_offset, out.len());
        out.push(Group {
            keys: vec![key],
            forwarding,
            hash: s.hash,
            host_bits: s.host_bits,
            table,
            table_size: s.table_size,
            base: s.first_real,
            reals,
            fingerprint,
        });
    }
    Ok(out)
}

impl Group<'_> {
    /// Whether the image computed its table (every group of a full image has).
    pub fn computed(&self) -> bool {
        self.table.len() == self.table_size as usize
    }

    /// Slot `i` of the table as an index into this group's reals (or [`NO_REAL`]).
    pub fn real_at(&self, i: usize) -> u32 {
        relative(self.table[i], self.base)
    }
}

fn relative(t: u32, base: u32) -> u32 {
    if t == NO_REAL { NO_REAL } else { t - base }
}

/// A hash of a table's slots relative to the group's first real (where it lives does
/// not count), for images whose table inputs are unknown (read from a file).
fn table_content(table: &[u32], base: u32) -> u64 {
    let mut h = 0;
    // Tables are large: mix two slots at a time rather than byte by byte.
    for pair in table.chunks(2) {
        let lo = relative(pair[0], base);
        let hi = pair.get(1).map_or(0, |&x| relative(x, base));
        h = mix(h ^ (u64::from(lo) | u64::from(hi) << 32));
    }
    h
}

/// A hash of everything the program reads for a service except where it lives: its
/// flags, table (by its size and `table`, the hash of its inputs or slots) and reals.
fn fingerprint(flags: [u8; 3], table_size: u32, table: u64, reals: &[Real]) -> u64 {
    let mut h = fnv1a(&flags, 0);
    h = fnv1a(&table_size.to_le_bytes(), h);
    h = mix(h ^ table);
    // The addresses' and MAC's bytes as they lie in memory.
    let bytes = |w: [u32; 4]| -> [u8; 16] {
        let mut b = [0u8; 16];
        for (i, x) in w.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
        }
        b
    };
    for r in reals {
        h = fnv1a(&bytes(r.addr), h);
        h = fnv1a(&bytes(r.src), h);
        h = fnv1a(&r.mac_bytes(), h);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_mac_changes_the_fingerprint() {
        let r = Real {
            addr: [1; 4],
            src: [0; 4],
            mac: [2; 3],
            family: 4,
            pad: 0,
        };
        let a = fingerprint([1, 1, 0], 3, 7, &[r]);
        let b = fingerprint([1, 1, 0], 3, 7, &[Real { mac: [3; 3], ..r }]);
        assert_ne!(a, b);
        assert_eq!(a, fingerprint([1, 1, 0], 3, 7, &[r]));
        assert_ne!(a, fingerprint([2, 1, 0], 3, 7, &[r]));
        // A new persistence netmask rewrites the service.
        assert_ne!(a, fingerprint([1, 0, 8], 3, 7, &[r]));
        // So do other table inputs and another size.
        assert_ne!(a, fingerprint([1, 1, 0], 3, 8, &[r]));
        assert_ne!(a, fingerprint([1, 1, 0], 5, 7, &[r]));
    }
}
