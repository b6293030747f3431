//! `lvsc plan --from`: golden files for each format over pairs of files that cover every
//! kind of change and every risk note; stability; exit codes; git revisions.
//!
//! Update the golden files with `LVSC_UPDATE_GOLDEN=1 cargo test --test it plan`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::support::{examples, lvsc};

fn cases() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("tests/plan")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn every_format_matches_its_golden_file() {
    let update = std::env::var_os("LVSC_UPDATE_GOLDEN").is_some();
    let mut risks = BTreeSet::new();
    let mut actions = BTreeSet::new();
    for case in cases() {
        let new = format!("{case}/new.lvs");
        let old = format!("{case}/old.lvs");
        for (format, ext) in [("text", "txt"), ("markdown", "md"), ("json", "json")] {
            let out = lvsc(&["plan", &new, "--from", &old, "--format", format]);
            let unchanged = case.ends_with("unchanged");
            assert_eq!(
                out.status.code(),
                Some(if unchanged { 0 } else { 2 }),
                "{case} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            let golden = Path::new(&case).join(format!("expected.{ext}"));
            if update {
                std::fs::write(&golden, &text).unwrap();
            }
            let want = std::fs::read_to_string(&golden).unwrap_or_default();
            assert!(
                text == want,
                "{case}: {format} output differs from {} (LVSC_UPDATE_GOLDEN=1 to update)",
                golden.display()
            );
            let again = lvsc(&["plan", &new, "--from", &old, "--format", format]);
            assert_eq!(
                again.stdout,
                text.as_bytes(),
                "{case} {format}: output is not stable"
            );
            if format == "json" {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["version"], 1);
                assert_eq!(v["changed"], !unchanged);
                risks.extend(
                    v["risks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r["code"].as_str().unwrap().to_string()),
                );
                for h in v["hosts"].as_array().unwrap() {
                    for c in h["changes"].as_array().unwrap() {
                        actions.insert(format!(
                            "{} {}",
                            c["action"].as_str().unwrap(),
                            c["object"].as_str().unwrap()
                        ));
                    }
                }
            }
        }
    }
    for code in [
        "real-removed-with-weight",
        "scheduler-change",
        "persistence-change",
        "vip-removed",
        "forward-change",
        "last-real-removed",
        "master-moves",
    ] {
        assert!(
            risks.contains(&format!("lvsc::plan::{code}")),
            "no case shows the {code} risk: {risks:?}"
        );
    }
    for a in [
        "add service",
        "remove service",
        "change service",
        "add real",
        "remove real",
        "change real",
        "change vrrp",
        "add host",
        "remove host",
        "change export",
        "add mount",
        "remove mount",
        "add vip-on-tunnel",
        "remove vip-on-lo",
    ] {
        assert!(actions.contains(a), "no case shows `{a}`: {actions:?}");
    }
}

/// A cluster of `n` services of three reals each; `edit` changes its text.
fn generated(n: usize, edit: impl Fn(usize, &str) -> String) -> String {
    let mut text = String::from(
        "cluster gen\nbalancer {\n  director lb1 10.255.0.2/8 on eth0 priority 150\n}\n",
    );
    for i in 0..n {
        let service = format!(
            "pool p{i} {{\n  port 80\n  check http \"/health\" expect 200 every 5s timeout 2s\n  real r{i}a 10.1.{}.{} weight 1\n  real r{i}b 10.2.{}.{} weight 2\n  real r{i}c 10.3.{}.{} weight 3\n}}\nservice s{i} {{\n  vip 172.16.{}.{}:80/tcp\n  forward dr\n  pool p{i}\n}}\n",
            i / 250,
            i % 250 + 1,
            i / 250,
            i % 250 + 1,
            i / 250,
            i % 250 + 1,
            i / 250,
            i % 250 + 1,
        );
        text += &edit(i, &service);
    }
    text
}

/// Every file diff of a plan, applied by patch(1) to the old side's build, gives the new
/// side's file: the diffs read in parts (keepalived.conf by service and real, rendered
/// only where they differ) have the right lines and line numbers.
#[test]
fn every_file_diff_applies_to_the_old_file_and_makes_the_new() {
    let dir = crate::support::temp_dir("plan-patch");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    let base = generated(120, |_, s| s.to_string());
    let edits: Vec<(&str, String)> = vec![
        ("weights", generated(120, |i, s| match i % 7 {
            0 => s.replace("weight 2", "weight 5"),
            _ => s.to_string(),
        })),
        ("service removed", generated(120, |i, s| match i {
            0 | 57 | 119 => String::new(),
            _ => s.to_string(),
        })),
        ("real added", generated(120, |i, s| match i {
            3 => s.replace("  real r3c", "  real r3x 10.9.0.1 weight 1\n  real r3c"),
            _ => s.to_string(),
        })),
        ("check changed", generated(120, |i, s| match i {
            40..=60 => s.replace("/health", "/ready"),
            _ => s.to_string(),
        })),
        ("vrrp added", base.replace(
            "  director lb1 10.255.0.2/8 on eth0 priority 150\n",
            "  director lb1 10.255.0.2/8 on eth0 priority 150\n  director lb2 10.255.0.3/8 on eth0 priority 100\n  vrrp 51 {\n    interface eth0\n  }\n",
        )),
    ];
    let base_file = write("base.lvs", &base);
    let built = |file: &str, out: &str| {
        let out = dir.join(out);
        let b = lvsc(&["build", file, "-o", &out.to_string_lossy()]);
        assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
        out
    };
    let base_build = built(&base_file, "base");
    let mut diffs = 0;
    for (name, text) in &edits {
        let file = write("edited.lvs", text);
        let edited_build = built(&file, "edited");
        let sides = [
            (&base_file, &base_build, &file, &edited_build),
            (&file, &edited_build, &base_file, &base_build),
        ];
        for (old, a, new, b) in sides {
            let out = lvsc(&["plan", new, "--from", old, "--format", "json"]);
            assert_eq!(out.status.code(), Some(2), "{name}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for h in v["hosts"].as_array().unwrap() {
                for f in h["files"].as_array().unwrap() {
                    let path = f["path"].as_str().unwrap();
                    let before = std::fs::read_to_string(a.join(path)).unwrap_or_default();
                    let want = std::fs::read_to_string(b.join(path)).unwrap_or_default();
                    let (x, d) = (
                        write("x", &before),
                        write("x.patch", f["diff"].as_str().unwrap()),
                    );
                    let y = dir.join("y");
                    let p = Command::new("patch")
                        .args(["-s", "-o", &y.to_string_lossy(), &x, &d])
                        .output()
                        .expect("patch(1) is installed (scripts/test-all installs it)");
                    assert!(
                        p.status.success(),
                        "{name}: {path}: {}",
                        String::from_utf8_lossy(&p.stdout)
                    );
                    assert!(
                        std::fs::read_to_string(&y).unwrap() == want,
                        "{name}: {path}: patched file differs"
                    );
                    diffs += 1;
                }
            }
        }
        std::fs::remove_dir_all(&edited_build).unwrap();
    }
    assert!(diffs >= 20, "{diffs} file diffs checked");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn planning_an_example_against_itself_is_empty() {
    for ex in examples() {
        let out = lvsc(&["plan", &ex, "--from", &ex, "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{ex}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["changed"], false);
        assert!(
            v["hosts"].as_array().unwrap().is_empty() && v["risks"].as_array().unwrap().is_empty()
        );
    }
}

#[test]
fn a_broken_file_is_an_error_not_a_plan() {
    let out = lvsc(&[
        "plan",
        "tests/rules/unknown-pool.lvs",
        "--from",
        "examples/web-dr.lvs",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lvsc::names::unknown-pool"));
}

#[test]
fn secrets_never_appear_in_a_plan() {
    for format in ["text", "markdown", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_lvsc"))
            .args([
                "plan",
                "tests/plan/vrrp/new.lvs",
                "--from",
                "tests/plan/vrrp/old.lvs",
                "--format",
                format,
            ])
            .env("VRRP_PASS", "s3cr3t42")
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cr3t42"));
    }
}

#[test]
fn plan_from_a_git_revision() {
    let repo = std::env::temp_dir().join(format!("lvsc-plan-git-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("infra")).unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    let file = repo.join("infra/cluster.lvs");
    std::fs::copy("tests/plan/reals/old.lvs", &file).unwrap();
    git(&["add", "."]);
    git(&["commit", "-qm", "old"]);
    std::fs::copy("tests/plan/reals/new.lvs", &file).unwrap();
    git(&["commit", "-qam", "new"]);
    let out = lvsc(&[
        "plan",
        file.to_str().unwrap(),
        "--from",
        "git:HEAD~1",
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["risks"][0]["code"],
        "lvsc::plan::real-removed-with-weight"
    );
    let same = lvsc(&["plan", file.to_str().unwrap(), "--from", "git:HEAD"]);
    assert_eq!(same.status.code(), Some(0));
    let bad = lvsc(&["plan", file.to_str().unwrap(), "--from", "git:no-such-rev"]);
    assert_eq!(bad.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&repo);
}

/// The real address each slot of the XDP image's tables names, as the loader installs them.
fn image_slots(file: &str) -> Vec<std::net::IpAddr> {
    let text = std::fs::read_to_string(file).unwrap();
    let cluster = lvsc_compiler::compile_source(&text).cluster.unwrap();
    let img = lvsc_xdp_image::image::build(&cluster.services, &[]).unwrap();
    img.tables
        .iter()
        .map(|&i| img.reals[i as usize].addr)
        .collect()
}

/// `--max-disruption`: taking one of ten equal reals out moves about a tenth of the
/// Maglev table, within a point of the least any table could move; the plan's count is
/// the count of slots that differ between the two images the loader would install; the
/// plan fails above the limit and passes below it.
#[test]
fn max_disruption_gates_the_flows_a_change_moves() {
    let (new, old) = ("tests/plan/maglev/new.lvs", "tests/plan/maglev/old.lvs");
    let out = lvsc(&["plan", new, "--from", old, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &v["disruption"][0];
    assert_eq!(d["service"], "web", "{v}");
    assert_eq!(d["table"], "maglev", "{v}");
    let (percent, minimum) = (
        d["percent"].as_f64().unwrap(),
        d["minimum_percent"].as_f64().unwrap(),
    );
    assert!((minimum - 10.0).abs() < 1e-9, "{d}");
    assert!(percent >= minimum && percent <= minimum + 1.0, "{d}");
    let (a, b) = (image_slots(old), image_slots(new));
    assert_eq!(a.len(), b.len());
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    assert_eq!(d["moved"].as_u64().unwrap() as usize, differ, "{d}");
    eprintln!(
        "plan --max-disruption: 1 of 10 reals removed: plan {percent:.2}% ({} slots), images {:.2}% ({differ} slots), least {minimum:.1}%",
        d["moved"],
        100.0 * differ as f64 / a.len() as f64
    );

    let gated = lvsc(&[
        "plan",
        new,
        "--from",
        old,
        "--no-files",
        "--max-disruption",
        "5",
    ]);
    assert_eq!(gated.status.code(), Some(1));
    let err = String::from_utf8_lossy(&gated.stderr);
    assert!(
        err.contains("--max-disruption 5%") && err.contains("web (maglev)"),
        "{err}"
    );
    let passed = lvsc(&[
        "plan",
        new,
        "--from",
        old,
        "--no-files",
        "--max-disruption",
        "11",
    ]);
    assert_eq!(passed.status.code(), Some(2));
    let bad = lvsc(&["plan", new, "--from", old, "--max-disruption", "150"]);
    assert_eq!(bad.status.code(), Some(2), "clap's usage error");
}
