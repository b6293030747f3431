//! Shell metacharacters in every free-text field: the generated scripts, run for real,
//! treat them as data. Any command that ran would leave a file in the canary folder.

use std::path::Path;
use std::process::Command;

use crate::support::{Netns, run, system_test_can_run};

const CANARY: &str = "/tmp/lvsc-hostile-canary";
const MOUNTS: &str = "/tmp/lvsc-hostile-mnt";

/// Runs a generated script in `ns`; it may fail (a mount with no server, a secret that
/// is not there), but must never run what the values say.
fn run_script(ns: &Netns, state: &Path, script: &Path, action: &str) {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.name, "env"])
        .arg(format!("LVSC_STATE_DIR={}", state.display()))
        .arg(format!(
            "LVSC_KEEPALIVED_DIR={}",
            state.join("keepalived").display()
        ))
        .args(["timeout", "60", "bash"])
        .arg(script)
        .arg(action)
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(124),
        "{} {action} hung",
        script.display()
    );
}

#[test]
fn hostile_values_are_data_never_commands() {
    if !system_test_can_run("hostile input", &["ip", "bash", "nft"]) {
        return;
    }
    let _ = std::fs::remove_dir_all(CANARY);
    let _ = std::fs::remove_dir_all(MOUNTS);
    std::fs::create_dir_all(CANARY).unwrap();
    let tmp = std::env::temp_dir().join(format!("lvsc-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let state = tmp.join("state");

    for case in ["everything", "sysctl"] {
        let file = format!("tests/hostile/{case}.lvs");
        let check = Command::new(env!("CARGO_BIN_EXE_lvsc"))
            .args(["check", &file])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{case} must pass check so its scripts get built"
        );
        let out = tmp.join(case);
        run(
            env!("CARGO_BIN_EXE_lvsc"),
            &["build", &file, "--out", out.to_str().unwrap()],
        );
        for host in std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
        {
            let script = host.join("setup.sh");
            if !script.exists() {
                continue;
            }
            let ns = Netns::new("hostile");
            ns.exec(
                "ip",
                &[
                    "link",
                    "add",
                    "eth0",
                    "type",
                    "veth",
                    "peer",
                    "name",
                    "eth0-peer",
                ],
            );
            run_script(&ns, &state, &script, "up");
            run_script(&ns, &state, &script, "down");
        }
    }

    let ran: Vec<_> = std::fs::read_dir(CANARY)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        ran.is_empty(),
        "a value in the .lvs file ran as a command: {ran:?}"
    );
    // The hostile mount point arrived intact, as one literal path.
    assert!(
        Path::new(MOUNTS)
            .join("a b';touch ")
            .join("tmp/lvsc-hostile-canary/path;'")
            .is_dir()
    );
    let _ = std::fs::remove_dir_all(MOUNTS);
    let _ = std::fs::remove_dir_all(CANARY);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn control_characters_fail_the_check() {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(["check", "tests/rules/unsafe-text.lvs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("lvsc::text::unsafe"));
}

#[test]
fn metacharacters_without_quoting_in_their_file_fail_the_check() {
    let out = Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(["check", "--format", "json", "tests/hostile/refused.lvs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let unsafe_lines: Vec<u64> = records
        .iter()
        .filter(|r| r["code"] == "lvsc::text::unsafe")
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    // The misc command, the export options, the mount options, the credentials path.
    assert_eq!(unsafe_lines, [10, 22, 23, 27], "{records:#?}");
}
