//! The loop: one task per (service, real) runs its check on its own clock; the results
//! come here, where they move the real's state and its service's quorum; a service whose
//! effective set of reals changes gets one data-plane update, which leaves every other
//! service alone. SIGHUP reloads the file (a file with errors is refused and the running
//! configuration stays); SIGTERM stops the checks and leaves the data plane as it is.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lvsc_compiler::ir::{Check, Service};
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::check::{self, Probe};
use crate::config::{Config, LoadError};
use crate::dataplane::{Dataplane, Serving};
use crate::events::emit;
use crate::health::{self, Quorum, RealHealth, SORRY, State};
use crate::metrics::{Metrics, RealLabels, ReloadLabels, ServiceLabels};
use crate::status::{RealStatus, ServiceStatus, Snapshot};
use crate::{Error, Options};

/// One check's result, for the configuration it was started under.
struct Result_ {
    generation: u64,
    service: usize,
    real: usize,
    probe: Probe,
}

/// One service as the loop tracks it.
struct Tracked {
    base: Service,
    health: Vec<RealHealth>,
    quorum: Quorum,
    latency: Vec<Option<Duration>>,
    errors: Vec<Option<String>>,
    /// What the data plane carries now (the effective service last applied).
    applied: Option<Service>,
}

impl Tracked {
    fn effective(&self) -> Service {
        health::effective(&self.base, &self.health, &self.quorum)
    }

    fn live_weight(&self) -> u32 {
        health::live_weight(&self.base, &self.health)
    }
}

struct Loop {
    opts: Options,
    config: Config,
    services: Vec<Tracked>,
    dataplane: Arc<Mutex<Box<dyn Dataplane>>>,
    metrics: Arc<Metrics>,
    snapshot: Arc<Mutex<Snapshot>>,
    results: mpsc::Sender<Result_>,
    generation: u64,
    checks: Vec<JoinHandle<()>>,
    reloads: u64,
}

/// Runs the loop until SIGTERM or SIGINT.
pub async fn run(opts: Options, config: Config, dp: Box<dyn Dataplane>) -> Result<(), Error> {
    let (tx, mut rx) = mpsc::channel::<Result_>(4096);
    let mut lp = Loop {
        metrics: Arc::new(Metrics::new()),
        snapshot: Arc::new(Mutex::new(Snapshot {
            cluster: config.cluster.clone(),
            host: config.director.name.clone(),
            dataplane: format!("{:?}", opts.kind).to_lowercase(),
            ..Snapshot::default()
        })),
        opts,
        config,
        services: Vec::new(),
        dataplane: Arc::new(Mutex::new(dp)),
        results: tx,
        generation: 0,
        checks: Vec::new(),
        reloads: 0,
    };
    let started = Instant::now();
    // Start from what serves now: a real that carries traffic keeps it until its checks
    // fail; one that does not waits for its first pass.
    let serving = lp.blocking(|dp, s| dp.serving(s), lp.bases()).await?;
    lp.services = track(&lp.config, &serving, &HashMap::new());
    lp.converge("start").await;
    lp.spawn_checks();
    emit(
        "start",
        json!({
            "cluster": lp.config.cluster,
            "host": lp.config.director.name,
            "dataplane": lp.snapshot.lock().expect("not poisoned").dataplane,
            "services": lp.services.len(),
            "reals": lp.services.iter().map(|s| s.base.reals.len()).sum::<usize>(),
            "took_ms": started.elapsed().as_millis() as u64,
        }),
    );
    if let Some(addr) = lp.opts.metrics {
        let m = lp.metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::metrics::serve(addr, m).await {
                emit(
                    "error",
                    json!({ "what": "metrics", "error": e.to_string() }),
                );
            }
        });
    }
    {
        let path = lp.opts.socket.clone();
        let snap = lp.snapshot.clone();
        tokio::spawn(async move {
            if let Err(e) = crate::status::serve(&path, snap).await {
                emit(
                    "error",
                    json!({ "what": "status socket", "error": e.to_string() }),
                );
            }
        });
    }
    lp.publish();
    let mut hup = signal(SignalKind::hangup()).map_err(Error::Signal)?;
    let mut term = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    let mut counters = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            Some(r) = rx.recv() => {
                let mut dirty = Vec::new();
                lp.record(r, &mut dirty);
                // Take every result already waiting, then change each service once.
                while let Ok(r) = rx.try_recv() {
                    lp.record(r, &mut dirty);
                }
                dirty.sort_unstable();
                dirty.dedup();
                for i in dirty {
                    lp.update(i).await;
                }
                lp.publish();
            }
            _ = hup.recv() => {
                lp.reload().await;
                lp.publish();
            }
            _ = counters.tick() => {
                let bases = lp.bases();
                let dp = lp.dataplane.clone();
                let c = tokio::task::spawn_blocking(move || {
                    dp.lock().expect("not poisoned").counters(&bases)
                })
                .await
                .unwrap_or_default();
                *lp.metrics.dataplane_counters.lock().expect("not poisoned") = c;
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    for t in &lp.checks {
        t.abort();
    }
    let _ = std::fs::remove_file(&lp.opts.socket);
    emit(
        "stop",
        json!({ "note": "the data plane is left as it is: the next start takes it over" }),
    );
    Ok(())
}

