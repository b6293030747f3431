//! IPVS over generic netlink: the live table, the change set to the desired table, and
//! the minimal apply. Encoding and decoding follow include/uapi/linux/ip_vs.h.
//!
//! The desired table comes from the compiler's IR; this crate never sees the syntax
//! tree. Talking to the kernel is behind [`kernel::Kernel`], so planning is testable
//! without one; the real kernel is exercised by the QEMU system tests.

pub mod attrs;
pub mod changes;
pub mod director;
pub mod explain;
pub mod ipvsadm;
pub mod kernel;
pub mod message;
pub mod table;
pub mod vip;

pub use changes::{Step, diff, inverse};
pub use kernel::{Kernel, Netlink};
pub use table::{Table, desired};
