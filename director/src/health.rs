//! What the checks mean for the data plane: each real's state, each service's quorum,
//! and the service as the data plane must carry it (its effective weights, and the sorry
//! server when the quorum is lost). Pure: the control loop feeds it check results.

use serde::Serialize;

use lvsc_compiler::ir::{Real, Service, ServiceKey};

/// The name the sorry server takes among a service's reals (no real can have it).
pub use lvsc_nftables::dataplane::SORRY;

/// What lvsc knows of a real.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Not checked yet and not serving: kept out until a check passes.
    Pending,
    /// Not checked yet, but serving when lvsc started: left in until checks fail.
    Presumed,
    /// Its last check passed (or fewer than `retry` failed since).
    Up,
    /// `retry` checks in a row failed: out until one passes.
    Down,
}

/// One real's health as the checks found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RealHealth {
    /// Where it stands.
    pub state: State,
    /// Failed checks in a row.
    pub failures: u32,
    /// How often it went from serving to not serving or back.
    pub transitions: u64,
}

impl RealHealth {
    /// A real that was `serving` in the data plane when lvsc started (or not).
    pub fn new(serving: bool) -> Self {
        RealHealth {
            state: if serving {
                State::Presumed
            } else {
                State::Pending
            },
            failures: 0,
            transitions: 0,
        }
    }

    /// Whether the data plane should send it traffic (its weight permitting).
    pub fn serving(&self) -> bool {
        matches!(self.state, State::Presumed | State::Up)
    }

    /// Records one check; `retry` failures in a row take it out, one pass puts it back.
    /// Returns whether it changed between serving and not.
    pub fn record(&mut self, passed: bool, retry: u32) -> bool {
        let before = self.serving();
        if passed {
            self.failures = 0;
            self.state = State::Up;
        } else {
            self.failures = self.failures.saturating_add(1);
            self.state = match self.state {
                // Never served: nothing to take out, no reason to wait.
                State::Pending => State::Down,
                State::Presumed | State::Up if self.failures >= retry.max(1) => State::Down,
                s => s,
            };
        }
        let changed = before != self.serving();
        self.transitions += u64::from(changed);
        changed
    }
}

/// A service's quorum: the live weight it needs, with hysteresis (keepalived's meaning:
/// it goes down below `value - hysteresis`, and up again at `value + hysteresis`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Quorum {
    /// The live weight needed.
    pub value: u32,
    /// The band around it where the state holds.
    pub hysteresis: u32,
    /// Whether the service has its quorum.
    pub up: bool,
}

impl Quorum {
    /// A service's quorum (1 when it names none: one live real) given its live weight now.
    pub fn new(s: &Service, live: u32) -> Self {
        let (value, hysteresis) = s
            .quorum
            .as_ref()
            .map_or((1, 0), |q| (q.value, q.hysteresis));
        Quorum {
            value,
            hysteresis,
            up: live >= value,
        }
    }

    /// Follows the live weight; returns whether the state changed.
    pub fn update(&mut self, live: u32) -> bool {
        let was = self.up;
        if self.up && live < self.value.saturating_sub(self.hysteresis) {
            self.up = false;
        } else if !self.up && live >= self.value.saturating_add(self.hysteresis) {
            self.up = true;
        }
        was != self.up
    }
}

/// The weight of the reals that serve (drained ones count for nothing).
pub fn live_weight(s: &Service, health: &[RealHealth]) -> u32 {
    s.reals
        .iter()
        .zip(health)
        .filter(|(r, h)| h.serving() && !r.drain)
        .map(|(r, _)| r.weight)
        .sum()
}

/// The service as the data plane must carry it: a real that does not serve has weight 0
/// (it stays in the table, so its connections can finish); with the quorum lost, the
/// sorry server, when there is one, takes all new traffic.
pub fn effective(s: &Service, health: &[RealHealth], quorum: &Quorum) -> Service {
    let mut out = s.clone();
    for (r, h) in out.reals.iter_mut().zip(health) {
        if !h.serving() {
            r.weight = 0;
        }
    }
    if let (false, Some(sorry)) = (quorum.up, &s.sorry) {
        for r in &mut out.reals {
            r.weight = 0;
        }
        let port = match s.key {
            ServiceKey::Addr { port, .. } => port,
            ServiceKey::Fwmark { .. } => 0,
        };
        out.reals.push(Real {
            name: SORRY.into(),
            ip: sorry.ip,
            port: sorry.port.unwrap_or(port),
            weight: 1,
            upper: 0,
            lower: 0,
            drain: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service() -> Service {
        let text = include_str!("../../examples/web-dr.lvs");
        let c = lvsc_compiler::compile_source(text).cluster.unwrap();
        c.services[0].clone()
    }

    #[test]
    fn a_new_real_stays_out_until_its_first_check_passes() {
        let mut h = RealHealth::new(false);
        assert!(!h.serving());
        assert!(!h.record(false, 3), "a failing new real was never in");
        assert_eq!(h.state, State::Down);
        assert!(h.record(true, 3));
        assert!(h.serving());
        assert_eq!(h.transitions, 1);
    }

    #[test]
    fn retry_failures_in_a_row_take_a_real_out_and_one_pass_puts_it_back() {
        for start in [true, false] {
            let mut h = RealHealth::new(start);
            h.record(true, 3);
            assert!(!h.record(false, 3));
            assert!(!h.record(false, 3));
            assert!(h.serving(), "two failures of three");
            assert!(h.record(false, 3), "the third takes it out");
            assert!(!h.serving());
            assert!(h.record(true, 3));
            assert!(h.serving());
            // A pass in between starts the count again.
            h.record(false, 3);
            h.record(false, 3);
            h.record(true, 3);
            h.record(false, 3);
            assert!(h.serving());
        }
        let mut presumed = RealHealth::new(true);
        assert!(presumed.serving());
        presumed.record(false, 1);
        assert!(
            !presumed.serving(),
            "retry 1: the first failure takes it out"
        );
    }

    #[test]
    fn quorum_follows_live_weight_with_hysteresis() {
        let mut q = Quorum {
            value: 4,
            hysteresis: 1,
            up: true,
        };
        assert!(!q.update(3), "inside the band");
        assert!(q.update(2), "below value - hysteresis");
        assert!(!q.update(4), "inside the band");
        assert!(q.update(5), "at value + hysteresis");
    }

    #[test]
    fn the_effective_service_zeroes_the_reals_out_and_brings_the_sorry_server() {
        let s = service();
        let n = s.reals.len();
        let mut health: Vec<RealHealth> = (0..n).map(|_| RealHealth::new(true)).collect();
        health[0].record(false, 1);
        let mut q = Quorum {
            value: 1,
            hysteresis: 0,
            up: true,
        };
        let e = effective(&s, &health, &q);
        assert_eq!(e.reals.len(), n);
        assert_eq!(e.reals[0].weight, 0);
        assert_eq!(e.reals[1].weight, s.reals[1].weight);
        // Every real out: the quorum (1 by default) is lost.
        for h in &mut health {
            h.record(false, 1);
        }
        q.update(live_weight(&s, &health));
        assert!(!q.up);
        let e = effective(&s, &health, &q);
        assert!(e.reals[..n].iter().all(|r| r.weight == 0));
        match &s.sorry {
            Some(sorry) => {
                assert_eq!(e.reals[n].name, SORRY);
                assert_eq!(e.reals[n].ip, sorry.ip);
            }
            None => assert_eq!(e.reals.len(), n),
        }
    }
}
