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
///
/// Only the tables of services that are not installed as they are get computed: each
/// service's fingerprint hashes its table's inputs, so an unchanged one is known without
/// its table (most of the work at thousands of services).
pub fn install(director: &DirectorView, at: &Attachment, dry_run: bool) -> Result<Report, Error> {
    let sources: Vec<IpAddr> = director.addresses.iter().map(|a| a.addr).collect();
    let services = &director.services;
    let inputs = groups::table_inputs(services);
    let installed = install::installed_services(at)?;
    let finish = |groups: &[groups::Group]| {
        if dry_run {
            install::dry_run(at, groups)
        } else {
            install::apply(at, groups)
        }
    };
    if installed.is_empty() {
        let image = lvsc_xdp_image::image::build(services, &sources)?;
        let macs = crate::neighbour::resolve(&at.interface, &groups::real_addresses(&image))?;
        return finish(&groups::groups_with(&image, &macs, Some(&inputs))?);
    }
    // Without tables first: the records, the reals and their MACs, the fingerprints.
    let bare = lvsc_xdp_image::image::build_some(services, &sources, |_| false)?;
    let macs = crate::neighbour::resolve(&at.interface, &groups::real_addresses(&bare))?;
    let fingerprints: HashMap<SvcKey, (u64, u32)> =
        groups::groups_with(&bare, &macs, Some(&inputs))?
            .iter()
            .flat_map(|g| g.keys.iter().map(|k| (*k, (g.fingerprint, g.table_size))))
            .collect();
    drop(bare);
    let unchanged = |s: &Service| {
        lvsc_xdp_image::image::match_keys(s)
            .into_iter()
            .all(|(ip, port, proto)| {
                let k = SvcKey::new(ip, port, proto);
                installed
                    .get(&k)
                    .zip(fingerprints.get(&k))
                    .is_some_and(|(v, (f, size))| v.fingerprint == *f && v.table_size == *size)
            })
    };
    let wanted: Vec<bool> = services.iter().map(|s| !unchanged(s)).collect();
    let image = lvsc_xdp_image::image::build_some(services, &sources, |i| wanted[i])?;
    let groups = groups::groups_with(&image, &macs, Some(&inputs))?;
    match finish(&groups) {
        // Installed services changed meanwhile (`lvsc run`): compute every table.
        Err(Error::Uncomputed) => {
            let image = lvsc_xdp_image::image::build(services, &sources)?;
            let groups = groups::groups_with(&image, &macs, Some(&inputs))?;
            install::apply(at, &groups)
        }
        other => other,
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
    let groups = groups::groups_with(&image, &macs, Some(&groups::table_inputs(services)))?;
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
