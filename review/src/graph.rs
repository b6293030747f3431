//! A picture of the cluster in its three tiers, as the seed draws them: clients reach the
//! services' VIPs on the directors (VRRP or BGP), services send to their reals (method and
//! weight on the edge, drained reals greyed), reals mount shared storage. As Mermaid (for
//! Markdown), DOT, or SVG rendered in-process (layout-rs, no Graphviz needed).

use std::collections::{BTreeMap, BTreeSet};

use lvsc_compiler::Cluster;
use lvsc_compiler::ir::Announce;

/// How a node or edge compares with another revision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// In both, or no comparison.
    Same,
    /// Only in the new revision.
    Added,
    /// Only in the old revision.
    Removed,
    /// Drained (weight 0).
    Drained,
}

/// The nodes (id → label, mark) and edges (from, to, label, mark) of a cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Nodes by id.
    pub nodes: BTreeMap<String, (String, Mark)>,
    /// Edges.
    pub edges: BTreeMap<(String, String), (String, Mark)>,
}

/// A plain id from any name: letters, digits and `_`.
fn id(kind: &str, name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{kind}_{plain}")
}

/// The graph of `c`.
pub fn graph(c: &Cluster) -> Graph {
    let mut g = Graph::default();
    let mut node = |id: String, label: String, mark: Mark| {
        g.nodes.insert(id, (label, mark));
    };
    node("clients".into(), "clients".into(), Mark::Same);
    // The directors' views; a real's node needs only its name and address, from the
    // pools (deriving 160,000 real-server views for that costs hundreds of megabytes).
    let views = lvsc_compiler::views::views_of(c, None, false);
    for d in &views.directors {
        let role = match (&d.vrrp, &d.bgp) {
            (Some(v), Some(_)) => format!("VRRP {} {} · BGP", v.state, v.priority),
            (Some(v), None) => format!("VRRP {} {}", v.state, v.priority),
            (None, Some(b)) => format!("BGP AS {}", b.bgp.asn),
            (None, None) => "director".into(),
        };
        node(
            id("d", &d.name),
            format!("{}\n{} · {role}", d.name, d.dataplane),
            Mark::Same,
        );
    }
    for r in c.pools.iter().flat_map(|p| &p.hosts) {
        node(
            id("r", &r.name),
            format!("{}\n{}", r.name, r.ip),
            Mark::Same,
        );
    }
    for st in &c.storage {
        let server = st
            .server
            .as_ref()
            .map_or(String::new(), |v| format!("\non {}", v.name));
        node(
            id("st", &st.name),
            format!("{}\n{} {}{server}", st.name, st.kind, st.source),
            Mark::Same,
        );
    }
    let mut edges = BTreeMap::new();
    for s in c.services.iter() {
        let vips: Vec<String> = s
            .vips
            .iter()
            .map(|v| format!("{}:{}/{}", v.ip, v.port, v.proto))
            .collect();
        let sid = id("s", &s.name);
        g.nodes.insert(
            sid.clone(),
            (
                format!(
                    "{}\n{}\n{} · {}",
                    s.name,
                    vips.join(" "),
                    s.scheduler.name,
                    s.forward.method
                ),
                Mark::Same,
            ),
        );
        let via = match s.announce {
            Announce::Bgp => "BGP ECMP",
            Announce::Vrrp => "VIP",
        };
        edges.insert(
            ("clients".to_string(), sid.clone()),
            (via.to_string(), Mark::Same),
        );
        for d in &views.directors {
            edges.insert((id("d", &d.name), sid.clone()), (String::new(), Mark::Same));
        }
        for r in &s.reals {
            let mark = if r.drain || r.weight == 0 {
                Mark::Drained
            } else {
                Mark::Same
            };
            edges.insert(
                (sid.clone(), id("r", &r.name)),
                (format!("{} w{}", s.forward.method, r.weight), mark),
            );
            if mark == Mark::Drained
                && let Some(n) = g.nodes.get_mut(&id("r", &r.name))
            {
                n.1 = Mark::Drained;
            }
        }
    }
    for st in &c.storage {
        for m in &st.mounts {
            if let Some(p) = c.pools.iter().find(|p| p.name == m.pool) {
                for h in &p.hosts {
                    edges.insert(
                        (id("r", &h.name), id("st", &st.name)),
                        (m.path.clone(), Mark::Same),
                    );
                }
            }
        }
    }
    g.edges = edges;
    g
}

/// Services in a plan's picture above which only the changed ones are drawn: a picture
/// of thousands of services is unreadable (and Mermaid refuses texts that long).
pub const PICTURE_SERVICES: usize = 50;

