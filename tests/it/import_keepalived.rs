//! `lvsc import keepalived`: every sample configuration Debian's keepalived ships imports
//! to a file `lvsc check` accepts, with a warning at each construct left out (both
//! snapshotted under tests/golden/import-keepalived/); a MASTER and a BACKUP file become
//! one cluster; secrets never reach the output. The round trip through the real
//! keepalived is in import_keepalived_qemu.rs.
//!
//! Update the golden files with `LVSC_UPDATE_GOLDEN=1 cargo test --test it import_keepalived`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::temp_dir;

/// Where Debian's keepalived package puts its samples.
const SAMPLES: &str = "/usr/share/doc/keepalived/samples";
const PAIR: &str = "tests/import/keepalived/pair";

fn import(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(["import", "keepalived"])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// The sample configurations (every `keepalived.conf.*`), or none with a loud skip (a
/// failure under CI).
pub fn samples() -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(SAMPLES) else {
        let why = format!("{SAMPLES} is missing: install the keepalived package");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}");
        eprintln!("SKIPPED: {why}");
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = dir
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("keepalived.conf."))
        })
        .collect();
    files.sort();
    files
}

/// The errors `lvsc check` finds in `text`.
fn check_errors(text: &str) -> Vec<String> {
    lvsc_compiler::compile_source(text)
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

fn golden(path: &Path, actual: &str, update: bool) {
    if update {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "{} is missing (LVSC_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs (LVSC_UPDATE_GOLDEN=1 to update):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn every_debian_sample_imports_to_a_file_that_passes_check() {
    let update = std::env::var_os("LVSC_UPDATE_GOLDEN").is_some();
    let dir = Path::new("tests/golden/import-keepalived");
    std::fs::create_dir_all(dir).unwrap();
    let samples = samples();
    for sample in &samples {
        let name = sample.file_name().unwrap().to_str().unwrap();
        let name = name.trim_start_matches("keepalived.conf.");
        let out = import(&[sample.to_str().unwrap()]);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(out.status.success(), "{name}: the import failed:\n{stderr}");
        let errors = check_errors(&stdout);
        assert!(
            errors.is_empty(),
            "{name}: `lvsc check` refuses the import: {errors:?}\n{stdout}"
        );
        // Every construct left out is named, at its line.
        for keyword in [
            "SMTP_CHECK",
            "vrrp_script",
            "digest",
            "virtualhost",
            "notify_master",
            "track_script",
            "UDP_CHECK",
            "PING_CHECK",
            "quorum_up",
        ] {
            let text = std::fs::read_to_string(sample).unwrap();
            let used = text.lines().any(|l| {
                let l = l.trim_start();
                !l.starts_with(['#', '!']) && l.split_whitespace().next() == Some(keyword)
            });
            if used {
                assert!(
                    stderr.contains(&format!("`{keyword}`")) || stderr.contains("left out"),
                    "{name}: `{keyword}` is left out without a warning:\n{stderr}"
                );
            }
        }
        golden(&dir.join(format!("{name}.lvs")), &stdout, update);
        golden(&dir.join(format!("{name}.diagnostics")), &stderr, update);
    }
    eprintln!("{} samples imported and checked", samples.len());
}

#[test]
fn a_master_and_a_backup_file_import_as_one_cluster_of_two_directors() {
    let out = import(&[&format!("{PAIR}/lb1.conf"), &format!("{PAIR}/lb2.conf")]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(
        check_errors(&stdout).is_empty(),
        "{:?}",
        check_errors(&stdout)
    );
    let model = lvsc_compiler::compile_source(&stdout).cluster.unwrap();
    let directors: Vec<(String, u8)> = model
        .balancer
        .directors
        .iter()
        .map(|d| (d.name.clone(), d.priority))
        .collect();
    assert_eq!(directors, [("lb1".into(), 150), ("lb2".into(), 100)]);
    // The two HTTP VIPs have the same reals: one pool.
    assert_eq!(
        stdout.matches("pool vs-10-20-0-100-80\n").count(),
        2,
        "the shared reals should be one pool:\n{stdout}"
    );
    assert!(stdout.contains("state master") && stdout.contains("state backup"));
    assert!(stdout.contains("sync eth0 id 51"), "{stdout}");
    assert!(stdout.contains("gateway 10.30.0.1/24 on eth1"), "{stdout}");
    // Included files were followed, comments kept where they were.
    assert!(
        stdout.contains("# The big one takes three times the traffic.\n  real rs-10-20-0-11"),
        "{stdout}"
    );
    assert!(stdout.contains("real rs-10-20-0-11 10.20.0.11:80 weight 3 upper 500 lower 400"));
    assert!(stdout.contains("check http \"/healthz\" expect 200 every 3s timeout 2s retry 2"));
    assert!(stdout.contains("scheduler sh sh-port\n  persistence 300s netmask 255.255.255.0"));
    // The notify script is named at its line.
    assert!(
        stderr.contains("notify_master /usr/local/bin/became-master.sh"),
        "{stderr}"
    );
}

#[test]
fn the_vrrp_secret_becomes_an_environment_reference_and_is_never_shown() {
    let out = import(&[&format!("{PAIR}/lb1.conf"), &format!("{PAIR}/lb2.conf")]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stdout.contains("auth pass env VRRP_PASS"), "{stdout}");
    assert!(
        stderr.contains("set VRRP_PASS to this password"),
        "{stderr}"
    );
    for text in [&stdout, &stderr] {
        assert!(!text.contains("s3cr3tpw"), "the secret leaked:\n{text}");
    }
    // Nor a comment that repeats it.
    let dir = temp_dir("import-secret-comment");
    let f = dir.join("keepalived.conf");
    let lb1 = std::fs::read_to_string(format!("{PAIR}/lb1.conf")).unwrap();
    std::fs::write(
        &f,
        lb1.replace("# The web VIPs", "# pass is s3cr3tpw\n# The web VIPs")
            .replace("include conf.d/*.conf", ""),
    )
    .unwrap();
    let out = import(&[f.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(!stdout.contains("s3cr3tpw"), "{stdout}");
    assert!(stdout.contains("# The web VIPs"), "{stdout}");
    // JSON diagnostics do not carry it either.
    let out = import(&["--format", "json", &format!("{PAIR}/lb1.conf")]);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cr3tpw"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s3cr3tpw"));
}

#[test]
fn strict_refuses_what_lvsc_cannot_express_and_writes_nothing() {
    let dir = temp_dir("import-strict");
    let target = dir.join("cluster.lvs");
    let out = import(&[
        "--strict",
        "-o",
        target.to_str().unwrap(),
        &format!("{PAIR}/lb1.conf"),
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("× a notify script is left out"), "{stderr}");
    assert!(!target.exists(), "--strict wrote a file");
    // Without --strict, -o writes the file whole.
    let out = import(&["-o", target.to_str().unwrap(), &format!("{PAIR}/lb1.conf")]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(check_errors(&text).is_empty());
}

#[test]
fn directors_files_that_disagree_are_reported_at_the_difference() {
    let dir = temp_dir("import-conflict");
    for f in ["lb1.conf", "conf.d/web.conf", "conf.d/app.conf"] {
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::copy(format!("{PAIR}/{f}"), dir.join(f)).unwrap();
    }
    let lb2 = std::fs::read_to_string(format!("{PAIR}/lb2.conf")).unwrap();
    std::fs::write(
        dir.join("lb2.conf"),
        lb2.replace("include conf.d/*.conf", "include conf.d/web.conf\nvirtual_server 10.20.0.100 8080 {\n  lb_algo rr\n  real_server 10.30.0.21 8080 {\n    weight 1\n  }\n}"),
    )
    .unwrap();
    let out = import(&[
        dir.join("lb1.conf").to_str().unwrap(),
        dir.join("lb2.conf").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("service `vs-10-20-0-100-8080` differs from the first director's file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("lb2.conf:30:1]"),
        "not located in lb2.conf:\n{stderr}"
    );
}

#[test]
fn a_broken_file_gets_located_errors_and_no_output() {
    let dir = temp_dir("import-broken");
    let f = dir.join("keepalived.conf");
    std::fs::write(
        &f,
        "virtual_server 10.0.0.1 eighty {\n  real_server 10.0.0.2 80 {\n    weight 1\n  }\n",
    )
    .unwrap();
    let out = import(&[f.to_str().unwrap()]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("lvsc::import::invalid"), "{stderr}");
    assert!(stderr.contains("`eighty` is not a number"), "{stderr}");
    assert!(stderr.contains("this block is never closed"), "{stderr}");
    // A missing file is one clear error.
    let out = import(&[dir.join("nope.conf").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn check_credentials_are_left_out_and_never_shown() {
    let dir = temp_dir("import-credentials");
    let f = dir.join("keepalived.conf");
    std::fs::write(
        &f,
        "virtual_server 192.0.2.10 80 {\n  lb_kind DR\n  real_server 192.0.2.11 80 {\n    HTTP_GET {\n      url {\n        path /admin\n      }\n      username admin\n      password hunter2secret\n    }\n  }\n}\n",
    )
    .unwrap();
    let out = import(&[f.to_str().unwrap()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("check credentials are left out (never copied)"),
        "{stderr}"
    );
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains("hunter2secret"),
            "the secret leaked:\n{text}"
        );
    }
    assert!(check_errors(&stdout).is_empty(), "{stdout}");
}
