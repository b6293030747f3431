//! The change set of an install: which services are new, changed, removed or left alone
//! (by fingerprint) against the kernel's `services` map, and where the new tables and
//! reals go.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use lvsc_xdp_common::{SvcKey, SvcVal};

use crate::groups::Group;
use crate::space::{Capacity, Space};

/// One table to write and the keys to switch to it.
#[derive(Clone, Debug)]
pub struct Write {
    /// Index into the groups.
    pub group: usize,
    /// Keys to point at the new table (new or changed ones only).
    pub keys: Vec<SvcKey>,
}

/// The difference between the installed services and the wanted ones.
#[derive(Clone, Debug, Default)]
pub struct ChangeSet {
    /// Tables to write.
    pub writes: Vec<Write>,
    /// Keys to delete.
    pub removed: Vec<SvcKey>,
    /// Keys not installed yet.
    pub added: Vec<SvcKey>,
    /// Keys installed with another table, reals or forwarding.
    pub changed: Vec<SvcKey>,
    /// Keys left alone.
    pub unchanged: usize,
    installed: HashMap<SvcKey, SvcVal>,
}

/// Where a written table and its reals go.
#[derive(Clone, Copy, Debug)]
pub struct Placed {
    /// First slot in the tables map.
    pub table_offset: u32,
    /// First entry in the reals map.
    pub first_real: u32,
}

/// Room found for a change set.
#[derive(Clone, Debug, Default)]
pub struct Allocation {
    /// One per [`ChangeSet::writes`] entry.
    pub placed: Vec<Placed>,
    /// Counter slots for added keys.
    pub counters: HashMap<SvcKey, u32>,
}

/// A change set's summary, for people and JSON.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Added services.
    pub added: Vec<String>,
    /// Changed services.
    pub changed: Vec<String>,
    /// Removed services.
    pub removed: Vec<String>,
    /// Services left alone.
    pub unchanged: usize,
    /// Table slots written.
    pub slots_written: u64,
    /// Maglev tables computed for this install (an unchanged service needs none).
    pub tables_computed: usize,
    /// Tables of the director's services.
    pub tables: usize,
}

impl ChangeSet {
    /// Compares the installed services with the wanted groups.
    pub fn new(installed: HashMap<SvcKey, SvcVal>, groups: &[Group]) -> ChangeSet {
        let mut set = ChangeSet::default();
        let mut wanted = HashSet::new();
        for (i, g) in groups.iter().enumerate() {
            let mut keys = Vec::new();
            for k in &g.keys {
                wanted.insert(*k);
                match installed.get(k) {
                    Some(v) if v.fingerprint == g.fingerprint && v.table_size == g.table_size => {
                        set.unchanged += 1;
                    }
                    Some(_) => {
                        set.changed.push(*k);
                        keys.push(*k);
                    }
                    None => {
                        set.added.push(*k);
                        keys.push(*k);
                    }
                }
            }
            if !keys.is_empty() {
                set.writes.push(Write { group: i, keys });
            }
        }
        set.removed = installed
            .keys()
            .filter(|k| !wanted.contains(*k))
            .copied()
            .collect();
        set.removed.sort();
        set.added.sort();
        set.changed.sort();
        set.installed = installed;
        set
    }

    /// The change set of `groups` alone: installed services that are not among them
    /// are left as they are (a health check changing one service).
    pub fn partial(installed: HashMap<SvcKey, SvcVal>, groups: &[Group]) -> ChangeSet {
        let mut set = ChangeSet::new(installed, groups);
        set.removed.clear();
        set
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.removed.is_empty()
    }

    /// The counter slot of an installed key.
    pub fn index_of(&self, k: &SvcKey) -> Option<u32> {
        self.installed.get(k).map(|v| v.index)
    }

    /// Table slots the change set writes.
    pub fn slots(&self, groups: &[Group]) -> u64 {
        self.writes
            .iter()
            .map(|w| u64::from(groups[w.group].table_size))
            .sum()
    }

    /// The summary of what changes.
    pub fn summary(&self, groups: &[Group]) -> Summary {
        let names = |v: &[SvcKey]| v.iter().map(SvcKey::to_string).collect();
        Summary {
            added: names(&self.added),
            changed: names(&self.changed),
            removed: names(&self.removed),
            unchanged: self.unchanged,
            slots_written: self.slots(groups),
            tables_computed: groups.iter().filter(|g| g.computed()).count(),
            tables: groups.len(),
        }
    }

