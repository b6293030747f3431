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
    /// Pass, fail, or no verdict.
    pub verdict: Verdict,
    /// How long it took.
    pub latency: Duration,
    /// When it ended.
    pub ended: Instant,
    /// Why it did not pass, when it did not.
    pub error: Option<String>,
}

/// A probe's verdict on the real.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The real passed.
    Pass,
    /// The real failed.
    Fail,
    /// The director could not run the check (out of file descriptors, memory or
    /// buffers): nothing is known of the real, whose state stays as it was.
    Local,
}

/// Why a probe did not pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The real's answer (or its silence).
    Real(String),
    /// The director's own trouble.
    Local(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure::Real(s)
    }
}

impl Failure {
    /// An I/O error of `what`: the director's when it ran out of something, else the real's.
    pub fn io(what: impl std::fmt::Display, e: &std::io::Error) -> Failure {
        const EMFILE: i32 = 24;
        const ENFILE: i32 = 23;
        const ENOMEM: i32 = 12;
        const ENOBUFS: i32 = 105;
        const EAGAIN: i32 = 11;
        let text = format!("{what}: {e}");
        match e.raw_os_error() {
            Some(EMFILE | ENFILE | ENOMEM | ENOBUFS | EAGAIN) => Failure::Local(text),
            _ => Failure::Real(text),
        }
    }
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
///
/// The HTTP, TLS and command probes are boxed: a waiting check then holds a few hundred
/// bytes instead of the largest probe's state (kilobytes), which adds up over thousands
/// of reals.
pub async fn probe(check: &Check, at: SocketAddr) -> Probe {
    // Two clock reads per check, no more: on hosts whose clock source is not the TSC
    // (virtual machines) each is a system call, and thousands of checks run a second.
    let start = Instant::now();
    let outcome: Result<(), Failure> = match check {
        Check::None => Ok(()),
        Check::Tcp { timing } => bounded(start, timing.timeout_ms, tcp(at)).await,
        Check::Http {
            path,
            expect,
            timing,
        } => {
            let get = Box::pin(http::get(at, path, *expect, false));
            bounded(start, timing.timeout_ms, get).await
        }
        Check::Https {
            path,
            expect,
            timing,
        } => {
            let get = Box::pin(http::get(at, path, *expect, true));
            bounded(start, timing.timeout_ms, get).await
        }
        Check::Misc { command, timing } => Box::pin(misc::run(command, timing.timeout_ms)).await,
    };
    let ended = Instant::now();
    let (verdict, error) = match outcome {
        Ok(()) => (Verdict::Pass, None),
        Err(Failure::Real(e)) => (Verdict::Fail, Some(e)),
        Err(Failure::Local(e)) => (Verdict::Local, Some(e)),
    };
    Probe {
        verdict,
        latency: ended - start,
        ended,
        error,
    }
}

async fn bounded(
    start: Instant,
    timeout_ms: u64,
    f: impl Future<Output = Result<(), Failure>>,
) -> Result<(), Failure> {
    let deadline = tokio::time::Instant::from_std(start + Duration::from_millis(timeout_ms));
    match tokio::time::timeout_at(deadline, f).await {
        Ok(r) => r,
        Err(_) => Err(Failure::Real(format!("no answer within {timeout_ms} ms"))),
    }
}

async fn tcp(at: SocketAddr) -> Result<(), Failure> {
    tokio::net::TcpStream::connect(at)
        .await
        .map(drop)
        .map_err(|e| Failure::io(format_args!("connect to {at}"), &e))
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
        assert_eq!(probe(&check, at).await.verdict, Verdict::Pass);
        drop(l);
        // A bound socket that does not listen refuses connections and keeps the port from
        // being reused (or self-connected to) while the test runs.
        let closed = tokio::net::TcpSocket::new_v4().unwrap();
        closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let at = closed.local_addr().unwrap();
        let p = probe(&check, at).await;
        assert_eq!(p.verdict, Verdict::Fail);
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

    #[test]
    fn a_waiting_check_is_small() {
        let real: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let check = Check::Https {
            path: "/".into(),
            expect: 200,
            timing: timing(),
        };
        // Thousands of these wait at once: the probes' own state is boxed.
        let size = std::mem::size_of_val(&probe(&check, real));
        assert!(size <= 1024, "a probe future takes {size} bytes");
    }
}
