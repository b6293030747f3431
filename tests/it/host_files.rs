//! `lvsc build`: golden files for every example, and every generated file checked by the
//! real tool: `keepalived -t`, `nft -c -f`, `shellcheck` and `bash -n`.
//!
//! Update the golden files with `LVSC_UPDATE_GOLDEN=1 cargo test --test it host_files`
//! and review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Netns, examples, lvsc, run, system_test_can_run};

fn out_dir(tag: &str) -> PathBuf {
    // Tests run in parallel: every call gets its own directory.
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("lvsc-build-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn stem(example: &str) -> String {
    Path::new(example)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Every file under `dir`, as paths relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Builds an example for `target` into a fresh directory.
fn build(example: &str, target: &str) -> Option<PathBuf> {
    let dir = out_dir(&format!("{}-{target}", stem(example)));
    let out = lvsc(&[
        "build",
        example,
        "--target",
        target,
        "--out",
        dir.to_str().unwrap(),
    ]);
    out.status.success().then_some(dir)
}

#[test]
fn generated_files_match_the_golden_files() {
    let update = std::env::var_os("LVSC_UPDATE_GOLDEN").is_some();
    for ex in examples() {
        for target in ["hosts", "nftables"] {
            let Some(dir) = build(&ex, target) else {
                assert_eq!(target, "nftables", "{ex}: build failed");
                continue; // what nftables refuses (DR, TUN, thresholds): no data plane
            };
            let golden = Path::new("tests/golden").join(target).join(stem(&ex));
            if update {
                let _ = std::fs::remove_dir_all(&golden);
                for f in files(&dir) {
                    std::fs::create_dir_all(golden.join(&f).parent().unwrap()).unwrap();
                    std::fs::copy(dir.join(&f), golden.join(&f)).unwrap();
                }
            }
            assert_eq!(
                files(&dir),
                files(&golden),
                "{ex} {target}: different files (LVSC_UPDATE_GOLDEN=1 to update)"
            );
            for f in files(&dir) {
                let got = std::fs::read_to_string(dir.join(&f)).unwrap();
                let want = std::fs::read_to_string(golden.join(&f)).unwrap();
                assert!(
                    got == want,
                    "{ex} {target}: {} differs from the golden file",
                    f.display()
                );
            }
        }
    }
}

#[test]
fn rebuilding_rewrites_nothing() {
    let ex = "examples/web-nat.lvs";
    let dir = out_dir("rebuild");
    let d = dir.to_str().unwrap();
    assert!(lvsc(&["build", ex, "--out", d]).status.success());
    let before: Vec<_> = files(&dir)
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().modified().unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = lvsc(&["build", ex, "--out", d]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("0 written"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let after: Vec<_> = files(&dir)
        .iter()
        .map(|f| std::fs::metadata(dir.join(f)).unwrap().modified().unwrap())
        .collect();
    assert_eq!(before, after, "a rebuild touched files");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&"lb1/keepalived.conf") && listed.contains(&"app1/setup.sh"),
        "{listed:?}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(dir.join("app1/setup.sh"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o755
    );
}

#[test]
fn a_build_error_writes_nothing() {
    let dir = out_dir("refused");
    let out = lvsc(&[
        "build",
        "examples/web-dr.lvs",
        "--target",
        "nftables",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("`forward dr` is not possible on the nftables data plane")
    );
    assert!(!dir.exists(), "a refused build left files behind");
}

#[test]
fn secrets_never_reach_the_generated_files() {
    let dir = out_dir("secret");
    let out = Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args([
            "build",
            "examples/web-dr.lvs",
            "--out",
            dir.to_str().unwrap(),
        ])
        .env("VRRP_PASS", "s3cr3t42")
        .output()
        .unwrap();
    assert!(out.status.success());
    for f in files(&dir) {
        assert!(
            !std::fs::read_to_string(dir.join(&f))
                .unwrap()
                .contains("s3cr3t42"),
            "{}",
            f.display()
        );
    }
}

#[test]
fn scripts_pass_shellcheck_and_bash_n() {
    if !system_test_can_run("shellcheck", &["shellcheck", "bash"]) {
        return;
    }
    let mut checked = 0;
    for ex in examples() {
        let dir = build(&ex, "hosts").unwrap();
        for f in files(&dir)
            .into_iter()
            .filter(|f| f.extension().is_some_and(|e| e == "sh"))
        {
            let p = dir.join(&f);
            run("bash", &["-n", p.to_str().unwrap()]);
            run("shellcheck", &["--severity=style", p.to_str().unwrap()]);
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} scripts");
}

/// The repository's own shell (scripts/, the QEMU guests' scripts, .ci/run) passes
/// shellcheck, following what each sources.
#[test]
fn repository_scripts_pass_shellcheck() {
    if !system_test_can_run("shellcheck", &["shellcheck", "git"]) {
        return;
    }
    let listed = run("git", &["ls-files", "scripts", ".ci", "tests", "editors"]);
    let scripts: Vec<&str> = listed
        .lines()
        .filter(|f| {
            f.ends_with(".sh")
                || std::fs::read_to_string(f).is_ok_and(|t| {
                    [
                        "#!/bin/sh",
                        "#!/bin/bash",
                        "#!/usr/bin/env bash",
                        "#!/usr/bin/env sh",
                    ]
                    .iter()
                    .any(|s| t.starts_with(s))
                })
        })
        .collect();
    assert!(scripts.len() > 10, "only {scripts:?}");
    let mut args = vec!["-x", "--severity=style"];
    args.extend(&scripts);
    run("shellcheck", &args);
}

/// Every lvsc-run.service passes `systemd-analyze verify`, with lvsc at the path the unit
/// names (an overlay on /usr/bin in a mount namespace of the test's own), and rates at
/// most 5.0 ("OK") in `systemd-analyze security`. Directors whose reals keepalived checks
/// get no unit.
#[test]
fn units_pass_systemd_analyze_verify() {
    if !system_test_can_run(
        "systemd-analyze verify",
        &["systemd-analyze", "unshare", "mount"],
    ) {
        return;
    }
    let mut units = Vec::new();
    for ex in examples() {
        let text = std::fs::read_to_string(&ex).unwrap();
        let cluster = lvsc_compiler::compile_source(&text).cluster.unwrap();
        let dir = build(&ex, "hosts").unwrap();
        for d in &cluster.balancer.directors {
            let unit = dir.join(&d.name).join("lvsc-run.service");
            let lvsc_checks = d.checker == lvsc_compiler::ir::Checker::Lvsc;
            assert_eq!(unit.exists(), lvsc_checks, "{ex}: {}", d.name);
            if lvsc_checks {
                let text = std::fs::read_to_string(&unit).unwrap();
                assert!(
                    text.contains(&format!(
                        "ExecStart=/usr/bin/lvsc run /etc/lvsc/cluster.lvs --host {} $LVSC_RUN_ARGS",
                        d.name
                    )) && text.contains("ExecReload=/bin/kill -HUP $MAINPID"),
                    "{text}"
                );
                units.push(unit);
            }
        }
    }
    assert!(units.len() >= 4, "only {} units", units.len());
    let tmp = crate::support::temp_dir("units");
    std::fs::create_dir_all(tmp.join("upper")).unwrap();
    std::fs::create_dir_all(tmp.join("work")).unwrap();
    let mut script = format!(
        "set -e; mount -t overlay overlay -o lowerdir=/usr/bin,upperdir={0}/upper,workdir={0}/work /usr/bin; cp {1} /usr/bin/lvsc\n",
        tmp.display(),
        env!("CARGO_BIN_EXE_lvsc")
    );
    for u in &units {
        script += &format!(
            "systemd-analyze verify {0}; systemd-analyze security --offline=true --threshold=50 {0} >/dev/null\n",
            u.display()
        );
    }
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn rulesets_pass_nft_check() {
    if !system_test_can_run("nft -c", &["nft"]) {
        return;
    }
    let mut checked = 0;
    for ex in examples() {
        for target in ["hosts", "nftables"] {
            let Some(dir) = build(&ex, target) else {
                continue;
            };
            for f in files(&dir)
                .into_iter()
                .filter(|f| f.file_name().unwrap() == "nftables.conf")
            {
                run("nft", &["-c", "-f", dir.join(&f).to_str().unwrap()]);
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} rulesets");
}

#[test]
fn keepalived_accepts_every_director_config() {
    if !system_test_can_run("keepalived -t", &["keepalived", "ip"]) {
        return;
    }
    let mut checked = 0;
    for ex in examples() {
        let text = std::fs::read_to_string(&ex).unwrap();
        let cluster = lvsc_compiler::compile_source(&text).cluster.unwrap();
        let dir = build(&ex, "hosts").unwrap();
        for d in &cluster.balancer.directors {
            // keepalived checks that the interfaces it names exist: give it a namespace
            // with the director's interfaces, as the director has.
            let ns = Netns::new("ka");
            let mut ifaces: Vec<&str> = d.addresses.iter().map(|a| a.interface.as_str()).collect();
            ifaces.extend(
                cluster
                    .balancer
                    .gateways
                    .iter()
                    .map(|g| g.interface.as_str()),
            );
            ifaces.sort();
            ifaces.dedup();
            for i in ifaces {
                // This kernel has no dummy devices; a veth end serves as well.
                ns.exec(
                    "ip",
                    &[
                        "link",
                        "add",
                        i,
                        "type",
                        "veth",
                        "peer",
                        "name",
                        &format!("{i}-peer"),
                    ],
                );
                ns.exec("ip", &["link", "set", i, "up"]);
            }
            let conf = dir.join(&d.name).join("keepalived.conf");
            // The secret is written beside the config at deploy time; stand one in.
            if let Some(v) = &cluster.balancer.vrrp {
                std::fs::write(
                    dir.join(&d.name)
                        .join(format!("lvsc-vrrp-{}.auth", v.router_id)),
                    "auth_pass test1234\n",
                )
                .unwrap();
            }
            let out = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &ns.name,
                    "keepalived",
                    "-t",
                    "-f",
                    conf.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{ex} {}: keepalived -t failed ({:?}):\n{}{}",
                d.name,
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 17, "only {checked} directors");
}

#[test]
fn keepalived_check_catches_a_broken_config() {
    // The oracle is worth something only if it fails on a broken file.
    if !system_test_can_run("keepalived -t (negative)", &["keepalived"]) {
        return;
    }
    let dir = build("examples/mysql-nat.lvs", "hosts").unwrap();
    let conf = dir.join("dbl1/keepalived.conf");
    let text = std::fs::read_to_string(&conf)
        .unwrap()
        .replace("lb_algo lc", "lb_algo lc\n  lb_kindd NAT");
    std::fs::write(&conf, text).unwrap();
    let out = Command::new("keepalived")
        .args(["-t", "-f", conf.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Every director with `bgp` gets a bird.conf that `bird -p` accepts once setup.sh has
/// written the session secrets beside it (group-readable for bird, nobody else), and a
/// frr.conf that FRR's own parser (`vtysh --dryrun`) accepts; setup.sh down removes the
/// secrets. A broken line fails both parsers, so the check means something.
#[test]
fn routing_configs_pass_bird_and_frr() {
    if !system_test_can_run("BIRD and FRR parsers", &["bird", "vtysh", "unshare"]) {
        return;
    }
    let mut checked = 0;
    for ex in examples() {
        let text = std::fs::read_to_string(&ex).unwrap();
        if !text.contains("bgp {") {
            continue;
        }
        let dir = build(&ex, "hosts").unwrap();
        for host in std::fs::read_dir(&dir).unwrap() {
            let host = host.unwrap().path();
            let bird = host.join("bird.conf");
            if !bird.exists() {
                continue;
            }
            let etc = host.join("etc-bird");
            std::fs::create_dir_all(&etc).unwrap();
            std::fs::copy(&bird, etc.join("bird.conf")).unwrap();
            let up = Command::new("unshare")
                .args(["--net", "bash"])
                .arg(host.join("setup.sh"))
                .arg("up")
                .env("LVSC_BIRD_DIR", &etc)
                .env("LVSC_STATE_DIR", host.join("state"))
                .env("LVSC_KEEPALIVED_DIR", host.join("keepalived"))
                .env("BGP_PASS", "s3cret-bgp")
                .env("VRRP_PASS", "s3cret")
                .output()
                .unwrap();
            assert!(
                up.status.success(),
                "{}: {}",
                host.display(),
                String::from_utf8_lossy(&up.stderr)
            );
            let secrets: Vec<PathBuf> = std::fs::read_dir(&etc)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "secret"))
                .collect();
            assert!(!secrets.is_empty(), "{}: no secret written", host.display());
            for s in &secrets {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(s).unwrap().permissions().mode() & 0o777;
                assert_eq!(
                    mode & 0o007,
                    0,
                    "{} is world-readable ({mode:o})",
                    s.display()
                );
                assert_eq!(
                    std::fs::read_to_string(s).unwrap(),
                    "password \"s3cret-bgp\";\n"
                );
            }
            run(
                "bird",
                &["-p", "-c", etc.join("bird.conf").to_str().unwrap()],
            );
            run(
                "vtysh",
                &["--dryrun", "-f", host.join("frr.conf").to_str().unwrap()],
            );
            let down = Command::new("unshare")
                .args(["--net", "bash"])
                .arg(host.join("setup.sh"))
                .arg("down")
                .env("LVSC_BIRD_DIR", &etc)
                .env("LVSC_STATE_DIR", host.join("state"))
                .env("LVSC_KEEPALIVED_DIR", host.join("keepalived"))
                .status()
                .unwrap();
            assert!(down.success());
            assert!(
                secrets.iter().all(|s| !s.exists()),
                "setup.sh down left a secret"
            );
            for (tool, file) in [("bird", &bird), ("vtysh", &host.join("frr.conf"))] {
                let broken = host.join(format!("broken-{tool}.conf"));
                let text = std::fs::read_to_string(file).unwrap();
                std::fs::write(&broken, text.replacen("router", "rooter", 2)).unwrap();
                let args: &[&str] = if tool == "bird" {
                    &["-p", "-c"]
                } else {
                    &["--dryrun", "-f"]
                };
                let st = Command::new(tool).args(args).arg(&broken).output().unwrap();
                assert!(!st.status.success(), "{tool} accepted a broken file");
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} directors with bgp");
}

/// `--target ansible` writes the hosts' files as `--target hosts` does, plus in
/// `ansible/` the inventory (golden per example), the playbook (one golden file: it is
/// the same for every cluster but its first comment) and the cluster file.
#[test]
fn ansible_builds_match_the_golden_files() {
    let update = std::env::var_os("LVSC_UPDATE_GOLDEN").is_some();
    let golden = Path::new("tests/golden/ansible");
    for ex in examples() {
        let dir = build(&ex, "ansible").unwrap_or_else(|| panic!("{ex}: ansible build failed"));
        let hosts = build(&ex, "hosts").unwrap();
        let mut want = files(&hosts);
        want.retain(|f| f != Path::new("manifest.json"));
        want.extend(
            ["inventory.yml", "site.yml", "cluster.lvs"].map(|f| Path::new("ansible").join(f)),
        );
        want.sort();
        let mut got = files(&dir);
        got.retain(|f| f != Path::new("manifest.json"));
        got.sort();
        assert_eq!(got, want, "{ex}");
        assert_eq!(
            std::fs::read_to_string(dir.join("ansible/cluster.lvs")).unwrap(),
            std::fs::read_to_string(&ex).unwrap()
        );
        let inventory = std::fs::read_to_string(dir.join("ansible/inventory.yml")).unwrap();
        // `lvsc hosts --format ansible-inventory` prints the same inventory.
        let printed = lvsc(&["hosts", &ex, "--format", "ansible-inventory"]);
        assert_eq!(String::from_utf8_lossy(&printed.stdout), inventory, "{ex}");
        let site = std::fs::read_to_string(dir.join("ansible/site.yml")).unwrap();
        let site: String = site
            .lines()
            .filter(|l| !l.starts_with("# Cluster "))
            .map(|l| format!("{l}\n"))
            .collect();
        let inventory_golden = golden.join(format!("{}.inventory.yml", stem(&ex)));
        if update {
            std::fs::create_dir_all(golden).unwrap();
            std::fs::write(&inventory_golden, &inventory).unwrap();
            std::fs::write(golden.join("site.yml"), &site).unwrap();
        }
        assert!(
            inventory == std::fs::read_to_string(&inventory_golden).unwrap_or_default(),
            "{ex}: the inventory differs from {} (LVSC_UPDATE_GOLDEN=1 to update)",
            inventory_golden.display()
        );
        assert!(
            site == std::fs::read_to_string(golden.join("site.yml")).unwrap_or_default(),
            "{ex}: the playbook differs from tests/golden/ansible/site.yml"
        );
    }
}
