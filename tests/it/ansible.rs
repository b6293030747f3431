//! The Ansible rollout, end to end: `lvsc build --target ansible` and the real
//! `ansible-playbook` against network namespaces, each host running its own sshd (a key
//! the test generates) with private /run/lvsc, /run/lvsc-host, /etc/exports.d and
//! bpffs: two XDP directors, three direct-routing reals, an NFS server
//! (tests/ansible/cluster.lvs), a client and the Ansible control node.
//!
//! - the first run configures everything, and the client gets answers through the VIP;
//! - the second run changes nothing on any host;
//! - a weight change changes the directors only;
//! - `--check --diff` shows the plan and changes nothing;
//! - removing a real drains it on both directors before its setup goes down;
//! - `ansible-lint` passes on the playbook; `exportfs` lists the export.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::run_support::{send_flows, wait_for};
use crate::support::{Netns, Switch, run, system_test_can_run, temp_dir};

const VIP: &str = "10.88.9.10";
const HOSTS: [(&str, &str); 6] = [
    ("lb1", "10.88.0.2"),
    ("lb2", "10.88.0.3"),
    ("r1", "10.88.0.11"),
    ("r2", "10.88.0.12"),
    ("r3", "10.88.0.13"),
    ("nfs1", "10.88.0.50"),
];

/// A process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Rollout {
    tmp: PathBuf,
    ctl: Netns,
    client: Netns,
    _hosts: BTreeMap<&'static str, Netns>,
    _sshd: Vec<Proc>,
    _servers: Vec<Proc>,
    _sw: Switch,
}