/// What changes from `old` to `new`: both graphs' nodes and edges, marked added or removed.
/// Of a cluster with more than [`PICTURE_SERVICES`] services, only the services that
/// change are drawn, with their reals, the directors and the storage; `None` when more
/// than that many change (no picture of them is legible).
pub fn changes(old: &Cluster, new: &Cluster) -> Option<Graph> {
    let (a, b) = if old.services.len().max(new.services.len()) > PICTURE_SERVICES {
        let (o, n) = changed_part(old, new)?;
        (graph(&o), graph(&n))
    } else {
        (graph(old), graph(new))
    };
    let mut g = Graph::default();
    let ids: BTreeSet<&String> = a.nodes.keys().chain(b.nodes.keys()).collect();
    for i in ids {
        let (label, mark) = match (a.nodes.get(i), b.nodes.get(i)) {
            (Some(_), Some(n)) if a.nodes[i].0 == n.0 => n.clone(),
            (_, Some(n)) => (n.0.clone(), Mark::Added),
            (Some(o), None) => (o.0.clone(), Mark::Removed),
            (None, None) => continue,
        };
        g.nodes.insert(i.clone(), (label, mark));
    }
    let keys: BTreeSet<&(String, String)> = a.edges.keys().chain(b.edges.keys()).collect();
    for k in keys {
        let e = match (a.edges.get(k), b.edges.get(k)) {
            (Some(o), Some(n)) if o.0 == n.0 => n.clone(),
            (_, Some(n)) => (n.0.clone(), Mark::Added),
            (Some(o), None) => (o.0.clone(), Mark::Removed),
            (None, None) => continue,
        };
        g.edges.insert(k.clone(), e);
    }
    Some(g)
}

/// The services of `c` by name.
fn services_by_name(c: &Cluster) -> std::collections::HashMap<&str, &lvsc_compiler::ir::Service> {
    c.services.iter().map(|s| (s.name.as_str(), s)).collect()
}

/// `c` with only the services that differ from `theirs` (by name), and the pools they use.
fn keep_changed(
    c: &Cluster,
    theirs: &std::collections::HashMap<&str, &lvsc_compiler::ir::Service>,
) -> Cluster {
    let services: Vec<_> = c
        .services
        .iter()
        .filter(|s| theirs.get(s.name.as_str()) != Some(s))
        .cloned()
        .collect();
    let pools: BTreeSet<String> = services.iter().map(|s| s.pool.clone()).collect();
    Cluster {
        name: c.name.clone(),
        balancer: c.balancer.clone(),
        pools: c
            .pools
            .iter()
            .filter(|p| pools.contains(&p.name))
            .cloned()
            .collect(),
        services: services.into(),
        storage: c.storage.clone(),
    }
}

/// Both clusters with only the services that differ (by name), and the pools they use;
/// `None` when more than [`PICTURE_SERVICES`] differ on a side.
fn changed_part(old: &Cluster, new: &Cluster) -> Option<(Cluster, Cluster)> {
    let (o, n) = (services_by_name(old), services_by_name(new));
    let differ = |c: &Cluster, theirs: &std::collections::HashMap<&str, &_>| {
        c.services
            .iter()
            .filter(|s| theirs.get(s.name.as_str()) != Some(s))
            .count()
    };
    if differ(old, &n).max(differ(new, &o)) > PICTURE_SERVICES {
        return None;
    }
    Some((keep_changed(old, &n), keep_changed(new, &o)))
}

/// The graph in Mermaid (`flowchart LR`), for Markdown.
pub fn mermaid(g: &Graph) -> String {
    let text = |s: &str| s.replace('"', "'").replace('\n', "<br/>");
    let mut out = String::from("flowchart LR\n");
    for (i, (label, _)) in &g.nodes {
        out += &format!("  {i}[\"{}\"]\n", text(label));
    }
    for ((a, b), (label, mark)) in &g.edges {
        let arrow = if *mark == Mark::Removed || *mark == Mark::Drained {
            "-.->"
        } else {
            "-->"
        };
        if label.is_empty() {
            out += &format!("  {a} {arrow} {b}\n");
        } else {
            out += &format!("  {a} {arrow}|\"{}\"| {b}\n", text(label));
        }
    }
    out += "  classDef added fill:#d4f7d4,stroke:#2a2\n";
    out += "  classDef removed fill:#f9d4d4,stroke:#c22,stroke-dasharray:4\n";
    out += "  classDef drained fill:#eee,color:#888,stroke:#aaa\n";
    for (class, m) in [
        ("added", Mark::Added),
        ("removed", Mark::Removed),
        ("drained", Mark::Drained),
    ] {
        let ids: Vec<&str> = g
            .nodes
            .iter()
            .filter(|(_, n)| n.1 == m)
            .map(|(i, _)| i.as_str())
            .collect();
        if !ids.is_empty() {
            out += &format!("  class {} {class}\n", ids.join(","));
        }
    }
    out
}

