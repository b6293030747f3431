//! The program's maps, opened from a freshly loaded object or from their pins, and the
//! writes that install services into them.

use std::collections::HashMap as StdHashMap;
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;

use aya::maps::{Array, HashMap, Map, MapData, PerCpuArray, PerCpuValues};
use memmap2::{MmapMut, MmapOptions};

use lvsc_xdp_common::{Counter, NO_REAL, Real, SvcKey, SvcVal};

use crate::Error;
use crate::changes::{Allocation, ChangeSet, Placed};
use crate::error::{io, map};
use crate::groups::Group;
use crate::space::Capacity;

/// Names of the program's maps (backends/xdp/program), as pinned.
pub const NAMES: [&str; 5] = ["services", "reals", "tables", "counters", "flows"];

/// Bytes per table slot in memory: the map's 8-byte elements hold two slots each.
const SLOT: usize = 4;

/// The four maps, typed; `tables` is written through memory.
pub struct Maps {
    services: HashMap<MapData, SvcKey, SvcVal>,
    reals: Array<MapData, Real>,
    counters: PerCpuArray<MapData, Counter>,
    /// The tables map, mapped into memory on first use (an unchanged apply never
    /// touches it, and mapping hundreds of megabytes costs page-table work).
    tables: std::cell::OnceCell<MmapMut>,
    /// The tables map itself, for the mapping.
    tables_map: MapData,
    /// A second handle on each map, for pinning.
    handles: Vec<(&'static str, MapData)>,
    capacity: Capacity,
}

fn dup(m: &MapData) -> Result<MapData, Error> {
    let fd = m
        .fd()
        .as_fd()
        .try_clone_to_owned()
        .map_err(io("dup a map"))?;
    MapData::from_fd(fd).map_err(map("reopen a map"))
}

fn handle(name: &'static str, m: &Map) -> Result<MapData, Error> {
    match m {
        Map::HashMap(d) | Map::Array(d) | Map::PerCpuArray(d) | Map::LruHashMap(d) => dup(d),
        _ => Err(Error::WrongMapKind(name)),
    }
}

impl Maps {
    /// Opens the maps of a loaded object.
    pub fn from_maps(mut take: impl FnMut(&str) -> Option<Map>) -> Result<Maps, Error> {
        let mut get = |n: &'static str| take(n).ok_or(Error::NoMap(n));
        let services = get("services")?;
        let reals = get("reals")?;
        let counters = get("counters")?;
        // The connection table: the program alone reads and writes it; the loader only
        // pins it (and hands it to a larger program that replaces this one).
        let flows = get("flows")?;
        let Map::Array(tables) = get("tables")? else {
            return Err(Error::WrongMapKind("tables"));
        };
        let handles = vec![
            ("services", handle("services", &services)?),
            ("reals", handle("reals", &reals)?),
            ("counters", handle("counters", &counters)?),
            ("tables", dup(&tables)?),
            ("flows", handle("flows", &flows)?),
        ];
        let mut maps = Maps::assemble(services, reals, counters, tables)?;
        maps.handles = handles;
        Ok(maps)
    }

    /// Pins every map in `dir`.
    pub fn pin(&self, dir: &Path) -> Result<(), Error> {
        for (n, m) in &self.handles {
            m.pin(dir.join(n)).map_err(|source| Error::Pin {
                path: dir.join(n),
                source,
            })?;
        }
        Ok(())
    }

    /// Opens the maps pinned in `dir`.
    pub fn from_pins(dir: &Path) -> Result<Maps, Error> {
        let open = |n: &str| {
            MapData::from_pin(dir.join(n)).map_err(map(format!("open {}", dir.join(n).display())))
        };
        let typed = |n: &'static str| {
            Map::from_map_data(open(n)?).map_err(|source| Error::MapType { name: n, source })
        };
        Maps::assemble(
            typed("services")?,
            typed("reals")?,
            typed("counters")?,
            open("tables")?,
        )
    }

    fn assemble(services: Map, reals: Map, counters: Map, tables: MapData) -> Result<Maps, Error> {
        let services: HashMap<MapData, SvcKey, SvcVal> =
            services.try_into().map_err(|source| Error::MapType {
                name: "services",
                source,
            })?;
        let reals: Array<MapData, Real> = reals.try_into().map_err(|source| Error::MapType {
            name: "reals",
            source,
        })?;
        let counters: PerCpuArray<MapData, Counter> =
            counters.try_into().map_err(|source| Error::MapType {
                name: "counters",
                source,
            })?;
        let info = tables.info().map_err(map("map tables"))?;
        let capacity = Capacity {
            tables: info.max_entries() * 2,
            reals: reals.len(),
            services: counters.len(),
        };
        Ok(Maps {
            services,
            reals,
            counters,
            tables: std::cell::OnceCell::new(),
            tables_map: tables,
            handles: Vec::new(),
            capacity,
        })
    }

