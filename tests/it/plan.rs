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
