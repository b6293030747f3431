//! `lvsc plan FILE --from OLD`: what would change on which host, for reviews in CI.
//! Exit codes: 0 no change, 2 changes, 1 error.

use lvsc_compiler::ir::Dataplane;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::ValueEnum;
use lvsc_review::Review;

use crate::input::SourceText;

/// Plan output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// For people: +/-/~ per host, coloured on a terminal.
    #[default]
    Text,
    /// For a pull-request comment: a summary table and collapsible details per host.
    Markdown,
    /// For tools: the versioned schema in docs/plan-json.md.
    Json,
}

/// Arguments of `lvsc plan`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file as it should be.
    file: String,
    /// The file as it is: a path, or `git:REV` for FILE at that git revision.
    #[arg(long)]
    from: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: PlanFormat,
    /// Leave out the diffs of generated files.
    #[arg(long)]
    no_files: bool,
    /// Without --from: the director whose live IPVS table is planned against.
    #[arg(long)]
    host: Option<String>,
    /// Without --from: a real that leaves gets weight 0 first.
    #[arg(long)]
    drain: bool,
    /// Without --from: plan against the XDP program on this interface, not IPVS.
    #[arg(long, conflicts_with = "from")]
    iface: Option<String>,
    /// With --from: fail (exit 1) when a change moves more than PCT percent of a
    /// service's lookup table (Maglev, nftables, IPVS mh): the flows it moves.
    #[arg(long, value_name = "PCT", requires = "from", value_parser = percent)]
    max_disruption: Option<f64>,
    /// With --iface: the bpffs directory holding the pins (default /sys/fs/bpf/lvsc).
    #[arg(long, requires = "iface")]
    pin_dir: Option<std::path::PathBuf>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(iface) = &args.iface {
        let Some(cluster) = super::compile_file_for(&args.file, Some(Dataplane::Xdp))? else {
            return Ok(ExitCode::from(1));
        };
        let director = super::director(&cluster, args.host.as_deref())?;
        let at = super::xdp::attachment(iface, super::xdp::XdpMode::Auto, args.pin_dir.clone());
        return super::xdp::plan(&director, &at);
    }
    let Some(from) = &args.from else {
        // No old file: plan against this director's live IPVS table, read on one core
        // while the file compiles on another.
        let (live, cluster) = std::thread::scope(|s| {
            let live = s.spawn(super::ipvs::dump);
            let cluster = super::compile_file_for(&args.file, Some(Dataplane::Ipvs));
            (live.join().expect("the dump does not panic"), cluster)
        });
        let Some(cluster) = cluster? else {
            return Ok(ExitCode::from(1));
        };
        let director = super::director(&cluster, args.host.as_deref())?;
        return super::ipvs::plan(&director, &live?, args.drain);
    };
    let new_src = crate::input::read(&args.file)?;
    let old_src = read_old(from, &args.file)?;
    // Two independent files: compile them on two cores (diagnostics print old first).
    let (old, new) = std::thread::scope(|s| {
        let new = s.spawn(|| super::compile(&new_src, None));
        let old = super::compile(&old_src, None);
        (old, new.join().expect("the compiler does not panic"))
    });
    let old = super::report(&old_src, old);
    let new = super::report(&new_src, new);
    let (Some(old), Some(new)) = (old, new) else {
        return Ok(ExitCode::from(1));
    };
    let spinner = crate::progress::spinner(&format!("planning {} services", new.services.len()));
    let review = Review::new(&old, &new, &args.file, !args.no_files);
    spinner.finish_and_clear();
    let review = match review {
        Ok(r) => r,
        Err(errors) => bail!(
            "{}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.host, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let out = match args.format {
        PlanFormat::Text => lvsc_review::text::render(&review, crate::report::stdout_color()),
        PlanFormat::Markdown => lvsc_review::markdown::render(&review),
        PlanFormat::Json => lvsc_review::json::render(&review),
    };
    out!("{out}");
    if let Some(limit) = args.max_disruption {
        let over: Vec<String> = review
            .disruption
            .iter()
            .filter(|d| d.percent > limit)
            .map(|d| format!("{} ({}): {:.1}%", d.service, d.table, d.percent))
            .collect();
        if !over.is_empty() {
            eprintln!(
                "error: the change moves more than --max-disruption {limit}% of the flows of {}; split it into smaller steps or raise the limit",
                over.join(", ")
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(if review.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The old side: a file, or `git:REV` (FILE as committed at REV, read with git).
fn read_old(from: &str, file: &str) -> anyhow::Result<SourceText> {
    let Some(rev) = from.strip_prefix("git:") else {
        return Ok(crate::input::read(from)?);
    };
    let path = Path::new(file);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .context("FILE is not a file path")?
        .to_string_lossy();
    // `REV:./NAME` is resolved relative to the working directory given with -C.
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["show", &format!("{rev}:./{name}")])
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git show {rev}:{file}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let label = format!("{file}@{rev}");
    Ok(SourceText::new(label, &out.stdout))
}

/// A percentage from 0 to 100.
fn percent(s: &str) -> Result<f64, String> {
    match s.trim_end_matches('%').parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("`{s}` is not a percentage from 0 to 100")),
    }
}
