//! Prometheus metrics (prometheus-client), served over HTTP on `--metrics ADDR:PORT`:
//! per real whether it is up, its last check's latency and its transitions; per service
//! the live weight, the quorum and, on the XDP data plane, the kernel's packet and byte
//! counters.

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of a real's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RealLabels {
    /// The service.
    pub service: String,
    /// The real.
    pub real: String,
}

/// Labels of a service's series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    /// The service.
    pub service: String,
}

/// Labels of a reload's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `applied` or `refused`.
    pub result: String,
}

/// Labels of a count of checks.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// `pass` or `fail`.
    pub result: String,
}

/// Every metric of the loop.
pub struct Metrics {
    registry: Registry,
    /// 1 while the real serves, 0 while it is out.
    pub real_up: Family<RealLabels, Gauge>,
    /// The last check's duration.
    pub real_latency: Family<RealLabels, Gauge<f64, AtomicU64>>,
    /// Changes between serving and not.
    pub real_transitions: Family<RealLabels, Counter>,
    /// The weight of the reals that serve.
    pub service_live_weight: Family<ServiceLabels, Gauge>,
    /// 1 while the service has its quorum.
    pub service_quorum: Family<ServiceLabels, Gauge>,
    /// Reloads (SIGHUP), by outcome.
    pub reloads: Family<ReloadLabels, Counter>,
    /// Checks run, by result.
    pub checks: Family<CheckLabels, Counter>,
    /// The data plane's own counters, refreshed by the loop: (service, packets, bytes).
    pub dataplane_counters: Arc<Mutex<Vec<(String, u64, u64)>>>,
}

/// One real's series, looked up once: a check then costs a few atomic stores.
#[derive(Clone, Debug, Default)]
pub struct RealMetrics {
    /// `lvsc_real_up`.
    pub up: Gauge,
    /// `lvsc_real_check_latency_seconds`.
    pub latency: Gauge<f64, AtomicU64>,
    /// `lvsc_real_transitions_total`.
    pub transitions: Counter,
}

impl Metrics {
    /// The series of `real` of `service`.
    pub fn real(&self, service: &str, real: &str) -> RealMetrics {
        let labels = RealLabels {
            service: service.to_string(),
            real: real.to_string(),
        };
        RealMetrics {
            up: self.real_up.get_or_create(&labels).clone(),
            latency: self.real_latency.get_or_create(&labels).clone(),
            transitions: self.real_transitions.get_or_create(&labels).clone(),
        }
    }

    /// Forgets the series of `real` of `service` (gone from the file).
    pub fn forget_real(&self, service: &str, real: &str) {
        let labels = RealLabels {
            service: service.to_string(),
            real: real.to_string(),
        };
        self.real_up.remove(&labels);
        self.real_latency.remove(&labels);
        self.real_transitions.remove(&labels);
    }

    /// The counter of checks with `result` (`pass` or `fail`).
    pub fn checks(&self, result: &str) -> Counter {
        self.checks
            .get_or_create(&CheckLabels {
                result: result.to_string(),
            })
            .clone()
    }
}

/// The kernel's counters as constant counters at each scrape.
#[derive(Debug)]
struct KernelCounters(Arc<Mutex<Vec<(String, u64, u64)>>>);

impl Collector for KernelCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counters = self.0.lock().expect("not poisoned").clone();
        if counters.is_empty() {
            return Ok(());
        }
        for (name, help, pick) in [
            // The registry's prefix makes these lvsc_dataplane_*.
            (
                "dataplane_packets",
                "Packets the data plane forwarded for the service.",
                0,
            ),
            (
                "dataplane_bytes",
                "Bytes the data plane forwarded for the service.",
                1,
            ),
        ] {
            let mut family = encoder.encode_descriptor(
                name,
                help,
                None,
                prometheus_client::metrics::MetricType::Counter,
            )?;
            for (service, packets, bytes) in &counters {
                let value = if pick == 0 { *packets } else { *bytes };
                let labels = ServiceLabels {
                    service: service.clone(),
                };
                let m = family.encode_family(&labels)?;
                ConstCounter::new(value).encode(m)?;
            }
        }
        Ok(())
    }
}

