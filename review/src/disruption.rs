//! How many flows a change moves: for each service whose real is picked from a lookup
//! table (Maglev on XDP and nftables, IPVS `mh`), the share of the table's slots whose
//! real changes, beside the least any table could move (the weight that changes hands).
//! `lvsc plan --max-disruption` gates a change on it.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use lvsc_compiler::Cluster;
use lvsc_compiler::ir::{Dataplane, Service};
use serde::Serialize;

/// The flows one service's change moves on one data plane.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Disruption {
    /// The service.
    pub service: String,
    /// The table: `maglev` (XDP), `nftables` or `ipvs-mh`.
    pub table: &'static str,
    /// Its slots.
    pub slots: usize,
    /// Slots whose real changes.
    pub moved: usize,
    /// `moved / slots`, in percent.
    pub percent: f64,
    /// The least any table could move: the share of weight that changes hands, in percent.
    pub minimum_percent: f64,
}

/// Each table a service of both `old` and `new` is picked from, with the slots that move;
/// services whose slots all stay are left out.
pub fn disruption(old: &Cluster, new: &Cluster) -> Vec<Disruption> {
    let mut planes: Vec<Dataplane> = new.balancer.directors.iter().map(|d| d.dataplane).collect();
    planes.sort();
    planes.dedup();
    let before: BTreeMap<&str, &Service> =
        old.services.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut out = Vec::new();
    for s in new.services.iter() {
        let Some(o) = before.get(s.name.as_str()) else {
            continue;
        };
        for &p in &planes {
            let Some((table, a, b)) = tables(p, o, s) else {
                continue;
            };
            let slots = a.len().max(b.len());
            let moved = (0..slots)
                .filter(|&i| a.get(i) != b.get(i) || a.len() != b.len())
                .count();
            if moved == 0 {
                continue;
            }
            out.push(Disruption {
                service: s.name.clone(),
                table,
                slots,
                moved,
                percent: 100.0 * moved as f64 / slots as f64,
                minimum_percent: minimum(o, s),
            });
        }
    }
    out
}

/// A lookup table as the real each slot names (`None`: no real has weight).
type Slots = Vec<Option<SocketAddr>>;

/// The slots of `s`'s table on data plane `p` before and after, each as its real's
/// endpoint; `None` where `p` picks reals by no table.
fn tables(p: Dataplane, old: &Service, new: &Service) -> Option<(&'static str, Slots, Slots)> {
    let at =
        |s: &Service, i: Option<usize>| i.map(|i| SocketAddr::new(s.reals[i].ip, s.reals[i].port));
    let maglev = |s: &Service, t: Option<Vec<u32>>, size: u32| match t {
        Some(t) => t.into_iter().map(|i| at(s, Some(i as usize))).collect(),
        None => vec![None; size as usize],
    };
    match p {
        Dataplane::Xdp => Some((
            "maglev",
            maglev(old, lvsc_xdp_image::explain::table(old), old.table_size),
            maglev(new, lvsc_xdp_image::explain::table(new), new.table_size),
        )),
        Dataplane::Nftables => Some((
            "nftables",
            maglev(
                old,
                lvsc_nftables::dataplane::slot_reals(old),
                lvsc_nftables::dataplane::slot_count(old),
            ),
            maglev(
                new,
                lvsc_nftables::dataplane::slot_reals(new),
                lvsc_nftables::dataplane::slot_count(new),
            ),
        )),
        Dataplane::Ipvs if new.scheduler.name == "mh" && old.scheduler.name == "mh" => Some((
            "ipvs-mh",
            lvsc_ipvs::explain::mh_slots(old)
                .into_iter()
                .map(|i| at(old, i))
                .collect(),
            lvsc_ipvs::explain::mh_slots(new)
                .into_iter()
                .map(|i| at(new, i))
                .collect(),
        )),
        Dataplane::Ipvs => None,
    }
}

/// Half the sum of the changes of each real's share of the weight, in percent: what
/// must move at least, whatever the table.
fn minimum(old: &Service, new: &Service) -> f64 {
    let shares = |s: &Service| -> BTreeMap<SocketAddr, f64> {
        let w = s.table_weights();
        let total: u32 = w.iter().sum();
        let mut out = BTreeMap::new();
        for (r, w) in s.reals.iter().zip(w) {
            if total > 0 {
                *out.entry(SocketAddr::new(r.ip, r.port)).or_insert(0.0) +=
                    f64::from(w) / f64::from(total);
            }
        }
        out
    };
    let (a, b) = (shares(old), shares(new));
    let keys: std::collections::BTreeSet<&SocketAddr> = a.keys().chain(b.keys()).collect();
    let diff: f64 = keys
        .into_iter()
        .map(|k| (a.get(k).unwrap_or(&0.0) - b.get(k).unwrap_or(&0.0)).abs())
        .sum();
    50.0 * diff
}
