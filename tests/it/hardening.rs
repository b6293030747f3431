//! lvsc as a hostile user meets it: inputs that once crashed it, numbers past their
//! range, output that cannot be written. Every command answers with a diagnostic or a
//! clear message and exit 1, never a panic.

use std::process::{Command, Stdio};

use crate::support::{lvsc, temp_dir};

fn assert_no_panic(out: &std::process::Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{what} panicked: {err}");
    assert_ne!(out.status.code(), Some(101), "{what}: {err}");
}

const NO_VIP: &str = "cluster x\nbalancer { director lb1 192.0.2.2/24 on eth0 }\n\
                      pool p { real r1 192.0.2.10 }\nservice s { pool p }\n";

#[test]
fn a_service_without_a_vip_is_a_diagnostic_for_every_command() {
    let dir = temp_dir("novip");
    let file = dir.join("novip.lvs");
    std::fs::write(&file, NO_VIP).unwrap();
    let f = file.to_str().unwrap();
    let out_dir = dir.join("out");
    let image = dir.join("x.img");
    let old = dir.join("old.lvs");
    std::fs::copy("examples/web-dr.lvs", &old).unwrap();
    for args in [
        vec!["check", f],
        vec!["export", f],
        vec!["hosts", f],
        vec!["build", f, "--out", out_dir.to_str().unwrap()],
        vec![
            "build",
            f,
            "--target",
            "ebpf",
            "-o",
            image.to_str().unwrap(),
        ],
        vec!["plan", f, "--from", old.to_str().unwrap()],
        vec!["apply", f, "--dry-run", "--backend", "nftables"],
    ] {
        let out = lvsc(&args);
        assert_no_panic(&out, &args.join(" "));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("has no `vip` or `fwmark`"),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(!out_dir.exists() && !image.exists(), "a failed build wrote");
}

#[test]
fn a_line_too_long_to_show_is_named_by_its_position() {
    let dir = temp_dir("longline");
    let file = dir.join("long.lvs");
    std::fs::write(&file, format!("{}x\n", " ".repeat(65_536))).unwrap();
    let out = lvsc(&["check", file.to_str().unwrap()]);
    assert_no_panic(&out, "check of a 65,537-column line");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("long.lvs:1:65537"), "{err}");
    assert!(err.contains("too long to show"), "{err}");
}

/// Runs lvsc with standard output on /dev/full, or on a pipe closed after one byte.
fn with_broken_stdout(args: &[&str], full: bool) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lvsc"));
    cmd.args(args).stderr(Stdio::piped());
    if full {
        cmd.stdout(std::fs::File::create("/dev/full").unwrap());
        return cmd.output().unwrap();
    }
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut one).unwrap();
    drop(stdout);
    child.wait_with_output().unwrap()
}

