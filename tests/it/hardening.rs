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
