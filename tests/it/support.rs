//! Helpers shared by the integration tests: running lvsc, the examples, system-test
//! gating, network namespaces and the QEMU guest folder.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `lvsc ARGS` (no colour) and returns its output.
pub fn lvsc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Runs `lvsc ARGS` with `input` on standard input.
pub fn lvsc_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// A fresh, empty folder under the temporary directory, unique in this test run.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("lvsc-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The `.lvs` files under examples/, sorted.
pub fn examples() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lvs"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Whether system tests may run here: root and every tool present. When they cannot,
/// say so loudly; under CI (`CI=true`) a skip is a failure.
pub fn system_test_can_run(test: &str, tools: &[&str]) -> bool {
    let mut missing: Vec<String> = tools
        .iter()
        .filter(|t| {
            !std::process::Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|t| format!("`{t}` not installed"))
        .collect();
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { geteuid() } != 0 {
        missing.push("not root".into());
    }
    if missing.is_empty() {
        return true;
    }
    let why = missing.join(", ");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("SYSTEM TEST {test} CANNOT RUN under CI: {why}");
    }
    eprintln!("\n!!!!! SYSTEM TEST {test} SKIPPED: {why} (run ./scripts/test-all as root) !!!!!\n");
    false
}

unsafe extern "C" {
    fn geteuid() -> u32;
}

/// Runs a command; panics with its output when it fails.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace removed (with every process in it) when dropped, also on panic.
pub struct Netns {
    /// Its name.
    pub name: String,
}

impl Netns {
    /// Creates `lvsc-<tag>-<pid>-<n>` with loopback up.
    pub fn new(tag: &str) -> Self {
        // Every test of the run shares one process id: a counter keeps names apart.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("lvsc-{tag}-{}-{n}", std::process::id());
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &name])
            .output();
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.exec("ip", &["link", "set", "lo", "up"]);
        // No IPv6 duplicate address detection: addresses are final at once, so that what
        // a test sees does not depend on how fast it runs.
        for scope in ["all", "default"] {
            ns.exec(
                "sysctl",
                &["-qw", &format!("net.ipv6.conf.{scope}.accept_dad=0")],
            );
        }
        ns
    }

    /// Runs a command inside; panics when it fails.
    pub fn exec(&self, cmd: &str, args: &[&str]) -> String {
        let mut all = vec!["netns", "exec", &self.name, cmd];
        all.extend_from_slice(args);
        run("ip", &all)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Ok(out) = std::process::Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
        {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = std::process::Command::new("kill")
                    .args(["-9", pid])
                    .output();
            }
        }
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// The lvsc binary for the guest: static, so it runs without the host's libraries.
pub fn static_lvsc() -> std::path::PathBuf {
    static_bin("lvsc")
}

/// A binary of this package for the guest (`lvsc`, `lvsc-flows`), built static; with
/// `LVSC_STATIC_BIN` set (the static lvsc), its sibling.
pub fn static_bin(name: &str) -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("LVSC_STATIC_BIN") {
        return std::path::PathBuf::from(p).with_file_name(name);
    }
    let status = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--bin",
            "lvsc",
            "--bin",
            "lvsc-flows",
            "--target-dir",
            "target/static",
        ])
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .status()
        .unwrap();
    assert!(status.success(), "static build of lvsc failed");
    std::path::PathBuf::from("target/static/x86_64-unknown-linux-gnu/release").join(name)
}

/// A fresh folder for `scripts/qemu-rig run`, holding the static lvsc without debug
/// information (a smaller initramfs boots faster).
pub fn guest_dir(tag: &str) -> std::path::PathBuf {
    let lvsc = static_lvsc();
    let dir = temp_dir(tag);
    run(
        "objcopy",
        &[
            "--strip-debug",
            lvsc.to_str().unwrap(),
            dir.join("lvsc").to_str().unwrap(),
        ],
    );
    dir
}

/// A run of `scripts/qemu-rig`: the folder the test fills, then the guest's script.
pub struct Guest {
    /// The folder mounted as /test in the guest.
    pub dir: std::path::PathBuf,
}

impl Guest {
    /// A fresh guest folder holding the static lvsc (see `guest_dir`).
    pub fn new(tag: &str) -> Guest {
        Guest {
            dir: guest_dir(tag),
        }
    }

    /// Adds the static `lvsc-flows` (client, servers, holder of long connections).
    pub fn with_flows(self) -> Guest {
        run(
            "objcopy",
            &[
                "--strip-debug",
                static_bin("lvsc-flows").to_str().unwrap(),
                self.dir.join("lvsc-flows").to_str().unwrap(),
            ],
        );
        self
    }

