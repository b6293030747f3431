//! One module per subcommand.

pub mod apply;
pub mod build;
pub mod check;
pub mod completions;
pub mod detach;
pub mod explain;
pub mod export;
pub mod fmt;
pub mod graph;
pub mod hosts;
pub mod import;
pub mod inspect;
mod ipvs;
pub mod lsp;
pub mod man;
pub mod plan;
pub mod run;
pub mod stats;
pub mod status;
mod xdp;

use lvsc_compiler::ir::Dataplane;
use lvsc_compiler::{Cluster, Compiled};

use crate::input;
use crate::report::{Format, Reporter};

/// Reads and compiles one file; prints its diagnostics; `None` when it has errors.
pub fn compile_file(path: &str) -> anyhow::Result<Option<Cluster>> {
    compile_file_for(path, None)
}

/// Like [`compile_file`], checked for the data plane `backend` (every director on it)
/// instead of the ones the file names.
pub fn compile_file_for(path: &str, backend: Option<Dataplane>) -> anyhow::Result<Option<Cluster>> {
    let src = input::read(path)?;
    Ok(report(&src, compile(&src, backend)))
}

/// Compiles a source, unless it is not UTF-8 (`None`: there is nothing to compile).
pub fn compile(src: &input::SourceText, backend: Option<Dataplane>) -> Option<Compiled> {
    src.not_utf8
        .is_none()
        .then(|| lvsc_compiler::compile_source_for(&src.text, backend))
}

/// Prints a source's diagnostics (secrets masked); the cluster when there was no error.
pub fn report(src: &input::SourceText, compiled: Option<Compiled>) -> Option<Cluster> {
    let mut reporter = Reporter::new(Format::Text);
    let Some(compiled) = compiled else {
        reporter.file(src, &[], &[]);
        return None;
    };
    reporter.file(src, &compiled.diagnostics, &compiled.secrets);
    compiled.cluster
}

/// The director whose address is configured on this machine (several directors, no
/// `--host`); none or several is an error that names the candidates.
fn this_director(views: &[lvsc_compiler::views::DirectorView]) -> anyhow::Result<String> {
    let local: std::collections::BTreeSet<std::net::IpAddr> = if_addrs::get_if_addrs()
        .map_err(|e| anyhow::anyhow!("reading this machine's addresses: {e}"))?
        .into_iter()
        .map(|i| i.ip())
        .collect();
    let mine: Vec<&str> = views
        .iter()
        .filter(|d| d.addresses.iter().any(|a| local.contains(&a.addr)))
        .map(|d| d.name.as_str())
        .collect();
    let all = || {
        views
            .iter()
            .map(|d| {
                let addrs: Vec<String> = d.addresses.iter().map(|a| a.addr.to_string()).collect();
                format!("{} ({})", d.name, addrs.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match mine.as_slice() {
        [one] => Ok(one.to_string()),
        [] => anyhow::bail!(
            "no director of the cluster has an address on this machine; directors: {}; say which with --host",
            all()
        ),
        several => anyhow::bail!(
            "several directors have an address on this machine ({}); say which with --host",
            several.join(", ")
        ),
    }
}

/// The director a command acts on: `--host`, or the only one, or the one whose address
/// is on this machine.
pub fn director(
    cluster: &Cluster,
    host: Option<&str>,
) -> anyhow::Result<lvsc_compiler::views::DirectorView> {
    let views = lvsc_compiler::views(cluster).directors;
    let names: Vec<&str> = views.iter().map(|d| d.name.as_str()).collect();
    let name = match (host, names.as_slice()) {
        (Some(h), _) if names.contains(&h) => h.to_string(),
        (Some(h), _) => anyhow::bail!("no director is named {h}; directors: {}", names.join(", ")),
        (None, [one]) => one.to_string(),
        (None, []) => anyhow::bail!("the cluster has no director"),
        (None, _) => this_director(&views)?,
    };
    Ok(views
        .into_iter()
        .find(|d| d.name == name)
        .expect("name taken from the views"))
}
