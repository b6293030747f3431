//! `lvsc run FILE [--host NAME] [--backend ipvs|nftables|xdp] [--iface IF]`: the
//! director's control loop (lvsc-director): health checks and the data plane.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use super::apply::Backend;

/// Arguments of `lvsc run`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The cluster file (read again on SIGHUP).
    file: PathBuf,
    /// The director this is (needed when the cluster has several).
    #[arg(long)]
    host: Option<String>,
    /// The data plane to drive (default: the director's `dataplane`).
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// XDP: the interface (default: the director's first).
    #[arg(long)]
    iface: Option<String>,
    /// XDP: native or generic for a first install.
    #[arg(long, value_enum, default_value_t)]
    xdp_mode: super::xdp::XdpMode,
    /// XDP: the bpffs directory for the pins (default /sys/fs/bpf/lvsc).
    #[arg(long)]
    pin_dir: Option<PathBuf>,
    /// Serve Prometheus metrics on ADDR:PORT (`GET /metrics`).
    #[arg(long)]
    metrics: Option<SocketAddr>,
    /// The status socket `lvsc status` reads.
    #[arg(long, default_value = lvsc_director::status::DEFAULT_SOCKET)]
    socket: PathBuf,
}

/// Runs the loop until SIGTERM.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // The director's own choices, from the file, unless the command line overrides.
    let file = args.file.to_string_lossy().into_owned();
    let Some(cluster) = super::compile_file_for(&file, args.backend.map(Backend::dataplane))?
    else {
        return Ok(ExitCode::from(1));
    };
    let director = super::director(&cluster, args.host.as_deref())?;
    let backend = args.backend.unwrap_or(Backend::of(director.dataplane));
    let kind = match backend {
        Backend::Ipvs => lvsc_director::Kind::Ipvs,
        Backend::Nftables => lvsc_director::Kind::Nftables,
        Backend::Ebpf => lvsc_director::Kind::Xdp,
    };
    let xdp = (kind == lvsc_director::Kind::Xdp).then(|| {
        let iface = args.iface.clone().unwrap_or_else(|| {
            director
                .addresses
                .first()
                .map_or_else(|| "eth0".into(), |a| a.interface.clone())
        });
        super::xdp::attachment(&iface, args.xdp_mode, args.pin_dir.clone())
    });
    lvsc_director::run(lvsc_director::Options {
        file: args.file,
        host: Some(director.name),
        kind,
        xdp,
        metrics: args.metrics,
        socket: args.socket,
    })?;
    Ok(ExitCode::SUCCESS)
}
