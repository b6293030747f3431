//! `lvsc run`: the director's control loop. It checks every real the cluster file
//! declares (tcp, http, https, misc) with the meaning keepalived gives the same checks,
//! keeps a real out until its first check passes, takes it out after `retry` failures
//! and brings it back on a pass, follows each service's quorum and sorry server, and
//! changes the data plane (IPVS, nftables or XDP) one service at a time by the same
//! minimal-change paths as `lvsc apply`. It starts from the live data plane, never a
//! flush, and reports through a JSON log, Prometheus metrics and `lvsc status`.
//!
//! Start at [`run`]; the state machine is in [`health`], the probes in [`check`], the
//! data planes behind [`dataplane::Dataplane`].

pub mod announce;
pub mod check;
pub mod config;
mod control;
pub mod dataplane;
pub mod events;
pub mod health;
pub mod metrics;
pub mod schedule;
pub mod status;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use dataplane::Kind;

/// How to run the loop.
#[derive(Clone, Debug)]
pub struct Options {
    /// The cluster file (read again on SIGHUP).
    pub file: PathBuf,
    /// The director this is (needed when the cluster has several).
    pub host: Option<String>,
    /// The data plane to drive.
    pub kind: Kind,
    /// For XDP: where the program is (or goes).
    pub xdp: Option<lvsc_xdp_loader::install::Attachment>,
    /// Where to serve Prometheus metrics.
    pub metrics: Option<SocketAddr>,
    /// The status socket.
    pub socket: PathBuf,
}

/// Why the loop could not start (once running, it reports trouble and keeps going).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cluster file cannot be run.
    #[error(transparent)]
    Config(#[from] config::LoadError),
    /// The data plane could not be read or set up.
    #[error(transparent)]
    Dataplane(#[from] dataplane::Error),
    /// A signal handler could not be installed.
    #[error("signals: {0}")]
    Signal(std::io::Error),
    /// The runtime could not start.
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
    /// Another loop runs (its status socket answers).
    #[error("{0}")]
    Running(std::io::Error),
}

/// Runs the loop until SIGTERM or SIGINT.
pub fn run(opts: Options) -> Result<(), Error> {
    status::ensure_free(&opts.socket).map_err(Error::Running)?;
    let open_files = raise_fd_limit();
    let config = config::Config::load(&opts.file, opts.host.as_deref())?;
    // Checks are I/O-bound and many: one thread runs them all; data-plane steps, which
    // block on netlink, aya or nft, run on the blocking pool.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async move {
        let dp = dataplane::open(
            opts.kind,
            &config.cluster,
            &config.director,
            opts.xdp.clone(),
        )?;
        // The loop runs as a task, not as the runtime's root future: waking a task on
        // the runtime's own thread is a queue push, while waking the root future writes
        // to an eventfd, a system call for every finished check.
        tokio::spawn(control::run(opts, config, dp, open_files))
            .await
            .expect("the loop does not panic")
    })
}

/// Every check in flight holds a socket: lifts the soft limit on open files to the hard
/// one, and the hard one to 65,536 where allowed (root), as keepalived does.
fn raise_fd_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    let hard = now.maximum.unwrap_or(u64::MAX);
    let want = hard.max(65_536);
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(want),
            maximum: Some(want),
        },
    );
    if raised.is_err() {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: now.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}
