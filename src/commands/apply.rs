//! `lvsc apply FILE [--backend ipvs|nftables|ebpf] [--host NAME] [--drain-from OLD]
//! [--dry-run]`: make this
//! director match the cluster file.

use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;

use crate::commands::compile_file_for;

/// How the director balances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// The kernel's IPVS table, set over generic netlink.
    #[default]
    Ipvs,
    /// The whole load balancer as one nftables ruleset (kernels without IPVS).
    Nftables,
    /// The XDP load balancer (needs --iface).
    #[value(alias = "xdp")]
    Ebpf,
}

impl Backend {
    /// The backend that drives a director's `dataplane`.
    pub fn of(d: lvsc_compiler::ir::Dataplane) -> Backend {
        match d {
            lvsc_compiler::ir::Dataplane::Ipvs => Backend::Ipvs,
            lvsc_compiler::ir::Dataplane::Nftables => Backend::Nftables,
            lvsc_compiler::ir::Dataplane::Xdp => Backend::Ebpf,
        }
    }

    /// The data plane this backend drives.
    pub fn dataplane(self) -> lvsc_compiler::ir::Dataplane {
        match self {
            Backend::Ipvs => lvsc_compiler::ir::Dataplane::Ipvs,
            Backend::Nftables => lvsc_compiler::ir::Dataplane::Nftables,
            Backend::Ebpf => lvsc_compiler::ir::Dataplane::Xdp,
        }
    }
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
    /// Any data plane: the reals of OLD (the file applied before) that FILE no longer has
    /// stay at weight 0, so their connections finish; a later apply of FILE removes them.
    #[arg(long, value_name = "OLD")]
    drain_from: Option<String>,
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
    let Some(mut cluster) = compile_file_for(&args.file, Some(args.backend.dataplane()))? else {
        return Ok(ExitCode::from(1));
    };
    if let Some(old) = &args.drain_from {
        let Some(old) = compile_file_for(old, Some(args.backend.dataplane()))? else {
            return Ok(ExitCode::from(1));
        };
        cluster = lvsc_compiler::drain::drain_leaving(&cluster, &old);
    }
    let director = super::director(&cluster, args.host.as_deref())?;
    match args.backend {
        Backend::Ipvs => {
            let opts = lvsc_ipvs::director::Options {
                atomic: args.atomic,
                drain: args.drain,
            };
            super::ipvs::apply(&director, args.dry_run, opts)
        }
        Backend::Ebpf => {
            let iface = args
                .iface
                .as_deref()
                .context("--backend ebpf needs --iface")?;
            let at = super::xdp::attachment(iface, args.xdp_mode, args.pin_dir);
            super::xdp::apply(&director, &at, args.dry_run)
        }
        Backend::Nftables => {
            let apply = match lvsc_nftables::apply::Apply::new(&cluster.name, &director) {
                Ok(a) => a,
                Err(refusals) => {
                    for r in refusals {
                        eprintln!("lvsc: {}: {r}", director.name);
                    }
                    return Ok(ExitCode::from(1));
                }
            };
            if args.dry_run {
                out!("{}", apply.script());
                return Ok(ExitCode::SUCCESS);
            }
            // The live table decides: element changes while its shape holds (a weight
            // change keeps every affinity entry), else the whole table in one transaction.
            let mut live = lvsc_nftables::live::Live::read().map_err(anyhow::Error::msg)?;
            let done = live
                .converge(&cluster.name, &director)
                .map_err(anyhow::Error::msg)?;
            eprintln!(
                "{}: table {}: {done}",
                director.name,
                lvsc_nftables::DATAPLANE_TABLE
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
