//! The loop: the schedule runs each real's check on its own clock; the results come
//! here, where they move the real's state and its service's quorum; the services whose
//! effective set of reals changed go to the data plane in one update (the loop goes on
//! meanwhile), which leaves every other service alone. SIGHUP reloads the file (a file with errors is refused and the running
//! configuration stays); SIGTERM stops the checks and leaves the data plane as it is.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lvsc_compiler::ir::{Check, Service};
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::announce::{Announcer, ServiceState};
use crate::check::Verdict;
use crate::config::{Config, LoadError};
use crate::dataplane::{Dataplane, Serving};
use crate::events::emit;
use crate::health::{self, Quorum, RealHealth, SORRY, State};
use crate::metrics::{Metrics, RealMetrics, ReloadLabels, ServiceLabels};
use crate::schedule::{Outcome, Schedule};
use crate::status::{RealStatus, ServiceStatus, Snapshot};
use crate::{Error, Options};
use futures_util::FutureExt;
use prometheus_client::metrics::counter::Counter;

/// A data-plane update that ended, for the configuration it was started under.
struct Done {
    /// The converge count when it was sent.
    epoch: u64,
    /// The services it carried: (index, the service as sent).
    sent: Vec<(usize, Service)>,
    outcome: Result<String, crate::dataplane::Error>,
    took: Duration,
}

/// One service as the loop tracks it.
struct Tracked {
    base: Service,
    health: Vec<RealHealth>,
    quorum: Quorum,
    latency: Vec<Option<Duration>>,
    errors: Vec<Option<String>>,
    /// Each real's series.
    metrics: Vec<RealMetrics>,
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
    /// The VIPs announced over BGP (held on lo) while their services are healthy.
    announcer: Announcer,
    services: Vec<Tracked>,
    dataplane: Arc<Mutex<Box<dyn Dataplane>>>,
    /// Its name, for the status.
    dataplane_name: String,
    metrics: Arc<Metrics>,
    /// Checks passed, failed, and without a verdict (the director's own trouble).
    passed: Counter,
    failed: Counter,
    local_errors: Counter,
    /// When a check without a verdict was last reported, and how many since.
    last_local_error: Option<Instant>,
    suppressed: u64,
    /// The checks: when each is due, and those running.
    schedule: Schedule,
    /// Services whose reals changed since the last update was sent.
    dirty: std::collections::BTreeSet<usize>,
    /// Whether an update is with the data plane now (the next one waits for it, and
    /// carries every change made meanwhile).
    in_flight: bool,
    done: mpsc::Sender<Done>,
    /// Converges so far: an update sent before the last one is stale when it ends.
    epoch: u64,
    reloads: u64,
}

