//! The nftables data plane: a real in or out is a change of its service's slot map, one
//! `nft -f` transaction of element deletes and adds (and, for a persistent service, a
//! flush of the affinity set of a real taken out). The rules and maps themselves are
//! reloaded (in one transaction) only when the configuration's shape changes. The
//! kernel side is `lvsc_nftables::live`, which `lvsc apply` uses too.

use std::net::{IpAddr, SocketAddr};

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;
use lvsc_nftables::dataplane::map_name;
use lvsc_nftables::live::Live;

use super::{Dataplane, Error, Serving};

/// The nftables data plane of one director, with the slots this process last set.
pub struct Nftables {
    cluster: String,
    director: DirectorView,
    /// The kernel's table as last read or set.
    live: Option<Live>,
}

impl Nftables {
    /// The data plane for `director` of `cluster`.
    pub fn new(cluster: &str, director: DirectorView) -> Nftables {
        Nftables {
            cluster: cluster.to_string(),
            director,
            live: None,
        }
    }

    /// The kernel's table, read when this process has not yet.
    fn live(&mut self) -> Result<&mut Live, Error> {
        if self.live.is_none() {
            self.live = Some(Live::read().map_err(Error::Nftables)?);
        }
        Ok(self.live.as_mut().expect("just read"))
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
        self.live = Some(Live::read().map_err(Error::Nftables)?);
        let live = self.live.as_ref().expect("just read");
        let mut out = Serving::new();
        for s in services {
            let eps = live
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
        let cluster = self.cluster.clone();
        self.live()?
            .converge(&cluster, director)
            .map_err(Error::Nftables)
    }

    fn update(&mut self, services: &[Service]) -> Result<String, Error> {
        self.live()?.update(services).map_err(Error::Nftables)
    }
}
