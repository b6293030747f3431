//! `lvsc stats --iface IF`: the XDP program's per-service packet and byte counters.

use std::process::ExitCode;

use crate::commands::xdp::Installed;

/// Arguments of `lvsc stats`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    installed: Installed,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stats = lvsc_xdp::install::stats(&args.installed.target())?;
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
