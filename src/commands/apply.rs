//! `lvsc apply FILE --backend nftables [--host NAME] [--dry-run]`: make this director
//! match the cluster file.

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use clap::ValueEnum;

use crate::commands::compile_file;

/// How the director balances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The whole load balancer as one nftables ruleset (kernels without IPVS).
    Nftables,
}

/// Arguments of `lvsc apply`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// Data plane to program.
    #[arg(long, value_enum)]
    backend: Backend,
    /// The director to configure (needed when the cluster has several).
    #[arg(long)]
    host: Option<String>,
    /// Print what would be done and change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(cluster) = compile_file(&args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let Backend::Nftables = args.backend;
    let files = match lvsc_hosts::build(&cluster, lvsc_hosts::Target::Nftables) {
        Ok(f) => f,
        Err(errors) => {
            for e in errors {
                eprintln!("lvsc: {}: {}", e.host, e.message);
            }
            return Ok(ExitCode::from(1));
        }
    };
    let names: Vec<&str> = cluster
        .balancer
        .directors
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    let host = match (&args.host, names.as_slice()) {
        (Some(h), _) if names.contains(&h.as_str()) => h.clone(),
        (Some(h), _) => bail!("no director is named {h}; directors: {}", names.join(", ")),
        (None, [one]) => one.to_string(),
        (None, _) => bail!(
            "the cluster has several directors ({}); say which with --host",
            names.join(", ")
        ),
    };
    let ruleset = &files
        .iter()
        .find(|f| f.host == host)
        .context("director has a ruleset")?
        .contents;
    let view = lvsc_compiler::hosts(&cluster)
        .directors
        .into_iter()
        .find(|d| d.name == host)
        .context("director view")?;
    // NAT through nftables forwards packets: that is the one kernel setting it needs.
    let mut sysctls: Vec<(String, String)> = view.sysctls.into_iter().collect();
    let v4 = cluster.services.iter().any(|s| !s.is_ipv6());
    let v6 = cluster.services.iter().any(|s| s.is_ipv6());
    if v4 {
        sysctls.push(("net.ipv4.ip_forward".into(), "1".into()));
    }
    if v6 {
        sysctls.push(("net.ipv6.conf.all.forwarding".into(), "1".into()));
    }
    sysctls.sort();
    sysctls.dedup();
    if args.dry_run {
        for (k, v) in &sysctls {
            println!("sysctl -w {k}={v}");
        }
        println!("nft -f - <<'EOF'\n{ruleset}EOF");
        return Ok(ExitCode::SUCCESS);
    }
    for (k, v) in &sysctls {
        let status = Command::new("sysctl")
            .args(["-qw", &format!("{k}={v}")])
            .status()
            .context("running sysctl")?;
        if !status.success() {
            bail!("sysctl {k}={v} failed; nothing else was changed");
        }
    }
    let mut nft = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .context("running nft")?;
    nft.stdin
        .take()
        .context("nft stdin")?
        .write_all(ruleset.as_bytes())?;
    if !nft.wait()?.success() {
        bail!(
            "nft refused the ruleset; the previous ruleset is still in place (one transaction); sysctls were set: {sysctls:?}"
        );
    }
    eprintln!(
        "{host}: sysctls set, nftables table {} loaded in one transaction",
        lvsc_hosts::DATAPLANE_TABLE
    );
    Ok(ExitCode::SUCCESS)
}
