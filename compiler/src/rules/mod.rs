//! The LVS rules, one module per family. Each reports into a shared list and never
//! stops early, so one run shows every problem.

use lvsc_lang::Diagnostic;

use crate::ctx::Ctx;

mod balancer;
mod bgp;
mod dataplane;
pub mod forward;
mod names;
mod pool;
mod service;
mod storage;
mod text;

/// Runs every rule over the file.
pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    names::check(ctx, out);
    balancer::check(ctx, out);
    bgp::check(ctx, out);
    service::check(ctx, out);
    pool::check(ctx, out);
    forward::check(ctx, out);
    storage::check(ctx, out);
    text::check(ctx, out);
    dataplane::check(ctx, out);
}
pub use forward::nat_gateway;
