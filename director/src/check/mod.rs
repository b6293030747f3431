//! The check executors: one probe of one real, with the meaning keepalived gives the same
//! check in the keepalived.conf lvsc writes (`timeout` bounds the whole probe; an HTTP
//! check passes on the expected status only; a command passes on exit status 0).

mod http;
mod misc;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use lvsc_compiler::ir::Check;

/// What one probe found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// Whether the check passed.
    pub passed: bool,
    /// How long it took.
    pub latency: Duration,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// Where a check goes: the real's address and port, or the check's own port.
pub fn target(check: &Check, real: SocketAddr) -> Option<SocketAddr> {
    let port = match check {
        Check::None => return None,
        Check::Tcp { timing }
        | Check::Http { timing, .. }
        | Check::Https { timing, .. }
        | Check::Misc { timing, .. } => timing.port.unwrap_or(real.port()),
    };
    Some(SocketAddr::new(real.ip(), port))
}

/// Runs `check` once against `at`, bounded by its timeout.
pub async fn probe(check: &Check, at: SocketAddr) -> Probe {
    let start = Instant::now();
    let outcome = match check {
        Check::None => Ok(()),
        Check::Tcp { timing } => bounded(timing.timeout_ms, tcp(at)).await,
        Check::Http {
            path,
            expect,
            timing,
        } => bounded(timing.timeout_ms, http::get(at, path, *expect, false)).await,
        Check::Https {
            path,
            expect,
            timing,
        } => bounded(timing.timeout_ms, http::get(at, path, *expect, true)).await,
        Check::Misc { command, timing } => misc::run(command, timing.timeout_ms).await,
    };
    Probe {
        passed: outcome.is_ok(),
        latency: start.elapsed(),
        error: outcome.err(),
    }
}

async fn bounded(
    timeout_ms: u64,
    f: impl Future<Output = Result<(), String>>,
) -> Result<(), String> {
    match tokio::time::timeout(Duration::from_millis(timeout_ms), f).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {timeout_ms} ms")),
    }
}

async fn tcp(at: SocketAddr) -> Result<(), String> {
    tokio::net::TcpStream::connect(at)
        .await
        .map(drop)
        .map_err(|e| format!("connect to {at}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvsc_compiler::ir::CheckTiming;

    fn timing() -> CheckTiming {
        CheckTiming {
            port: None,
            every_ms: 1000,
            timeout_ms: 500,
            retry: 3,
        }
    }

    #[tokio::test]
    async fn tcp_passes_on_a_listener_and_fails_on_a_closed_port() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = l.local_addr().unwrap();
        let check = Check::Tcp { timing: timing() };
        assert!(probe(&check, at).await.passed);
        drop(l);
        let p = probe(&check, at).await;
        assert!(!p.passed);
        assert!(p.error.unwrap().contains("connect"));
    }

    #[test]
    fn the_check_port_overrides_the_reals() {
        let mut t = timing();
        t.port = Some(9000);
        let real: SocketAddr = "192.0.2.1:80".parse().unwrap();
        assert_eq!(
            target(&Check::Tcp { timing: t }, real),
            Some("192.0.2.1:9000".parse().unwrap())
        );
        assert_eq!(target(&Check::None, real), None);
    }
}
