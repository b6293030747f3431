//! The nftables data plane as the kernel holds it, and the smallest change to a new
//! configuration: while the table has the configuration's shape (the same maps, sets and
//! rules), only the slots that move and the affinity sets of reals taken out change, in
//! one `nft -f` transaction; otherwise the whole table is replaced in one. `lvsc apply`
//! and `lvsc run` both change the data plane through here, so a weight change never
//! drops a persistent client's affinity entry.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::process::{Command, Stdio};

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;

use crate::DATAPLANE_TABLE;
use crate::apply::{Apply, set_sysctls, sysctls};
use crate::dataplane::{map_name, service_changes, shape_mark, slots};

/// The kernel's table: each map's slots (`addr . port` or `addr`) and the shape mark.
#[derive(Clone, Debug, Default)]
pub struct Live {
    /// Map name → slot → real.
    pub slots: HashMap<String, BTreeMap<u32, String>>,
    /// The shape mark of the table, when there is a table.
    pub shape: Option<String>,
}

impl Live {
    /// Reads the kernel's table (empty when there is none).
    pub fn read() -> Result<Live, String> {
        let out = Command::new("nft")
            .args(["-j", "list", "table", "inet", DATAPLANE_TABLE])
            .output()
            .map_err(|e| format!("running nft: {e}"))?;
        let mut live = Live::default();
        if !out.status.success() {
            return Ok(live); // no table yet
        }
        let doc: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("nft -j: {e}"))?;
        for item in doc["nftables"].as_array().into_iter().flatten() {
            if let Some(set) = item.get("set")
                && let Some(name) = set["name"].as_str()
                && name.starts_with("lvsc_shape_")
            {
                live.shape = Some(name.to_string());
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
            live.slots.insert(name.to_string(), slots);
        }
        Ok(live)
    }

    /// Makes the kernel's table `view`'s: element changes when the shape holds, else
    /// the whole table in one transaction; the kernel settings either way (someone may
    /// have reset `send_redirects` since). Says what it did.
    pub fn converge(&mut self, cluster: &str, view: &DirectorView) -> Result<String, String> {
        let mark = shape_mark(view);
        if self.shape.as_deref() == Some(mark.as_str()) {
            set_sysctls(&sysctls(view)).map_err(|e| e.to_string())?;
            let (script, changed) = self.changes(&view.services);
            if !script.is_empty() {
                run_nft(&script)?;
            }
            self.remember(&view.services);
            return Ok(format!("nftables: {changed} maps updated"));
        }
        let apply = Apply::new(cluster, view).map_err(|r| {
            r.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        apply.run().map_err(|e| e.to_string())?;
        self.slots = view
            .services
            .iter()
            .map(|s| (map_name(s), slots(s)))
            .collect();
        self.shape = Some(mark);
        Ok("nftables: table loaded in one transaction".into())
    }

    /// Changes the slots of `services` (same shape) in one transaction; says how many
    /// slots of how many maps moved.
    pub fn update(&mut self, services: &[Service]) -> Result<String, String> {
        let mut moved = 0;
        for s in services {
            let new = slots(s);
            let old = self.slots.get(&map_name(s)).cloned().unwrap_or_default();
            moved += old.iter().filter(|(k, v)| new.get(k) != Some(v)).count()
                + new.keys().filter(|k| !old.contains_key(k)).count();
        }
        let (script, n) = self.changes(services);
        if n == 0 {
            return Ok("nftables: unchanged".into());
        }
        run_nft(&script)?;
        self.remember(services);
        Ok(match n {
            1 => format!("nftables: {moved} slots of one map"),
            n => format!("nftables: {moved} slots of {n} maps"),
        })
    }

    /// The transaction that brings `services` from the slots the kernel has, and how
    /// many maps it changes.
    fn changes(&self, services: &[Service]) -> (String, usize) {
        let mut script = String::new();
        let mut changed = 0;
        for s in services {
            let old = self.slots.get(&map_name(s)).cloned().unwrap_or_default();
            if let Some(c) = service_changes(s, &old, &slots(s)) {
                script += &c;
                changed += 1;
            }
        }
        (script, changed)
    }

    fn remember(&mut self, services: &[Service]) {
        for s in services {
            self.slots.insert(map_name(s), slots(s));
        }
    }
}

/// Runs one `nft -f` transaction.
fn run_nft(script: &str) -> Result<(), String> {
    let mut nft = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("running nft: {e}"))?;
    let written = nft
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(script.as_bytes());
    let out = nft.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if written.is_err() || !out.status.success() {
        return Err(format!(
            "nft refused the change (nothing of it was applied): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
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
