//! `lvsc detach --iface IF`: remove the XDP program `apply --backend ebpf` installed.

use std::process::ExitCode;

use crate::commands::xdp::Installed;

/// Arguments of `lvsc detach`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    installed: Installed,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let t = args.installed.attachment();
    if lvsc_xdp_loader::install::remove(&t)? {
        eprintln!("{}: XDP program detached, maps released", t.interface);
    } else {
        eprintln!(
            "{}: nothing installed (no pins under {})",
            t.interface,
            t.dir().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
