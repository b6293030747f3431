//! `lvsc graph FILE [--format mermaid|dot|svg] [-o OUT]`: a picture of the cluster.

use std::process::ExitCode;

use crate::commands::compile_file;

/// Picture formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// Mermaid `flowchart` (GitHub and GitLab render it in Markdown).
    #[default]
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// SVG, laid out and drawn by lvsc itself.
    Svg,
}

/// Arguments of `lvsc graph`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: GraphFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    out: Option<std::path::PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(cluster) = compile_file(&args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let g = lvsc_review::graph::graph(&cluster);
    let text = match args.format {
        GraphFormat::Mermaid => lvsc_review::graph::mermaid(&g),
        GraphFormat::Dot => lvsc_review::graph::dot(&g),
        GraphFormat::Svg => lvsc_review::graph::svg(&g).map_err(anyhow::Error::msg)?,
    };
    match &args.out {
        Some(path) => lvsc_files::folder::replace(path, text.as_bytes(), Some(0o644))?,
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
