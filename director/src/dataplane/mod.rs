//! The data planes `lvsc run` drives, through the same minimal-change paths as
//! `lvsc apply`: the start reads what serves now (never a flush); a converge makes the
//! whole data plane match the configuration; an update changes one service and leaves
//! every other alone.

mod ipvs;
mod nftables;
mod xdp;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;

pub use ipvs::Ipvs;
pub use nftables::Nftables;
pub use xdp::Xdp;

/// Which data plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The kernel's IPVS table.
    Ipvs,
    /// The nftables data plane.
    Nftables,
    /// The XDP load balancer.
    Xdp,
}

/// What a data plane step could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// IPVS over netlink.
    #[error("IPVS: {0}")]
    Ipvs(#[from] lvsc_ipvs::kernel::Error),
    /// The kernel refused an IPVS step; the table is what `lvsc plan` reads now.
    #[error("IPVS refused `{step}`: {error}")]
    IpvsRefused {
        /// The refused step.
        step: String,
        /// The kernel's answer.
        error: lvsc_ipvs::kernel::Error,
    },
    /// The XDP loader.
    #[error("XDP: {0}")]
    Xdp(#[from] lvsc_xdp_loader::Error),
    /// nft, or what it printed.
    #[error("nftables: {0}")]
    Nftables(String),
}

/// A data plane the loop can read and change.
pub trait Dataplane: Send {
    /// For each of `services` (by name), the real endpoints it sends traffic to now.
    fn serving(&mut self, services: &[Service]) -> Result<Serving, Error>;
    /// Makes the data plane carry exactly `director` (its VIPs, and its services as they
    /// must be carried now); later updates are for this director.
    fn converge(&mut self, director: &DirectorView) -> Result<String, Error>;
    /// Changes these services to `services` (in one step where the data plane can),
    /// every other left as it is.
    fn update(&mut self, services: &[Service]) -> Result<String, Error>;
    /// Packets and bytes per service name, where the data plane counts them.
    fn counters(&mut self, _services: &[Service]) -> Vec<(String, u64, u64)> {
        Vec::new()
    }
}

/// The real endpoints each service (by name) sends traffic to.
pub type Serving = HashMap<String, HashSet<SocketAddr>>;

/// The data plane of `kind` for `director`.
pub fn open(
    kind: Kind,
    cluster: &str,
    director: &DirectorView,
    xdp: Option<lvsc_xdp_loader::install::Attachment>,
) -> Result<Box<dyn Dataplane>, Error> {
    Ok(match kind {
        Kind::Ipvs => Box::new(Ipvs::open(director.clone())?),
        Kind::Nftables => Box::new(Nftables::new(cluster, director.clone())),
        Kind::Xdp => Box::new(Xdp::new(
            director.clone(),
            xdp.expect("the caller names the XDP attachment"),
        )),
    })
}
