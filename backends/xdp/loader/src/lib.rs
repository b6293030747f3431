//! The XDP load balancer's loader: installs a director's map image into the program
//! (`backends/xdp/program`, built for the BPF target by this crate's build script) with
//! aya, attaches it, and reads its counters.
//!
//! Flow: a director's services become a map image ([`lvsc_xdp_image`]); with the next-hop
//! MACs ([`neighbour`]) its services become [`groups::Group`]s; [`changes`] compares
//! them with what the kernel holds; [`maps`] writes only the difference; [`install`]
//! loads, attaches and pins. [`director`] runs that whole flow for one director.

pub mod changes;
pub mod director;
pub mod error;
pub mod groups;
pub mod install;
pub mod interface;
pub mod maps;
pub mod neighbour;
pub mod space;

pub use error::Error;

/// The compiled XDP object (empty when the build had no nightly toolchain or bpf-linker).
pub static PROGRAM: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/lb.o"));

/// The default bpffs directory for pins (`<root>/<interface>/`).
pub const PIN_ROOT: &str = "/sys/fs/bpf/lvsc";
