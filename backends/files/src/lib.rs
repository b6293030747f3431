//! The output folder of `lvsc build`: every host's files from the cluster IR, what an
//! operator would otherwise write by hand.
//!
//! Directors get keepalived.conf, nftables.conf, sysctl.conf and setup.sh (with `bgp`,
//! bird.conf and frr.conf too); real servers
//! get sysctl.conf and setup.sh; storage servers get exports; a director whose reals
//! `lvsc run` checks gets lvsc-run.service. Other file sets hold each
//! director's nftables data plane or its `ipvsadm-restore` rules. Templates are plain
//! files under `templates/`; this crate reads only the IR and the per-host views.

pub mod ansible;
pub mod folder;
mod guard;
mod keepalived;
mod render;
mod routing;
mod setup;

use std::collections::BTreeMap;

use lvsc_compiler::Cluster;
use lvsc_compiler::views::DirectorView;
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use keepalived::{GroupKey, KeepalivedConf, PartKey, auth_file};
pub use render::sh_quote;

/// Which files a build writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileSet {
    /// Every host's files (keepalived, nftables beside IPVS, sysctl, setup, exports).
    Hosts,
    /// Each director's nftables data plane ruleset.
    NftablesDataplane,
    /// Each director's IPVS table as `ipvsadm-restore` rules.
    IpvsadmRules,
}

/// One generated file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutputFile {
    /// The host it belongs to (its folder).
    pub host: String,
    /// File name within the host's folder.
    pub name: String,
    /// Contents.
    #[serde(skip)]
    pub contents: String,
    /// Whether it is a script to run.
    pub executable: bool,
}

/// A reason a file cannot be generated for a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// The host.
    pub host: String,
    /// What is wrong and what to do instead.
    pub message: String,
}

/// A generated file's text as a plan compares it.
pub enum PlanText {
    /// The whole text.
    Whole(String),
    /// keepalived.conf in blocks, rendered on demand.
    Keepalived(KeepalivedConf),
}

impl PlanText {
    /// The whole text (rendering every part of a keepalived.conf).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            PlanText::Whole(t) => t.into(),
            PlanText::Keepalived(k) => k.whole().into(),
        }
    }
}

/// One generated file as a plan compares it.
pub struct PlanFile {
    /// The host it belongs to.
    pub host: String,
    /// File name within the host's folder.
    pub name: String,
    /// Its text.
    pub text: PlanText,
}

/// One host's files, by name.
fn files_of<'a, const N: usize>(
    host: &'a str,
    files: [(&'a str, PlanText); N],
) -> impl Iterator<Item = PlanFile> + 'a {
    files
        .into_iter()
        .map(move |(name, text)| plan_file(host, name, text))
}

fn file(host: &str, name: &str, contents: String) -> PlanFile {
    plan_file(host, name, PlanText::Whole(contents))
}

fn output_file(host: &str, name: &str, contents: String) -> OutputFile {
    OutputFile {
        host: host.into(),
        name: name.into(),
        contents,
        executable: name.ends_with(".sh"),
    }
}

fn plan_file(host: &str, name: &str, text: PlanText) -> PlanFile {
    PlanFile {
        host: host.into(),
        name: name.into(),
        text,
    }
}

/// Generates every file of `set`, sorted by host and name; errors name the host.
pub fn build(cluster: &Cluster, set: FileSet) -> Result<Vec<OutputFile>, Vec<BuildError>> {
    build_for(cluster, set, None)
}

