//! The XDP data plane's arguments (`--iface`, `--xdp-mode`, `--pin-dir`) and the printing
//! of its installs and plans.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use lvsc_compiler::views::DirectorView;
use lvsc_xdp_loader::install::{Attachment, Mode, Report};

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
    /// The attachment these arguments name.
    pub fn attachment(&self) -> Attachment {
        attachment(&self.iface, XdpMode::Auto, self.pin_dir.clone())
    }
}

/// Where `--iface` and `--pin-dir` point.
pub fn attachment(iface: &str, mode: XdpMode, pin_dir: Option<PathBuf>) -> Attachment {
    Attachment {
        interface: iface.to_string(),
        mode: match mode {
            XdpMode::Auto => Mode::Auto,
            XdpMode::Native => Mode::Native,
            XdpMode::Generic => Mode::Generic,
        },
        pin_root: pin_dir.unwrap_or_else(|| lvsc_xdp_loader::PIN_ROOT.into()),
    }
}

/// Installs the director's services on the interface (or, with `dry_run`, says what
/// would change).
pub fn apply(director: &DirectorView, at: &Attachment, dry_run: bool) -> anyhow::Result<ExitCode> {
    let spinner = crate::progress::spinner(&format!(
        "XDP: {} services on {}",
        director.services.len(),
        at.interface
    ));
    let report = lvsc_xdp_loader::director::install(director, at, dry_run);
    spinner.finish_and_clear();
    let report = report?;
    print(&director.name, at, &report)?;
    Ok(ExitCode::SUCCESS)
}

/// `lvsc plan FILE --iface IF`: what an apply would change; exit 0 nothing, 2 changes.
pub fn plan(director: &DirectorView, at: &Attachment) -> anyhow::Result<ExitCode> {
    let report = lvsc_xdp_loader::director::install(director, at, true)?;
    print(&director.name, at, &report)?;
    let c = &report.changes;
    let none = c.added.is_empty() && c.changed.is_empty() && c.removed.is_empty();
    Ok(ExitCode::from(if none { 0 } else { 2 }))
}

fn print(host: &str, at: &Attachment, r: &Report) -> anyhow::Result<()> {
    let c = &r.changes;
    for s in &c.added {
        outln!("+ {s}");
    }
    for s in &c.changed {
        outln!("~ {s}");
    }
    for s in &c.removed {
        outln!("- {s}");
    }
    let how = match (r.action, r.mode) {
        (_, Some(mode)) => format!("attached to {} ({mode} XDP)", at.interface),
        ("dry-run", _) => "would change (dry run, nothing written)".into(),
        ("reloaded", _) => {
            "maps too small: a larger program was swapped in with one link update".into()
        }
        (a, _) => a.to_string(),
    };
    eprintln!(
        "{host}: {how}; {} added, {} changed, {} removed, {} unchanged; {} of {} Maglev tables computed, {} table slots written; pins in {}",
        c.added.len(),
        c.changed.len(),
        c.removed.len(),
        c.unchanged,
        c.tables_computed,
        c.tables,
        if r.action == "dry-run" {
            0
        } else {
            c.slots_written
        },
        at.dir().display()
    );
    Ok(())
}
