//! The XDP data plane's map image: every map the XDP program reads, fully computed from
//! the compiler's IR (Maglev tables, the flow hash), in a small versioned format.

pub mod explain;
pub mod hash;
pub mod image;
pub use lvsc_maglev as maglev;
