//! The program's maps, opened from a freshly loaded object or from their pins, and the
//! writes that install services into them.

use std::collections::HashMap as StdHashMap;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use aya::maps::{Array, HashMap, Map, MapData, PerCpuArray, PerCpuValues};
use memmap2::{MmapMut, MmapOptions};

use crate::Error;
use crate::layout::{Counter, Group, NO_REAL, Real, SvcKey, SvcVal};
use crate::plan::{Allocation, Plan};

/// Names of the program's maps (ebpf/src/main.rs), as pinned.
pub const NAMES: [&str; 4] = ["services", "reals", "tables", "counters"];

/// Bytes per table slot in memory: the map's 8-byte elements hold two slots each.
const SLOT: usize = 4;

/// The four maps, typed; `tables` is written through memory.
pub struct Maps {
    services: HashMap<MapData, SvcKey, SvcVal>,
    reals: Array<MapData, Real>,
    counters: PerCpuArray<MapData, Counter>,
    /// The tables map in memory; the mapping alone keeps the map alive.
    tables: MmapMut,
    /// A second handle on each map, for pinning.
    handles: Vec<(&'static str, MapData)>,
    capacity: Capacity,
}

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
        let slots: u64 = groups.iter().map(|g| g.table.len() as u64).sum();
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

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> Error + '_ {
    move |e| Error(format!("{what}: {e}"))
}

fn dup(m: &MapData) -> Result<MapData, Error> {
    let fd = m
        .fd()
        .as_fd()
        .try_clone_to_owned()
        .map_err(err("dup a map"))?;
    MapData::from_fd(fd).map_err(err("reopen a map"))
}

fn handle(m: &Map) -> Result<MapData, Error> {
    match m {
        Map::HashMap(d) | Map::Array(d) | Map::PerCpuArray(d) => dup(d),
        _ => Err(Error("unexpected map type".into())),
    }
}

impl Maps {
    /// Opens the maps of a loaded object.
    pub fn from_maps(mut take: impl FnMut(&str) -> Option<Map>) -> Result<Maps, Error> {
        let mut get = |n: &str| take(n).ok_or_else(|| Error(format!("the program has no map {n}")));
        let services = get("services")?;
        let reals = get("reals")?;
        let counters = get("counters")?;
        let Map::Array(tables) = get("tables")? else {
            return Err(Error("map tables is not an array".into()));
        };
        let handles = vec![
            ("services", handle(&services)?),
            ("reals", handle(&reals)?),
            ("counters", handle(&counters)?),
            ("tables", dup(&tables)?),
        ];
        let mut maps = Maps::assemble(services, reals, counters, tables)?;
        maps.handles = handles;
        Ok(maps)
    }

    /// Pins every map in `dir`.
    pub fn pin(&self, dir: &Path) -> Result<(), Error> {
        for (n, m) in &self.handles {
            m.pin(dir.join(n))
                .map_err(err(&format!("pin {}", dir.join(n).display())))?;
        }
        Ok(())
    }

    /// Opens the maps pinned in `dir`.
    pub fn from_pins(dir: &Path) -> Result<Maps, Error> {
        let open = |n: &str| {
            MapData::from_pin(dir.join(n)).map_err(err(&format!("open {}", dir.join(n).display())))
        };
        let map = |n: &str| Map::from_map_data(open(n)?).map_err(err(n));
        Maps::assemble(
            map("services")?,
            map("reals")?,
            map("counters")?,
            open("tables")?,
        )
    }

    fn assemble(services: Map, reals: Map, counters: Map, tables: MapData) -> Result<Maps, Error> {
        let services: HashMap<MapData, SvcKey, SvcVal> =
            services.try_into().map_err(err("map services"))?;
        let reals: Array<MapData, Real> = reals.try_into().map_err(err("map reals"))?;
        let counters: PerCpuArray<MapData, Counter> =
            counters.try_into().map_err(err("map counters"))?;
        let info = tables.info().map_err(err("map tables"))?;
        let capacity = Capacity {
            tables: info.max_entries() * 2,
            reals: reals.len(),
            services: counters.len(),
        };
        let len = capacity.tables as usize * SLOT;
        // SAFETY: the map was created with BPF_F_MMAPABLE and this length; the kernel
        // reads it concurrently, which is why a table is only ever written where no
        // installed service points.
        let mmap = unsafe {
            MmapOptions::new()
                .len(len)
                .map_mut(tables.fd().as_fd().as_raw_fd())
        }
        .map_err(err("map the tables into memory"))?;
        Ok(Maps {
            services,
            reals,
            counters,
            tables: mmap,
            handles: Vec::new(),
            capacity,
        })
    }

