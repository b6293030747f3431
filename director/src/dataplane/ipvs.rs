//! IPVS over generic netlink: the table as last read, changed one service at a time by
//! the change set `lvsc apply` would send (a real out is weight 0, so its connections
//! finish; a real removed from the file is removed). Without VRRP it holds the VIPs.

use std::net::SocketAddr;

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;
use lvsc_ipvs::director::{self, Applied, Options};
use lvsc_ipvs::{Kernel, Netlink, Table, desired};

use super::{Dataplane, Error, Serving};

/// The kernel's IPVS table, as this process last read and changed it.
pub struct Ipvs {
    nl: Netlink,
    live: Table,
    director: DirectorView,
}

impl Ipvs {
    /// Opens the IPVS family and reads the table.
    pub fn open(director: DirectorView) -> Result<Ipvs, Error> {
        let mut nl = Netlink::open()?;
        let live = nl.dump()?;
        Ok(Ipvs { nl, live, director })
    }
}

/// An apply's outcome as a summary line, or the refusal as an error.
fn outcome(done: Applied) -> Result<String, Error> {
    match done.refused {
        None => Ok(match done.steps.len() {
            1 => "1 IPVS step".to_string(),
            n => format!("{n} IPVS steps"),
        }),
        Some(r) => Err(Error::IpvsRefused {
            step: done.steps[r.at].to_string(),
            error: r.error,
        }),
    }
}

impl Dataplane for Ipvs {
    fn serving(&mut self, services: &[Service]) -> Result<Serving, Error> {
        self.live = self.nl.dump()?;
        let mut out = Serving::new();
        for s in services {
            let want = desired(std::slice::from_ref(s));
            let Some(key) = want.services.keys().next() else {
                continue;
            };
            let serving = self.live.services.get(key).map(|vs| {
                vs.dests
                    .values()
                    .filter(|d| d.weight > 0)
                    .map(|d| SocketAddr::new(d.addr, d.port))
                    .collect()
            });
            out.insert(s.name.clone(), serving.unwrap_or_default());
        }
        Ok(out)
    }

    fn converge(&mut self, view: &DirectorView) -> Result<String, Error> {
        self.director = view.clone();
        // Without VRRP the director holds its VIPs itself (as `lvsc apply` does); with
        // VRRP keepalived moves them to the master.
        if view.vrrp.is_none() {
            lvsc_ipvs::vip::hold(&view.floating)?;
        }
        let opts = Options {
            atomic: false,
            drain: false,
        };
        let done = director::apply(&mut self.nl, view, opts);
        self.live = self.nl.dump()?;
        outcome(done?)
    }

    fn update(&mut self, services: &[Service]) -> Result<String, Error> {
        outcome(director::update_services(
            &mut self.nl,
            &mut self.live,
            services,
        )?)
    }
}
