//! Pools: weights, thresholds, duplicate reals.

use rustc_hash::FxHashMap as HashMap;

use lvsc_lang::{Diagnostic, Span, Spanned};

use crate::codes;
use crate::ctx::Ctx;

const MAX_WEIGHT: u64 = 65535;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let defaults_weight = ctx.defaults.weight.iter();
    let pool_weights = ctx.file.pools.iter().filter_map(|p| p.weight.as_ref());
    let real_weights = ctx
        .file
        .pools
        .iter()
        .flat_map(|p| p.reals.iter().filter_map(|r| r.weight.as_ref()));
    for w in defaults_weight.chain(pool_weights).chain(real_weights) {
        weight(out, w);
    }
    for p in &ctx.file.pools {
        let mut seen: HashMap<(std::net::IpAddr, Option<u16>), Span> = HashMap::default();
        for r in &p.reals {
            let key = (
                r.addr.value.ip,
                r.addr
                    .value
                    .port
                    .or(p.port.as_ref().map(|x| x.value as u16)),
            );
            if let Some(first) = seen.get(&key) {
                out.push(
                    Diagnostic::error(codes::DUPLICATE_REAL, r.addr.span, format!("{} is in pool `{}` twice", r.addr.value, p.name.value))
                        .with_label("second entry")
                        .with_related(*first, "first entry")
                        .with_help("IPVS keeps one destination per address and port; to send it more traffic raise its weight"),
                );
            } else {
                seen.insert(key, r.addr.span);
            }
            match (&r.upper, &r.lower) {
                (Some(u), Some(l)) if l.value > u.value => out.push(
                    Diagnostic::error(codes::THRESHOLDS, l.span, format!("lower threshold {} is above the upper threshold {}", l.value, u.value))
                        .with_label("lower > upper")
                        .with_related(u.span, "upper threshold")
                        .with_help("the real stops taking connections at `upper` and takes them again below `lower`: lower ≤ upper"),
                ),
                (None, Some(l)) => out.push(
                    Diagnostic::error(codes::THRESHOLDS, l.span, "a lower threshold without an upper one")
                        .with_label("does nothing alone")
                        .with_help("add `upper N` (the connection count where the real stops taking new ones)"),
                ),
                _ => {}
            }
        }
    }
}

fn weight(out: &mut Vec<Diagnostic>, w: &Spanned<u64>) {
    if w.value > MAX_WEIGHT {
        out.push(
            Diagnostic::error(
                codes::WEIGHT_RANGE,
                w.span,
                format!("weight {} is out of range", w.value),
            )
            .with_label("must be 0..65535")
            .with_help("weights go from 0 (no new connections) to 65535"),
        );
    }
}
