//! `lvsc detach --iface IF`: remove the XDP program `apply --backend ebpf` installed.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::commands::xdp::{XdpMode, target};

/// Arguments of `lvsc detach`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The interface the XDP program is attached to.
    #[arg(long)]
    iface: String,
    /// The bpffs directory holding the pins (default /sys/fs/bpf/lvsc).
    #[arg(long)]
    pin_dir: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let t = target(&args.iface, XdpMode::Auto, args.pin_dir);
    if lvsc_xdp::install::remove(&t)? {
        eprintln!("{}: XDP program detached, maps released", args.iface);
    } else {
        eprintln!(
            "{}: nothing installed (no pins under {})",
            args.iface,
            t.dir().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
