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
    /// keepalived.conf files: one per director (or one shared file), as one cluster.
    Keepalived {
        /// The files; their `include`s are followed.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Cluster name for the generated file.
        #[arg(long, default_value = "imported")]
        cluster: String,
        /// Constructs that lvsc cannot express (or only approximates) are errors.
        #[arg(long)]
        strict: bool,
        /// Write the .lvs file here (atomically) instead of standard output.
        #[arg(short, long)]
        out: Option<std::path::PathBuf>,
        /// How diagnostics are printed.
        #[arg(long, value_enum, default_value_t)]
        format: crate::report::Format,
    },
}

/// Runs the command.
pub fn run(source: Source) -> anyhow::Result<ExitCode> {
    let (file, cluster, director) = match source {
        Source::Ipvsadm {
            file,
            cluster,
            director,
        } => (file, cluster, director),
        Source::Keepalived {
            files,
            cluster,
            strict,
            out,
            format,
        } => return keepalived(&files, cluster, strict, out, format),
    };
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

/// `lvsc import keepalived`: the findings on standard error (secrets masked), the file on
/// standard output or written whole to `--out`; nothing is written when one is an error.
fn keepalived(
    files: &[std::path::PathBuf],
    cluster: String,
    strict: bool,
    out: Option<std::path::PathBuf>,
    format: crate::report::Format,
) -> anyhow::Result<ExitCode> {
    let options = lvsc_import::keepalived::Options { cluster, strict };
    let imported = lvsc_import::keepalived::import(files, &options)?;
    let mut reporter = crate::report::Reporter::new(format);
    for (i, src) in imported.sources.iter().enumerate() {
        let diags: Vec<_> = imported
            .findings
            .iter()
            .filter(|(f, _)| *f == i)
            .map(|(_, d)| d.clone())
            .collect();
        let secrets: Vec<_> = imported
            .secrets
            .iter()
            .filter(|(f, _)| *f == i)
            .map(|(_, s)| *s)
            .collect();
        let text = crate::input::SourceText {
            name: src.name.clone(),
            text: src.text.clone(),
            not_utf8: None,
        };
        reporter.file(&text, &diags, &secrets);
    }
    let errors = reporter.errors;
    reporter.finish(imported.sources.len())?;
    let Some(lvs) = imported.text.filter(|_| errors == 0) else {
        return Ok(ExitCode::FAILURE);
    };
    match out {
        Some(path) => lvsc_files::folder::replace(&path, lvs.as_bytes(), None)
            .with_context(|| format!("writing {}", path.display()))?,
        None => out!("{lvs}"),
    }
    Ok(ExitCode::SUCCESS)
}
