//! Room in the maps: how much each holds, and which ranges no installed service uses,
//! so that new tables and reals can be written beside the ones the running program reads.

use crate::groups::Group;

/// How many entries each map holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// Table slots.
    pub tables: u32,
    /// Reals.
    pub reals: u32,
    /// Services (and counter slots).
    pub services: u32,
}

impl Capacity {
    /// Room for the groups twice over, so that any update can be written beside what is
    /// installed before the switch.
    pub fn for_groups(groups: &[Group]) -> Capacity {
        let slots: u64 = groups.iter().map(|g| u64::from(g.table_size)).sum();
        let reals: u64 = groups.iter().map(|g| g.reals.len() as u64).sum();
        let keys: u64 = groups.iter().map(|g| g.keys.len() as u64).sum();
        let clamp =
            |n: u64, min: u32| (n * 2).clamp(u64::from(min), u64::from(u32::MAX - 1)) as u32;
        Capacity {
            // Even: the map holds two slots per element.
            tables: clamp(slots, 1 << 20).next_multiple_of(2),
            reals: clamp(reals, 1 << 16),
            services: clamp(keys, 1 << 16),
        }
    }
}

/// The free ranges of an array of `capacity` entries, first fit.
#[derive(Debug)]
pub struct Space {
    /// (start, length), sorted, disjoint.
    free: Vec<(u32, u32)>,
}

impl Space {
    /// The space left when `used` ranges (start, length; may overlap or repeat) are taken.
    pub fn new(capacity: u32, used: impl IntoIterator<Item = (u32, u32)>) -> Space {
        let mut used: Vec<(u32, u32)> = used.into_iter().filter(|u| u.1 > 0).collect();
        used.sort_unstable();
        let mut free = Vec::new();
        let mut at = 0u32;
        for (start, len) in used {
            if start > at {
                free.push((at, start - at));
            }
            at = at.max(start.saturating_add(len));
        }
        if at < capacity {
            free.push((at, capacity - at));
        }
        Space { free }
    }

    /// Takes `len` entries, or `None` when no free range is long enough.
    pub fn take(&mut self, len: u32) -> Option<u32> {
        if len == 0 {
            return Some(0);
        }
        let i = self.free.iter().position(|f| f.1 >= len)?;
        let (start, have) = self.free[i];
        if have == len {
            self.free.remove(i);
        } else {
            self.free[i] = (start + len, have - len);
        }
        Some(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_gaps_first_and_never_overlaps_what_is_used() {
        let mut s = Space::new(100, [(10, 10), (30, 5), (10, 10), (0, 0)]);
        assert_eq!(s.take(10), Some(0));
        assert_eq!(s.take(10), Some(20));
        assert_eq!(s.take(5), Some(35));
        assert_eq!(s.take(60), Some(40));
        assert_eq!(s.take(1), None);
    }

    #[test]
    fn a_full_array_has_no_room() {
        let mut s = Space::new(8, [(0, 4), (2, 6)]);
        assert_eq!(s.take(1), None);
        assert_eq!(s.take(0), Some(0));
    }
}
