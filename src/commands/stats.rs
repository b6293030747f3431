//! `lvsc stats --iface IF [FILE]`: the XDP program's per-service packet and byte
//! counters, named after the cluster file's services when it is given.

use std::process::ExitCode;

use crate::commands::{compile_file, xdp::Installed};

/// Arguments of `lvsc stats`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The cluster file, to name the services (optional).
    file: Option<String>,
    #[command(flatten)]
    installed: Installed,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stats = lvsc_xdp_loader::install::stats(&args.installed.attachment())?;
    if let Some(file) = &args.file {
        let Some(cluster) = compile_file(file)? else {
            return Ok(ExitCode::from(1));
        };
        lvsc_xdp_loader::director::name_services(&mut stats, &cluster.services);
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    let label = |s: &lvsc_xdp_loader::install::ServiceStats| match &s.name {
        Some(n) => format!("{} ({n})", s.service),
        None => s.service.clone(),
    };
    let width = stats
        .iter()
        .map(|s| label(s).len())
        .max()
        .unwrap_or(7)
        .max(7);
    outln!("{:<width$}  {:>14}  {:>18}", "SERVICE", "PACKETS", "BYTES");
    for s in &stats {
        outln!("{:<width$}  {:>14}  {:>18}", label(s), s.packets, s.bytes);
    }
    Ok(ExitCode::SUCCESS)
}
