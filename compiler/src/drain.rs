//! A drain step between two revisions: the new cluster, with every real that leaves a
//! service kept at weight 0, so its connections finish before it goes.

use std::collections::HashSet;
use std::net::SocketAddr;

use crate::ir::{Cluster, Real};

/// `new`, with each real of a service of `old` that `new`'s service of the same name no
/// longer has (by address and port) appended at weight 0, marked draining.
pub fn drain_leaving(new: &Cluster, old: &Cluster) -> Cluster {
    let mut out = new.clone();
    for s in std::sync::Arc::make_mut(&mut out.services) {
        let Some(before) = old.services.iter().find(|o| o.name == s.name) else {
            continue;
        };
        let kept: HashSet<SocketAddr> = s
            .reals
            .iter()
            .map(|r| SocketAddr::new(r.ip, r.port))
            .collect();
        for r in &before.reals {
            if !kept.contains(&SocketAddr::new(r.ip, r.port)) {
                s.reals.push(Real {
                    weight: 0,
                    drain: true,
                    ..r.clone()
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_real_that_leaves_stays_at_weight_zero_and_the_others_are_the_new_ones() {
        let old = crate::compile_source(
            "cluster c\nbalancer { director lb 10.0.0.2/24 on eth0 }\n\
             pool p { port 80\n real a 10.0.0.11 weight 3\n real b 10.0.0.12 weight 2 }\n\
             service s { vip 10.0.0.100:80/tcp\n forward dr\n pool p }\n",
        )
        .cluster
        .unwrap();
        let new = crate::compile_source(
            "cluster c\nbalancer { director lb 10.0.0.2/24 on eth0 }\n\
             pool p { port 80\n real a 10.0.0.11 weight 5 }\n\
             service s { vip 10.0.0.100:80/tcp\n forward dr\n pool p }\n",
        )
        .cluster
        .unwrap();
        let step = super::drain_leaving(&new, &old);
        let reals: Vec<(&str, u32, bool)> = step.services[0]
            .reals
            .iter()
            .map(|r| (r.name.as_str(), r.weight, r.drain))
            .collect();
        assert_eq!(reals, [("a", 5, false), ("b", 0, true)]);
        assert_eq!(super::drain_leaving(&new, &new), new);
    }
}
