//! Installing on an interface: the first time, load the program, fill its maps, attach
//! and pin; afterwards, update only the services that changed, each switched by one map
//! update. When the maps are too small for an update, a new program with larger maps is
//! filled aside and swapped in with one link update.

use std::path::{Path, PathBuf};

use aya::programs::links::{FdLink, PinnedLink};
use aya::programs::xdp::XdpLink;
use aya::programs::{TestRun, TestRunOptions, Xdp, XdpMode};
use aya::{Ebpf, EbpfLoader};

use crate::Error;
use crate::changes::{ChangeSet, Summary};
use crate::error::{io, link};
use crate::groups::Group;
use crate::maps::{Maps, NAMES};
use crate::space::Capacity;

/// The load balancer's program name (backends/xdp/program).
const PROGRAM_NAME: &str = "lvsc_lb";

/// How to attach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Native (driver) XDP, falling back to generic when the driver refuses; generic
    /// on a veth (see [`crate::interface::is_veth`]).
    Auto,
    /// Native XDP only.
    Native,
    /// Generic (SKB) XDP.
    Generic,
}

/// Where the program is (or goes): an interface, how to attach, where the pins live.
#[derive(Clone, Debug)]
pub struct Attachment {
    /// The interface.
    pub interface: String,
    /// The attach mode for a first install.
    pub mode: Mode,
    /// The bpffs directory under which `<interface>/` holds the pins.
    pub pin_root: PathBuf,
}

impl Attachment {
    /// The pin directory of this interface.
    pub fn dir(&self) -> PathBuf {
        self.pin_root.join(&self.interface)
    }
}

/// What an install did.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// `attached`, `updated`, `reloaded`, `unchanged` or `dry-run`.
    pub action: &'static str,
    /// `native` or `generic` when attached now.
    pub mode: Option<&'static str>,
    /// The services' changes.
    pub changes: Summary,
}

/// A loaded, unattached program with its maps.
pub struct Loaded {
    ebpf: Ebpf,
    maps: Maps,
}

fn check_built() -> Result<(), Error> {
    if crate::PROGRAM.is_empty() {
        return Err(Error::NotBuilt);
    }
    Ok(())
}

impl Loaded {
    /// Loads the program with maps sized for `groups` (twice over) and installs them.
    pub fn new(groups: &[Group]) -> Result<Loaded, Error> {
        Loaded::with_flows(groups, None)
    }

    /// Like [`Loaded::new`], with the connection table pinned at `flows` when there is
    /// one there (a larger program replacing a running one keeps its flows).
    fn with_flows(groups: &[Group], flows: Option<&Path>) -> Result<Loaded, Error> {
        check_built()?;
        let cap = Capacity::for_groups(groups);
        let mut loader = EbpfLoader::new();
        if let Some(path) = flows {
            loader.map_pin_path("flows", path);
        }
        let mut ebpf = loader
            .map_max_entries("tables", cap.tables / 2)
            .map_max_entries("reals", cap.reals)
            .map_max_entries("services", cap.services)
            .map_max_entries("counters", cap.services)
            .load(crate::PROGRAM)
            .map_err(Error::Load)?;
        let prog: &mut Xdp = program(&mut ebpf, PROGRAM_NAME)?;
        prog.load().map_err(|source| Error::Program {
            name: PROGRAM_NAME,
            source,
        })?;
        let mut maps = Maps::from_maps(|n| ebpf.take_map(n))?;
        let plan = ChangeSet::new(Default::default(), groups);
        let alloc = plan
            .allocate(groups, maps.capacity())
            .ok_or(Error::MapsTooSmall)?;
        maps.write(groups, &plan, &alloc)?;
        Ok(Loaded { ebpf, maps })
    }

    /// Writes `groups` into the loaded maps as an update of a running program does:
    /// each changed service's table beside the installed ones, then switched.
    pub fn update(&mut self, groups: &[Group]) -> Result<(), Error> {
        let plan = ChangeSet::partial(self.maps.installed()?, groups);
        let alloc = plan
            .allocate(groups, self.maps.capacity())
            .ok_or(Error::MapsTooSmall)?;
        self.maps.write(groups, &plan, &alloc)
    }

    /// The maps.
    pub fn maps(&self) -> &Maps {
        &self.maps
    }

