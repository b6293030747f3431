//! `lvsc export` and `lvsc hosts` over every example.

use crate::support::{examples, lvsc};

#[test]
fn json_export_round_trips_through_the_ir() {
    for f in examples() {
        let out = lvsc(&["export", &f]);
        assert!(out.status.success(), "{f}");
        let json = String::from_utf8(out.stdout).unwrap();
        let ir: lvsc_compiler::Cluster = serde_json::from_str(&json).unwrap();
        assert_eq!(
            serde_json::to_string_pretty(&ir).unwrap() + "\n",
            json,
            "{f}"
        );
    }
}

#[test]
fn yaml_export_holds_the_same_cluster() {
    for f in examples() {
        let out = lvsc(&["export", "--format", "yaml", &f]);
        assert!(out.status.success(), "{f}");
        let yaml = String::from_utf8(out.stdout).unwrap();
        let from_yaml: lvsc_compiler::Cluster = serde_saphyr::from_str(&yaml).unwrap();
        let json = lvsc(&["export", &f]).stdout;
        let from_json: lvsc_compiler::Cluster = serde_json::from_slice(&json).unwrap();
        assert_eq!(from_yaml, from_json, "{f}");
    }
}

#[test]
fn export_never_contains_a_secret_and_fails_on_errors() {
    let out = lvsc(&["export", "examples/web-dr.lvs"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\"from\": \"env\"") && text.contains("VRRP_PASS"));
    let out = lvsc(&["export", "tests/rules/inline-secret.lvs"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
}

#[test]
fn hosts_lists_every_role() {
    let out = lvsc(&["hosts", "examples/nfs-pool.lvs"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for (host, role) in [
        ("lb1", "director"),
        ("lb2", "director"),
        ("media1", "real-server"),
        ("nas1", "storage-server"),
        ("smb1", "storage-server"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{host} ")))
            .unwrap_or_else(|| panic!("{host} missing: {text}"));
        assert!(line.contains(role), "{line}");
    }
}
