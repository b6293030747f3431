//! `lvsc apply --backend ebpf`: the director's map image, its reals' next-hop MACs, and
//! the XDP loader.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use lvsc_compiler::hosts::DirectorView;
use lvsc_xdp::install::{self, Mode, Report, Target};

/// How to attach the XDP program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum XdpMode {
    /// Native where the driver supports it, generic otherwise.
    #[default]
    Auto,
    /// Native (driver) mode only.
    Native,
    /// Generic (SKB) mode: any interface, slower.
    Generic,
}

/// Which installed XDP program a command reads: `--iface` and `--pin-dir`.
#[derive(clap::Args, Debug)]
pub struct Installed {
    /// The interface the XDP program is attached to.
    #[arg(long)]
    pub iface: String,
    /// The bpffs directory holding the pins (default /sys/fs/bpf/lvsc).
    #[arg(long)]
    pub pin_dir: Option<PathBuf>,
}

impl Installed {
    /// The target these arguments name.
    pub fn target(&self) -> Target {
        target(&self.iface, XdpMode::Auto, self.pin_dir.clone())
    }
}

/// Where `--iface` and `--pin-dir` point.
pub fn target(iface: &str, mode: XdpMode, pin_dir: Option<PathBuf>) -> Target {
    Target {
        interface: iface.to_string(),
        mode: match mode {
            XdpMode::Auto => Mode::Auto,
            XdpMode::Native => Mode::Native,
            XdpMode::Generic => Mode::Generic,
        },
        pin_root: pin_dir.unwrap_or_else(|| lvsc_xdp::PIN_ROOT.into()),
    }
}

/// Installs the director's services on the target interface (or, with `dry_run`, says
/// what would change); a plan exits 2 when something would.
pub fn apply(director: &DirectorView, target: &Target, dry_run: bool) -> anyhow::Result<ExitCode> {
    let Some(report) = report(director, target, dry_run)? else {
        return Ok(ExitCode::from(1));
    };
    print(&director.name, target, &report);
    Ok(ExitCode::SUCCESS)
}

/// `lvsc plan FILE --iface IF`: what an apply would change; exit 0 nothing, 2 changes.
pub fn plan(director: &DirectorView, target: &Target) -> anyhow::Result<ExitCode> {
    let Some(report) = report(director, target, true)? else {
        return Ok(ExitCode::from(1));
    };
    print(&director.name, target, &report);
    let c = &report.changes;
    let none = c.added.is_empty() && c.changed.is_empty() && c.removed.is_empty();
    Ok(ExitCode::from(if none { 0 } else { 2 }))
}

fn report(
    director: &DirectorView,
    target: &Target,
    dry_run: bool,
) -> anyhow::Result<Option<Report>> {
    let sources: Vec<IpAddr> = director.addresses.iter().map(|a| a.addr).collect();
    let image = match lvsc_ebpf::image::build(&director.services, &sources) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("lvsc: {e}");
            return Ok(None);
        }
    };
    let macs =
        lvsc_xdp::neighbour::resolve(&target.interface, &lvsc_xdp::layout::real_addresses(&image))?;
    let groups = lvsc_xdp::layout::groups(&image, &macs)?;
    Ok(Some(if dry_run {
        install::dry_run(target, &groups)?
    } else {
        install::apply(target, &groups)?
    }))
}

fn print(host: &str, target: &Target, r: &Report) {
    let c = &r.changes;
    for s in &c.added {
        println!("+ {s}");
    }
    for s in &c.changed {
        println!("~ {s}");
    }
    for s in &c.removed {
        println!("- {s}");
    }
    let how = match (r.action, r.mode) {
        (_, Some(mode)) => format!("attached to {} ({mode} XDP)", target.interface),
        ("dry-run", _) => "would change (dry run, nothing written)".into(),
        ("reloaded", _) => {
            "maps too small: a larger program was swapped in with one link update".into()
        }
        (a, _) => a.to_string(),
    };
    eprintln!(
        "{host}: {how}; {} added, {} changed, {} removed, {} unchanged; {} table slots written; pins in {}",
        c.added.len(),
        c.changed.len(),
        c.removed.len(),
        c.unchanged,
        if r.action == "dry-run" {
            0
        } else {
            c.slots_written
        },
        target.dir().display()
    );
}
