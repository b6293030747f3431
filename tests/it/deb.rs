//! The Debian package (scripts/package, which scripts/test-all runs before the tests):
//! `dpkg -i` installs it, the installed lvsc runs, `man -w` finds its pages, it checks
//! the example it ships, and `dpkg --purge` leaves none of its files behind.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{run, system_test_can_run};

fn package() -> Option<PathBuf> {
    std::fs::read_dir("target/package")
        .ok()?
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
}

#[test]
fn the_package_installs_runs_and_purges_cleanly() {
    if !system_test_can_run("the Debian package", &["dpkg", "man", "systemd-analyze"]) {
        return;
    }
    let Some(deb) = package() else {
        let msg = "no target/package/*.deb: run scripts/package (scripts/test-all does)";
        assert!(std::env::var_os("CI").is_none(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return;
    };
    let installed = Command::new("dpkg-query")
        .args(["-W", "lvsc"])
        .output()
        .unwrap();
    assert!(
        !installed.status.success(),
        "lvsc is installed on this machine already: not touching it"
    );
    run("dpkg", &["-i", deb.to_str().unwrap()]);
    let files = run("dpkg", &["-L", "lvsc"]);
    let result = std::panic::catch_unwind(|| {
        let version = run("/usr/bin/lvsc", &["--version"]);
        assert!(version.contains("data planes:"), "{version}");
        for (section, page) in [("1", "lvsc"), ("1", "lvsc-apply"), ("5", "lvs")] {
            let where_ = run("man", &["-w", section, page]);
            assert!(where_.starts_with("/usr/share/man/"), "{page}: {where_}");
        }
        run(
            "/usr/bin/lvsc",
            &["check", "/usr/share/doc/lvsc/examples/web-dr.lvs"],
        );
        // The template unit, for a director named lb1.
        run("systemd-analyze", &["verify", "lvsc-run@lb1.service"]);
        for f in [
            "/usr/share/bash-completion/completions/lvsc",
            "/lib/systemd/system/lvsc-run@.service",
            "/usr/share/vim/vimfiles/syntax/lvs.vim",
        ] {
            assert!(
                files.lines().any(|l| l == f),
                "{f} is not in the package:\n{files}"
            );
        }
    });
    run("dpkg", &["--purge", "lvsc"]);
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    for f in files.lines().filter(|f| !f.is_empty()) {
        let p = std::path::Path::new(f);
        assert!(p.is_dir() || !p.exists(), "{f} is left after dpkg --purge");
    }
    assert!(!std::path::Path::new("/usr/bin/lvsc").exists());
}
