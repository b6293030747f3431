//! What the XDP program (`backends/xdp/program`) and its loader (`backends/xdp/loader`)
//! must agree on, written once: the records of the program's maps and the flow hash.
//!
//! Both sides compile this crate, so a field reordered or a hash changed on one side
//! changes it on the other; a layout mismatch cannot compile. `no_std`, no allocation:
//! it builds for `bpfel-unknown-none` as well as for the host.
#![no_std]

pub mod hash;
pub mod records;

pub use hash::{HASH_CLIENT, HASH_DEST, HASH_FLOW, flow, masked, mix, service_flow};
pub use records::{
    Counter, FLOWS, FWD_DIRECT, FWD_TUNNEL, FlowKey, NO_REAL, Real, SvcKey, SvcVal, addr_words,
    family, words_addr,
};