    /// What each map holds.
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    /// The installed services.
    pub fn installed(&self) -> Result<StdHashMap<SvcKey, SvcVal>, Error> {
        self.services
            .iter()
            .collect::<Result<_, _>>()
            .map_err(err("read map services"))
    }

    /// Sums every CPU's counters of service slot `index`.
    pub fn counter(&self, index: u32) -> Result<Counter, Error> {
        let per_cpu = self
            .counters
            .get(&index, 0)
            .map_err(err("read map counters"))?;
        Ok(per_cpu.iter().fold(Counter::default(), |a, c| Counter {
            packets: a.packets + c.packets,
            bytes: a.bytes + c.bytes,
        }))
    }

    /// Copies the counters of `from`'s services into the same services here (by key),
    /// so that swapping in a larger program does not reset them.
    pub fn take_counters(&mut self, from: &Maps) -> Result<(), Error> {
        let old = from.installed()?;
        for (k, v) in self.installed()? {
            if let Some(o) = old.get(&k) {
                let values = from
                    .counters
                    .get(&o.index, 0)
                    .map_err(err("read map counters"))?;
                self.counters
                    .set(v.index, values, 0)
                    .map_err(err("write map counters"))?;
            }
        }
        Ok(())
    }

    /// Points one service at its new table: one map update.
    fn switch(
        &mut self,
        k: &SvcKey,
        g: &Group,
        at: &crate::plan::Placed,
        plan: &Plan,
        alloc: &Allocation,
        cpus: usize,
    ) -> Result<(), Error> {
        let index = match alloc.counters.get(k) {
            Some(&i) => {
                let zero = PerCpuValues::try_from(vec![Counter::default(); cpus])
                    .map_err(err("counters"))?;
                self.counters
                    .set(i, zero, 0)
                    .map_err(err(&format!("reset the counters of {k}")))?;
                i
            }
            None => plan
                .index_of(k)
                .ok_or_else(|| Error(format!("{k} has no counter slot")))?,
        };
        let val = SvcVal {
            table_offset: at.table_offset,
            table_size: g.table.len() as u32,
            index,
            forwarding: g.forwarding,
            hash_ports: u8::from(g.hash_ports),
            pad: [0; 2],
            first_real: at.first_real,
            reals: g.reals.len() as u32,
            fingerprint: g.fingerprint,
        };
        self.services
            .insert(k, val, 0)
            .map_err(err(&format!("switch {k}")))
    }

    /// Writes a planned update: removals first, then new reals and tables beside the
    /// installed ones, then one map update per service switches it to its new table.
    pub fn write(
        &mut self,
        groups: &[Group],
        plan: &Plan,
        alloc: &Allocation,
    ) -> Result<(), Error> {
        for (n, k) in plan.removed.iter().enumerate() {
            self.services.remove(k).map_err(|e| {
                Error(format!(
                    "remove {k}: {e}; {n} of {} removed services were removed before it, \
                     nothing else was changed",
                    plan.removed.len()
                ))
            })?;
        }
        let cpus = aya::util::nr_cpus().map_err(|(w, e)| Error(format!("{w}: {e}")))?;
        for (w, at) in plan.writes.iter().zip(&alloc.placed) {
            let g = &groups[w.group];
            for (i, r) in g.reals.iter().enumerate() {
                self.reals
                    .set(at.first_real + i as u32, r, 0)
                    .map_err(|e| {
                        Error(format!(
                            "write map reals: {e}; no service was switched (the reals written so \
                         far are unused), removed services are gone"
                        ))
                    })?;
            }
            let start = at.table_offset as usize * SLOT;
            let dst = &mut self.tables[start..start + g.table.len() * SLOT];
            for (i, d) in dst.chunks_exact_mut(SLOT).enumerate() {
                let abs = match g.real_at(i) {
                    NO_REAL => NO_REAL,
                    r => at.first_real + r,
                };
                d.copy_from_slice(&abs.to_le_bytes());
            }
        }
        // Everything above is in place before any service points at it.
        std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
        let total: usize = plan.writes.iter().map(|w| w.keys.len()).sum();
        let mut switched = 0;
        for (w, at) in plan.writes.iter().zip(&alloc.placed) {
            let g = &groups[w.group];
            for k in &w.keys {
                self.switch(k, g, at, plan, alloc, cpus).map_err(|e| {
                    Error(format!(
                        "{e}; {switched} of {total} new or changed services were switched \
                         before it (each service is whole: old or new); removed services are \
                         gone; run apply again to finish"
                    ))
                })?;
                switched += 1;
            }
        }
        Ok(())
    }
}
