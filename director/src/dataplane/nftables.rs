//! The nftables data plane: a real in or out is a change of its service's slot map, one
//! `nft -f` transaction of element deletes and adds. The rules and maps themselves are
//! reloaded (in one transaction) only when the configuration's shape changes.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;
use lvsc_nftables::DATAPLANE_TABLE;
use lvsc_nftables::dataplane::{element_changes, map_name, shape_mark, slots};

use super::{Dataplane, Error, Serving};

/// The nftables data plane of one director, with the slots this process last set.
pub struct Nftables {
    cluster: String,
    director: DirectorView,
    /// Map name → slot → `addr . port`, as the kernel holds them.
    slots: HashMap<String, BTreeMap<u32, String>>,
    /// The shape the kernel's table has, when known.
    shape: Option<String>,
}

impl Nftables {
    /// The data plane for `director` of `cluster`.
    pub fn new(cluster: &str, director: DirectorView) -> Nftables {
        Nftables {
            cluster: cluster.to_string(),
            director,
            slots: HashMap::new(),
            shape: None,
        }
    }

    /// Reads the kernel's table: each map's elements, and the shape mark.
    fn read(&mut self) -> Result<(), Error> {
        let out = Command::new("nft")
            .args(["-j", "list", "table", "inet", DATAPLANE_TABLE])
            .output()
            .map_err(|e| Error::Nftables(format!("running nft: {e}")))?;
        self.slots.clear();
        self.shape = None;
        if !out.status.success() {
            return Ok(()); // no table yet
        }
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| Error::Nftables(format!("nft -j: {e}")))?;
        for item in doc["nftables"].as_array().into_iter().flatten() {
            if let Some(set) = item.get("set")
                && let Some(name) = set["name"].as_str()
                && name.starts_with("lvsc_shape_")
            {
                self.shape = Some(name.to_string());
            }
            let Some(map) = item.get("map") else { continue };
            let Some(name) = map["name"].as_str() else {
                continue;
            };
            let mut slots = BTreeMap::new();
            for e in map["elem"].as_array().into_iter().flatten() {
                let (Some(k), Some(v)) = (e[0].as_u64(), element_value(&e[1])) else {
                    continue;
                };
                slots.insert(k as u32, v);
            }
            self.slots.insert(name.to_string(), slots);
        }
        Ok(())
    }

    fn run_nft(&self, script: &str) -> Result<(), Error> {
        let mut nft = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Nftables(format!("running nft: {e}")))?;
        let written = nft
            .stdin
            .take()
            .expect("stdin was piped")
            .write_all(script.as_bytes());
        let out = nft
            .wait_with_output()
            .map_err(|e| Error::Nftables(format!("nft: {e}")))?;
        if written.is_err() || !out.status.success() {
            return Err(Error::Nftables(format!(
                "nft refused the change (nothing of it was applied): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }
}

/// An element's value as the slot table writes it: `addr . port` or `addr`.
fn element_value(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(a) => Some(a.clone()),
        serde_json::Value::Object(o) => {
            let parts = o.get("concat")?.as_array()?;
            let addr = parts.first()?.as_str()?;
            let port = parts.get(1)?.as_u64()?;
            Some(format!("{addr} . {port}"))
        }
        _ => None,
    }
}

/// The endpoint a slot names.
fn endpoint(v: &str) -> Option<SocketAddr> {
    let (addr, port) = v.split_once(" . ").unwrap_or((v, "0"));
    Some(SocketAddr::new(
        addr.parse::<IpAddr>().ok()?,
        port.parse().ok()?,
    ))
}

impl Dataplane for Nftables {
    fn serving(&mut self, services: &[Service]) -> Result<Serving, Error> {
        self.read()?;
        let mut out = Serving::new();
        for s in services {
            let eps = self
                .slots
                .get(&map_name(s))
                .into_iter()
                .flat_map(|m| m.values())
                .filter_map(|v| endpoint(v))
                .collect();
            out.insert(s.name.clone(), eps);
        }
        Ok(out)
    }

    fn converge(&mut self, director: &DirectorView) -> Result<String, Error> {
        self.director = director.clone();
        let view = director;
        let services = &director.services;
        let mark = shape_mark(view);
        if self.shape.is_none() && self.slots.is_empty() {
            self.read()?;
        }
        if self.shape.as_deref() == Some(mark.as_str()) {
            // The same rules and maps: only elements change.
            let mut script = String::new();
            let mut changed = 0;
            for s in services {
                let map = map_name(s);
                let new = slots(s);
                let old = self.slots.get(&map).cloned().unwrap_or_default();
                if let Some(c) = element_changes(&map, &old, &new) {
                    script += &c;
                    changed += 1;
                }
            }
            if !script.is_empty() {
                self.run_nft(&script)?;
            }
            for s in services {
                self.slots.insert(map_name(s), slots(s));
            }
            return Ok(format!("nftables: {changed} maps updated"));
        }
        let apply = lvsc_nftables::apply::Apply::new(&self.cluster, view).map_err(|r| {
            Error::Nftables(
                r.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        apply.run().map_err(|e| Error::Nftables(e.to_string()))?;
        self.slots = services.iter().map(|s| (map_name(s), slots(s))).collect();
        self.shape = Some(mark);
        Ok("nftables: table loaded in one transaction".into())
    }

    fn update(&mut self, services: &[Service]) -> Result<String, Error> {
        // One nft transaction for every map that changes.
        let mut script = String::new();
        let mut moved = 0;
        let mut maps = Vec::new();
        for s in services {
            let map = map_name(s);
            let new = slots(s);
            let old = self.slots.get(&map).cloned().unwrap_or_default();
            if let Some(part) = element_changes(&map, &old, &new) {
                script += &part;
                moved += old.iter().filter(|(k, v)| new.get(k) != Some(v)).count()
                    + new.keys().filter(|k| !old.contains_key(k)).count();
                maps.push((map, new));
            }
        }
        if maps.is_empty() {
            return Ok("nftables: unchanged".into());
        }
        self.run_nft(&script)?;
        let n = maps.len();
        self.slots.extend(maps);
        Ok(match n {
            1 => format!("nftables: {moved} slots of one map"),
            n => format!("nftables: {moved} slots of {n} maps"),
        })
    }
}
