//! The XDP load balancer on a director: the program in `ebpf/` (Rust with aya-ebpf,
//! built for the BPF target by this crate's build script) and the aya loader that
//! installs a map image into it.
//!
//! Flow: a map image ([`lvsc_ebpf::image`]) and the next-hop MACs ([`neighbour`]) become
//! [`layout::Group`]s; [`plan`] compares them with what the kernel holds; [`maps`] writes
//! only the difference; [`install`] loads, attaches and pins.

pub mod install;
pub mod interface;
pub mod layout;
pub mod maps;
pub mod neighbour;
pub mod plan;
pub mod space;

/// The compiled XDP object (empty when the build had no nightly toolchain or bpf-linker).
pub static PROGRAM: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/lb.o"));

/// The default bpffs directory for pins (`<root>/<interface>/`).
pub const PIN_ROOT: &str = "/sys/fs/bpf/lvsc";

/// Something the loader could not do, said in an operator's words.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(e.to_string())
    }
}

impl From<lvsc_netlink::DecodeError> for Error {
    fn from(e: lvsc_netlink::DecodeError) -> Self {
        Error(e.to_string())
    }
}