/// Like [`build`], for the named hosts only (every host when `only` is `None`). A file
/// depends only on the cluster name and its host's view, so a plan renders just the
/// hosts whose view changed.
pub fn build_for(
    cluster: &Cluster,
    set: FileSet,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<Vec<OutputFile>, Vec<BuildError>> {
    Ok(generate(cluster, set, only)?
        .into_iter()
        .map(|f| output_file(&f.host, &f.name, f.text.text().into_owned()))
        .collect())
}

/// Every host file of the named hosts (every host when `only` is `None`), sorted by host
/// and name, keepalived.conf left in blocks: what a plan compares.
pub fn build_for_plan(
    cluster: &Cluster,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<Vec<PlanFile>, Vec<BuildError>> {
    generate(cluster, FileSet::Hosts, only)
}

fn generate(
    cluster: &Cluster,
    set: FileSet,
    only: Option<&std::collections::BTreeSet<String>>,
) -> Result<Vec<PlanFile>, Vec<BuildError>> {
    let r = &*render::RENDERER;
    let hosts = lvsc_compiler::views::views_of(cluster, only, true);
    let c = cluster.name.as_str();
    let mut errors = guard::check(&hosts);
    let mut out = Vec::new();
    match set {
        FileSet::NftablesDataplane => {
            for d in &hosts.directors {
                match lvsc_nftables::dataplane(c, d) {
                    Ok(text) => out.push(file(&d.name, "nftables.conf", text)),
                    Err(refusals) => errors.extend(refusals.into_iter().map(|r| BuildError {
                        host: d.name.clone(),
                        message: r.to_string(),
                    })),
                }
            }
        }
        FileSet::IpvsadmRules => {
            for d in &hosts.directors {
                let rules = lvsc_ipvs::ipvsadm::write_rules(&lvsc_ipvs::desired(&d.services));
                out.push(file(&d.name, "ipvsadm.rules", rules));
            }
        }
        FileSet::Hosts => {
            for d in &hosts.directors {
                let keepalived = KeepalivedConf::new(c, d, &mut errors);
                out.extend(files_of(
                    &d.name,
                    [
                        ("keepalived.conf", PlanText::Keepalived(keepalived)),
                        (
                            "nftables.conf",
                            PlanText::Whole(lvsc_nftables::beside_ipvs(c, d)),
                        ),
                        (
                            "sysctl.conf",
                            PlanText::Whole(sysctl(r, c, &d.name, &d.sysctls)),
                        ),
                        ("setup.sh", PlanText::Whole(setup::director(r, c, d))),
                    ],
                ));
                if let Some(role) = &d.bgp {
                    out.push(file(
                        &d.name,
                        "bird.conf",
                        routing::bird(r, c, &d.name, role),
                    ));
                    out.push(file(&d.name, "frr.conf", routing::frr(r, c, &d.name, role)));
                }
                if d.checker == lvsc_compiler::ir::Checker::Lvsc {
                    match unit(r, c, d) {
                        Ok(text) => out.push(file(&d.name, "lvsc-run.service", text)),
                        Err(e) => errors.push(e),
                    }
                }
            }
            for v in &hosts.reals {
                out.extend(files_of(
                    &v.name,
                    [
                        (
                            "sysctl.conf",
                            PlanText::Whole(sysctl(r, c, &v.name, &v.sysctls)),
                        ),
                        ("setup.sh", PlanText::Whole(setup::real(r, c, v))),
                    ],
                ));
            }
            for s in &hosts.storage {
                let exports: Vec<_> = s
                    .exports
                    .iter()
                    .filter(|e| e.kind == lvsc_compiler::ir::StorageKind::Nfs)
                    .map(|e| {
                        serde_json::json!({
                            "path": exports_path(&e.path),
                            "clients": e.clients.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                            "options": e.options,
                        })
                    })
                    .collect();
                if !exports.is_empty() {
                    out.push(file(
                        &s.name,
                        "exports",
                        r.render(
                            "exports",
                            c,
                            &s.name,
                            serde_json::json!({ "exports": exports }),
                        ),
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    out.sort_by(|a, b| (&a.host, &a.name).cmp(&(&b.host, &b.name)));
    Ok(out)
}

fn sysctl(
    r: &render::Renderer,
    cluster: &str,
    host: &str,
    sysctls: &BTreeMap<String, String>,
) -> String {
    r.render(
        "sysctl.conf",
        cluster,
        host,
        serde_json::json!({ "sysctls": sysctls }),
    )
}

/// The systemd unit that runs `lvsc run` on a director whose reals lvsc checks.
fn unit(r: &render::Renderer, cluster: &str, d: &DirectorView) -> Result<String, BuildError> {
    // The name goes on the unit's command line, where `%`, quotes and spaces mean more.
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if !d.name.chars().all(plain) {
        return Err(BuildError {
            host: d.name.clone(),
            message: "a director run by systemd needs a name of letters, digits, `.`, `_` and `-`"
                .into(),
        });
    }
    Ok(r.render(
        "lvsc-run.service",
        cluster,
        &d.name,
        serde_json::json!({
            "dataplane": d.dataplane.to_string(),
            "vrrp": d.vrrp.is_some(),
            "xdp": d.dataplane == lvsc_compiler::ir::Dataplane::Xdp,
        }),
    ))
}

/// A path as exports(5) reads it: in double quotes unless it is plain (a `#` would start a
/// comment, a space end the path); the guard has refused `"` and `\\`, which quotes
/// cannot carry.
fn exports_path(path: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._+-".contains(c);
    if path.chars().all(plain) {
        path.to_string()
    } else {
        format!("\"{path}\"")
    }
}

/// The manifest of a build: each file with its size and SHA-256, in a stable order.
pub fn manifest(cluster: &Cluster, files: &[OutputFile]) -> String {
    let entries: Vec<_> = files
        .iter()
        .map(|f| {
            serde_json::json!({
                "path": format!("{}/{}", f.host, f.name),
                "host": f.host,
                "bytes": f.contents.len(),
                "sha256": format!("{:x}", Sha256::digest(f.contents.as_bytes())),
                "executable": f.executable,
            })
        })
        .collect();
    let doc = serde_json::json!({ "cluster": cluster.name, "generator": "lvsc", "files": entries });
    serde_json::to_string_pretty(&doc).expect("json values serialise") + "\n"
}
