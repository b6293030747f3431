//! BGP announcement follows health: a VIP of a service announced over BGP is held on
//! `lo` (where the routing daemon picks it up as a route) while one of its services has
//! quorum and is installed in the data plane, and removed otherwise and when the loop
//! stops, so the routers send its flows to the other directors.

use std::collections::BTreeSet;
use std::net::IpAddr;

use lvsc_compiler::ir::{Announce, InterfaceAddress};
use lvsc_compiler::views::ANNOUNCE_INTERFACE;
use serde_json::json;

use crate::events::emit;

/// The VIPs this director announces now.
#[derive(Debug, Default)]
pub struct Announcer {
    /// The VIPs this director may announce (none without `bgp`).
    vips: BTreeSet<IpAddr>,
    /// What is on `lo` now, as far as this loop knows (`None` before the first sync).
    held: Option<BTreeSet<IpAddr>>,
}

/// One service as the announcer sees it.
pub struct ServiceState {
    /// Its VIPs.
    pub vips: Vec<IpAddr>,
    /// Who announces them.
    pub announce: Announce,
    /// Whether it has quorum.
    pub quorum_up: bool,
    /// Whether the data plane carries it.
    pub installed: bool,
}

impl Announcer {
    /// The announcer for a director announcing `vips` over BGP (empty: nothing to do).
    pub fn new(vips: &[IpAddr]) -> Announcer {
        Announcer {
            vips: vips.iter().copied().collect(),
            held: None,
        }
    }

    /// A reloaded file announces `vips`: those it no longer names are withdrawn now.
    pub fn retarget(&mut self, vips: &[IpAddr]) {
        let new: BTreeSet<IpAddr> = vips.iter().copied().collect();
        let gone: BTreeSet<IpAddr> = self.vips.difference(&new).copied().collect();
        if !gone.is_empty() {
            let kept = self.held.as_ref().map(|h| h - &gone);
            self.vips = gone;
            self.held = None;
            self.set(BTreeSet::new(), "reload");
            self.held = kept;
        }
        self.vips = new;
    }

    /// Whether this director announces anything.
    pub fn active(&self) -> bool {
        !self.vips.is_empty()
    }

    /// Holds the VIPs of the healthy installed services and removes the others.
    pub fn sync(&mut self, services: impl IntoIterator<Item = ServiceState>) {
        if !self.active() {
            return;
        }
        let mut want = BTreeSet::new();
        for s in services {
            if s.announce == Announce::Bgp && s.quorum_up && s.installed {
                want.extend(s.vips.iter().filter(|v| self.vips.contains(v)));
            }
        }
        self.set(want, "health");
    }

    /// Withdraws every VIP (the loop stops), whatever an earlier run left too.
    pub fn withdraw_all(&mut self) {
        if self.active() {
            self.held = None;
            self.set(BTreeSet::new(), "stop");
        }
    }

    fn set(&mut self, want: BTreeSet<IpAddr>, why: &str) {
        let (add, remove): (Vec<IpAddr>, Vec<IpAddr>) = match &self.held {
            Some(held) => (
                want.difference(held).copied().collect(),
                held.difference(&want).copied().collect(),
            ),
            // Nothing known (the first sync, or after an error): set every VIP.
            None => (
                want.iter().copied().collect(),
                self.vips.difference(&want).copied().collect(),
            ),
        };
        if add.is_empty() && remove.is_empty() {
            return;
        }
        let on_lo = |ips: &[IpAddr]| -> Vec<InterfaceAddress> {
            ips.iter()
                .map(|&addr| InterfaceAddress {
                    addr,
                    prefix: if addr.is_ipv4() { 32 } else { 128 },
                    interface: ANNOUNCE_INTERFACE.into(),
                })
                .collect()
        };
        let added = lvsc_ipvs::vip::hold(&on_lo(&add));
        let removed = lvsc_ipvs::vip::release(&on_lo(&remove));
        let announced: Vec<IpAddr> = want.iter().copied().collect();
        match (added, removed) {
            (Ok(()), Ok(())) => {
                self.held = Some(want);
                emit(
                    "announce",
                    json!({ "why": why, "announced": announced, "added": add, "withdrawn": remove }),
                );
            }
            (a, r) => {
                self.held = None;
                let errors: Vec<String> = [a.err(), r.err()]
                    .into_iter()
                    .flatten()
                    .map(|e| e.to_string())
                    .collect();
                emit(
                    "error",
                    json!({ "what": "announce", "error": errors.join("; "), "wanted": announced }),
                );
            }
        }
    }
}
