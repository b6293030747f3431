//! `lvsc apply FILE [--backend ipvs|nftables|ebpf] [--host NAME] [--dry-run]`: make this
//! director match the cluster file.

use std::io::Write;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, bail};
use clap::ValueEnum;

use crate::commands::compile_file;

/// How the director balances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The kernel's IPVS table, set over generic netlink.
    #[default]
    Ipvs,
    /// The whole load balancer as one nftables ruleset (kernels without IPVS).
    Nftables,
    /// The XDP load balancer (needs --iface).
    Ebpf,
}

/// Arguments of `lvsc apply`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// Data plane to program.
    #[arg(long, value_enum, default_value_t)]
    backend: Backend,
    /// The director to configure (needed when the cluster has several).
    #[arg(long)]
    host: Option<String>,
    /// Print what would be done and change nothing.
    #[arg(long)]
    dry_run: bool,
    /// IPVS: if the kernel refuses a step, undo the steps already made.
    #[arg(long)]
    atomic: bool,
    /// IPVS: a real that leaves gets weight 0 and stays until a later apply without --drain.
    #[arg(long)]
    drain: bool,
    /// eBPF: the interface to attach the XDP program to.
    #[arg(long, required_if_eq("backend", "ebpf"))]
    iface: Option<String>,
    /// eBPF: native or generic XDP for a first install.
    #[arg(long, value_enum, default_value_t)]
    xdp_mode: super::xdp::XdpMode,
    /// eBPF: the bpffs directory for the pins (default /sys/fs/bpf/lvsc).
    #[arg(long)]
    pin_dir: Option<std::path::PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(cluster) = compile_file(&args.file)? else {
        return Ok(ExitCode::from(1));
    };
    if args.backend == Backend::Ipvs {
        let director = super::director(&cluster, args.host.as_deref())?;
        return super::ipvs::apply(&director, args.dry_run, args.atomic, args.drain);
    }
    if args.backend == Backend::Ebpf {
        let director = super::director(&cluster, args.host.as_deref())?;
        let iface = args
            .iface
            .as_deref()
            .context("--backend ebpf needs --iface")?;
        let target = super::xdp::target(iface, args.xdp_mode, args.pin_dir);
        return super::xdp::apply(&director, &target, args.dry_run);
    }
    let files = match lvsc_hosts::build(&cluster, lvsc_hosts::Target::Nftables) {
        Ok(f) => f,
        Err(errors) => {
            for e in errors {
                eprintln!("lvsc: {}: {}", e.host, e.message);
            }
            return Ok(ExitCode::from(1));
        }
    };
    let view = super::director(&cluster, args.host.as_deref())?;
    let host = view.name.clone();
    let ruleset = &files
        .iter()
        .find(|f| f.host == host)
        .context("director has a ruleset")?
        .contents;
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
