//! `lvsc import ipvsadm [FILE|-]`: another tool's configuration as a formatted .lvs file.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;

/// What to import.
#[derive(clap::Subcommand, Debug)]
pub enum Source {
    /// Rules as `ipvsadm -Sn` prints them.
    Ipvsadm {
        /// File with the rules (`-` or nothing reads standard input).
        file: Option<String>,
        /// Cluster name for the generated file.
        #[arg(long, default_value = "imported")]
        cluster: String,
        /// Director name for the generated file.
        #[arg(long, default_value = "director")]
        director: String,
    },
}

/// Runs the command.
pub fn run(source: Source) -> anyhow::Result<ExitCode> {
    let Source::Ipvsadm {
        file,
        cluster,
        director,
    } = source;
    let mut text = String::new();
    match file.as_deref() {
        None | Some("-") => {
            std::io::stdin().read_to_string(&mut text)?;
        }
        Some(p) => text = std::fs::read_to_string(p).with_context(|| format!("reading {p}"))?,
    }
    out!(
        "{}",
        lvsc_import::ipvsadm::import(&text, &cluster, &director)?
    );
    Ok(ExitCode::SUCCESS)
}
