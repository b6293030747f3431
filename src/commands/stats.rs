//! `lvsc stats --iface IF`: the XDP program's per-service packet and byte counters.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::commands::xdp::{XdpMode, target};

/// Arguments of `lvsc stats`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The interface the XDP program is attached to.
    #[arg(long)]
    iface: String,
    /// The bpffs directory holding the pins (default /sys/fs/bpf/lvsc).
    #[arg(long)]
    pin_dir: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stats = lvsc_xdp::install::stats(&target(&args.iface, XdpMode::Auto, args.pin_dir))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = stats
        .iter()
        .map(|s| s.service.len())
        .max()
        .unwrap_or(7)
        .max(7);
    println!("{:<width$}  {:>14}  {:>18}", "SERVICE", "PACKETS", "BYTES");
    for s in &stats {
        println!("{:<width$}  {:>14}  {:>18}", s.service, s.packets, s.bytes);
    }
    Ok(ExitCode::SUCCESS)
}
