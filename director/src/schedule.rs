//! When each real's next check is due, and the checks running now. One queue ordered by
//! time holds every checked real (a few bytes each); a check's state exists only while
//! it runs. Thousands of reals then cost little memory and no task each, as in
//! keepalived's own scheduler.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use lvsc_compiler::ir::{Check, Service};
use tokio::time::Instant;

use crate::check::{self, Probe};
use crate::health::SORRY;

/// One checked real.
struct Target {
    service: usize,
    real: usize,
    at: SocketAddr,
    check: Arc<Check>,
    every: Duration,
    /// When its current (or next) check was due.
    due: Instant,
}

type Running = Pin<Box<dyn Future<Output = (usize, Probe)> + Send>>;

/// Every checked real of a configuration, and the checks under way.
pub struct Schedule {
    targets: Vec<Target>,
    queue: BinaryHeap<Reverse<(Instant, usize)>>,
    running: FuturesUnordered<Running>,
}

/// A finished check: (service index, real index, what it found).
pub type Outcome = (usize, usize, Probe);

impl Schedule {
    /// The checks of `services`, each real's first at its own offset within the first
    /// second (a steady spread, and a pending real does not wait a whole interval).
    pub fn new(services: &[Service]) -> Schedule {
        let now = Instant::now();
        let mut targets = Vec::new();
        for (si, s) in services.iter().enumerate() {
            let Some(every) = every_of(&s.check) else {
                continue;
            };
            let check = Arc::new(s.check.clone());
            let spread = every.min(Duration::from_secs(1));
            for (ri, r) in s.reals.iter().enumerate() {
                if r.name == SORRY {
                    continue;
                }
                let Some(at) = check::target(&s.check, SocketAddr::new(r.ip, r.port)) else {
                    continue;
                };
                let h = lvsc_maglev::fnv1a(format!("{}/{}", s.name, r.name).as_bytes(), 0);
                let offset = Duration::from_nanos(h % spread.as_nanos().max(1) as u64);
                targets.push(Target {
                    service: si,
                    real: ri,
                    at,
                    check: check.clone(),
                    every,
                    due: now + offset,
                });
            }
        }
        let queue = targets
            .iter()
            .enumerate()
            .map(|(i, t)| Reverse((t.due, i)))
            .collect();
        Schedule {
            targets,
            queue,
            running: FuturesUnordered::new(),
        }
    }

    /// How many reals are checked.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether no real is checked.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Starts the checks that are due and waits for the next to finish. Cancel-safe: a
    /// finished check is returned in the same poll that sees it finish.
    pub async fn next(&mut self) -> Outcome {
        loop {
            let wake = self.queue.peek().map(|Reverse((t, _))| *t);
            tokio::select! {
                biased;
                Some((i, probe)) = self.running.next(), if !self.running.is_empty() => {
                    let t = &mut self.targets[i];
                    // The next check is one interval after this one was due; more than a
                    // whole interval behind (an overloaded host), the missed checks are
                    // skipped rather than run in a burst.
                    let ended = Instant::from_std(probe.ended);
                    t.due += t.every;
                    if t.due + t.every < ended {
                        t.due = ended;
                    }
                    self.queue.push(Reverse((t.due, i)));
                    return (t.service, t.real, probe);
                }
                _ = sleep_until(wake) => self.start_due(),
            }
        }
    }

    /// Starts every check whose time has come.
    fn start_due(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((t, i))) = self.queue.peek().copied() {
            if t > now {
                break;
            }
            self.queue.pop();
            let target = &self.targets[i];
            let (check, at) = (target.check.clone(), target.at);
            self.running.push(Box::pin(async move {
                let probe = check::probe(&check, at).await;
                (i, probe)
            }));
        }
    }
}

/// Sleeps until `at`, or for ever when nothing is due.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The interval of a check, when it has one.
fn every_of(c: &Check) -> Option<Duration> {
    match c {
        Check::None => None,
        Check::Tcp { timing }
        | Check::Http { timing, .. }
        | Check::Https { timing, .. }
        | Check::Misc { timing, .. } => Some(Duration::from_millis(timing.every_ms.max(1))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(every: &str) -> Vec<Service> {
        let text = format!(
            "cluster t\nbalancer {{\n  director lb 127.0.0.2/8 on lo\n}}\n\
             pool p {{\n  port 1\n  check tcp every {every} timeout 100ms\n  real a 127.0.0.1\n  real b 127.0.0.3\n}}\n\
             service s {{\n  vip 127.0.0.9:80/tcp\n  forward nat\n  pool p\n}}\n"
        );
        lvsc_compiler::compile_source(&text)
            .cluster
            .expect("valid")
            .services
            .to_vec()
    }

    #[tokio::test]
    async fn every_real_is_checked_on_its_own_clock() {
        let mut s = Schedule::new(&services("100ms"));
        assert_eq!(s.len(), 2);
        let start = std::time::Instant::now();
        let mut seen = [0; 2];
        while seen.iter().any(|n| *n < 3) {
            let (service, real, probe) = s.next().await;
            assert_eq!(service, 0);
            assert_eq!(
                probe.verdict,
                check::Verdict::Fail,
                "nothing listens on port 1"
            );
            seen[real] += 1;
        }
        // Three checks each at 100 ms intervals, the first within the first 100 ms.
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(200), "{took:?}");
        assert!(seen.iter().all(|n| *n <= 4), "{seen:?}");
    }

    #[test]
    fn a_service_without_checks_has_nothing_to_schedule() {
        let mut svc = services("1s");
        svc[0].check = Check::None;
        assert!(Schedule::new(&svc).is_empty());
    }
}
