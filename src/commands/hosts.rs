//! `lvsc hosts FILE`: list each host of the cluster and its role.

use std::process::ExitCode;

use crate::commands::compile_file;

/// Arguments of `lvsc hosts`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// Print the full per-host views as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(cluster) = compile_file(&args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let hosts = lvsc_compiler::views(&cluster);
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&hosts)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = hosts
        .roles()
        .iter()
        .map(|(n, _)| n.len())
        .max()
        .unwrap_or(4)
        .max(4);
    outln!("{:width$}  ROLE            DETAILS", "HOST");
    for d in &hosts.directors {
        let role = d.vrrp.as_ref().map_or("".to_string(), |v| {
            format!("vrrp {} priority {}", v.state, v.priority)
        });
        let addrs: Vec<String> = d
            .addresses
            .iter()
            .map(|a| format!("{}/{} on {}", a.addr, a.prefix, a.interface))
            .collect();
        outln!(
            "{:width$}  director        {} {role}; {} services",
            d.name,
            addrs.join(", "),
            d.services.len()
        );
    }
    for r in &hosts.reals {
        let methods: std::collections::BTreeSet<String> =
            r.services.iter().map(|(_, m)| m.to_string()).collect();
        let methods: Vec<String> = methods.into_iter().collect();
        outln!(
            "{:width$}  real-server     {} ({}); {} mounts",
            r.name,
            r.ip,
            methods.join(", "),
            r.mounts.len()
        );
    }
    for s in &hosts.storage {
        let exports: Vec<String> = s
            .exports
            .iter()
            .map(|e| format!("{} to {} clients", e.path, e.clients.len()))
            .collect();
        outln!(
            "{:width$}  storage-server  {} exports {}",
            s.name,
            s.ip,
            exports.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
