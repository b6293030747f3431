//! One director's whole install: its services become a map image, its reals' next-hop
//! MACs are looked up on the interface, and the result is installed (or planned).

use std::collections::HashMap;
use std::net::IpAddr;

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;
use lvsc_xdp_common::SvcKey;

use crate::Error;
use crate::groups;
use crate::install::{self, Attachment, Report, ServiceStats};

/// Installs `director`'s services on `at`; with `dry_run`, only says what would change.
pub fn install(director: &DirectorView, at: &Attachment, dry_run: bool) -> Result<Report, Error> {
    let sources: Vec<IpAddr> = director.addresses.iter().map(|a| a.addr).collect();
    let image = lvsc_xdp_image::image::build(&director.services, &sources)?;
    let macs = crate::neighbour::resolve(&at.interface, &groups::real_addresses(&image))?;
    let groups = groups::groups(&image, &macs)?;
    if dry_run {
        install::dry_run(at, &groups)
    } else {
        install::apply(at, &groups)
    }
}

/// Changes the installed services `services` (of `director`) to what they say, leaving
/// every other installed service alone.
pub fn update(
    director: &DirectorView,
    services: &[Service],
    at: &Attachment,
) -> Result<Report, Error> {
    let sources: Vec<IpAddr> = director.addresses.iter().map(|a| a.addr).collect();
    let image = lvsc_xdp_image::image::build(services, &sources)?;
    let macs = crate::neighbour::resolve(&at.interface, &groups::real_addresses(&image))?;
    let groups = groups::groups(&image, &macs)?;
    install::apply_some(at, &groups)
}

/// Names each counted service after the cluster file's service that matches it.
pub fn name_services(stats: &mut [ServiceStats], services: &[Service]) {
    let names: HashMap<String, &str> = services
        .iter()
        .flat_map(|s| {
            lvsc_xdp_image::image::match_keys(s)
                .into_iter()
                .map(|(ip, port, proto)| {
                    (SvcKey::new(ip, port, proto).to_string(), s.name.as_str())
                })
        })
        .collect();
    for s in stats {
        s.name = names.get(&s.service).map(|n| n.to_string());
    }
}