/// The services of `config` with their reals' health: carried over from `old` (by
/// service name and real endpoint), else presumed when `serving`, else pending.
fn track(
    config: &Config,
    serving: &Serving,
    old: &HashMap<(String, SocketAddr), RealHealth>,
) -> Vec<Tracked> {
    config
        .director
        .services
        .iter()
        .map(|s| {
            let now = serving.get(&s.name);
            let health: Vec<RealHealth> = s
                .reals
                .iter()
                .map(|r| {
                    let ep = SocketAddr::new(r.ip, r.port);
                    if let Some(h) = old.get(&(s.name.clone(), ep)) {
                        return h.clone();
                    }
                    if matches!(s.check, Check::None) {
                        // No check: the file's word is all there is.
                        return RealHealth {
                            state: State::Up,
                            failures: 0,
                            transitions: 0,
                        };
                    }
                    RealHealth::new(now.is_some_and(|n| n.contains(&ep)))
                })
                .collect();
            let live = health::live_weight(s, &health);
            Tracked {
                quorum: Quorum::new(s, live),
                latency: vec![None; s.reals.len()],
                errors: vec![None; s.reals.len()],
                base: s.clone(),
                health,
                applied: None,
            }
        })
        .collect()
}

impl Loop {
    fn bases(&self) -> Vec<Service> {
        match self.services.is_empty() {
            true => self.config.director.services.clone(),
            false => self.services.iter().map(|t| t.base.clone()).collect(),
        }
    }

