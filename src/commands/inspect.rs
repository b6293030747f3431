//! `lvsc inspect IMAGE`: a map image for people; exit 1 on a corrupt image.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `lvsc inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The map image.
    image: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let bytes =
        std::fs::read(&args.image).with_context(|| format!("reading {}", args.image.display()))?;
    match lvsc_xdp_image::image::Image::from_bytes(&bytes) {
        Ok(img) => {
            out!("{}", img.describe());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("lvsc: {}: {e}", args.image.display());
            Ok(ExitCode::from(1))
        }
    }
}
