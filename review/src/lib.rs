//! A plan review: what changes between two revisions of a cluster file, for a person
//! reading a pull request or a tool gating one. The semantic changes and their risks
//! come from [`lvsc_compiler::diff`]; this crate adds the diffs of the generated files
//! and the share of each lookup table whose real changes (the flows a change moves), and
//! renders the whole as text, Markdown or JSON (docs/plan-json.md).

pub mod disruption;
mod filediff;
pub mod graph;
pub mod json;
pub mod markdown;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use lvsc_compiler::Cluster;
use lvsc_compiler::diff::{ClusterDiff, diff};
use serde::Serialize;

/// A generated file that changes, as a unified diff.
#[derive(Clone, Debug, Serialize)]
pub struct FileDiff {
    /// `host/file`.
    pub path: String,
    /// Unified diff.
    pub diff: String,
}

/// A plan with the generated-file diffs of each host.
pub struct Review {
    /// The semantic changes and risks.
    pub plan: ClusterDiff,
    /// File diffs by host.
    pub files: BTreeMap<String, Vec<FileDiff>>,
    /// Shown as the file being planned.
    pub name: String,
    /// The share of each lookup table that changes real (the flows that move).
    pub disruption: Vec<disruption::Disruption>,
    /// The picture of what changes (Mermaid).
    pub picture: String,
}

impl Review {
    /// The review of `old` → `new`; with `with_files`, the generated files' diffs too.
    pub fn new(
        old: &Cluster,
        new: &Cluster,
        name: &str,
        with_files: bool,
    ) -> Result<Review, Vec<lvsc_files::BuildError>> {
        let plan = diff(old, new);
        // Files depend only on the cluster name and their host's view: render only the
        // hosts the plan names, unless the name itself changed.
        let changed: BTreeSet<String> = plan.hosts.iter().map(|h| h.host.clone()).collect();
        let only = (old.name == new.name).then_some(&changed);
        let files = if with_files {
            file_diffs(old, new, only)?
        } else {
            BTreeMap::new()
        };
        Ok(Review {
            plan,
            files,
            name: name.to_string(),
            disruption: disruption::disruption(old, new),
            picture: graph::mermaid(&graph::changes(old, new)),
        })
    }

    /// The largest share of a table that changes real, in percent (0 when none moves).
    pub fn max_disruption(&self) -> f64 {
        self.disruption
            .iter()
            .map(|d| d.percent)
            .fold(0.0, f64::max)
    }

    /// Whether nothing changes: no host and no generated file.
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty() && self.files.is_empty()
    }
}

/// `1 risk`, `2 risks`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn file_diffs(
    old: &Cluster,
    new: &Cluster,
    only: Option<&BTreeSet<String>>,
) -> Result<BTreeMap<String, Vec<FileDiff>>, Vec<lvsc_files::BuildError>> {
    let build = |c: &Cluster| -> Result<BTreeMap<String, String>, Vec<lvsc_files::BuildError>> {
        let files = lvsc_files::build_for(c, lvsc_files::FileSet::Hosts, only)?;
        Ok(files
            .into_iter()
            .map(|f| (format!("{}/{}", f.host, f.name), f.contents))
            .collect())
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| build(old));
        let b = build(new);
        (a.join().expect("rendering does not panic"), b)
    });
    let (a, b) = (a?, b?);
    let mut out: BTreeMap<String, Vec<FileDiff>> = BTreeMap::new();
    let empty = String::new();
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for p in paths {
        let (x, y) = (a.get(p).unwrap_or(&empty), b.get(p).unwrap_or(&empty));
        if x == y {
            continue;
        }
        let diff = filediff::unified(x, y, p);
        let host = p.split('/').next().unwrap_or_default().to_string();
        out.entry(host).or_default().push(FileDiff {
            path: p.clone(),
            diff,
        });
    }
    Ok(out)
}
