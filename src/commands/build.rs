//! `lvsc build FILE --out DIR [--target hosts|nftables|ipvsadm|ebpf|ansible]`: write each
//! host's files (and with `ansible`, the playbook that rolls them out).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;

use crate::commands::compile_file_for;

/// What `build` generates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum BuildTarget {
    /// Every host: keepalived.conf, nftables.conf, sysctl.conf, setup.sh, exports.
    #[default]
    Hosts,
    /// Each director's nftables data plane (for kernels without IPVS).
    Nftables,
    /// Each director's IPVS table as `ipvsadm-restore` rules.
    Ipvsadm,
    /// The XDP data plane's map image (`--out` is the image file).
    Ebpf,
    /// Every host's files, and in `ansible/` an inventory and a playbook that roll them
    /// out in a safe order (`ansible-playbook -i OUT/ansible/inventory.yml OUT/ansible/site.yml`).
    Ansible,
}

/// Arguments of `lvsc build`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The .lvs file (`-` reads standard input).
    file: String,
    /// Output directory: one folder per host, and manifest.json.
    #[arg(long, short)]
    out: PathBuf,
    /// What to generate.
    #[arg(long, value_enum, default_value_t)]
    target: BuildTarget,
    /// With `--target ebpf`: the director (its address is the tunnel source); may be
    /// left out when every director carries the same services.
    #[arg(long)]
    host: Option<String>,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let backend = match args.target {
        BuildTarget::Hosts | BuildTarget::Ansible => None,
        BuildTarget::Nftables => Some(lvsc_compiler::ir::Dataplane::Nftables),
        BuildTarget::Ipvsadm => Some(lvsc_compiler::ir::Dataplane::Ipvs),
        BuildTarget::Ebpf => Some(lvsc_compiler::ir::Dataplane::Xdp),
    };
    let Some(cluster) = compile_file_for(&args.file, backend)? else {
        return Ok(ExitCode::from(1));
    };
    let set = match args.target {
        BuildTarget::Hosts => lvsc_files::FileSet::Hosts,
        BuildTarget::Nftables => lvsc_files::FileSet::NftablesDataplane,
        BuildTarget::Ipvsadm => lvsc_files::FileSet::IpvsadmRules,
        BuildTarget::Ebpf => return ebpf_image(&args, &cluster),
        BuildTarget::Ansible => return ansible(&args, &cluster),
    };
    // Everything is generated before anything is written: an error writes nothing.
    let spinner = crate::progress::spinner(&format!(
        "building the files of {} services",
        cluster.services.len()
    ));
    let built = lvsc_files::build(&cluster, set);
    spinner.finish_and_clear();
    let files = match built {
        Ok(f) => f,
        Err(errors) => {
            for e in errors {
                eprintln!("lvsc: {}: {}", e.host, e.message);
            }
            return Ok(ExitCode::from(1));
        }
    };
    write(&args, &cluster, files)
}

/// The Ansible rollout: every host's files, the inventory, the playbook, the cluster file.
fn ansible(args: &Args, cluster: &lvsc_compiler::Cluster) -> anyhow::Result<ExitCode> {
    if args.file == "-" {
        anyhow::bail!(
            "--target ansible copies the cluster file to the directors: give its path, not `-`"
        );
    }
    let source = crate::input::read(&args.file)?;
    match lvsc_files::ansible::build(cluster, &source.text) {
        Ok(files) => write(args, cluster, files),
        Err(errors) => {
            for e in errors {
                eprintln!("lvsc: {}: {}", e.host, e.message);
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// The map image for one director, or for all when they carry the same services.
fn ebpf_image(args: &Args, cluster: &lvsc_compiler::Cluster) -> anyhow::Result<ExitCode> {
    let sources: Vec<std::net::IpAddr> = match &args.host {
        Some(_) => super::director(cluster, args.host.as_deref())?
            .addresses
            .iter()
            .map(|a| a.addr)
            .collect(),
        // Every director carries every service; the loader fills in the tunnel source.
        None => Vec::new(),
    };
    let image = match lvsc_xdp_image::image::build(&cluster.services, &sources) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("lvsc: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let bytes = image.to_bytes();
    lvsc_files::folder::replace(&args.out, &bytes, Some(0o644))?;
    eprintln!(
        "wrote {} ({} bytes, {} services)",
        args.out.display(),
        bytes.len(),
        image.services.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the build as the folder's whole content, in one step; says what changed.
fn write(
    args: &Args,
    cluster: &lvsc_compiler::Cluster,
    files: Vec<lvsc_files::OutputFile>,
) -> anyhow::Result<ExitCode> {
    let manifest = lvsc_files::manifest(cluster, &files);
    let w = lvsc_files::folder::write(&args.out, &files, &manifest)?;
    for f in &w.changed {
        eprintln!("wrote {}", args.out.join(f).display());
    }
    for h in &w.removed_hosts {
        eprintln!(
            "removed {} (no longer in the cluster)",
            args.out.join(h).display()
        );
    }
    eprintln!(
        "{} files: {} written, {} unchanged",
        files.len(),
        w.changed.len(),
        w.unchanged
    );
    Ok(ExitCode::SUCCESS)
}
