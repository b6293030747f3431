//! The Ansible rollout of a cluster: an inventory (groups `directors`, `reals`,
//! `storage`, each host where Ansible reaches it) and a playbook that copies each host's
//! generated files and runs them in a safe order (ansible/site.yml says how).

use std::collections::BTreeSet;

use lvsc_compiler::Cluster;
use lvsc_compiler::ir::Dataplane;
use lvsc_compiler::views::HostViews;
use serde::Serialize;

use crate::render::RENDERER;
use crate::{BuildError, FileSet, OutputFile, output_file};

/// The folder of the build that holds the playbook, the inventory and the cluster file.
pub const FOLDER: &str = "ansible";

/// The playbook: the same for every cluster (what differs is in the inventory).
const PLAYBOOK: &str = include_str!("../ansible/site.yml");

#[derive(Serialize)]
struct Host {
    name: String,
    manage: String,
    apply_args: Vec<String>,
    run_service: bool,
}

/// The inventory of `hosts` (YAML), with the hosts named in `only` when given.
pub fn inventory(cluster: &str, hosts: &HostViews, only: Option<&BTreeSet<String>>) -> String {
    let keep = |name: &str| only.is_none_or(|o| o.contains(name));
    let directors: Vec<Host> = hosts
        .directors
        .iter()
        .filter(|d| keep(&d.name))
        .map(|d| {
            let primary = d.addresses.first().map(|a| a.interface.clone());
            let apply_args = match d.dataplane {
                Dataplane::Ipvs => vec!["--backend".into(), "ipvs".into()],
                Dataplane::Nftables => vec!["--backend".into(), "nftables".into()],
                Dataplane::Xdp => {
                    let mut a = vec!["--backend".into(), "ebpf".into()];
                    a.extend(
                        primary
                            .map(|i| ["--iface".to_string(), i])
                            .into_iter()
                            .flatten(),
                    );
                    a
                }
            };
            Host {
                name: d.name.clone(),
                manage: d.manage.map(|m| m.to_string()).unwrap_or_default(),
                apply_args,
                run_service: d.checker == lvsc_compiler::ir::Checker::Lvsc,
            }
        })
        .collect();
    let plain = |name: &str, manage: std::net::IpAddr| Host {
        name: name.to_string(),
        manage: manage.to_string(),
        apply_args: Vec::new(),
        run_service: false,
    };
    let reals: Vec<Host> = hosts
        .reals
        .iter()
        .filter(|r| keep(&r.name))
        .map(|r| plain(&r.name, r.manage))
        .collect();
    let storage: Vec<Host> = hosts
        .storage
        .iter()
        .filter(|s| {
            keep(&s.name)
                && s.exports
                    .iter()
                    .any(|e| e.kind == lvsc_compiler::ir::StorageKind::Nfs)
        })
        .map(|s| plain(&s.name, s.manage))
        .collect();
    RENDERER.render(
        "inventory.yml",
        cluster,
        "",
        serde_json::json!({ "directors": directors, "reals": reals, "storage": storage }),
    )
}

/// Every host's files, and in `ansible/` the inventory, the playbook and the cluster
/// file (`source`) the directors run.
pub fn build(cluster: &Cluster, source: &str) -> Result<Vec<OutputFile>, Vec<BuildError>> {
    let hosts = lvsc_compiler::views(cluster);
    if let Some(clash) = hosts.roles().into_iter().find(|(n, _)| *n == FOLDER) {
        return Err(vec![BuildError {
            host: clash.0.to_string(),
            message: format!(
                "a host named `{FOLDER}` would share the playbook's folder; rename it"
            ),
        }]);
    }
    let mut out = crate::build(cluster, FileSet::Hosts)?;
    let header = format!("# Cluster {}.\n", cluster.name);
    out.push(output_file(
        FOLDER,
        "inventory.yml",
        inventory(&cluster.name, &hosts, None),
    ));
    out.push(output_file(
        FOLDER,
        "site.yml",
        PLAYBOOK.replacen("---\n", &format!("---\n{header}"), 1),
    ));
    out.push(output_file(FOLDER, "cluster.lvs", source.to_string()));
    out.sort_by(|a, b| (&a.host, &a.name).cmp(&(&b.host, &b.name)));
    Ok(out)
}
