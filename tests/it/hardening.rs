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
                "examples/web-nat.lvs",
                "--backend",
                "nftables",
                "--dry-run",
                "--host",
                "lb1",
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
            assert_eq!(out.status.code(), Some(1), "{what}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("writing to standard output"), "{what}: {err}");
        }
    }
}