impl Metrics {
    /// The metrics, registered.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("lvsc");
        let m = Metrics {
            registry: Registry::default(),
            real_up: Family::default(),
            real_latency: Family::default(),
            real_transitions: Family::default(),
            service_live_weight: Family::default(),
            service_quorum: Family::default(),
            reloads: Family::default(),
            checks: Family::default(),
            dataplane_counters: Arc::new(Mutex::new(Vec::new())),
        };
        registry.register(
            "real_up",
            "Whether the real serves (1) or is out (0).",
            m.real_up.clone(),
        );
        registry.register(
            "real_check_latency_seconds",
            "How long the real's last check took.",
            m.real_latency.clone(),
        );
        registry.register(
            "real_transitions",
            "Times the real went from serving to out or back.",
            m.real_transitions.clone(),
        );
        registry.register(
            "service_live_weight",
            "The total weight of the service's reals that serve.",
            m.service_live_weight.clone(),
        );
        registry.register(
            "service_quorum",
            "Whether the service has its quorum (1) or lost it (0).",
            m.service_quorum.clone(),
        );
        registry.register(
            "reloads",
            "Configuration reloads, by result.",
            m.reloads.clone(),
        );
        registry.register(
            "checks",
            "Checks run, by result (pass or fail).",
            m.checks.clone(),
        );
        registry.register_collector(Box::new(KernelCounters(m.dataplane_counters.clone())));
        Metrics { registry, ..m }
    }

    /// The metrics in the OpenMetrics text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// The metrics in the classic Prometheus text format (0.0.4), for scrapers and tools
    /// that do not ask for OpenMetrics: a counter's family takes its samples' `_total`
    /// name, and there is no `# EOF`.
    pub fn encode_prometheus(&self) -> String {
        classic(&self.encode())
    }
}

/// OpenMetrics text as Prometheus 0.0.4 text.
fn classic(open: &str) -> String {
    let counters: std::collections::HashSet<&str> = open
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(open.len());
    for line in open.lines() {
        if line == "# EOF" {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{p}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Serves `GET /metrics` on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move {
                    let open = req
                        .headers()
                        .get(hyper::header::ACCEPT)
                        .and_then(|a| a.to_str().ok())
                        .is_some_and(|a| a.contains("application/openmetrics-text"));
                    let (kind, body) = if open {
                        (
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            metrics.encode(),
                        )
                    } else {
                        (
                            "text/plain; version=0.0.4; charset=utf-8",
                            metrics.encode_prometheus(),
                        )
                    };
                    let response = if req.uri().path() == "/metrics" {
                        hyper::Response::builder()
                            .header(hyper::header::CONTENT_TYPE, kind)
                            .body(Full::new(Bytes::from(body)))
                    } else {
                        hyper::Response::builder()
                            .status(404)
                            .body(Full::new(Bytes::from_static(b"try /metrics\n")))
                    };
                    Ok::<_, hyper::http::Error>(response.expect("a valid response"))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_take_their_total_name_in_the_classic_format() {
        let m = Metrics::new();
        let labels = RealLabels {
            service: "www".into(),
            real: "rs1".into(),
        };
        m.real_transitions.get_or_create(&labels).inc();
        m.real_up.get_or_create(&labels).set(1);
        let open = m.encode();
        assert!(
            open.contains("# TYPE lvsc_real_transitions counter"),
            "{open}"
        );
        assert!(open.ends_with("# EOF\n"));
        let classic = m.encode_prometheus();
        assert!(
            classic.contains("# TYPE lvsc_real_transitions_total counter"),
            "{classic}"
        );
        assert!(
            classic.contains("# HELP lvsc_real_transitions_total "),
            "{classic}"
        );
        assert!(classic.contains("lvsc_real_up{service=\"www\",real=\"rs1\"} 1"));
        assert!(!classic.contains("# EOF"));
    }

    #[test]
    fn the_kernel_counters_are_encoded_per_service() {
        let m = Metrics::new();
        *m.dataplane_counters.lock().unwrap() = vec![("www".into(), 7, 700)];
        let classic = m.encode_prometheus();
        let lines: Vec<&str> = classic.lines().collect();
        assert!(
            lines.contains(&"lvsc_dataplane_packets_total{service=\"www\"} 7"),
            "{classic}"
        );
        assert!(lines.contains(&"lvsc_dataplane_bytes_total{service=\"www\"} 700"));
    }
}