    /// The tables map's memory, mapped on first use.
    fn tables(&self) -> Result<&MmapMut, Error> {
        if let Some(m) = self.tables.get() {
            return Ok(m);
        }
        let len = self.capacity.tables as usize * SLOT;
        // SAFETY: the map was created with BPF_F_MMAPABLE and this length; the kernel
        // reads it concurrently, which is why a table is only ever written where no
        // installed service points.
        let mmap = unsafe {
            MmapOptions::new()
                .len(len)
                .map_mut(self.tables_map.fd().as_fd().as_raw_fd())
        }
        .map_err(io("map the tables into memory"))?;
        Ok(self.tables.get_or_init(|| mmap))
    }

    /// The tables map's memory, writable.
    fn tables_mut(&mut self) -> Result<&mut MmapMut, Error> {
        self.tables()?;
        Ok(self.tables.get_mut().expect("mapped just now"))
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
            .map_err(map("read map services"))
    }

    /// The reals each installed service sends traffic to: those that hold a slot of its
    /// table (a real with weight 0 holds none).
    pub fn serving(&self) -> Result<StdHashMap<SvcKey, Vec<std::net::IpAddr>>, Error> {
        let mut out = StdHashMap::new();
        for (k, v) in self.installed()? {
            let mut held = std::collections::BTreeSet::new();
            let start = v.table_offset as usize * SLOT;
            let end = start + v.table_size as usize * SLOT;
            for slot in self
                .tables()?
                .get(start..end)
                .unwrap_or(&[])
                .chunks_exact(SLOT)
            {
                let i = u32::from_le_bytes(slot.try_into().expect("4 bytes"));
                if i != NO_REAL {
                    held.insert(i);
                }
            }
            let mut ips = Vec::new();
            for i in held {
                let r = self
                    .reals
                    .get(&i, 0)
                    .map_err(map(format!("read real {i} of {k}")))?;
                ips.push(lvsc_xdp_common::words_addr(r.addr, r.family));
            }
            out.insert(k, ips);
        }
        Ok(out)
    }

    /// Sums every CPU's counters of service slot `index`.
    pub fn counter(&self, index: u32) -> Result<Counter, Error> {
        let per_cpu = self
            .counters
            .get(&index, 0)
            .map_err(map("read map counters"))?;
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
                    .map_err(map("read map counters"))?;
                self.counters
                    .set(v.index, values, 0)
                    .map_err(map("write map counters"))?;
            }
        }
        Ok(())
    }

    /// Points one service at its new table: one map update.
    fn switch(
        &mut self,
        k: &SvcKey,
        g: &Group,
        at: &Placed,
        plan: &ChangeSet,
        alloc: &Allocation,
        cpus: usize,
    ) -> Result<(), Error> {
        let index = match alloc.counters.get(k) {
            Some(&i) => {
                let zero = PerCpuValues::try_from(vec![Counter::default(); cpus])
                    .map_err(|e| Error::Cpus(format!("counters for {cpus} CPUs: {e}")))?;
                self.counters
                    .set(i, zero, 0)
                    .map_err(map(format!("reset the counters of {k}")))?;
                i
            }
            None => plan
                .index_of(k)
                .ok_or_else(|| Error::NoCounterSlot(k.to_string()))?,
        };
        let val = SvcVal {
            table_offset: at.table_offset,
            table_size: g.table_size,
            index,
            forwarding: g.forwarding,
            hash: g.hash,
            host_bits: g.host_bits,
            pad: 0,
            first_real: at.first_real,
            reals: g.reals.len() as u32,
            fingerprint: g.fingerprint,
        };
        self.services
            .insert(k, val, 0)
            .map_err(map(format!("switch {k}")))
    }

    /// Writes a planned update: removals first, then new reals and tables beside the
    /// installed ones, then one map update per service switches it to its new table.
    pub fn write(
        &mut self,
        groups: &[Group],
        plan: &ChangeSet,
        alloc: &Allocation,
    ) -> Result<(), Error> {
        for (n, k) in plan.removed.iter().enumerate() {
            self.services.remove(k).map_err(|e| {
                map(format!("remove {k}"))(e).partial(format!(
                    "{n} of {} removed services were removed before it, nothing else was changed",
                    plan.removed.len()
                ))
            })?;
        }
        let cpus = aya::util::nr_cpus().map_err(|(w, e)| Error::Cpus(format!("{w}: {e}")))?;
        for (w, at) in plan.writes.iter().zip(&alloc.placed) {
            let g = &groups[w.group];
            for (i, r) in g.reals.iter().enumerate() {
                self.reals
                    .set(at.first_real + i as u32, r, 0)
                    .map_err(|e| {
                        map("write map reals")(e).partial(
                            "no service was switched (the reals written so far are unused), \
                             removed services are gone",
                        )
                    })?;
            }
            let start = at.table_offset as usize * SLOT;
            let dst = &mut self.tables_mut()?[start..start + g.table.len() * SLOT];
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
                    e.partial(format!(
                        "{switched} of {total} new or changed services were switched before it \
                         (each service is whole: old or new); removed services are gone; run \
                         apply again to finish"
                    ))
                })?;
                switched += 1;
            }
        }
        Ok(())
    }
}