    /// Finds room beside everything installed (the running program may read any of it
    /// until the switch), or `None` when the maps are too small.
    pub fn allocate(&self, groups: &[Group], cap: Capacity) -> Option<Allocation> {
        let keys = self.installed.len() - self.removed.len() + self.added.len();
        if keys > cap.services as usize {
            return None;
        }
        let mut tables = Space::new(
            cap.tables,
            self.installed
                .values()
                .map(|v| (v.table_offset, v.table_size)),
        );
        let mut reals = Space::new(
            cap.reals,
            self.installed.values().map(|v| (v.first_real, v.reals)),
        );
        let mut alloc = Allocation::default();
        for w in &self.writes {
            let g = &groups[w.group];
            alloc.placed.push(Placed {
                table_offset: tables.take(g.table_size)?,
                first_real: reals.take(u32::try_from(g.reals.len()).ok()?)?,
            });
        }
        let removed: HashSet<&SvcKey> = self.removed.iter().collect();
        let used: HashSet<u32> = self
            .installed
            .iter()
            .filter(|(k, _)| !removed.contains(k))
            .map(|(_, v)| v.index)
            .collect();
        let mut free = (0..cap.services).filter(|i| !used.contains(i));
        for k in &self.added {
            alloc.counters.insert(*k, free.next()?);
        }
        Some(alloc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvsc_xdp_common::Real;

    fn group(port: u16, fingerprint: u64, size: usize) -> Group<'static> {
        Group {
            keys: vec![SvcKey::new("192.0.2.1".parse().unwrap(), port, 6)],
            forwarding: 1,
            hash: lvsc_xdp_common::HASH_FLOW,
            host_bits: 0,
            table: Vec::leak(vec![0; size]),
            table_size: size as u32,
            base: 0,
            reals: vec![Real {
                addr: [0; 4],
                src: [0; 4],
                mac: [0; 3],
                family: 4,
                pad: 0,
            }],
            fingerprint,
        }
    }

    fn val(index: u32, offset: u32, fingerprint: u64) -> SvcVal {
        SvcVal {
            table_offset: offset,
            table_size: 7,
            index,
            forwarding: 1,
            hash: lvsc_xdp_common::HASH_FLOW,
            host_bits: 0,
            pad: 0,
            first_real: index,
            reals: 1,
            fingerprint,
        }
    }

    #[test]
    fn only_what_changed_is_written_and_never_over_what_is_installed() {
        let g = [group(80, 1, 7), group(443, 2, 7), group(8080, 3, 7)];
        let installed = HashMap::from([
            (g[0].keys[0], val(0, 0, 1)),  // unchanged
            (g[1].keys[0], val(1, 7, 99)), // changed
            (group(22, 0, 7).keys[0], val(2, 14, 5)),
        ]);
        let plan = ChangeSet::new(installed, &g);
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.changed, vec![g[1].keys[0]]);
        assert_eq!(plan.added, vec![g[2].keys[0]]);
        assert_eq!(plan.removed.len(), 1);
        assert_eq!(plan.slots(&g), 14);
        let cap = Capacity {
            tables: 35,
            reals: 8,
            services: 4,
        };
        let a = plan.allocate(&g, cap).unwrap();
        // 0..21 is installed (the removed service's table too, until the switch).
        assert_eq!(a.placed[0].table_offset, 21);
        assert_eq!(a.placed[1].table_offset, 28);
        assert!(a.placed.iter().all(|p| p.first_real >= 3));
        // The changed service keeps its counters; the new one takes the removed one's slot.
        assert_eq!(plan.index_of(&g[1].keys[0]), Some(1));
        assert_eq!(a.counters[&g[2].keys[0]], 2);
        // Too small: one table of room.
        let small = Capacity { tables: 28, ..cap };
        assert!(plan.allocate(&g, small).is_none());
    }

    #[test]
    fn the_same_groups_plan_nothing() {
        let g = [group(80, 1, 7)];
        let plan = ChangeSet::new(HashMap::from([(g[0].keys[0], val(0, 0, 1))]), &g);
        assert!(plan.is_empty());
    }
}
