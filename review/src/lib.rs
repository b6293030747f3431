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

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use lvsc_compiler::Cluster;
use lvsc_compiler::diff::{ClusterDiff, diff};
use lvsc_files::{KeepalivedConf, PlanText};
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
    /// The picture of what changes (Mermaid); `None` when too many services change to
    /// draw them legibly.
    pub picture: Option<String>,
}

impl Review {
    /// The review of `old` → `new`; with `with_files`, the generated files' diffs too.
    pub fn new(
        old: &Cluster,
        new: &Cluster,
        name: &str,
        with_files: bool,
    ) -> Result<Review, Vec<lvsc_files::BuildError>> {
        let mut plan = diff(old, new);
        // Files depend only on the cluster name and their host's view: render only the
        // hosts the plan names, unless the name itself changed.
        let changed: BTreeSet<String> = plan.hosts.iter().map(|h| h.host.clone()).collect();
        let only = (old.name == new.name).then_some(&changed);
        let files = if with_files {
            file_diffs(old, new, only)?
        } else {
            BTreeMap::new()
        };
        // A host whose files change with none of its objects (the cluster renamed) is
        // listed too, or its diffs would not be shown.
        let unlisted: Vec<&String> = files.keys().filter(|h| !changed.contains(*h)).collect();
        if !unlisted.is_empty() {
            let roles = roles(old, new);
            for host in unlisted {
                plan.hosts.push(lvsc_compiler::diff::HostDiff {
                    host: host.clone(),
                    role: roles.get(host.as_str()).copied().unwrap_or("host").into(),
                    changes: Vec::new(),
                });
            }
        }
        Ok(Review {
            plan,
            files,
            name: name.to_string(),
            disruption: disruption::disruption(old, new),
            picture: graph::changes(old, new).map(|g| graph::mermaid(&g)),
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

/// Every host's role as a plan names it, the new cluster's where both name a host.
fn roles<'c>(old: &'c Cluster, new: &'c Cluster) -> HashMap<&'c str, &'static str> {
    let mut roles = HashMap::new();
    for c in [old, new] {
        for h in c.pools.iter().flat_map(|p| &p.hosts) {
            roles.insert(h.name.as_str(), "real-server");
        }
        for s in &c.storage {
            if let Some(v) = &s.server {
                roles.insert(v.name.as_str(), "storage-server");
            }
        }
        for d in &c.balancer.directors {
            roles.insert(d.name.as_str(), "director");
        }
    }
    roles
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
    type Files = BTreeMap<String, PlanText>;
    let build = |c: &Cluster| -> Result<Files, Vec<lvsc_files::BuildError>> {
        let files = lvsc_files::build_for_plan(c, only)?;
        Ok(files
            .into_iter()
            .map(|f| (format!("{}/{}", f.host, f.name), f.text))
            .collect())
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| build(old));
        let b = build(new);
        (a.join().expect("rendering does not panic"), b)
    });
    let (a, b) = (a?, b?);
    let mut out: BTreeMap<String, Vec<FileDiff>> = BTreeMap::new();
    let paths: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for p in paths {
        let diff = match (a.get(p), b.get(p)) {
            (Some(PlanText::Keepalived(x)), Some(PlanText::Keepalived(y))) => {
                filediff::unified_parts(&Blocks(x), &Blocks(y), p)
            }
            (x, y) => {
                // A file on one side only is compared with an empty one.
                let x = x.map_or(Cow::Borrowed(""), PlanText::text);
                let y = y.map_or(Cow::Borrowed(""), PlanText::text);
                if x == y {
                    continue;
                }
                filediff::unified(&x, &y, p)
            }
        };
        if diff.is_empty() {
            continue;
        }
        let host = p.split('/').next().unwrap_or_default().to_string();
        out.entry(host).or_default().push(FileDiff {
            path: p.clone(),
            diff,
        });
    }
    Ok(out)
}

/// keepalived.conf as parts.
struct Blocks<'k>(&'k KeepalivedConf);

impl filediff::Parts for Blocks<'_> {
    type Key<'k>
        = lvsc_files::PartKey<'k>
    where
        Self: 'k;
    type GroupKey<'k>
        = lvsc_files::GroupKey<'k>
    where
        Self: 'k;
    fn len(&self) -> usize {
        self.0.parts()
    }
    fn groups(&self) -> usize {
        self.0.groups()
    }
    fn group_key(&self, g: usize) -> lvsc_files::GroupKey<'_> {
        self.0.group_key(g)
    }
    fn group_start(&self, g: usize) -> usize {
        self.0.group_start(g)
    }
    fn key(&self, i: usize) -> lvsc_files::PartKey<'_> {
        self.0.key(i)
    }
    fn lines(&self, i: usize) -> usize {
        self.0.lines(i)
    }
    fn text(&self, i: usize) -> String {
        self.0.text(i)
    }
}