/// The graph in DOT.
pub fn dot(g: &Graph) -> String {
    let text = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let color = |m: Mark| match m {
        Mark::Same => "black",
        Mark::Added => "darkgreen",
        Mark::Removed => "red",
        Mark::Drained => "gray",
    };
    let mut out = String::from("digraph cluster {\n  rankdir=LR;\n  node [shape=box];\n");
    for (i, (label, m)) in &g.nodes {
        out += &format!(
            "  {i} [label=\"{}\", color={}, fontcolor={}];\n",
            text(label),
            color(*m),
            color(*m)
        );
    }
    for ((a, b), (label, m)) in &g.edges {
        let style = if matches!(m, Mark::Removed | Mark::Drained) {
            ", style=dashed"
        } else {
            ""
        };
        out += &format!(
            "  {a} -> {b} [label=\"{}\", color={}{style}];\n",
            text(label),
            color(*m)
        );
    }
    out += "}\n";
    out
}

/// The graph as SVG, laid out and drawn in-process from its DOT.
pub fn svg(g: &Graph) -> Result<String, String> {
    let source = dot(g);
    let mut parser = layout::gv::DotParser::new(&source);
    let ast = parser
        .process()
        .map_err(|e| format!("the graph's DOT does not parse: {e}"))?;
    let mut builder = layout::gv::GraphBuilder::new();
    builder.visit_graph(&ast);
    let mut visual = builder.get();
    let mut writer = layout::backends::svg::SVGWriter::new();
    visual.do_it(false, false, false, &mut writer);
    Ok(writer.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster of `n` services, the real of service `heavy` with weight 5.
    fn cluster(n: usize, heavy: usize) -> Cluster {
        cluster_with(n, |i| i == heavy)
    }

    /// A cluster of `n` services, the real of each service `heavy` picks with weight 5.
    fn cluster_with(n: usize, heavy: impl Fn(usize) -> bool) -> Cluster {
        let mut text =
            String::from("cluster big\nbalancer {\n  director lb1 192.0.2.2/24 on eth0\n}\n");
        for i in 0..n {
            let w = if heavy(i) { 5 } else { 1 };
            text += &format!(
                "pool p{i} {{\n  real r{i} 192.0.2.{} weight {w}\n}}\nservice s{i} {{\n  vip 198.51.100.{i}:80/tcp\n  forward dr\n  pool p{i}\n}}\n",
                10 + i
            );
        }
        lvsc_compiler::compile_source(&text)
            .cluster
            .expect("compiles")
    }

    #[test]
    fn a_big_clusters_picture_draws_only_what_changes() {
        let (old, new) = (cluster(60, 99), cluster(60, 7));
        let g = changes(&old, &new).expect("one service changes");
        assert!(g.nodes.contains_key("s_s7"), "{:?}", g.nodes.keys());
        assert!(g.nodes.contains_key("r_r7") && g.nodes.contains_key("d_lb1"));
        assert!(
            !g.nodes.contains_key("s_s8"),
            "an unchanged service is drawn"
        );
        // A small cluster is drawn whole.
        let (old, new) = (cluster(5, 99), cluster(5, 2));
        let g = changes(&old, &new).expect("a small cluster");
        assert!(g.nodes.contains_key("s_s3"));
    }

    #[test]
    fn no_picture_when_more_services_change_than_draw_legibly() {
        let old = cluster_with(120, |_| false);
        let new = cluster_with(120, |i| i % 2 == 0);
        assert!(changes(&old, &new).is_none(), "60 changed services drawn");
        let new = cluster_with(120, |i| i % 3 == 0);
        assert!(
            changes(&old, &new).is_some(),
            "40 changed services not drawn"
        );
    }

    #[test]
    fn a_markdown_plan_says_why_it_has_no_picture() {
        let old = cluster_with(120, |_| false);
        let review = |new: &Cluster| {
            crate::markdown::render(&crate::Review::new(&old, new, "f", false).unwrap())
        };
        let many = review(&cluster_with(120, |i| i % 2 == 0));
        assert!(
            many.contains("No picture: more than 50 services change"),
            "{many}"
        );
        assert!(!many.contains("```mermaid"), "{many}");
        let few = review(&cluster_with(120, |i| i % 3 == 0));
        assert!(
            few.contains("```mermaid") && !few.contains("No picture"),
            "{few}"
        );
    }
}
