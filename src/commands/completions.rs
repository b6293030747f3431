//! `lvsc completions bash|zsh|fish|elvish|powershell`: the shell's completion script,
//! generated from the command-line definition (clap_complete).

use std::process::ExitCode;

/// Arguments of `lvsc completions`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Prints the completion script of `cmd` for the shell.
pub fn run(args: Args, mut cmd: clap::Command) -> anyhow::Result<ExitCode> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "lvsc", &mut out);
    out!("{}", String::from_utf8(out)?);
    Ok(ExitCode::SUCCESS)
}
