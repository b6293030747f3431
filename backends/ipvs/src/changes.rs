//! The ordered change set from a live table to the desired one.

use std::fmt;

use crate::table::{Destination, Key, Table, VirtualService, fwd};

/// One change to the kernel's table: one netlink request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Create a service (without destinations).
    AddService(VirtualService),
    /// Change a service's scheduler, flags, timeout or netmask.
    EditService(VirtualService),
    /// Delete a service with its destinations.
    DelService(Key),
    /// Add a destination.
    AddDest(Key, Destination),
    /// Change a destination's weight, thresholds or forwarding.
    EditDest(Key, Destination),
    /// Delete a destination.
    DelDest(Key, Destination),
}

fn fwd_flag(d: &Destination) -> &'static str {
    match d.fwd {
        fwd::MASQ => "-m",
        fwd::TUNNEL => "-i",
        _ => "-g",
    }
}

fn dest_addr(d: &Destination) -> std::net::SocketAddr {
    std::net::SocketAddr::new(d.addr, d.port)
}

/// ipvsadm's words for the step, so operators read it at a glance.
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let svc = |s: &VirtualService| {
            let mut t = format!("{} -s {}", s.key, s.scheduler);
            if s.flags & crate::table::F_PERSISTENT != 0 {
                t.push_str(&format!(" -p {}", s.timeout));
            }
            t
        };
        match self {
            Step::AddService(s) => write!(f, "+ service {}", svc(s)),
            Step::EditService(s) => write!(f, "~ service {}", svc(s)),
            Step::DelService(k) => write!(f, "- service {k}"),
            Step::AddDest(k, d) => write!(
                f,
                "+ real {k} -r {} {} -w {}",
                dest_addr(d),
                fwd_flag(d),
                d.weight
            ),
            Step::EditDest(k, d) => write!(
                f,
                "~ real {k} -r {} {} -w {}",
                dest_addr(d),
                fwd_flag(d),
                d.weight
            ),
            Step::DelDest(k, d) => write!(f, "- real {k} -r {}", dest_addr(d)),
        }
    }
}

/// The steps that turn `live` into `desired`: new services first, then new and changed
/// destinations, then removed destinations, then removed services. With `drain`, a
/// destination that leaves is set to weight 0 and kept, so its connections finish.
pub fn diff(live: &Table, desired: &Table, drain: bool) -> Vec<Step> {
    let mut add = Vec::new();
    let mut dests = Vec::new();
    let mut leave = Vec::new();
    let mut gone = Vec::new();
    for (key, want) in &desired.services {
        match live.services.get(key) {
            None => {
                add.push(Step::AddService(VirtualService {
                    dests: Default::default(),
                    ..want.clone()
                }));
                dests.extend(
                    want.dests
                        .values()
                        .map(|d| Step::AddDest(key.clone(), d.clone())),
                );
            }
            Some(have) => {
                if !have.same_settings(want) {
                    add.push(Step::EditService(VirtualService {
                        dests: Default::default(),
                        ..want.clone()
                    }));
                }
                for (dk, d) in &want.dests {
                    match have.dests.get(dk) {
                        None => dests.push(Step::AddDest(key.clone(), d.clone())),
                        Some(h) if h != d => dests.push(Step::EditDest(key.clone(), d.clone())),
                        Some(_) => {}
                    }
                }
                for (dk, h) in &have.dests {
                    if want.dests.contains_key(dk) {
                        continue;
                    }
                    match (drain, h.weight) {
                        (true, 0) => {} // already draining: leave it until drain is not asked
                        (true, _) => leave.push(Step::EditDest(
                            key.clone(),
                            Destination {
                                weight: 0,
                                ..h.clone()
                            },
                        )),
                        (false, _) => leave.push(Step::DelDest(key.clone(), h.clone())),
                    }
                }
            }
        }
    }
    for key in live.services.keys() {
        if !desired.services.contains_key(key) {
            gone.push(Step::DelService(key.clone()));
        }
    }
    add.into_iter()
        .chain(dests)
        .chain(leave)
        .chain(gone)
        .collect()
}

