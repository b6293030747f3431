//! The round trip of `lvsc import keepalived`, run: in the QEMU guest the real keepalived
//! (its checker, `-C`) loads each Debian sample that has a virtual server and the
//! MASTER/BACKUP pair of tests/import/keepalived/, and then the keepalived.conf that `lvsc build` wrote from
//! the import, with every real answering its checks (tests/import/keepalived/
//! roundtrip-guest.sh). The two settled IPVS tables (`ipvsadm -Sn`, thresholds from
//! `ipvsadm -Ln --thresholds`) must be the same; where they differ, the import's
//! warnings must name what explains it (a check lvsc cannot make, a service left out).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::import_keepalived::samples;
use crate::support::{Guest, run, system_test_can_run, temp_dir};

/// Warnings that explain a different table: what the original checks and lvsc cannot
/// (so one side keeps a real the other drops), or a service left out.
const EXPLAINS: &[&str] = &[
    "`digest` is left out",
    "_CHECK` is left out",
    "expects one status",
    "a second URL is left out",
    "its VIP is also a real server's address",
    "a second checker on one real is left out",
    "check differs from the first real's",
];

/// One case: its name, the folder to copy, the main file's name in it.
struct Case {
    name: String,
    files: Vec<PathBuf>,
    main: String,
}

fn cases() -> Vec<Case> {
    // Samples without a virtual server load an empty table either way (their import is
    // in the golden test): the guest runs the others.
    let serves = |p: &PathBuf| {
        std::fs::read_to_string(p).is_ok_and(|t| {
            t.lines()
                .any(|l| l.trim_start().starts_with("virtual_server "))
        })
    };
    let mut cases: Vec<Case> = samples()
        .into_iter()
        .filter(serves)
        .map(|p| Case {
            name: p
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .trim_start_matches("keepalived.conf.")
                .to_string(),
            main: p.file_name().unwrap().to_str().unwrap().to_string(),
            files: vec![p],
        })
        .collect();
    let pair = Path::new("tests/import/keepalived/pair");
    cases.push(Case {
        name: "pair".into(),
        files: vec![
            pair.join("lb1.conf"),
            pair.join("lb2.conf"),
            pair.join("conf.d"),
        ],
        main: "lb1.conf".into(),
    });
    cases
}

/// What the reals must answer: addresses, and the ports of plain and TLS checks.
#[derive(Default)]
struct Listeners {
    addrs: BTreeSet<String>,
    plain: BTreeSet<u16>,
    tls: BTreeSet<u16>,
}

impl Listeners {
    /// Reads a keepalived.conf's reals and checks, line by line.
    fn add(&mut self, text: &str) {
        let mut real_port: Option<u16> = None;
        let mut ssl = false;
        let mut connect: Option<u16> = None;
        let finish = |real_port: Option<u16>, ssl: bool, connect: Option<u16>, l: &mut Self| {
            let port = connect.or(real_port);
            if let Some(p) = port {
                if ssl {
                    l.tls.insert(p)
                } else {
                    l.plain.insert(p)
                };
            }
            if let Some(p) = real_port {
                l.plain.insert(p);
            }
        };
        for line in text.lines() {
            let w: Vec<&str> = line
                .split_whitespace()
                .take_while(|w| !w.starts_with(['#', '!']))
                .collect();
            match w.as_slice() {
                ["real_server" | "sorry_server", addr, rest @ ..] => {
                    finish(real_port, ssl, connect, self);
                    self.addrs.insert(addr.to_string());
                    real_port = rest.first().and_then(|p| p.parse().ok());
                    ssl = false;
                    connect = None;
                }
                ["SSL_GET", ..] => ssl = true,
                ["connect_port", p] => connect = p.parse().ok(),
                _ => {}
            }
        }
        finish(real_port, ssl, connect, self);
    }
}

