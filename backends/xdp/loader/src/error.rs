//! What the loader could not do, with the context an operator needs to act on it.

use std::net::IpAddr;
use std::path::PathBuf;

/// A failure of the loader.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// This lvsc was built without the XDP program.
    #[error(
        "this lvsc was built without its XDP program (it needs the nightly toolchain with \
         rust-src and bpf-linker; scripts/test-all installs them); rebuild after installing"
    )]
    NotBuilt,
    /// The plan needs a table the image did not compute: the installed services changed
    /// since they were compared (the caller computes every table and tries again).
    #[error("an installed service changed while the install was planned")]
    Uncomputed,
    /// The object could not be loaded (maps created).
    #[error(
        "load the XDP object: {0} (creating BPF maps and programs needs root, or CAP_BPF and \
         CAP_NET_ADMIN)"
    )]
    Load(#[source] aya::EbpfError),
    /// The object lacks a program of that name.
    #[error("the object has no program {0}")]
    NoProgram(&'static str),
    /// The kernel's verifier or the program setup failed.
    #[error("the XDP program {name}: {source}")]
    Program {
        /// Which program.
        name: &'static str,
        /// Why.
        #[source]
        source: aya::programs::ProgramError,
    },
    /// The object lacks a map.
    #[error("the program has no map {0}")]
    NoMap(&'static str),
    /// A map of another type than the program declares.
    #[error("map {name}: {source}")]
    MapType {
        /// The map.
        name: &'static str,
        /// Why it did not convert.
        #[source]
        source: aya::maps::MapError,
    },
    /// A map of another kind than the program declares.
    #[error("map {0} is not of the kind the program declares")]
    WrongMapKind(&'static str),
    /// A map read, write, pin or open failed.
    #[error("{action}: {source}")]
    Map {
        /// What was being done (`write map reals`, `open /sys/fs/bpf/...`).
        action: String,
        /// Why.
        #[source]
        source: aya::maps::MapError,
    },
    /// A file-system step (pin directory, mapping the tables) failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Pinning a program or link failed.
    #[error("pin {}: {source}", path.display())]
    Pin {
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: aya::pin::PinError,
    },
    /// A link step (take, open, convert, swap) failed.
    #[error("{action}: {reason}")]
    Link {
        /// What was being done.
        action: String,
        /// Why, as aya says it.
        reason: String,
    },
    /// No attach mode worked.
    #[error("attach to {interface}: {}", refusals.join("; "))]
    Attach {
        /// The interface.
        interface: String,
        /// Each mode tried and the kernel's answer.
        refusals: Vec<String>,
    },
    /// The maps sized for an image cannot hold it (a bug if it ever happens).
    #[error("maps sized for the image cannot hold it")]
    MapsTooSmall,
    /// A key has no counter slot (a bug if it ever happens).
    #[error("{0} has no counter slot")]
    NoCounterSlot(String),
    /// The number of CPUs could not be read.
    #[error("{0}")]
    Cpus(String),
    /// A write stopped part-way: what was done before it, in an operator's words.
    #[error("{source}; {state}")]
    Partial {
        /// The step that failed.
        #[source]
        source: Box<Error>,
        /// What the kernel holds now.
        state: String,
    },
    /// No interface of that name.
    #[error("no interface {0}")]
    NoInterface(String),
    /// The kernel answered a link query with an error.
    #[error("interface index {index}: {source}")]
    Interface {
        /// The interface index.
        index: u32,
        /// The kernel's answer.
        #[source]
        source: std::io::Error,
    },
    /// No route to a real.
    #[error("no route to real {real}: {source}")]
    NoRoute {
        /// The real.
        real: IpAddr,
        /// The kernel's answer.
        #[source]
        source: std::io::Error,
    },
    /// A real reached through another interface than the program's.
    #[error(
        "real {real} is reached through another interface (index {index}), not {interface}: \
         the XDP program sends packets back out the interface they came in by"
    )]
    OtherInterface {
        /// The real.
        real: IpAddr,
        /// The interface the route uses.
        index: u32,
        /// The program's interface.
        interface: String,
    },
    /// Next hops whose MAC the kernel did not learn in time.
    #[error(
        "no MAC for next hop {} on {interface} after {seconds} s (is it up? `ip neigh` shows \
         what the kernel knows)",
        hops.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
    )]
    Unresolved {
        /// The hops.
        hops: Vec<IpAddr>,
        /// The interface.
        interface: String,
        /// How long was waited.
        seconds: u64,
    },
    /// A real without a next-hop MAC in the table handed to grouping.
    #[error("no next-hop MAC for real {real}")]
    NoMac {
        /// The real.
        real: IpAddr,
    },
    /// Nothing is installed where a command expected a program.
    #[error("nothing is installed on {interface} (no pins under {})", dir.display())]
    NotInstalled {
        /// The interface.
        interface: String,
        /// The pin directory.
        dir: PathBuf,
    },
    /// The director's services do not make a map image.
    #[error(transparent)]
    Image(#[from] lvsc_xdp_image::image::ImageError),
    /// The netlink socket failed.
    #[error("netlink: {0}")]
    Netlink(#[from] std::io::Error),
    /// A netlink reply could not be decoded.
    #[error(transparent)]
    Decode(#[from] lvsc_netlink::DecodeError),
}

impl Error {
    /// Adds what the kernel holds after this failure.
    pub fn partial(self, state: impl Into<String>) -> Error {
        Error::Partial {
            source: Box::new(self),
            state: state.into(),
        }
    }
}

/// A map step's error, with what was being done.
pub(crate) fn map(action: impl Into<String>) -> impl FnOnce(aya::maps::MapError) -> Error {
    let action = action.into();
    move |source| Error::Map { action, source }
}

/// An I/O step's error, with what was being done.
pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let action = action.into();
    move |source| Error::Io { action, source }
}

/// A link step's error, with what was being done.
pub(crate) fn link<E: std::fmt::Display>(action: impl Into<String>) -> impl FnOnce(E) -> Error {
    let action = action.into();
    move |e| Error::Link {
        action,
        reason: e.to_string(),
    }
}