/// The steps that undo `step`, given the table as it was before it.
pub fn inverse(step: &Step, before: &Table) -> Vec<Step> {
    let svc = |k: &Key| before.services.get(k);
    match step {
        Step::AddService(s) => vec![Step::DelService(s.key.clone())],
        Step::EditService(s) => svc(&s.key)
            .map(|old| {
                Step::EditService(VirtualService {
                    dests: Default::default(),
                    ..old.clone()
                })
            })
            .into_iter()
            .collect(),
        Step::DelService(k) => svc(k)
            .map(|old| {
                let mut v = vec![Step::AddService(VirtualService {
                    dests: Default::default(),
                    ..old.clone()
                })];
                v.extend(
                    old.dests
                        .values()
                        .map(|d| Step::AddDest(k.clone(), d.clone())),
                );
                v
            })
            .unwrap_or_default(),
        Step::AddDest(k, d) => vec![Step::DelDest(k.clone(), d.clone())],
        Step::EditDest(k, d) => svc(k)
            .and_then(|s| s.dests.get(&(d.addr, d.port)))
            .map(|old| Step::EditDest(k.clone(), old.clone()))
            .into_iter()
            .collect(),
        Step::DelDest(k, d) => vec![Step::AddDest(k.clone(), d.clone())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Table;

    fn table(weights: &[(u16, u32)]) -> Table {
        let key = Key::Addr {
            ip: "192.0.2.100".parse().unwrap(),
            port: 80,
            proto: 6,
        };
        let dests = weights
            .iter()
            .map(|&(last, w)| {
                let addr = format!("192.0.2.{last}").parse().unwrap();
                (
                    (addr, 80),
                    Destination {
                        addr,
                        port: 80,
                        fwd: fwd::DROUTE,
                        weight: w,
                        upper: 0,
                        lower: 0,
                        tunnel: None,
                    },
                )
            })
            .collect();
        let vs = VirtualService {
            key: key.clone(),
            scheduler: "wlc".into(),
            flags: 0,
            timeout: 0,
            netmask: u32::MAX,
            dests,
        };
        Table {
            services: [(key, vs)].into(),
        }
    }

    #[test]
    fn no_change_no_steps() {
        assert!(diff(&table(&[(21, 1)]), &table(&[(21, 1)]), false).is_empty());
    }

    #[test]
    fn one_weight_is_one_step() {
        let steps = diff(
            &table(&[(21, 1), (22, 1)]),
            &table(&[(21, 3), (22, 1)]),
            false,
        );
        assert_eq!(steps.len(), 1);
        assert!(matches!(&steps[0], Step::EditDest(_, d) if d.weight == 3));
    }

    #[test]
    fn a_leaving_real_is_deleted_or_drained() {
        let (live, want) = (table(&[(21, 1), (22, 2)]), table(&[(21, 1)]));
        assert!(
            matches!(diff(&live, &want, false).as_slice(), [Step::DelDest(_, d)] if d.port == 80)
        );
        assert!(
            matches!(diff(&live, &want, true).as_slice(), [Step::EditDest(_, d)] if d.weight == 0)
        );
        assert!(
            diff(&table(&[(21, 1), (22, 0)]), &want, true).is_empty(),
            "already drained"
        );
    }

    #[test]
    fn order_is_add_then_change_then_remove() {
        let mut want = table(&[(21, 5)]);
        let k2 = Key::Fwmark { mark: 1, af: 2 };
        want.services.insert(
            k2.clone(),
            VirtualService {
                key: k2,
                scheduler: "rr".into(),
                flags: 0,
                timeout: 0,
                netmask: u32::MAX,
                dests: Default::default(),
            },
        );
        let steps = diff(&table(&[(21, 1), (22, 1)]), &want, false);
        let kinds: Vec<&str> = steps
            .iter()
            .map(|s| match s {
                Step::AddService(_) => "add-svc",
                Step::EditDest(..) => "edit-dest",
                Step::DelDest(..) => "del-dest",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["add-svc", "edit-dest", "del-dest"]);
    }

    #[test]
    fn inverse_undoes() {
        let live = table(&[(21, 1)]);
        let want = table(&[(21, 4), (23, 1)]);
        for s in diff(&live, &want, false) {
            let undo = inverse(&s, &live);
            assert_eq!(undo.len(), 1, "{s}");
            match (&s, &undo[0]) {
                (Step::AddDest(_, d), Step::DelDest(_, u)) => assert_eq!(d, u),
                (Step::EditDest(..), Step::EditDest(_, u)) => assert_eq!(u.weight, 1),
                other => panic!("{other:?}"),
            }
        }
    }
}