/// Runs the loop until SIGTERM or SIGINT.
pub async fn run(
    opts: Options,
    config: Config,
    dp: Box<dyn Dataplane>,
    open_files: u64,
) -> Result<(), Error> {
    let (ask, mut asked) = mpsc::channel::<crate::status::Request>(16);
    let (done, mut finished) = mpsc::channel::<Done>(4);
    let metrics = Arc::new(Metrics::new());
    let mut lp = Loop {
        dataplane_name: format!("{:?}", opts.kind).to_lowercase(),
        passed: metrics.checks("pass"),
        failed: metrics.checks("fail"),
        local_errors: metrics.checks("error"),
        last_local_error: None,
        suppressed: 0,
        metrics,
        announcer: Announcer::new(&bgp_vips(&config)),
        opts,
        config,
        services: Vec::new(),
        dataplane: Arc::new(Mutex::new(dp)),
        schedule: Schedule::new(&[]),
        dirty: Default::default(),
        in_flight: false,
        done,
        epoch: 0,
        reloads: 0,
    };
    let started = Instant::now();
    // Start from what serves now: a real that carries traffic keeps it until its checks
    // fail; one that does not waits for its first pass.
    let serving = lp.blocking(|dp, s| dp.serving(s), lp.bases()).await?;
    lp.services = track(&lp.config, &serving, &HashMap::new(), &lp.metrics);
    lp.converge("start").await;
    lp.schedule = Schedule::new(&lp.bases());
    emit(
        "start",
        json!({
            "cluster": lp.config.cluster,
            "host": lp.config.director.name,
            "dataplane": lp.dataplane_name,
            "services": lp.services.len(),
            "reals": lp.services.iter().map(|s| s.base.reals.len()).sum::<usize>(),
            "took_ms": started.elapsed().as_millis() as u64,
            "open_files": open_files,
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
        tokio::spawn(async move {
            if let Err(e) = crate::status::serve(&path, ask).await {
                emit(
                    "error",
                    json!({ "what": "status socket", "error": e.to_string() }),
                );
            }
        });
    }
    let mut hup = signal(SignalKind::hangup()).map_err(Error::Signal)?;
    let mut term = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let mut int = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    let mut counters = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            done = lp.schedule.next() => {
                lp.record(done);
                // Take every result already there, then change each service once.
                while let Some(done) = lp.schedule.next().now_or_never() {
                    lp.record(done);
                }
                lp.flush();
            }
            Some(d) = finished.recv() => {
                lp.finished(d).await;
                lp.flush();
            }
            Some(reply) = asked.recv() => {
                let _ = reply.send(lp.snapshot());
            }
            _ = hup.recv() => {
                lp.reload().await;
            }
            _ = counters.tick() => {
                // Read beside the loop: the data plane may be busy with an update.
                let bases = lp.bases();
                let dp = lp.dataplane.clone();
                let into = lp.metrics.dataplane_counters.clone();
                tokio::spawn(async move {
                    let c = tokio::task::spawn_blocking(move || {
                        dp.lock().expect("not poisoned").counters(&bases)
                    })
                    .await
                    .unwrap_or_default();
                    *into.lock().expect("not poisoned") = c;
                });
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    // The checks under way end with the schedule; without them nothing vouches for the
    // VIPs, so the routers are told to send their flows elsewhere.
    drop(lp.schedule);
    lp.announcer.withdraw_all();
    let _ = std::fs::remove_file(&lp.opts.socket);
    emit(
        "stop",
        json!({ "note": "the data plane is left as it is: the next start takes it over" }),
    );
    Ok(())
}

/// The VIPs `config`'s director announces over BGP.
fn bgp_vips(config: &Config) -> Vec<std::net::IpAddr> {
    config
        .director
        .bgp
        .as_ref()
        .map(|b| b.vips.clone())
        .unwrap_or_default()
}

/// The services of `config` with their reals' health: carried over from `old` (by
/// service name and real endpoint), else presumed when `serving`, else pending.
fn track(
    config: &Config,
    serving: &Serving,
    old: &HashMap<(String, SocketAddr), RealHealth>,
    metrics: &Metrics,
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
            let metrics = s
                .reals
                .iter()
                .zip(&health)
                .map(|(r, h)| {
                    let m = metrics.real(&s.name, &r.name);
                    m.up.set(i64::from(h.serving()));
                    m
                })
                .collect();
            Tracked {
                quorum: Quorum::new(s, live),
                latency: vec![None; s.reals.len()],
                errors: vec![None; s.reals.len()],
                metrics,
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
            true => self.config.director.services.to_vec(),
            false => self.services.iter().map(|t| t.base.clone()).collect(),
        }
    }

    /// Runs `f` on the data plane on a blocking thread (netlink, aya and nft block).
    /// (The future holds no borrow of the loop, so the loop's own future stays `Send`.)
    fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Dataplane, &[Service]) -> Result<T, crate::dataplane::Error>
        + Send
        + 'static,
        services: Vec<Service>,
    ) -> impl Future<Output = Result<T, Error>> + Send + 'static {
        let dp = self.dataplane.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut dp = dp.lock().expect("not poisoned");
                f(dp.as_mut(), &services)
            })
            .await
            .expect("a data-plane step does not panic")
            .map_err(Error::Dataplane)
        }
    }

    /// Makes the whole data plane carry every service as it must now.
    async fn converge(&mut self, why: &str) {
        self.epoch += 1;
        let want: Vec<Service> = self.services.iter().map(Tracked::effective).collect();
        let mut view = self.config.director.clone();
        view.services = want.clone().into();
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
        for i in 0..self.services.len() {
            self.publish_service(i);
        }
        self.announce();
    }

    /// Announces the VIPs of the services that have quorum and are installed; withdraws
    /// the others.
    fn announce(&mut self) {
        if !self.announcer.active() {
            return;
        }
        let states = self.services.iter().map(|t| ServiceState {
            vips: t.base.vips.iter().map(|v| v.ip).collect(),
            announce: t.base.announce,
            quorum_up: t.quorum.up,
            installed: t.applied.is_some(),
        });
        self.announcer.sync(states);
    }

    /// Records one check result; marks the service when its reals or quorum change.
    fn record(&mut self, (si, ri, probe): Outcome) {
        let Some(t) = self.services.get_mut(si) else {
            return;
        };
        let retry = retry_of(&t.base.check);
        let real = &t.base.reals[ri];
        let m = &t.metrics[ri];
        m.latency.set(probe.latency.as_secs_f64());
        t.latency[ri] = Some(probe.latency);
        t.errors[ri] = probe.error.clone();
        let passed = match probe.verdict {
            Verdict::Pass => {
                self.passed.inc();
                true
            }
            Verdict::Fail => {
                self.failed.inc();
                false
            }
            Verdict::Local => {
                // The director's trouble says nothing of the real: its state stays.
                self.local_errors.inc();
                let now = Instant::now();
                self.suppressed += 1;
                if self
                    .last_local_error
                    .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(10))
                {
                    emit(
                        "error",
                        json!({
                            "what": "check",
                            "error": probe.error,
                            "checks_without_verdict": self.suppressed,
                            "note": "the director could not run these checks; the reals keep their state",
                        }),
                    );
                    self.last_local_error = Some(now);
                    self.suppressed = 0;
                }
                return;
            }
        };
        let before = t.health[ri].state;
        let changed = t.health[ri].record(passed, retry);
        let after = t.health[ri].state;
        m.up.set(i64::from(t.health[ri].serving()));
        if before != after {
            emit(
                "check",
                json!({
                    "service": t.base.name,
                    "real": real.name,
                    "endpoint": SocketAddr::new(real.ip, real.port).to_string(),
                    "state": after,
                    "was": before,
                    "error": probe.error,
                    "latency_ms": probe.latency.as_secs_f64() * 1000.0,
                }),
            );
        }
        if changed {
            m.transitions.inc();
            let live = t.live_weight();
            if t.quorum.update(live) {
                emit(
                    "quorum",
                    json!({ "service": t.base.name, "up": t.quorum.up, "live_weight": live, "quorum": t.quorum.value }),
                );
            }
            self.dirty.insert(si);
        }
    }

    /// Sends the services whose reals changed to the data plane, as one update, unless
    /// one is under way: the loop goes on checking meanwhile, and what changes before
    /// that update ends goes in the next.
    fn flush(&mut self) {
        // A lost quorum withdraws the VIPs at once, before the data plane changes.
        self.announce();
        if self.in_flight || self.dirty.is_empty() {
            return;
        }
        let sent: Vec<(usize, Service)> = std::mem::take(&mut self.dirty)
            .into_iter()
            .filter_map(|i| {
                let want = self.services[i].effective();
                (self.services[i].applied.as_ref() != Some(&want)).then_some((i, want))
            })
            .collect();
        for &(i, _) in &sent {
            self.publish_service(i);
        }
        if sent.is_empty() {
            return;
        }
        self.in_flight = true;
        let dp = self.dataplane.clone();
        let done = self.done.clone();
        let epoch = self.epoch;
        tokio::spawn(async move {
            let start = Instant::now();
            let services: Vec<Service> = sent.iter().map(|(_, s)| s.clone()).collect();
            let outcome = tokio::task::spawn_blocking(move || {
                dp.lock().expect("not poisoned").update(&services)
            })
            .await
            .expect("a data-plane step does not panic");
            let _ = done
                .send(Done {
                    epoch,
                    sent,
                    outcome,
                    took: start.elapsed(),
                })
                .await;
        });
    }

    /// An update ended: what it carried is applied, or (maps full, a refused step) the
    /// whole data plane converges.
    async fn finished(&mut self, d: Done) {
        self.in_flight = false;
        if d.epoch != self.epoch {
            return; // a converge has set everything since
        }
        let names: Vec<&str> = d.sent.iter().map(|(_, s)| s.name.as_str()).collect();
        match d.outcome {
            Ok(summary) => {
                emit(
                    "dataplane",
                    json!({ "services": names, "change": summary, "took_ms": d.took.as_millis() as u64 }),
                );
                for (i, s) in d.sent {
                    self.services[i].applied = Some(s);
                }
                self.announce();
            }
            Err(e) => {
                emit(
                    "error",
                    json!({ "what": "update", "services": names, "error": e.to_string() }),
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
        let new = track(&config, &Serving::new(), &old, &self.metrics);
        // The series of reals gone from the file go with them.
        for t in &self.services {
            for r in &t.base.reals {
                let kept = new.iter().any(|n| {
                    n.base.name == t.base.name && n.base.reals.iter().any(|k| k.name == r.name)
                });
                if !kept {
                    self.metrics.forget_real(&t.base.name, &r.name);
                }
            }
        }
        self.services = new;
        self.announcer.retarget(&bgp_vips(&config));
        self.config = config;
        // The checks of the old configuration end here (those running are dropped).
        self.schedule = Schedule::new(&[]);
        self.converge("reload").await;
        self.schedule = Schedule::new(&self.bases());
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

    /// Sets the service metrics of service `i`: its live weight and its quorum.
    fn publish_service(&self, i: usize) {
        let t = &self.services[i];
        let labels = ServiceLabels {
            service: t.base.name.clone(),
        };
        self.metrics
            .service_live_weight
            .get_or_create(&labels)
            .set(i64::from(t.live_weight()));
        self.metrics
            .service_quorum
            .get_or_create(&labels)
            .set(i64::from(t.quorum.up));
    }

    /// The state as `lvsc status` shows it, built when asked.
    fn snapshot(&self) -> Snapshot {
        let services = self
            .services
            .iter()
            .map(|t| {
                let applied = t.applied.as_ref();
                ServiceStatus {
                    name: t.base.name.clone(),
                    quorum_up: t.quorum.up,
                    live_weight: t.live_weight(),
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
        Snapshot {
            cluster: self.config.cluster.clone(),
            host: self.config.director.name.clone(),
            dataplane: self.dataplane_name.clone(),
            reloads: self.reloads,
            services,
        }
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
