//! `lvsc status [--json]`: the state of every service and real, from the running
//! `lvsc run` (its status socket).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `lvsc status`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the state as JSON.
    #[arg(long)]
    json: bool,
    /// The status socket of the running `lvsc run`.
    #[arg(long, default_value = lvsc_director::status::DEFAULT_SOCKET)]
    socket: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let s = lvsc_director::status::query(&args.socket)?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} on {} ({} data plane), {} reloads",
        s.cluster,
        s.host,
        s.dataplane,
        s.reloads
    );
    for svc in &s.services {
        let quorum = if svc.quorum_up { "quorum" } else { "NO QUORUM" };
        let sorry = if svc.sorry_active {
            ", sorry server serving"
        } else {
            ""
        };
        outln!(
            "\nservice {}: live weight {} of quorum {} ({quorum}{sorry})",
            svc.name,
            svc.live_weight,
            svc.quorum
        );
        for r in &svc.reals {
            let check = r
                .last_check_ms
                .map_or_else(|| "not checked".into(), |ms| format!("{ms:.1} ms"));
            let err = r.last_error.as_deref().unwrap_or("");
            outln!(
                "  {:<12} {:<24} {:<8} weight {:>5} serving {:>5}  {check}  {err}",
                r.name,
                r.endpoint,
                format!("{:?}", r.state).to_lowercase(),
                r.weight,
                r.serving_weight
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