#[test]
fn every_command_survives_a_closed_or_full_stdout() {
    // Big enough that no pipe buffer holds the whole output.
    let dir = temp_dir("stdout");
    let generated = Command::new(env!("CARGO_BIN_EXE_lvsc-gen"))
        .args(["--services", "400", "--reals", "4", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(generated.status.success());
    let big = dir.join("cluster.lvs");
    let big = big.to_str().unwrap();
    let broken = dir.join("broken.lvs");
    std::fs::write(&broken, "cluster x\nbogus 1\n".repeat(2000)).unwrap();
    let broken = broken.to_str().unwrap();
    // (command, whether its output outgrows a pipe buffer, so closing the pipe bites)
    let commands: Vec<(Vec<&str>, bool)> = vec![
        (vec!["export", big], true),
        (vec!["export", big, "--format", "yaml"], true),
        (vec!["hosts", big], true),
        (vec!["hosts", big, "--json"], true),
        (vec!["check", "--format", "json", broken], true),
        (vec!["plan", big, "--from", "examples/web-dr.lvs"], true),
        (
            vec![
                "plan",
                big,
                "--from",
                "examples/web-dr.lvs",
                "--format",
                "json",
            ],
            true,
        ),
        (
            vec![
                "apply",
                "examples/api-lvsc-run.lvs",
                "--backend",
                "nftables",
                "--dry-run",
                "--host",
                "api-lb1",
            ],
            false,
        ),
    ];
    for (args, big_output) in &commands {
        for full in [true, false] {
            if !full && !big_output {
                continue;
            }
            let out = with_broken_stdout(args, full);
            let what = format!(
                "{} with stdout {}",
                args.join(" "),
                if full { "full" } else { "closed" }
            );
            assert_no_panic(&out, &what);
            let err = String::from_utf8_lossy(&out.stderr);
            if full {
                assert_eq!(out.status.code(), Some(1), "{what}");
                assert!(err.contains("writing to standard output"), "{what}: {err}");
            } else {
                // Like a process ended by SIGPIPE: quiet, status 141.
                assert_eq!(out.status.code(), Some(141), "{what}: {err}");
                assert!(err.is_empty(), "{what}: {err}");
            }
        }
    }
}

/// Every way of writing a secret into a file, each beside other errors so that the line
/// is rendered: the secret `hunter2` never reaches any command's output.
#[test]
fn a_secret_written_in_the_file_is_never_shown() {
    let dir = temp_dir("secrets");
    let base = std::fs::read_to_string("examples/web-dr.lvs").unwrap();
    let vrrp = "    auth pass env VRRP_PASS\n";
    assert!(base.contains(vrrp));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "inline",
            base.replace(vrrp, "    auth pass \"hunter2\"\n")
                .into_bytes(),
        ),
        (
            "second-auth",
            base.replace(vrrp, &format!("{vrrp}    auth pass \"hunter2\"\n"))
                .into_bytes(),
        ),
        (
            "unterminated",
            base.replace(vrrp, "    auth pass \"hunter2\n").into_bytes(),
        ),
        (
            "unknown-type",
            base.replace(vrrp, "    auth md5 \"hunter2\"\n")
                .into_bytes(),
        ),
        (
            "bare-word",
            base.replace(vrrp, "    auth pass hunter2 x\n").into_bytes(),
        ),
        ("not-utf8", {
            let mut b = base
                .replace(vrrp, "    auth pass \"hunter2\" #\u{0}\n")
                .into_bytes();
            let at = b.iter().position(|&c| c == 0).unwrap();
            b[at] = 0xff;
            b
        }),
    ];
    for (name, bytes) in &cases {
        let file = dir.join(format!("{name}.lvs"));
        std::fs::write(&file, bytes).unwrap();
        let f = file.to_str().unwrap();
        let out_dir = dir.join(format!("{name}-out"));
        let runs: Vec<Vec<&str>> = vec![
            vec!["check", f],
            vec!["check", "--format", "json", f],
            vec!["fmt", "--check", f],
            vec!["export", f],
            vec!["hosts", f],
            vec!["build", f, "--out", out_dir.to_str().unwrap()],
            vec!["plan", f, "--from", "examples/web-dr.lvs"],
            vec!["plan", "examples/web-dr.lvs", "--from", f],
            vec!["apply", f, "--dry-run", "--backend", "nftables"],
        ];
        for args in runs {
            let out = lvsc(&args);
            assert_no_panic(&out, &args.join(" "));
            let all = [out.stdout, out.stderr].concat();
            let shown = String::from_utf8_lossy(&all);
            assert!(
                !shown.contains("hunter2"),
                "{name}: {args:?} shows it:\n{shown}"
            );
            // fmt judges layout only: a well-formed file with a secret formats.
            if args[0] != "fmt" {
                assert_eq!(out.status.code(), Some(1), "{name}: {args:?}: {shown}");
            }
        }
        // fmt on standard input (its output is the file itself), and in place.
        let out = crate::support::lvsc_stdin(&["fmt", "-"], bytes);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("hunter2"),
            "{name}: fmt -"
        );
        let out = lvsc(&["fmt", f]);
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("hunter2"),
            "{name}: fmt"
        );
    }
}

