//! `lvsc`: the command-line front end. It only wires: reading files, choosing output
//! formats and exit codes; the work happens in the library crates.

/// mimalloc: the check of a 10,000-service file allocates millions of small strings,
/// where it takes 40 % less time than the system allocator (docs/perf.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Freed memory goes back to the system at once. mimalloc delays that by default: `lvsc
/// run` kept what its start (compiling the file) used (the XDP director's peak RSS fell
/// from 115 to 67 MB with no delay), and a check of 10,000 services, which frees each
/// directive's concrete tree as it goes, peaked at 110 MB instead of 95 MB.
fn return_freed_memory_at_once() {
    /// `mi_option_purge_delay` in mimalloc.h (v2 and v3); the sys crate names no constant.
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting an option is allowed at any time; this one only changes when freed
    // pages are returned.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
}

#[macro_use]
mod output;
mod commands;
mod input;
mod progress;
mod report;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

/// Compile one declarative cluster.lvs into a working Linux Virtual Server cluster.
#[derive(Parser, Debug)]
#[command(name = "lvsc", version, about, propagate_version = true)]
struct Cli {
    /// No progress bars (they show only on a terminal anyway).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check .lvs files and report every problem found.
    Check(commands::check::Args),
    /// Format .lvs files in place (or check that they are formatted).
    Fmt(commands::fmt::Args),
    /// Print the checked cluster IR as JSON or YAML.
    Export(commands::export::Args),
    /// List each host of the cluster and its role.
    Hosts(commands::hosts::Args),
    /// Write each host's files (keepalived.conf, nftables.conf, setup.sh, ...).
    Build(commands::build::Args),
    /// Show what would change on which host (exit 0 none, 2 changes, 1 error).
    Plan(commands::plan::Args),
    /// Make a director match the cluster file.
    Apply(commands::apply::Args),
    /// Check the reals and keep the data plane to what the checks find (a daemon).
    Run(commands::run::Args),
    /// The state of every service and real, from the running `lvsc run`.
    Status(commands::status::Args),
    /// Which real each data plane sends a flow to, and why.
    Explain(commands::explain::Args),
    /// Print a map image (from `build --target ebpf`) for people; exit 1 when corrupt.
    Inspect(commands::inspect::Args),
    /// Per-service packet and byte counters of the XDP load balancer.
    Stats(commands::stats::Args),
    /// Remove the XDP load balancer from an interface.
    Detach(commands::detach::Args),
    /// Language server for editors (LSP over stdio).
    Lsp(commands::lsp::Args),
    /// Turn another tool's configuration into a .lvs file.
    #[command(subcommand)]
    Import(commands::import::Source),
    /// A picture of the cluster: Mermaid, DOT or SVG.
    Graph(commands::graph::Args),
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(commands::completions::Args),
    /// Write the manual pages: lvsc(1), lvsc-COMMAND(1), lvs(5).
    Man(commands::man::Args),
}

/// The command line, with a long version that says which data planes this build drives.
fn command() -> clap::Command {
    let xdp = if lvsc_xdp_loader::PROGRAM.is_empty() {
        "xdp: not in this build (no BPF toolchain when it was built)"
    } else {
        "xdp"
    };
    Cli::command().long_version(format!(
        "{}\ndata planes: ipvs (generic netlink), nftables, {xdp}",
        env!("CARGO_PKG_VERSION")
    ))
}

fn main() -> ExitCode {
    let cli = match Cli::from_arg_matches(&command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    progress::set_quiet(cli.quiet);
    // Where memory is the figure that matters (a check's peak, a long-running process);
    // elsewhere the purges' system calls are not worth it (an apply in an emulated guest).
    if matches!(
        cli.command,
        Command::Check(_) | Command::Plan(_) | Command::Run(_) | Command::Lsp(_)
    ) {
        return_freed_memory_at_once();
    }
    let result = match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Fmt(args) => commands::fmt::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Hosts(args) => commands::hosts::run(args),
        Command::Build(args) => commands::build::run(args),
        Command::Apply(args) => commands::apply::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Import(source) => commands::import::run(source),
        Command::Stats(args) => commands::stats::run(args),
        Command::Detach(args) => commands::detach::run(args),
        Command::Lsp(args) => commands::lsp::run(args),
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Graph(args) => commands::graph::run(args),
        Command::Completions(args) => commands::completions::run(args, command()),
        Command::Man(args) => commands::man::run(args, command()),
    };
    match result.and_then(|code| output::flush_stdout().map(|()| code)) {
        Ok(code) => code,
        // The reader went away (`lvsc hosts | head`): nobody is left to tell. Quiet, with
        // the status a shell reports for a process ended by SIGPIPE.
        Err(e) if output::is_closed_pipe(&e) => ExitCode::from(141),
        Err(e) => {
            eprintln!("lvsc: {e:#}");
            ExitCode::from(1)
        }
    }
}
