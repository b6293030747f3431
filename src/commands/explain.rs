//! `lvsc explain FILE --flow SRC:PORT->VIP:PORT/PROTO [--backend ...]`: which real each
//! data plane sends a flow to, and why. Each backend explains its own decision; this
//! only matches flows to services and prints.

use std::collections::HashMap;
use std::process::ExitCode;

use lvsc_compiler::flow::{Flow, Pick};
use lvsc_compiler::ir::{Dataplane, Service};

use super::apply::Backend;

/// Arguments of `lvsc explain`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// A flow: `198.51.100.7:40000->203.0.113.80:80/tcp` (IPv6 in brackets); repeatable.
    #[arg(long, required_unless_present = "flows")]
    flow: Vec<String>,
    /// A file of flows, one per line (`#` starts a comment).
    #[arg(long)]
    flows: Option<std::path::PathBuf>,
    /// Explain for this data plane only (default: all three).
    #[arg(long, value_enum)]
    backend: Option<Backend>,
    /// One JSON object per flow.
    #[arg(long)]
    json: bool,
}

/// Every data plane, in the order they are shown.
const PLANES: [Dataplane; 3] = [Dataplane::Ipvs, Dataplane::Nftables, Dataplane::Xdp];

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let backend = args.backend.map(Backend::dataplane);
    let src = crate::input::read(&args.file)?;
    let Some(cluster) = super::report(&src, super::compile(&src, backend)) else {
        return Ok(ExitCode::from(1));
    };
    let mut texts = args.flow.clone();
    if let Some(path) = &args.flows {
        let body = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        texts.extend(
            body.lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    let planes: Vec<Dataplane> = backend.map_or(PLANES.to_vec(), |p| vec![p]);
    // A data plane that cannot run the file (`lvsc check --backend` errors) picks nothing.
    let refused: Vec<Dataplane> = planes
        .iter()
        .copied()
        .filter(|&p| {
            lvsc_compiler::check_source_for(&src.text, Some(p))
                .diagnostics
                .iter()
                .any(lvsc_lang::Diagnostic::is_error)
        })
        .collect();
    // XDP tables are large (65537 slots by default): one per service, built once.
    let mut xdp_tables: HashMap<&str, Option<Vec<u32>>> = HashMap::new();
    let mut failed = false;
    for text in &texts {
        let flow: Flow = match text.parse() {
            Ok(f) => f,
            Err(e) => {
                eprintln!("flow `{text}`: {e}");
                failed = true;
                continue;
            }
        };
        let Some(s) = flow.service(&cluster.services) else {
            eprintln!(
                "flow {flow}: no service has VIP {}:{}/{}",
                flow.dst, flow.dport, flow.proto
            );
            failed = true;
            continue;
        };
        let picks: Vec<(Dataplane, Pick)> = planes
            .iter()
            .map(|&p| {
                let pick = match p {
                    p if refused.contains(&p) => Pick::undetermined(format!(
                        "this data plane cannot run the file: `lvsc check --backend {p}` says why"
                    )),
                    Dataplane::Ipvs => {
                        lvsc_ipvs::explain::pick(s, &flow, &lvsc_ipvs::explain::kernel_order(s))
                    }
                    Dataplane::Nftables => lvsc_nftables::explain::pick(s, &flow),
                    Dataplane::Xdp => {
                        let t = xdp_tables
                            .entry(s.name.as_str())
                            .or_insert_with(|| lvsc_xdp_image::explain::table(s));
                        lvsc_xdp_image::explain::pick(s, t.as_deref(), &flow)
                    }
                };
                (p, pick)
            })
            .collect();
        if args.json {
            outln!("{}", json(&flow, s, &picks));
        } else {
            outln!("{flow}: service {}", s.name);
            for (p, pick) in &picks {
                let who = pick
                    .real
                    .map_or("(not decided by the flow)".to_string(), |i| {
                        let r = &s.reals[i];
                        format!("{} {}", r.name, endpoint(r.ip, r.port))
                    });
                outln!("  {:<9} {who}: {}", format!("{p}"), pick.why);
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn endpoint(ip: std::net::IpAddr, port: u16) -> String {
    match (ip, port) {
        (ip, 0) => ip.to_string(),
        (ip, p) => std::net::SocketAddr::new(ip, p).to_string(),
    }
}

fn json(flow: &Flow, s: &Service, picks: &[(Dataplane, Pick)]) -> serde_json::Value {
    let mut by_plane = serde_json::Map::new();
    for (p, pick) in picks {
        by_plane.insert(
            p.to_string(),
            serde_json::json!({
                "real": pick.real.map(|i| s.reals[i].name.clone()),
                "why": pick.why,
            }),
        );
    }
    serde_json::json!({
        "flow": flow.to_string(),
        "service": s.name,
        "picks": by_plane,
    })
}
