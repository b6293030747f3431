//! `lvsc stats --iface IF [FILE]`: the XDP program's per-service packet and byte
//! counters, named after the cluster file's services when it is given.

use std::collections::HashMap;
use std::process::ExitCode;

use lvsc_xdp::layout::SvcKey;

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
    let mut stats = lvsc_xdp::install::stats(&args.installed.target())?;
    if let Some(file) = &args.file {
        let Some(cluster) = compile_file(file)? else {
            return Ok(ExitCode::from(1));
        };
        let names: HashMap<String, &str> = cluster
            .services
            .iter()
            .flat_map(|s| {
                lvsc_ebpf::image::match_keys(s)
                    .into_iter()
                    .map(|(ip, port, proto)| {
                        (SvcKey::new(ip, port, proto).to_string(), s.name.as_str())
                    })
            })
            .collect();
        for s in &mut stats {
            s.name = names.get(&s.service).map(|n| n.to_string());
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
        return Ok(ExitCode::SUCCESS);
    }
    let label = |s: &lvsc_xdp::install::ServiceStats| match &s.name {
        Some(n) => format!("{} ({n})", s.service),
        None => s.service.clone(),
    };
    let width = stats
        .iter()
        .map(|s| label(s).len())
        .max()
        .unwrap_or(7)
        .max(7);
    println!("{:<width$}  {:>14}  {:>18}", "SERVICE", "PACKETS", "BYTES");
    for s in &stats {
        println!("{:<width$}  {:>14}  {:>18}", label(s), s.packets, s.bytes);
    }
    Ok(ExitCode::SUCCESS)
}
