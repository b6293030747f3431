//! What comes with the binary: shell completions, manual pages, a version that says
//! which data planes the build drives.

use std::process::Command;

use crate::support::{lvsc, run, system_test_can_run, temp_dir};

#[test]
fn the_version_says_which_data_planes_this_build_drives() {
    let out = lvsc(&["--version"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    // The XDP program is in the build only when the BPF toolchain was there.
    let xdp = if lvsc_xdp_loader::PROGRAM.is_empty() {
        "nftables, xdp: not in this build"
    } else {
        "nftables, xdp\n"
    };
    assert!(
        text.contains("data planes: ipvs (generic netlink), "),
        "{text}"
    );
    assert!(text.contains(xdp), "{text}");
}

/// The bash script parses and completes every subcommand; zsh and fish scripts are
/// generated too.
#[test]
fn completions_are_generated_for_each_shell() {
    let bash = lvsc(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = String::from_utf8(bash.stdout).unwrap();
    for sub in ["check", "apply", "plan", "run", "completions", "man"] {
        assert!(script.contains(sub), "bash completion lacks {sub}");
    }
    if system_test_can_run("bash -n on the completion script", &["bash"]) {
        let file = temp_dir("completions").join("lvsc.bash");
        std::fs::write(&file, &script).unwrap();
        run("bash", &["-n", file.to_str().unwrap()]);
    }
    for shell in ["zsh", "fish"] {
        let out = lvsc(&["completions", shell]);
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}");
    }
}

/// One page per command and subcommand, and lvs(5) with every keyword; man renders each
/// without a warning.
#[test]
fn manual_pages_render_without_warnings() {
    let dir = temp_dir("man");
    let out = lvsc(&["man", "--out", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    // Written whole through temporary files: none left over, each page readable by all,
    // and a second run replaces the pages in place.
    assert!(!pages.iter().any(|p| p.starts_with('.')), "{pages:?}");
    let mode = |p: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode("lvsc.1"), 0o644);
    let again = lvsc(&["man", "--out", dir.to_str().unwrap()]);
    assert!(again.status.success());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), pages.len());
    for p in [
        "lvsc.1",
        "lvsc-apply.1",
        "lvsc-plan.1",
        "lvsc-import-ipvsadm.1",
        "lvs.5",
    ] {
        assert!(pages.iter().any(|x| x == p), "no {p} in {pages:?}");
    }
    let lvs = std::fs::read_to_string(dir.join("lvs.5")).unwrap();
    for k in lvsc_lang::keywords::KEYWORDS {
        if lvsc_lang::keywords::GRAMMAR
            .iter()
            .any(|(p, w)| matches!(p, lvsc_lang::keywords::Place::In(_)) && w.contains(&k.name))
        {
            assert!(
                lvs.contains(&k.name.replace('-', "\\-")),
                "lvs(5) lacks {}",
                k.name
            );
        }
    }
    if !system_test_can_run("man", &["man", "groff"]) {
        return;
    }
    for p in &pages {
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(dir.join(p))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && warnings.trim().is_empty(),
            "{p}: {warnings}"
        );
        assert!(!out.stdout.is_empty(), "{p} renders empty");
    }
}

/// Long work shows progress on a terminal (a pty from `script`), none with `--quiet`,
/// and none when standard error is a pipe.
#[test]
fn progress_shows_on_a_terminal_only() {
    if !system_test_can_run("progress on a pty", &["script"]) {
        return;
    }
    let dir = temp_dir("progress");
    let generated = Command::new(env!("CARGO_BIN_EXE_lvsc-gen"))
        .args(["--services", "500", "--reals", "4", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let file = dir.join("cluster.lvs");
    let on_pty = |quiet: &str, out: &str| {
        let cmd = format!(
            "{} {quiet} build {} --out {}",
            env!("CARGO_BIN_EXE_lvsc"),
            file.display(),
            dir.join(out).display()
        );
        run("script", &["-qec", &cmd, "/dev/null"])
    };
    let shown = on_pty("", "a");
    assert!(
        shown.contains("building the files of 500 services"),
        "{shown}"
    );
    let quiet = on_pty("--quiet", "b");
    assert!(!quiet.contains("building the files"), "{quiet}");
    let piped = Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .arg("build")
        .arg(&file)
        .arg("--out")
        .arg(dir.join("c"))
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert!(!String::from_utf8_lossy(&piped.stderr).contains("building the files"));
}