    /// Runs the program once on `packet` with BPF_PROG_TEST_RUN: the XDP action and the
    /// packet as it leaves.
    pub fn test_run(&mut self, packet: &[u8]) -> Result<(u32, Vec<u8>), Error> {
        let (code, out, _) = self.test_run_repeat(packet, 1)?;
        Ok((code, out))
    }

    /// Runs the program `repeat` times on `packet`: action, output, kernel-measured
    /// duration per run.
    pub fn test_run_repeat(
        &mut self,
        packet: &[u8],
        repeat: u32,
    ) -> Result<(u32, Vec<u8>, std::time::Duration), Error> {
        self.run_program(PROGRAM_NAME, packet, repeat)
    }

    /// Runs the object's record-echo program once on `packet` (loading it on first use):
    /// it reads the maps this loader filled and writes what it found into the packet,
    /// field by field, so a test sees the records as the kernel side reads them.
    pub fn echo_records(&mut self, packet: &[u8]) -> Result<(u32, Vec<u8>), Error> {
        let prog: &mut Xdp = program(&mut self.ebpf, ECHO_PROGRAM)?;
        if prog.fd().is_err() {
            prog.load().map_err(|source| Error::Program {
                name: ECHO_PROGRAM,
                source,
            })?;
        }
        let (code, out, _) = self.run_program(ECHO_PROGRAM, packet, 1)?;
        Ok((code, out))
    }

    fn run_program(
        &mut self,
        name: &'static str,
        packet: &[u8],
        repeat: u32,
    ) -> Result<(u32, Vec<u8>, std::time::Duration), Error> {
        let mut out = vec![0u8; packet.len() + 64];
        let prog: &mut Xdp = program(&mut self.ebpf, name)?;
        let r = prog
            .test_run(TestRunOptions {
                data_in: Some(packet),
                data_out: Some(&mut out),
                repeat,
                ..TestRunOptions::new()
            })
            .map_err(|source| Error::Program { name, source })?;
        out.truncate(r.data_size_out as usize);
        Ok((r.return_value, out, r.duration))
    }

    /// Attaches to `target`'s interface and pins program, maps and link.
    fn attach(mut self, target: &Attachment) -> Result<&'static str, Error> {
        let dir = target.dir();
        std::fs::create_dir_all(&dir).map_err(io(format!(
            "create {} (is bpffs mounted at {}?)",
            dir.display(),
            target.pin_root.display()
        )))?;
        let attached = self.pin_and_attach(target, &dir);
        if attached.is_err() {
            // Nothing is attached (the link went with its pin); leave no pins either.
            let _ = std::fs::remove_dir_all(&dir);
        }
        attached
    }

    /// Pins the maps in `dir`, attaches in the first mode that works, pins link and
    /// program; says which mode.
    fn pin_and_attach(&mut self, target: &Attachment, dir: &Path) -> Result<&'static str, Error> {
        self.maps.pin(dir)?;
        let veth = match lvsc_netlink::if_index(&target.interface) {
            Some(i) => crate::interface::is_veth(i)?,
            None => false, // attach names the missing interface
        };
        let tries: &[(XdpMode, &'static str)] = match target.mode {
            Mode::Auto if veth => &[(XdpMode::Skb, "generic")],
            Mode::Auto => &[(XdpMode::Driver, "native"), (XdpMode::Skb, "generic")],
            Mode::Native => &[(XdpMode::Driver, "native")],
            Mode::Generic => &[(XdpMode::Skb, "generic")],
        };
        let prog: &mut Xdp = program(&mut self.ebpf, PROGRAM_NAME)?;
        let mut refusals = Vec::new();
        for &(mode, name) in tries {
            match prog.attach(&target.interface, mode) {
                Ok(id) => {
                    let link = prog.take_link(id).map_err(link("take the XDP link"))?;
                    pin_link(link, &dir.join("link"))?;
                    pin_program(prog, &dir.join("prog"))?;
                    return Ok(name);
                }
                Err(e) => refusals.push(format!("{name}: {e}")),
            }
        }
        Err(Error::Attach {
            interface: target.interface.clone(),
            refusals,
        })
    }
}

/// The test program that echoes the maps' records (backends/xdp/program).
const ECHO_PROGRAM: &str = "lvsc_records_echo";

fn program<'a>(ebpf: &'a mut Ebpf, name: &'static str) -> Result<&'a mut Xdp, Error> {
    ebpf.program_mut(name)
        .ok_or(Error::NoProgram(name))?
        .try_into()
        .map_err(|source| Error::Program { name, source })
}

