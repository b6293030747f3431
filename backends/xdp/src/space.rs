//! Free space in an array map: which ranges no installed service uses, so that new
//! tables and reals can be written beside the ones the running program reads.

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