impl Rollout {
    fn start() -> Rollout {
        let tmp = temp_dir("ansible");
        run(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                tmp.join("id").to_str().unwrap(),
            ],
        );
        run(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                tmp.join("host").to_str().unwrap(),
            ],
        );
        std::fs::copy(tmp.join("id.pub"), tmp.join("authorized_keys")).unwrap();
        // The lvsc the playbook copies to the directors, without its debug information.
        run(
            "objcopy",
            &[
                "--strip-debug",
                env!("CARGO_BIN_EXE_lvsc"),
                tmp.join("lvsc").to_str().unwrap(),
            ],
        );
        // Privilege separation and the mount points the hosts make private.
        for d in ["/run/sshd", "/run/lvsc", "/run/lvsc-host", "/etc/exports.d"] {
            std::fs::create_dir_all(d).unwrap();
        }
        let sw = Switch::new("answ");
        let plug = |ns: &Netns, port: &str, addr: &str| sw.plug(ns, "l0", port, addr);
        let ctl = Netns::new("anctl");
        plug(&ctl, "p-ctl", "10.88.0.100/24");
        let client = Netns::new("ancl");
        plug(&client, "p-cl", "10.88.0.1/24");
        client.exec("ip", &["route", "add", VIP, "via", "10.88.0.2"]);
        let mut hosts = BTreeMap::new();
        let mut sshd = Vec::new();
        let mut servers = Vec::new();
        for (name, ip) in HOSTS {
            let ns = Netns::new(&format!("an{name}"));
            plug(&ns, &format!("p-{name}"), &format!("{ip}/24"));
            let conf = tmp.join(format!("sshd-{name}.conf"));
            std::fs::write(
                &conf,
                format!(
                    "ListenAddress {ip}\nHostKey {}\nAuthorizedKeysFile {}\nPidFile {}\n\
                     PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                     Subsystem sftp /usr/lib/openssh/sftp-server\n",
                    tmp.join("host").display(),
                    tmp.join("authorized_keys").display(),
                    tmp.join(format!("sshd-{name}.pid")).display(),
                ),
            )
            .unwrap();
            // What the host keeps to itself: `ip netns exec` gives sshd a mount
            // namespace of its own, and these mounts live only there.
            let private = format!(
                "mount -t tmpfs tmpfs /run/lvsc && mount -t tmpfs tmpfs /run/lvsc-host && \
                 mount -t tmpfs tmpfs /etc/exports.d && mount -t bpf bpf /sys/fs/bpf && \
                 mkdir /run/lvsc-host/www && mount -t tmpfs tmpfs /run/lvsc-host/www && \
                 exec /usr/sbin/sshd -D -e -f {}",
                conf.display()
            );
            sshd.push(Proc(
                Command::new("ip")
                    .args(["netns", "exec", &ns.name, "sh", "-c", &private])
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(tmp.join(format!("sshd-{name}.log"))).unwrap())
                    .spawn()
                    .unwrap(),
            ));
            if name.starts_with('r') {
                // The reals' service: answers its name on each connection.
                servers.push(Proc(
                    Command::new("ip")
                        .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_lvsc-flows")])
                        .args(["serve", name, "80", "-"])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .unwrap(),
                ));
            }
            hosts.insert(name, ns);
        }
        let r = Rollout {
            tmp,
            ctl,
            client,
            _hosts: hosts,
            _sshd: sshd,
            _servers: servers,
            _sw: sw,
        };
        for (name, _) in HOSTS {
            wait_for(&format!("sshd on {name}"), Duration::from_secs(20), || {
                r.ssh_status(name, "true")
            });
        }
        r
    }

    fn ssh_cmd(&self, host: &str, cmd: &str) -> Command {
        let ip = HOSTS.iter().find(|(n, _)| *n == host).unwrap().1;
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ctl.name, "ssh", "-i"])
            .arg(self.tmp.join("id"))
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=3",
                "-o",
                "LogLevel=ERROR",
            ])
            .arg(format!("root@{ip}"))
            .arg(cmd);
        c
    }

    fn ssh_status(&self, host: &str, cmd: &str) -> bool {
        self.ssh_cmd(host, cmd)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Runs `cmd` on `host` over ssh (in its private mounts); its standard output.
    fn ssh(&self, host: &str, cmd: &str) -> String {
        let out = self.ssh_cmd(host, cmd).output().unwrap();
        assert!(
            out.status.success(),
            "{host}: {cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Builds the playbook from `text`.
    fn build(&self, text: &str) -> PathBuf {
        let file = self.tmp.join("cluster.lvs");
        std::fs::write(&file, text).unwrap();
        let out = self.tmp.join("rollout");
        let built = Command::new(env!("CARGO_BIN_EXE_lvsc"))
            .arg("build")
            .arg(&file)
            .args(["--target", "ansible", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );
        out.join("ansible")
    }

    /// `ansible-playbook` from the control node; its whole output, and the recap's
    /// `changed` count per host.
    fn playbook(&self, dir: &Path, extra: &[&str]) -> (String, BTreeMap<String, u32>) {
        let started = std::time::Instant::now();
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ctl.name, "ansible-playbook"])
            .arg("-i")
            .arg(dir.join("inventory.yml"))
            .arg(dir.join("site.yml"))
            .args(["-u", "root", "--private-key"])
            .arg(self.tmp.join("id"))
            .args([
                "-e",
                &format!("lvsc_binary={}", self.tmp.join("lvsc").display()),
            ])
            .args(["-e", "lvsc_systemd=false", "-e", "lvsc_drain_seconds=1"])
            .args(["-e", "ansible_python_interpreter=/usr/bin/python3"])
            // Private to each host (see `start`): nothing lands on this machine's /etc.
            .args([
                "-e",
                "lvsc_dir=/run/lvsc-host/etc",
                "-e",
                "lvsc_bin_dir=/run/lvsc-host/bin",
            ])
            .args(["-e", "lvsc_keepalived_dir=/run/lvsc-host/keepalived"])
            .args([
                "-e",
                "lvsc_bird_dir=/run/lvsc-host/bird",
                "-e",
                "lvsc_frr_dir=/run/lvsc-host/frr",
            ])
            .args(["-e", "lvsc_sysctl_file=/run/lvsc-host/90-lvsc.conf"])
            .args(["-e", "lvsc_unit_dir=/run/lvsc-host"])
            .args(extra)
            .env("ANSIBLE_HOST_KEY_CHECKING", "False")
            // One connection per host, reused, and modules piped through it.
            .env(
                "ANSIBLE_SSH_ARGS",
                "-o ControlMaster=auto -o ControlPersist=5s -o UserKnownHostsFile=/dev/null",
            )
            .env("ANSIBLE_SSH_CONTROL_PATH_DIR", self.tmp.join("cp"))
            .env("ANSIBLE_PIPELINING", "True")
            .env("ANSIBLE_FORKS", "8")
            .env("ANSIBLE_LOCAL_TEMP", self.tmp.join("ansible-local"))
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "ansible-playbook {extra:?} failed:\n{text}"
        );
        eprintln!(
            "ansible-playbook {extra:?}: {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let mut changed = BTreeMap::new();
        let recap = text.split("PLAY RECAP").nth(1).unwrap_or_default();
        for line in recap.lines() {
            let mut words = line.split_whitespace();
            let (Some(host), Some(":")) = (words.next(), words.next()) else {
                continue;
            };
            let n = words
                .find_map(|w| w.strip_prefix("changed="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            changed.insert(host.to_string(), n);
        }
        (text, changed)
    }

    /// 100 connections from the client: real → answers.
    fn requests(&self) -> BTreeMap<String, usize> {
        let flows: Vec<String> = (0..100)
            .map(|i| format!("10.88.0.1:{}->{VIP}:80/tcp", 30000 + i))
            .collect();
        send_flows(&self.client, &self.tmp.join("flows"), &flows)
    }
}

impl Drop for Rollout {
    fn drop(&mut self) {
        // The export table is the machine's: take the test's export out of it again.
        let _ = self
            .ssh_cmd("nfs1", "rm -f /etc/exports.d/*.exports && exportfs -ra")
            .output();
    }
}

#[test]
fn ansible_rolls_out_the_cluster_in_order_and_idempotently() {
    if !system_test_can_run(
        "Ansible rollout",
        &[
            "ansible-playbook",
            "ansible-lint",
            "ssh-keygen",
            "ssh",
            "exportfs",
            "bpf-linker",
        ],
    ) || !Path::new("/usr/sbin/sshd").exists()
    {
        if std::env::var_os("CI").is_some() {
            panic!("/usr/sbin/sshd is missing (openssh-server)");
        }
        return;
    }
    let r = Rollout::start();
    let text = std::fs::read_to_string("tests/ansible/cluster.lvs").unwrap();
    let dir = r.build(&text);

    let lint = Command::new("ansible-lint")
        .current_dir(&dir)
        .args(["--offline", "site.yml"])
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "ansible-lint: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );

    // First run: everything, in order; the client gets answers through the VIP.
    let (log, changed) = r.playbook(&dir, &[]);
    for (host, _) in HOSTS {
        assert!(
            changed.get(host).is_some_and(|&n| n > 0),
            "{host} not configured: {changed:?}\n{log}"
        );
    }
    let exports = r.ssh("nfs1", "exportfs -v");
    assert!(
        exports.contains("/srv") && exports.contains("10.88.0.11"),
        "{exports}"
    );
    let spread = r.requests();
    assert_eq!(spread.values().sum::<usize>(), 100, "{spread:?}");
    assert!(!spread.contains_key("error"), "{spread:?}");
    assert_eq!(spread.len(), 3, "{spread:?}");
    let vips = r.ssh("r1", "ip -4 addr show dev lo");
    assert!(vips.contains(VIP), "{vips}");

    // Second run: nothing changes anywhere.
    let (log, changed) = r.playbook(&dir, &[]);
    assert!(
        changed.values().all(|&n| n == 0),
        "a second run changed {changed:?}\n{log}"
    );

    // A weight change: the directors change, nothing else.
    let heavier = text.replace("real r2 10.88.0.12 weight 1", "real r2 10.88.0.12 weight 3");
    assert_ne!(heavier, text);
    let dir = r.build(&heavier);
    let (log, changed) = r.playbook(&dir, &[]);
    for (host, n) in &changed {
        assert_eq!(*n > 0, host.starts_with("lb"), "{host}: {changed:?}\n{log}");
    }
    assert!(log.contains("Apply it, leaving reals at weight 0"), "{log}");

    // --check --diff: the plan is shown, nothing changes.
    let lighter = heavier.replace("real r1 10.88.0.11 weight 2", "real r1 10.88.0.11 weight 1");
    let dir = r.build(&lighter);
    let deployed = r.ssh("lb1", "cat /run/lvsc-host/etc/cluster.lvs");
    let (log, _) = r.playbook(&dir, &["--check", "--diff"]);
    assert!(
        log.contains("~ real web/r1") || log.contains("real web/r1"),
        "no plan shown:\n{log}"
    );
    assert_eq!(
        r.ssh("lb1", "cat /run/lvsc-host/etc/cluster.lvs"),
        deployed,
        "--check changed the director"
    );

    // Removing r3: drained on both directors, then its setup down, then dropped.
    let without = heavier.replace("  real r3 10.88.0.13 weight 1\n", "");
    let dir = r.build(&without);
    let (log, _) = r.playbook(&dir, &[]);
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in the log:\n{log}"))
    };
    let drained = at("TASK [Apply it, leaving reals at weight 0");
    let down = at("TASK [Take the real server's setup down]");
    let dropped = at("TASK [Apply the new cluster file]");
    assert!(drained < down && down < dropped, "out of order:\n{log}");
    let drain_section = &log[drained..down];
    assert!(
        drain_section.contains("lb1") && drain_section.contains("lb2"),
        "not drained on both directors:\n{drain_section}"
    );
    assert!(log[down..dropped].contains("r3"), "{log}");
    let vips = r.ssh("r3", "ip -4 addr show dev lo");
    assert!(!vips.contains(VIP), "r3 still holds the VIP: {vips}");
    let spread = r.requests();
    assert_eq!(spread.values().sum::<usize>(), 100, "{spread:?}");
    assert!(
        !spread.contains_key("r3") && !spread.contains_key("error"),
        "{spread:?}"
    );
    eprintln!("ansible rollout: after removing r3: {spread:?}");
}

/// `lvsc apply` without `--host` in a cluster of several directors takes the one whose
/// address is on this machine; none or several is an error that names the candidates.
#[test]
fn apply_finds_its_director_by_its_addresses() {
    if !system_test_can_run("apply without --host", &["ip"]) {
        return;
    }
    let ns = Netns::new("anpick");
    ns.exec(
        "ip",
        &["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
    );
    ns.exec("ip", &["link", "set", "d0", "up"]);
    let apply = || {
        let out = Command::new("ip")
            .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_lvsc")])
            .args([
                "apply",
                "tests/ansible/two-directors.lvs",
                "--backend",
                "nftables",
                "--dry-run",
            ])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = apply();
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("no director of the cluster has an address on this machine")
            && err.contains("lb1 (10.20.0.2)")
            && err.contains("lb2 (10.20.0.3)"),
        "{err}"
    );
    ns.exec("ip", &["addr", "add", "10.20.0.3/24", "dev", "d0"]);
    let (code, err) = apply();
    assert_eq!(code, Some(0), "lb2 is here: {err}");
    ns.exec("ip", &["addr", "add", "10.20.0.2/24", "dev", "d0"]);
    let (code, err) = apply();
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("several directors have an address on this machine (lb1, lb2)"),
        "{err}"
    );
}