fn pin_program(prog: &mut Xdp, path: &Path) -> Result<(), Error> {
    prog.pin(path).map_err(|source| Error::Pin {
        path: path.to_path_buf(),
        source,
    })
}

fn pin_link(xdp_link: XdpLink, path: &Path) -> Result<(), Error> {
    let fd = FdLink::try_from(xdp_link).map_err(link(
        "the kernel attached without a bpf link, which cannot be pinned",
    ))?;
    fd.pin(path).map_err(|source| Error::Pin {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(())
}

/// The staging folder of a swap to a larger program, beside the pins it replaces.
const STAGING: &str = "next";

/// Opens the maps pinned in `dir` after finishing or undoing a swap that was cut short
/// (a killed apply): the pins then name the maps the attached program reads.
fn open_pins(dir: &Path) -> Result<Maps, Error> {
    recover(dir)?;
    Maps::from_pins(dir)
}

/// A swap stages the larger program's pins in `next/` (its program last), switches the
/// pinned link to it, then moves each pin into place. Cut short, the link says which
/// program runs: when it is the staged one, finish the moves; otherwise the staged pins
/// were never used, and go.
fn recover(dir: &Path) -> Result<(), Error> {
    let staging = dir.join(STAGING);
    if !staging.exists() {
        return Ok(());
    }
    let staged = aya::programs::ProgramInfo::from_pin(staging.join("prog"))
        .ok()
        .map(|p| p.id());
    let link_path = dir.join("link");
    let running = FdLink::from(
        PinnedLink::from_pin(&link_path).map_err(link(format!("open {}", link_path.display())))?,
    )
    .info()
    .map_err(link("read the XDP link"))?
    .program_id();
    if staged == Some(running) {
        for n in NAMES.iter().chain(&["prog"]) {
            let from = staging.join(n);
            if from.exists() {
                std::fs::rename(&from, dir.join(n))
                    .map_err(io(format!("move the staged {n} pin into place")))?;
            }
        }
    }
    std::fs::remove_dir_all(&staging).map_err(io(format!("remove {}", staging.display())))
}

/// Whether `target` has an install.
pub fn installed(target: &Attachment) -> bool {
    target.dir().join("link").exists()
}

/// The services installed on `target` (none when nothing is).
pub fn installed_services(
    target: &Attachment,
) -> Result<std::collections::HashMap<lvsc_xdp_common::SvcKey, lvsc_xdp_common::SvcVal>, Error> {
    if !installed(target) {
        return Ok(Default::default());
    }
    open_pins(&target.dir())?.installed()
}

/// What an install would change, without changing anything.
pub fn dry_run(target: &Attachment, groups: &[Group]) -> Result<Report, Error> {
    let plan = if installed(target) {
        ChangeSet::new(open_pins(&target.dir())?.installed()?, groups)
    } else {
        ChangeSet::new(Default::default(), groups)
    };
    Ok(Report {
        action: "dry-run",
        mode: None,
        changes: plan.summary(groups),
    })
}

/// Installs `groups` on `target`: a first install attaches, later ones update in place,
/// and an update too big for the maps swaps in a larger program with one link update.
/// Groups without their table (installed unchanged) are fine unless the plan writes them
/// or the program must be reloaded: then [`Error::Uncomputed`], and nothing changed.
pub fn apply(target: &Attachment, groups: &[Group]) -> Result<Report, Error> {
    check_built()?;
    let dir = target.dir();
    let all_computed = groups.iter().all(Group::computed);
    if !installed(target) {
        if !all_computed {
            return Err(Error::Uncomputed);
        }
        let loaded = Loaded::new(groups)?;
        let changes = ChangeSet::new(Default::default(), groups).summary(groups);
        let mode = loaded.attach(target)?;
        return Ok(Report {
            action: "attached",
            mode: Some(mode),
            changes,
        });
    }
    let mut maps = open_pins(&dir)?;
    let plan = ChangeSet::new(maps.installed()?, groups);
    if plan.writes.iter().any(|w| !groups[w.group].computed()) {
        return Err(Error::Uncomputed);
    }
    let changes = plan.summary(groups);
    if plan.is_empty() {
        return Ok(Report {
            action: "unchanged",
            mode: None,
            changes,
        });
    }
    if let Some(alloc) = plan.allocate(groups, maps.capacity()) {
        maps.write(groups, &plan, &alloc)?;
        return Ok(Report {
            action: "updated",
            mode: None,
            changes,
        });
    }
    if !all_computed {
        return Err(Error::Uncomputed);
    }
    // Too big for the maps: fill a new program aside, then swap it in. It shares the
    // running program's connection table, so no established flow moves.
    let mut next = Loaded::with_flows(groups, Some(&dir.join("flows")))?;
    // Packets counted between this copy and the swap are lost from the counters.
    next.maps.take_counters(&maps)?;
    // Crash-safe order (see `recover`): stage every pin, the program last; switch the
    // pinned link (it stays pinned throughout, so the program never detaches); move the
    // pins into place.
    let staging = dir.join(STAGING);
    std::fs::create_dir_all(&staging).map_err(io(format!("create {}", staging.display())))?;
    next.maps.pin(&staging)?;
    let prog: &mut Xdp = program(&mut next.ebpf, PROGRAM_NAME)?;
    pin_program(prog, &staging.join("prog"))?;
    let link_path = dir.join("link");
    let old: FdLink = PinnedLink::from_pin(&link_path)
        .map_err(link(format!("open {}", link_path.display())))?
        .into();
    let old = XdpLink::try_from(old).map_err(link("reopen the XDP link"))?;
    let id = prog
        .attach_to_link(old)
        .map_err(link("swap in the larger program"))?;
    // The link is pinned already; this handle only closes.
    drop(prog.take_link(id).map_err(link("take the XDP link"))?);
    recover(&dir)?;
    Ok(Report {
        action: "reloaded",
        mode: None,
        changes,
    })
}

/// Installs `groups` on `target` without touching any other installed service: the
/// table of each that changed is written beside the installed ones and switched. When
/// the maps cannot hold them beside what is installed, says so ([`Error::MapsTooSmall`]):
/// a full [`apply`] can swap in a larger program.
pub fn apply_some(target: &Attachment, groups: &[Group]) -> Result<Report, Error> {
    check_built()?;
    if !installed(target) {
        return Err(Error::NotInstalled {
            interface: target.interface.clone(),
            dir: target.dir(),
        });
    }
    let mut maps = open_pins(&target.dir())?;
    let plan = ChangeSet::partial(maps.installed()?, groups);
    if plan.writes.iter().any(|w| !groups[w.group].computed()) {
        return Err(Error::Uncomputed);
    }
    let changes = plan.summary(groups);
    if plan.is_empty() {
        return Ok(Report {
            action: "unchanged",
            mode: None,
            changes,
        });
    }
    let alloc = plan
        .allocate(groups, maps.capacity())
        .ok_or(Error::MapsTooSmall)?;
    maps.write(groups, &plan, &alloc)?;
    Ok(Report {
        action: "updated",
        mode: None,
        changes,
    })
}

/// The reals each service installed on `target` sends traffic to, by key.
pub fn serving(
    target: &Attachment,
) -> Result<std::collections::HashMap<lvsc_xdp_common::SvcKey, Vec<std::net::IpAddr>>, Error> {
    if !installed(target) {
        return Ok(Default::default());
    }
    open_pins(&target.dir())?.serving()
}

/// Detaches from `target`'s interface: removing the pins releases link, program and maps.
pub fn remove(target: &Attachment) -> Result<bool, Error> {
    let dir = target.dir();
    if !dir.exists() {
        return Ok(false);
    }
    std::fs::remove_dir_all(&dir).map_err(io(format!("remove {}", dir.display())))?;
    Ok(true)
}

/// One service's counters.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ServiceStats {
    /// `VIP:port proto`.
    pub service: String,
    /// The cluster file's name for it, when the caller knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Packets forwarded.
    pub packets: u64,
    /// Bytes forwarded.
    pub bytes: u64,
}

/// The counters of every service installed on `target`.
pub fn stats(target: &Attachment) -> Result<Vec<ServiceStats>, Error> {
    if !installed(target) {
        return Err(Error::NotInstalled {
            interface: target.interface.clone(),
            dir: target.dir(),
        });
    }
    let maps = open_pins(&target.dir())?;
    let mut installed: Vec<_> = maps.installed()?.into_iter().collect();
    installed.sort_by_key(|(k, _)| *k);
    installed
        .into_iter()
        .map(|(k, v)| {
            let c = maps.counter(v.index)?;
            Ok(ServiceStats {
                service: k.to_string(),
                name: None,
                packets: c.packets,
                bytes: c.bytes,
            })
        })
        .collect()
}