    /// Runs `f` on the data plane on a blocking thread (netlink, aya and nft block).
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Dataplane, &[Service]) -> Result<T, crate::dataplane::Error>
        + Send
        + 'static,
        services: Vec<Service>,
    ) -> Result<T, Error> {
        let dp = self.dataplane.clone();
        tokio::task::spawn_blocking(move || {
            let mut dp = dp.lock().expect("not poisoned");
            f(dp.as_mut(), &services)
        })
        .await
        .expect("a data-plane step does not panic")
        .map_err(Error::Dataplane)
    }

    /// Makes the whole data plane carry every service as it must now.
    async fn converge(&mut self, why: &str) {
        let want: Vec<Service> = self.services.iter().map(Tracked::effective).collect();
        let mut view = self.config.director.clone();
        view.services = want.clone();
        let start = Instant::now();
        match self
            .blocking(move |dp, _| dp.converge(&view), Vec::new())
            .await
        {
            Ok(summary) => {
                for (t, w) in self.services.iter_mut().zip(want) {
                    t.applied = Some(w);
                }
                emit(
                    "dataplane",
                    json!({ "why": why, "change": summary, "took_ms": start.elapsed().as_millis() as u64 }),
                );
            }
            Err(e) => emit(
                "error",
                json!({ "what": "converge", "why": why, "error": e.to_string() }),
            ),
        }
        for t in &self.services {
            self.metrics
                .service_quorum
                .get_or_create(&ServiceLabels {
                    service: t.base.name.clone(),
                })
                .set(i64::from(t.quorum.up));
        }
    }

    /// Records one check result; marks the service when its reals or quorum change.
    fn record(&mut self, r: Result_, dirty: &mut Vec<usize>) {
        if r.generation != self.generation {
            return; // a check of the configuration before the last reload
        }
        let Some(t) = self.services.get_mut(r.service) else {
            return;
        };
        let retry = retry_of(&t.base.check);
        let real = &t.base.reals[r.real];
        let labels = RealLabels {
            service: t.base.name.clone(),
            real: real.name.clone(),
        };
        self.metrics
            .real_latency
            .get_or_create(&labels)
            .set(r.probe.latency.as_secs_f64());
        t.latency[r.real] = Some(r.probe.latency);
        t.errors[r.real] = r.probe.error.clone();
        let before = t.health[r.real].state;
        let changed = t.health[r.real].record(r.probe.passed, retry);
        let after = t.health[r.real].state;
        self.metrics
            .real_up
            .get_or_create(&labels)
            .set(i64::from(t.health[r.real].serving()));
        if before != after {
            emit(
                "check",
                json!({
                    "service": t.base.name,
                    "real": real.name,
                    "endpoint": SocketAddr::new(real.ip, real.port).to_string(),
                    "state": after,
                    "was": before,
                    "error": r.probe.error,
                    "latency_ms": r.probe.latency.as_secs_f64() * 1000.0,
                }),
            );
        }
        if changed {
            self.metrics.real_transitions.get_or_create(&labels).inc();
            let live = t.live_weight();
            if t.quorum.update(live) {
                emit(
                    "quorum",
                    json!({ "service": t.base.name, "up": t.quorum.up, "live_weight": live, "quorum": t.quorum.value }),
                );
            }
            dirty.push(r.service);
        }
    }

    /// Changes one service in the data plane to what its reals' health says.
    async fn update(&mut self, i: usize) {
        let want = self.services[i].effective();
        if self.services[i].applied.as_ref() == Some(&want) {
            return;
        }
        let name = want.name.clone();
        let start = Instant::now();
        let one = want.clone();
        match self
            .blocking(move |dp, _| dp.update(&one), Vec::new())
            .await
        {
            Ok(summary) => {
                self.services[i].applied = Some(want);
                emit(
                    "dataplane",
                    json!({ "service": name, "change": summary, "took_ms": start.elapsed().as_millis() as u64 }),
                );
            }
            Err(e) => {
                // The one-service path failed (maps full, a refused step): converge all.
                emit(
                    "error",
                    json!({ "what": "update", "service": name, "error": e.to_string() }),
                );
                self.converge("after a failed update").await;
            }
        }
    }

    /// SIGHUP: reads the file again; applies it as a minimal change that keeps each
    /// real's health, or refuses it and keeps running as before.
    async fn reload(&mut self) {
        let config = match Config::load(&self.opts.file, self.opts.host.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                self.metrics
                    .reloads
                    .get_or_create(&ReloadLabels {
                        result: "refused".into(),
                    })
                    .inc();
                let diagnostics = match &e {
                    LoadError::Invalid { diagnostics, .. } => {
                        serde_json::to_value(diagnostics).unwrap_or_default()
                    }
                    _ => json!([]),
                };
                emit(
                    "reload",
                    json!({
                        "result": "refused",
                        "error": e.to_string(),
                        "diagnostics": diagnostics,
                        "note": "the running configuration stays",
                    }),
                );
                return;
            }
        };
        let old: HashMap<(String, SocketAddr), RealHealth> = self
            .services
            .iter()
            .flat_map(|t| {
                t.base.reals.iter().zip(&t.health).map(|(r, h)| {
                    (
                        (t.base.name.clone(), SocketAddr::new(r.ip, r.port)),
                        h.clone(),
                    )
                })
            })
            .collect();
        // A real new to the file is pending, whatever the data plane says.
        self.services = track(&config, &Serving::new(), &old);
        self.config = config;
        self.generation += 1;
        for t in self.checks.drain(..) {
            t.abort();
        }
        self.converge("reload").await;
        self.spawn_checks();
        self.reloads += 1;
        self.metrics
            .reloads
            .get_or_create(&ReloadLabels {
                result: "applied".into(),
            })
            .inc();
        emit(
            "reload",
            json!({ "result": "applied", "services": self.services.len() }),
        );
    }

    /// One task per checked real, each on its own clock, spread over the interval.
    fn spawn_checks(&mut self) {
        for (si, t) in self.services.iter().enumerate() {
            let Some(every) = every_of(&t.base.check) else {
                continue;
            };
            for (ri, r) in t.base.reals.iter().enumerate() {
                if r.name == SORRY {
                    continue;
                }
                let Some(at) = check::target(&t.base.check, SocketAddr::new(r.ip, r.port)) else {
                    continue;
                };
                let check = t.base.check.clone();
                let tx = self.results.clone();
                let generation = self.generation;
                // A steady spread: each real's first check at its own offset, at most one
                // second in (a pending real should not wait a whole interval).
                let spread = every.min(Duration::from_secs(1));
                let h = lvsc_maglev::fnv1a(format!("{}/{}", t.base.name, r.name).as_bytes(), 0);
                let offset = Duration::from_nanos(h % spread.as_nanos().max(1) as u64);
                self.checks.push(tokio::spawn(async move {
                    let mut next = tokio::time::Instant::now() + offset;
                    loop {
                        tokio::time::sleep_until(next).await;
                        next += every;
                        let probe = check::probe(&check, at).await;
                        let msg = Result_ {
                            generation,
                            service: si,
                            real: ri,
                            probe,
                        };
                        if tx.send(msg).await.is_err() {
                            return;
                        }
                    }
                }));
            }
        }
    }

    /// Publishes the state to the status socket and the service metrics.
    fn publish(&self) {
        let mut snap = self.snapshot.lock().expect("not poisoned");
        snap.reloads = self.reloads;
        snap.services = self
            .services
            .iter()
            .map(|t| {
                let applied = t.applied.as_ref();
                let live = t.live_weight();
                self.metrics
                    .service_live_weight
                    .get_or_create(&ServiceLabels {
                        service: t.base.name.clone(),
                    })
                    .set(i64::from(live));
                self.metrics
                    .service_quorum
                    .get_or_create(&ServiceLabels {
                        service: t.base.name.clone(),
                    })
                    .set(i64::from(t.quorum.up));
                ServiceStatus {
                    name: t.base.name.clone(),
                    quorum_up: t.quorum.up,
                    live_weight: live,
                    quorum: t.quorum.value,
                    sorry_active: applied.is_some_and(|a| a.reals.iter().any(|r| r.name == SORRY)),
                    reals: t
                        .base
                        .reals
                        .iter()
                        .enumerate()
                        .map(|(i, r)| RealStatus {
                            name: r.name.clone(),
                            endpoint: SocketAddr::new(r.ip, r.port).to_string(),
                            state: t.health[i].state,
                            failures: t.health[i].failures,
                            weight: r.weight,
                            serving_weight: applied
                                .and_then(|a| a.reals.get(i))
                                .map_or(0, |a| a.weight),
                            last_check_ms: t.latency[i].map(|l| l.as_secs_f64() * 1000.0),
                            last_error: t.errors[i].clone(),
                        })
                        .collect(),
                }
            })
            .collect();
    }
}

fn every_of(c: &Check) -> Option<Duration> {
    match c {
        Check::None => None,
        Check::Tcp { timing }
        | Check::Http { timing, .. }
        | Check::Https { timing, .. }
        | Check::Misc { timing, .. } => Some(Duration::from_millis(timing.every_ms.max(1))),
    }
}

fn retry_of(c: &Check) -> u32 {
    match c {
        Check::None => 1,
        Check::Tcp { timing }
        | Check::Http { timing, .. }
        | Check::Https { timing, .. }
        | Check::Misc { timing, .. } => timing.retry,
    }
}