/// The output folder as a hostile neighbour leaves it: links planted at the names a
/// build once used, a host folder swapped for a link, a user's file at a temporary name.
#[test]
fn a_build_never_writes_through_a_planted_link() {
    let dir = temp_dir("planted");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    assert!(
        lvsc(&["build", "examples/web-dr.lvs", "--out", o])
            .status
            .success()
    );
    let victim = dir.join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    // The temporary name earlier versions wrote through, and a host folder as a link.
    std::os::unix::fs::symlink(&victim, out.join("lb1/.keepalived.conf.lvsc.tmp")).unwrap();
    let changed = std::fs::read_to_string("examples/web-dr.lvs")
        .unwrap()
        .replace("weight 3", "weight 4");
    let file = dir.join("web.lvs");
    std::fs::write(&file, changed).unwrap();
    let before = std::fs::read_to_string(out.join("lb1/keepalived.conf")).unwrap();
    let run = lvsc(&["build", file.to_str().unwrap(), "--out", o]);
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("lvsc did not write") && err.contains(".keepalived.conf.lvsc.tmp"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(
        std::fs::read_to_string(out.join("lb1/keepalived.conf")).unwrap(),
        before
    );
    std::fs::remove_file(out.join("lb1/.keepalived.conf.lvsc.tmp")).unwrap();
    std::fs::rename(out.join("rs1"), dir.join("rs1-elsewhere")).unwrap();
    std::os::unix::fs::symlink(dir.join("rs1-elsewhere"), out.join("rs1")).unwrap();
    let run = lvsc(&["build", file.to_str().unwrap(), "--out", o]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("(rs1)"));
    // Put right, the build goes through and changes exactly what the file changed.
    std::fs::remove_file(out.join("rs1")).unwrap();
    std::fs::rename(dir.join("rs1-elsewhere"), out.join("rs1")).unwrap();
    let run = lvsc(&["build", file.to_str().unwrap(), "--out", o]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_ne!(
        std::fs::read_to_string(out.join("lb1/keepalived.conf")).unwrap(),
        before
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        3,
        "staging left behind"
    );
}

#[test]
fn a_host_that_leaves_the_cluster_leaves_the_build() {
    let dir = temp_dir("leaves");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    assert!(
        lvsc(&["build", "examples/web-dr.lvs", "--out", o])
            .status
            .success()
    );
    assert!(out.join("rs3").is_dir());
    let text = std::fs::read_to_string("examples/web-dr.lvs").unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.contains("real rs3"))
        .map(|l| format!("{l}\n"))
        .collect();
    let file = dir.join("web.lvs");
    std::fs::write(&file, without).unwrap();
    let run = lvsc(&["build", file.to_str().unwrap(), "--out", o]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stderr).contains("rs3 (no longer in the cluster)"));
    assert!(!out.join("rs3").exists());
}

#[test]
fn an_image_never_replaces_a_users_file_at_a_temporary_name() {
    let dir = temp_dir("image-tmp");
    let mine = dir.join("x.lvsc.tmp");
    std::fs::write(&mine, "mine").unwrap();
    let img = dir.join("x.img");
    let run = lvsc(&[
        "build",
        "examples/web-dr.lvs",
        "--target",
        "ebpf",
        "-o",
        img.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);
}

/// A disk that fills up halfway: the build fails with a clear message, the folder keeps
/// the last good build, and nothing is left beside it.
#[test]
fn a_full_disk_leaves_the_last_good_build() {
    if !crate::support::system_test_can_run("build on a full disk", &["unshare", "mount"]) {
        return;
    }
    let dir = temp_dir("fulldisk");
    let big = dir.join("big");
    let generated = Command::new(env!("CARGO_BIN_EXE_lvsc-gen"))
        .args(["--services", "300", "--reals", "8", "--out"])
        .arg(&big)
        .output()
        .unwrap();
    assert!(generated.status.success());
    let disk = dir.join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let lvsc_bin = env!("CARGO_BIN_EXE_lvsc");
    let script = format!(
        "set -e; mount -t tmpfs -o size=400k none {disk}; \
         {lvsc_bin} build examples/web-dr.lvs --out {disk}/out; \
         find {disk} | sort > {dir}/before; \
         cp {disk}/out/lb1/keepalived.conf {dir}/good; \
         if {lvsc_bin} build {big}/cluster.lvs --out {disk}/out 2> {dir}/err; then exit 3; fi; \
         find {disk} | sort > {dir}/after; \
         cmp {disk}/out/lb1/keepalived.conf {dir}/good; \
         printf 'cluster  web\n' > {dir}/messy.lvs; cp {dir}/messy.lvs {disk}/messy.lvs; \
         head -c 10000000 /dev/zero > {disk}/fill || true; \
         if {lvsc_bin} build examples/web-dr.lvs --target ebpf -o {disk}/x.img 2> {dir}/err-image; then exit 4; fi; \
         if {lvsc_bin} fmt {disk}/messy.lvs 2> {dir}/err-fmt; then exit 5; fi; \
         cmp {disk}/messy.lvs {dir}/messy.lvs; \
         test ! -e {disk}/x.img",
        disk = disk.display(),
        dir = dir.display(),
        big = big.display()
    );
    let run = Command::new("unshare")
        .args(["-m", "bash", "-c", &script])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "exit {:?}: {}",
        run.status.code(),
        String::from_utf8_lossy(&run.stderr)
    );
    let err = std::fs::read_to_string(dir.join("err")).unwrap();
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("before")).unwrap(),
        std::fs::read_to_string(dir.join("after")).unwrap(),
        "the failed build changed the folder"
    );
    for what in ["err-image", "err-fmt"] {
        let err = std::fs::read_to_string(dir.join(what)).unwrap();
        assert!(err.contains("No space left on device"), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
}
