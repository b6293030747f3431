//! `lvsc export FILE --format json|yaml`: print the checked cluster IR.

use std::process::ExitCode;

use clap::ValueEnum;

use crate::commands::compile_file;

/// IR output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum IrFormat {
    /// Pretty-printed JSON.
    #[default]
    Json,
    /// YAML.
    Yaml,
}

/// Arguments of `lvsc export`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: IrFormat,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(cluster) = compile_file(&args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let text = match args.format {
        IrFormat::Json => serde_json::to_string_pretty(&cluster)? + "\n",
        IrFormat::Yaml => serde_saphyr::to_string(&cluster)?,
    };
    out!("{text}");
    Ok(ExitCode::SUCCESS)
}
