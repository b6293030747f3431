//! `lvsc hosts FILE [--format text|json|ansible-inventory] [--removed-since OLD]`: list
//! each host of the cluster and its role.

use std::process::ExitCode;

use crate::commands::compile_file;

/// How `lvsc hosts` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum HostsFormat {
    /// A table: each host, its role and details.
    #[default]
    Text,
    /// The full per-host views.
    Json,
    /// An Ansible inventory (YAML): groups directors, reals, storage.
    AnsibleInventory,
}

/// Arguments of `lvsc hosts`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// Print the full per-host views as JSON (the same as `--format json`).
    #[arg(long)]
    json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: HostsFormat,
    /// Only the hosts of OLD (a file; `-` reads standard input) that FILE no longer has:
    /// those a rollout takes down.
    #[arg(long, value_name = "OLD")]
    removed_since: Option<String>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(cluster) = compile_file(&args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let mut hosts = lvsc_compiler::views(&cluster);
    let mut name = cluster.name.clone();
    if let Some(old) = &args.removed_since {
        let Some(old) = compile_file(old)? else {
            return Ok(ExitCode::from(1));
        };
        let now: std::collections::BTreeSet<String> =
            hosts.roles().iter().map(|(n, _)| n.to_string()).collect();
        hosts = lvsc_compiler::views(&old);
        hosts.directors.retain(|h| !now.contains(&h.name));
        hosts.reals.retain(|h| !now.contains(&h.name));
        hosts.storage.retain(|h| !now.contains(&h.name));
        name = old.name;
    }
    if args.json || args.format == HostsFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&hosts)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.format == HostsFormat::AnsibleInventory {
        out!("{}", lvsc_files::ansible::inventory(&name, &hosts, None));
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
