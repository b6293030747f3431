//! nftables for directors, from their per-host views: the ruleset that runs beside IPVS
//! (VRRP and VIP accepts, firewall marks, NAT forwarding), and the nftables data plane,
//! the whole load balancer as one ruleset for kernels without IPVS, with its apply.
//!
//! Every nftables text lvsc writes is made here, through one template.

pub mod apply;
pub mod dataplane;
pub mod explain;
pub mod live;
mod ruleset;

pub use dataplane::dataplane;
pub use ruleset::{BESIDE_IPVS_TABLE, DATAPLANE_TABLE, Refusal, beside_ipvs};