    /// Boots the guest with the script at `script` as its run.sh, and the shell library
    /// of tests/guest/ in /test/lib; panics unless the guest finished.
    pub fn run(&self, script: &str) -> GuestOutput {
        std::fs::copy(script, self.dir.join("run.sh")).unwrap();
        let lib = self.dir.join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        for f in std::fs::read_dir("tests/guest").unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, lib.join(f.file_name().unwrap())).unwrap();
        }
        self.boot()
    }

    /// Boots the guest with the run.sh already in the folder; panics unless it finished.
    pub fn boot(&self) -> GuestOutput {
        let rig = Command::new("scripts/qemu-rig")
            .arg("run")
            .arg(&self.dir)
            .output()
            .unwrap();
        let log = std::fs::read_to_string(self.dir.join("result.log")).unwrap_or_default();
        assert!(
            rig.status.success(),
            "the guest did not finish: {}\n{}\nguest output:\n{log}",
            String::from_utf8_lossy(&rig.stdout),
            String::from_utf8_lossy(&rig.stderr)
        );
        let blocks = guest_blocks(&log);
        GuestOutput { log, blocks }
    }
}

/// What a guest printed: its whole log and its blocks (see `guest_blocks`).
pub struct GuestOutput {
    /// The whole output, for failure messages.
    pub log: String,
    blocks: std::collections::BTreeMap<String, (String, i32)>,
}

impl GuestOutput {
    /// The block `tag` (text, exit status); panics with the whole log if it is missing.
    pub fn get(&self, tag: &str) -> (String, i32) {
        self.blocks
            .get(tag)
            .cloned()
            .unwrap_or_else(|| panic!("no `{tag}` in the guest output:\n{}", self.log))
    }

    /// The text of block `tag`, which must have exited 0.
    pub fn ok(&self, tag: &str) -> String {
        let (text, code) = self.get(tag);
        assert_eq!(
            code, 0,
            "{tag} failed:\n{text}\n\nwhole guest output:\n{}",
            self.log
        );
        text
    }
}

/// A switch: a bridge in a namespace of its own, into which namespaces are plugged by veth.
pub struct Switch {
    /// The switch's namespace (holds `br0`).
    pub ns: Netns,
}

impl Switch {
    /// A new switch named after `tag`.
    pub fn new(tag: &str) -> Switch {
        let ns = Netns::new(tag);
        ns.exec("ip", &["link", "add", "br0", "type", "bridge"]);
        ns.exec("ip", &["link", "set", "br0", "up"]);
        Switch { ns }
    }

    /// Plugs `ns` in: `dev` inside it, up, with `addr`; `port` its end on the bridge.
    pub fn plug(&self, ns: &Netns, dev: &str, port: &str, addr: &str) {
        run(
            "ip",
            &[
                "link",
                "add",
                "name",
                dev,
                "netns",
                &ns.name,
                "type",
                "veth",
                "peer",
                "name",
                port,
                "netns",
                &self.ns.name,
            ],
        );
        self.ns
            .exec("ip", &["link", "set", port, "master", "br0", "up"]);
        ns.exec("ip", &["addr", "add", addr, "dev", dev]);
        ns.exec("ip", &["link", "set", dev, "up"]);
    }
}

/// A bpffs of the test's own: `ip netns exec` remounts /sys, hiding /sys/fs/bpf.
pub struct Bpffs(pub std::path::PathBuf);

impl Bpffs {
    /// Mounts a bpffs at `dir`; unmounted when dropped.
    pub fn mount(dir: std::path::PathBuf) -> Bpffs {
        std::fs::create_dir_all(&dir).unwrap();
        run("mount", &["-t", "bpf", "bpf", dir.to_str().unwrap()]);
        Bpffs(dir)
    }
}

impl Drop for Bpffs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).output();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Blocks of a guest's output (`@@BEGIN tag`, lines, `@@EXIT status`, `@@END`):
/// tag → (text, exit status).
pub fn guest_blocks(log: &str) -> std::collections::BTreeMap<String, (String, i32)> {
    let mut out = std::collections::BTreeMap::new();
    let mut cur: Option<(String, String)> = None;
    for line in log.lines() {
        if let Some(tag) = line.strip_prefix("@@BEGIN ") {
            cur = Some((tag.to_string(), String::new()));
        } else if let Some(code) = line.strip_prefix("@@EXIT ") {
            if let Some((tag, text)) = cur.take() {
                out.insert(tag, (text, code.trim().parse().unwrap_or(-1)));
            }
        } else if let Some((_, text)) = cur.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}
