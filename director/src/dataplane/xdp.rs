//! The XDP load balancer: a service's new Maglev table is written beside the installed
//! ones and switched with one map update; the other services are not touched. The start
//! reads which reals hold slots in the installed tables.

use std::collections::HashSet;
use std::net::SocketAddr;

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;
use lvsc_xdp_common::SvcKey;
use lvsc_xdp_loader::install::{self, Attachment};

use super::{Dataplane, Error, Serving};

/// The XDP program on one interface.
pub struct Xdp {
    director: DirectorView,
    at: Attachment,
}

impl Xdp {
    /// The program on `at`, for `director`'s services.
    pub fn new(director: DirectorView, at: Attachment) -> Xdp {
        Xdp { director, at }
    }
}

fn summary(r: &install::Report) -> String {
    let c = &r.changes;
    format!(
        "XDP {}: {} added, {} changed, {} removed, {} slots written",
        r.action,
        c.added.len(),
        c.changed.len(),
        c.removed.len(),
        c.slots_written
    )
}

impl Dataplane for Xdp {
    fn serving(&mut self, services: &[Service]) -> Result<Serving, Error> {
        let installed = install::serving(&self.at)?;
        let mut out = Serving::new();
        for s in services {
            let mut eps = HashSet::new();
            for (ip, port, proto) in lvsc_xdp_image::image::match_keys(s) {
                for addr in installed
                    .get(&SvcKey::new(ip, port, proto))
                    .into_iter()
                    .flatten()
                {
                    // The program rewrites no port: a real's endpoint is the service's.
                    for r in s.reals.iter().filter(|r| r.ip == *addr) {
                        eps.insert(SocketAddr::new(r.ip, r.port));
                    }
                }
            }
            out.insert(s.name.clone(), eps);
        }
        Ok(out)
    }

    fn converge(&mut self, director: &DirectorView) -> Result<String, Error> {
        self.director = director.clone();
        let report = lvsc_xdp_loader::director::install(director, &self.at, false)?;
        Ok(summary(&report))
    }

    fn update(&mut self, services: &[Service]) -> Result<String, Error> {
        let report = lvsc_xdp_loader::director::update(&self.director, services, &self.at)?;
        Ok(summary(&report))
    }

    fn counters(&mut self, services: &[Service]) -> Vec<(String, u64, u64)> {
        let Ok(mut stats) = install::stats(&self.at) else {
            return Vec::new();
        };
        lvsc_xdp_loader::director::name_services(&mut stats, services);
        let mut by_name: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
        for s in stats {
            if let Some(n) = s.name {
                let e = by_name.entry(n).or_default();
                e.0 += s.packets;
                e.1 += s.bytes;
            }
        }
        by_name.into_iter().map(|(n, (p, b))| (n, p, b)).collect()
    }
}
