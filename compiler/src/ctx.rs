//! What every rule needs to know about a file: lookups and inherited defaults.

use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;

use lvsc_lang::ast::{self, Defaults, Pool, Service, SourceFile};
use lvsc_lang::{Endpoint, Span};

/// IPVS schedulers and the flags each one takes.
pub const SCHEDULERS: &[(&str, &[&str])] = &[
    ("rr", &[]),
    ("wrr", &[]),
    ("lc", &[]),
    ("wlc", &[]),
    ("lblc", &[]),
    ("lblcr", &[]),
    ("dh", &[]),
    ("sh", &["sh-fallback", "sh-port"]),
    ("sed", &[]),
    ("nq", &[]),
    ("fo", &[]),
    ("ovf", &[]),
    ("mh", &["mh-fallback", "mh-port"]),
];

/// What each scheduler does, for editors.
pub const SCHEDULER_HELP: &[(&str, &str)] = &[
    ("rr", "Round robin: each real in turn."),
    (
        "wrr",
        "Weighted round robin: in turn, in proportion to weight.",
    ),
    ("lc", "Least connections."),
    ("wlc", "Weighted least connections (the default)."),
    (
        "lblc",
        "Locality-based least connections: a destination address sticks to a real (caches).",
    ),
    (
        "lblcr",
        "Locality-based least connections with replication.",
    ),
    ("dh", "Destination hashing."),
    (
        "sh",
        "Source hashing: a client sticks to a real; flags sh-fallback, sh-port.",
    ),
    ("sed", "Shortest expected delay."),
    (
        "nq",
        "Never queue: an idle real first, else shortest expected delay.",
    ),
    (
        "fo",
        "Weighted failover: the highest-weight available real.",
    ),
    (
        "ovf",
        "Weighted overflow: fill a real up to its weight in connections.",
    ),
    (
        "mh",
        "Maglev hashing: consistent hashing; flags mh-fallback, mh-port.",
    ),
];

/// The scheduler IPVS uses when none is named (as ipvsadm).
pub const DEFAULT_SCHEDULER: &str = "wlc";
/// The forwarding method IPVS uses when none is named (as ipvsadm).
pub const DEFAULT_FORWARD: &str = "dr";

/// Lookups over one parsed file.
pub struct Ctx<'a> {
    /// The file.
    pub file: &'a SourceFile,
    /// Pools by name (first definition wins).
    pub pools: HashMap<&'a str, &'a Pool>,
    /// Inherited defaults (empty when the file has none).
    pub defaults: Defaults,
    /// The data plane every director runs on (`--backend`), instead of what the file names.
    pub backend: Option<crate::ir::Dataplane>,
}

impl<'a> Ctx<'a> {
    /// Indexes `file`.
    pub fn new(file: &'a SourceFile, backend: Option<crate::ir::Dataplane>) -> Self {
        let mut pools = HashMap::default();
        for p in &file.pools {
            pools.entry(p.name.value.as_str()).or_insert(p);
        }
        Ctx {
            file,
            pools,
            defaults: file.defaults.clone().unwrap_or_default(),
            backend,
        }
    }

    /// The pool a service sends to, when it resolves.
    pub fn pool_of(&self, s: &Service) -> Option<&'a Pool> {
        s.pool
            .as_ref()
            .and_then(|p| self.pools.get(p.value.as_str()).copied())
    }

    /// The service's forwarding directive, or the default one.
    pub fn forward<'s>(&'s self, s: &'s Service) -> Option<&'s ast::Forward> {
        s.forward.as_ref().or(self.defaults.forward.as_ref())
    }

    /// The forwarding method name (`nat`, `dr`, `tun`) after defaults.
    pub fn method<'s>(&'s self, s: &'s Service) -> &'s str {
        self.forward(s)
            .map_or(DEFAULT_FORWARD, |f| f.method.value.as_str())
    }

    /// Who brings the service's VIPs to the directors: as written; else BGP when the
    /// balancer has `bgp` and no `vrrp`; else VRRP (with both, the rules ask).
    pub fn announce(&self, s: &Service) -> crate::ir::Announce {
        use crate::ir::Announce;
        match s.announce.as_ref().map(|a| a.value.as_str()) {
            Some("bgp") => Announce::Bgp,
            Some(_) => Announce::Vrrp,
            None => match &self.file.balancer {
                Some(b) if !b.bgp.is_empty() && b.vrrp.is_empty() => Announce::Bgp,
                _ => Announce::Vrrp,
            },
        }
    }

    /// The scheduler directive after defaults.
    pub fn scheduler<'s>(&'s self, s: &'s Service) -> Option<&'s ast::Scheduler> {
        s.scheduler.as_ref().or(self.defaults.scheduler.as_ref())
    }

    /// The persistence directive after defaults.
    pub fn persistence<'s>(&'s self, s: &'s Service) -> Option<&'s ast::Persistence> {
        s.persistence
            .as_ref()
            .or(self.defaults.persistence.as_ref())
    }

    /// The health check after defaults: service, then pool, then cluster.
    pub fn check<'s>(&'s self, s: &'s Service) -> Option<&'s ast::Check> {
        s.check
            .as_deref()
            .or_else(|| self.pool_of(s).and_then(|p| p.check.as_deref()))
            .or(self.defaults.check.as_deref())
    }

    /// The port a real listens on for a service: its own, the pool's, or the VIP's.
    pub fn real_port(
        &self,
        pool: &Pool,
        real: &ast::Real,
        vip: Option<&Endpoint>,
    ) -> Option<(u16, Span)> {
        if let Some(p) = real.addr.value.port {
            return Some((p, real.addr.span));
        }
        if let Some(p) = &pool.port {
            return Some((p.value as u16, p.span));
        }
        vip.and_then(|v| v.port).map(|p| (p, real.addr.span))
    }

    /// Every director address with its span.
    pub fn director_addresses(&self) -> impl Iterator<Item = &'a ast::InterfaceAddress> {
        self.file
            .balancer
            .iter()
            .flat_map(|b| b.directors.iter().flat_map(|d| d.addresses.iter()))
    }

    /// Addresses NAT reals may route through: director addresses and gateways.
    pub fn routers(&self) -> impl Iterator<Item = &'a ast::InterfaceAddress> {
        self.director_addresses()
            .chain(self.file.balancer.iter().flat_map(|b| b.gateways.iter()))
    }

    /// Whether `ip` lies in the subnet of `a` (an address with prefix).
    pub fn in_subnet(a: &ast::InterfaceAddress, ip: IpAddr) -> bool {
        let prefix =
            a.addr
                .value
                .prefix
                .unwrap_or(if a.addr.value.ip.is_ipv4() { 32 } else { 128 });
        crate::net::same_subnet(a.addr.value.ip, ip, prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The language's hover help for `scheduler` (lvsc-lang cannot see this list) names
    /// exactly the schedulers the compiler accepts.
    #[test]
    fn the_scheduler_keyword_help_names_every_scheduler() {
        let (doc, _) = lvsc_lang::keywords::help("scheduler").expect("documented");
        let listed: Vec<&str> = doc
            .split(':')
            .nth(1)
            .expect("a list after the colon")
            .trim_end_matches('.')
            .split_whitespace()
            .collect();
        let known: Vec<&str> = SCHEDULERS.iter().map(|s| s.0).collect();
        assert_eq!(listed, known);
    }
}