fn lvsc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lvsc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap().path();
            copy_tree(&e, &to.join(e.file_name().unwrap()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

#[test]
fn keepalived_loads_the_same_table_from_the_original_and_from_the_import() {
    if !system_test_can_run(
        "keepalived round trip in QEMU",
        &[
            "qemu-system-x86_64",
            "cpio",
            "depmod",
            "apt-get",
            "keepalived",
            "openssl",
        ],
    ) {
        return;
    }
    let cases = cases();
    assert!(cases.len() > 1, "no samples to run");
    let guest = Guest::new("import-roundtrip").with_flows();
    let dir = guest.dir.clone();
    let mut listeners = Listeners::default();
    let mut misc = BTreeSet::new();
    let mut warnings = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let into = dir.join("cases").join(k.to_string());
        let orig = into.join("orig");
        std::fs::create_dir_all(&orig).unwrap();
        for f in &case.files {
            copy_tree(f, &orig.join(f.file_name().unwrap()));
        }
        std::fs::write(orig.join("main"), &case.main).unwrap();
        std::fs::write(into.join("name"), &case.name).unwrap();
        // Import, then build, as an operator would.
        let work = temp_dir("import-roundtrip-case");
        let lvs = work.join("cluster.lvs");
        let main = case.files[0].to_str().unwrap();
        let out = lvsc(&["import", "keepalived", main, "-o", lvs.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        warnings.push(String::from_utf8(out.stderr).unwrap());
        let built = work.join("out");
        let out = lvsc(&[
            "build",
            lvs.to_str().unwrap(),
            "--out",
            built.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&lvs).unwrap();
        let cluster = lvsc_compiler::compile_source(&text).cluster.unwrap();
        let director = &cluster.balancer.directors[0].name;
        let conf = std::fs::read_to_string(built.join(director).join("keepalived.conf")).unwrap();
        std::fs::create_dir_all(into.join("lvsc")).unwrap();
        std::fs::write(into.join("lvsc/keepalived.conf"), &conf).unwrap();
        if let Some(v) = &cluster.balancer.vrrp {
            // What setup.sh writes from VRRP_PASS at deploy time.
            std::fs::write(
                into.join("lvsc").join(lvsc_files::auth_file(v.router_id)),
                "auth_pass roundtrp\n",
            )
            .unwrap();
        }
        for f in &case.files {
            for file in walk(f) {
                let t = std::fs::read_to_string(&file).unwrap();
                listeners.add(&t);
                for l in t.lines() {
                    let w: Vec<&str> = l.split_whitespace().collect();
                    if w.first() == Some(&"misc_path") && w.len() > 1 {
                        misc.insert(w[1].trim_matches('"').to_string());
                    }
                }
            }
        }
        listeners.add(&conf);
    }
    let join = |s: &BTreeSet<u16>| s.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let plain: BTreeSet<u16> = listeners
        .plain
        .difference(&listeners.tls)
        .copied()
        .collect();
    std::fs::write(
        dir.join("ports.txt"),
        format!(
            "plain {}\ntls {}\nudp {}\n",
            join(&plain),
            join(&listeners.tls),
            join(&listeners.plain)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("reals.txt"),
        listeners
            .addrs
            .iter()
            .map(|a| format!("{a}\n"))
            .collect::<String>(),
    )
    .unwrap();
    std::fs::write(
        dir.join("misc.txt"),
        misc.iter().map(|a| format!("{a}\n")).collect::<String>(),
    )
    .unwrap();
    run(
        "openssl",
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=real",
            "-keyout",
            dir.join("key.pem").to_str().unwrap(),
            "-out",
            dir.join("cert.pem").to_str().unwrap(),
        ],
    );
    let out = guest.run("tests/import/keepalived/roundtrip-guest.sh");
    let mut same = Vec::new();
    let mut explained = Vec::new();
    for (case, warned) in cases.iter().zip(&warnings) {
        let orig = out.ok(&format!("orig-{}", case.name));
        let lvsc = out.ok(&format!("lvsc-{}", case.name));
        if orig == lvsc {
            same.push(case.name.clone());
            continue;
        }
        let why: Vec<&&str> = EXPLAINS.iter().filter(|e| warned.contains(**e)).collect();
        assert!(
            !why.is_empty(),
            "{}: the tables differ and no warning of the import explains it\n--- original\n{orig}\n--- lvsc\n{lvsc}\n--- warnings\n{warned}\n--- keepalived\n{}\n{}",
            case.name,
            out.get(&format!("log-orig-{}", case.name)).0,
            out.get(&format!("log-lvsc-{}", case.name)).0
        );
        explained.push(format!(
            "{} ({})",
            case.name,
            why.iter()
                .map(|w| w.trim_matches('`'))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // The pair: thresholds and the shared pool's reals, the same from both.
    let pair = out.ok("lvsc-pair");
    assert!(
        same.contains(&"pair".to_string()),
        "the pair's tables differ"
    );
    assert!(
        pair.contains("-a -t 10.20.0.101:80 -r 10.20.0.11:80 -g -w 3"),
        "{pair}"
    );
    assert!(
        pair.lines().any(|l| l.split_whitespace().take(4).eq([
            "->",
            "10.20.0.11:80",
            "500",
            "400"
        ])),
        "the thresholds did not survive:\n{pair}"
    );
    eprintln!(
        "round trip: {} of {} cases load the same IPVS table (settled after {} s and {} s); differing, each explained by the import's warnings: {}",
        same.len(),
        cases.len(),
        out.ok("settled-orig").trim(),
        out.ok("settled-lvsc").trim(),
        explained.join("; ")
    );
    // Every difference is explained; a rig where nothing loads alike is broken.
    assert!(
        same.len() >= 5,
        "too few cases load the same table: only {same:?}"
    );
}

/// The files under `p` (or `p` itself).
fn walk(p: &Path) -> Vec<PathBuf> {
    if p.is_dir() {
        std::fs::read_dir(p)
            .unwrap()
            .flat_map(|e| walk(&e.unwrap().path()))
            .collect()
    } else {
        vec![p.to_path_buf()]
    }
}
