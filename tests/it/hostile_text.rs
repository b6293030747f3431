//! Hostile strings (quotes, braces, `#`, `!`, `$`, backslashes, commas, parens, newlines,
//! non-ASCII) in every free-text field. Each value is either refused at `check`, with a
//! diagnostic on the value itself, or it reaches its file as itself, as the real tool
//! reads that file: keepalived -t, exportfs (its etab), mount.nfs and mount.cifs in fake
//! mode, bash (and shellcheck on every script), nft -c.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::{Netns, run, system_test_can_run, temp_dir};

/// What a hostile value is made of.
const HOSTILE: &[char] = &[
    'a', 'Z', '7', '/', '.', '-', '_', ',', '=', ':', '@', '%', '+', '~', '?', '&', ' ', '"', '\'',
    '`', '{', '}', '#', '!', '$', '\\', '(', ')', ';', '*', '|', '<', 'é', '\n', '\t',
];

fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(HOSTILE), 0..10)
        .prop_map(|v| v.into_iter().collect())
}

/// The free-text fields, each with the place it is written in a cluster file.
#[derive(Clone, Copy, Debug)]
enum Field {
    HttpPath,
    MiscCommand,
    ExportOptions,
    MountOptions,
    NfsVersion,
    CifsVersion,
    CifsCredentials,
    MountPoint,
    NfsExportPath,
    SysctlValue,
    AuthFile,
}

/// Where the test's files live: export and mount roots, credentials.
struct Rig {
    root: PathBuf,
}

impl Rig {
    /// A cluster with `value` in `field` (quoted as a string, except in the NFS
    /// address, where it is part of the token).
    fn cluster(&self, field: Field, value: &str) -> String {
        let q = lvsc_lang::value::quote(value);
        let root = self.root.display();
        let pick = |f: Field, hostile: String, normal: &str| {
            if std::mem::discriminant(&f) == std::mem::discriminant(&field) {
                hostile
            } else {
                normal.to_string()
            }
        };
        let check = match field {
            Field::MiscCommand => format!("misc {q}"),
            _ => format!("http {}", pick(Field::HttpPath, q.clone(), "\"/healthz\"")),
        };
        format!(
            "cluster hostile\n\
             balancer {{\n\
               vrrp 51 {{ auth pass file {auth} }}\n\
               director lb1 192.0.2.2/24 on eth0 priority 150\n\
               sysctl net.ipv4.vs.expire_nodest_conn {sysctl}\n\
             }}\n\
             pool web {{\n\
               check {check} every 5s\n\
               real rs1 192.0.2.21:80\n\
             }}\n\
             service www {{\n\
               vip 192.0.2.100:80/tcp\n\
               forward dr\n\
               pool web\n\
             }}\n\
             storage data {{\n\
               nfs 192.0.2.50:{root}/export/{export}{nfs_version}\n\
               export-options {export_options}\n\
               mount {mount_point} on pool web options {mount_options}\n\
             }}\n\
             storage share {{\n\
               cifs //192.0.2.60/share{cifs_version} credentials file {credentials}\n\
               mount {root}/mnt/share on pool web\n\
             }}\n",
            auth = pick(Field::AuthFile, q.clone(), "/etc/lvsc/vrrp.secret"),
            sysctl = pick(Field::SysctlValue, q.clone(), "1"),
            export = pick(Field::NfsExportPath, value.to_string(), "data"),
            nfs_version = pick(Field::NfsVersion, format!(" version {q}"), ""),
            export_options = pick(
                Field::ExportOptions,
                q.clone(),
                "\"rw,sync,no_subtree_check\""
            ),
            mount_point = pick(
                Field::MountPoint,
                q.clone(),
                &format!("\"{root}/mnt/data\"")
            ),
            mount_options = pick(Field::MountOptions, q.clone(), "\"hard,noatime\""),
            cifs_version = pick(Field::CifsVersion, format!(" version {q}"), ""),
            credentials = pick(
                Field::CifsCredentials,
                lvsc_lang::value::quote(&format!("{root}/cred/{value}")),
                &format!("\"{root}/cred/uploads.cred\"")
            ),
        )
    }
}

/// `value` as bash reads the quoting the templates put around it.
fn through_bash(value: &str) -> String {
    let quoted = lvsc_files::sh_quote(value.to_string()).unwrap();
    let out = Command::new("bash")
        .args(["-c", &format!("printf '%s' {quoted}")])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `script` with bash in a private mount namespace (so that it may bind-mount).
fn in_mount_ns(script: &str) -> std::process::Output {
    Command::new("unshare")
        .args(["-m", "bash", "-c", script])
        .output()
        .unwrap()
}

/// One export as exportfs keeps it in etab: path, client, options.
type Export = (String, String, Vec<String>);

/// What exportfs makes of an exports file: whether it succeeded, what it said, and
/// each export it keeps.
fn exportfs(exports: &str) -> (bool, String, Vec<Export>) {
    let dir = temp_dir("exportfs");
    std::fs::write(dir.join("exports"), exports).unwrap();
    let out = in_mount_ns(&format!(
        "mount --bind {d}/exports /etc/exports && mount -t tmpfs none /var/lib/nfs && \
         touch /var/lib/nfs/etab /var/lib/nfs/rmtab && exportfs -ra && cat /var/lib/nfs/etab",
        d = dir.display()
    ));
    let etab = String::from_utf8_lossy(&out.stdout).into_owned();
    let entries = etab
        .lines()
        .filter_map(|l| {
            let (path, rest) = l.split_once('\t')?;
            let (client, opts) = rest.split_once('(')?;
            Some((
                unescape_octal(path),
                client.to_string(),
                opts.trim_end_matches(')')
                    .split(',')
                    .map(str::to_string)
                    .collect(),
            ))
        })
        .collect();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        entries,
    )
}

/// etab writes unusual bytes of a path as `\ooo`.
fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push(u8::from_str_radix(&s[i + 1..i + 4], 8).unwrap());
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The options a mount helper passes on, in fake mode: `mount.nfs` prints the text
/// options it tries, `mount.cifs` the kernel's.
fn fake_mount(fstype: &str, options: &str, source: &str, rig: &Rig) -> (bool, String) {
    let target = rig.root.join("mnt/fake");
    std::fs::create_dir_all(&target).unwrap();
    let out = in_mount_ns(&format!(
        "mount --fake --verbose -t {fstype} -o {} -- {} {}",
        lvsc_files::sh_quote(options.to_string()).unwrap(),
        lvsc_files::sh_quote(source.to_string()).unwrap(),
        target.display()
    ));
    let text = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
    (out.status.success(), text)
}

/// The option list mount.nfs says it tries.
fn nfs_tried(text: &str) -> Vec<String> {
    let line = text
        .lines()
        .find(|l| l.contains("trying text-based options"))
        .unwrap_or_else(|| panic!("mount.nfs tried nothing: {text}"));
    let opts = line.split('\'').nth(1).unwrap();
    opts.split(',').map(str::to_string).collect()
}

/// One hostile value in one field: refused where it stands, or carried intact.
fn case(rig: &Rig, ns: &Netns, scripts: &RefCell<Vec<PathBuf>>, field: Field, value: &str) {
    let src = rig.cluster(field, value);
    let compiled = lvsc_compiler::compile_source(&src);
    let Some(cluster) = compiled.cluster else {
        // In the NFS address the value is part of a token: `{`, `}`, `;` and quotes
        // change the file's structure, and any error anywhere is the refusal.
        if let Field::NfsExportPath = field {
            assert!(compiled.diagnostics.iter().any(|d| d.is_error()));
            return;
        }
        // Refused: by a diagnostic on the value, or because the value could not even
        // be written there (the lexer or the lowering said so on that line).
        let line = src
            .lines()
            .position(|l| match field {
                Field::NfsExportPath => l.contains("nfs "),
                Field::CifsCredentials => l.contains("credentials"),
                _ => l.contains(&lvsc_lang::value::quote(value)),
            })
            .map(|l| l + 1);
        let idx = lvsc_lang::LineIndex::new(&src);
        let on_line = compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .any(|d| {
                let (l, _) = idx.line_col(&src, d.span.start());
                Some(l) == line || (value.contains('\n') && d.code.starts_with("lvsc::syntax"))
            });
        assert!(
            on_line,
            "{field:?} {value:?}: refused, but not on its line:\n{:#?}\n{src}",
            compiled.diagnostics
        );
        return;
    };
    let files = lvsc_files::build(&cluster, lvsc_files::FileSet::Hosts)
        .unwrap_or_else(|e| panic!("{field:?} {value:?} passed check but not build: {e:?}"));
    static CASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Kept until shellcheck has read every case's scripts; the rig's root goes at the end.
    let dir = rig.root.join(format!("case-{n}"));
    for f in &files {
        let p = dir.join(&f.host).join(&f.name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &f.contents).unwrap();
        if f.name == "setup.sh" {
            run("bash", &["-n", p.to_str().unwrap()]);
            scripts.borrow_mut().push(p);
        }
    }
    let file = |host: &str, name: &str| {
        files
            .iter()
            .find(|f| f.host == host && f.name == name)
            .unwrap_or_else(|| panic!("no {host}/{name}"))
            .contents
            .clone()
    };
    let views = lvsc_compiler::views(&cluster);
    let mount = |storage: &str| {
        views.reals[0]
            .mounts
            .iter()
            .find(|m| m.storage == storage)
            .unwrap()
            .clone()
    };
    match field {
        Field::HttpPath | Field::MiscCommand => {
            let conf = dir.join("lb1/keepalived.conf");
            std::fs::write(dir.join("lb1/lvsc-vrrp-51.auth"), "auth_pass test1234\n").unwrap();
            let out = Command::new("ip")
                .args(["netns", "exec", &ns.name, "keepalived", "-t", "-f"])
                .arg(&conf)
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&[out.stdout, out.stderr].concat()).into_owned();
            assert!(
                out.status.success() && said.trim().is_empty(),
                "{field:?} {value:?}: keepalived -t: {said}"
            );
            let want = match field {
                Field::HttpPath => format!("path {value}"),
                _ => format!("misc_path \"{value}\""),
            };
            let text = file("lb1", "keepalived.conf");
            assert!(
                text.lines().any(|l| l.trim() == want),
                "{field:?} {value:?}: no line `{want}`:\n{text}"
            );
        }
        Field::ExportOptions | Field::NfsExportPath => {
            // What the cluster file says once read (in an address, `#` starts a comment).
            let export = PathBuf::from(&views.storage[0].exports[0].path);
            std::fs::create_dir_all(&export).unwrap();
            let (ok, said, entries) = exportfs(&file("data", "exports"));
            assert!(ok, "{field:?} {value:?}: exportfs: {said}");
            assert!(!said.contains("unknown"), "{field:?} {value:?}: {said}");
            let mine: Vec<_> = entries
                .iter()
                .filter(|(p, c, _)| Path::new(p) == export && c == "192.0.2.21")
                .collect();
            assert_eq!(mine.len(), 1, "{field:?} {value:?}: {entries:?}");
            if let Field::ExportOptions = field {
                for o in value.split(',') {
                    let plain = ["rw", "ro", "sync", "async", "root_squash", "no_root_squash"];
                    if plain.contains(&o) {
                        assert!(mine[0].2.iter().any(|x| x == o), "{value:?}: {mine:?}");
                    }
                }
            }
        }
        Field::MountOptions | Field::NfsVersion => {
            let m = mount("data");
            let (ok, said) = fake_mount("nfs", &m.options, &m.source, rig);
            assert!(ok, "{field:?} {value:?}: mount.nfs: {said}");
            let tried = nfs_tried(&said);
            let ours: Vec<&str> = m.options.split(',').collect();
            // Nothing appears that we did not write, but what mount.nfs adds itself.
            for t in &tried {
                let own = ["vers=", "addr=", "clientaddr="]
                    .iter()
                    .any(|p| t.starts_with(p));
                assert!(
                    own || ours.contains(&t.as_str()),
                    "{value:?}: {t} from {tried:?}"
                );
            }
            if let Field::NfsVersion = field {
                assert!(tried.contains(&format!("vers={value}")), "{tried:?}");
            }
        }
        Field::CifsVersion | Field::CifsCredentials => {
            let m = mount("share");
            let cred = PathBuf::from(format!(
                "{}/cred/{}",
                rig.root.display(),
                match field {
                    Field::CifsCredentials => value,
                    _ => "uploads.cred",
                }
            ));
            std::fs::create_dir_all(cred.parent().unwrap()).unwrap();
            std::fs::write(&cred, "username=hostile-user\npassword=x\n").unwrap();
            let (ok, said) = fake_mount("cifs", &m.options, &m.source, rig);
            assert!(ok, "{field:?} {value:?}: mount.cifs: {said}");
            assert!(said.contains("user=hostile-user"), "{value:?}: {said}");
            if let Field::CifsVersion = field {
                assert!(said.contains(&format!("vers={value}")), "{said}");
            }
        }
        Field::MountPoint | Field::AuthFile | Field::SysctlValue => {
            let (host, text) = match field {
                Field::SysctlValue => ("lb1", file("lb1", "sysctl.conf")),
                Field::AuthFile => ("lb1", file("lb1", "setup.sh")),
                _ => ("rs1", file("rs1", "setup.sh")),
            };
            if let Field::SysctlValue = field {
                let want = format!("net.ipv4.vs.expire_nodest_conn = {value}");
                assert!(text.lines().any(|l| l == want), "{value:?}:\n{text}");
            }
            // Every script quotes it; bash reads the quoting back as the value itself.
            let item = match field {
                Field::SysctlValue => format!("net.ipv4.vs.expire_nodest_conn={value}"),
                _ => value.to_string(),
            };
            let quoted = lvsc_files::sh_quote(item.clone()).unwrap();
            let script = file(host, "setup.sh");
            assert!(
                script.contains(&quoted),
                "{item:?} is not quoted in {host}/setup.sh"
            );
            assert_eq!(through_bash(&item), item);
        }
    }
}

fn hostile_field(field: Field) {
    let tools = [
        "keepalived",
        "exportfs",
        "mount.nfs",
        "mount.cifs",
        "unshare",
        "shellcheck",
        "bash",
        "ip",
    ];
    if !system_test_can_run(&format!("hostile text in {field:?}"), &tools) {
        return;
    }
    let rig = Rig {
        root: temp_dir("hostile-root"),
    };
    let ns = Netns::new("katext");
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
    ns.exec("ip", &["link", "set", "eth0", "up"]);
    let scripts = RefCell::new(Vec::new());
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&hostile(), |v| {
            case(&rig, &ns, &scripts, field, &v);
            Ok(())
        })
        .unwrap();
    // Values that must pass, whatever the generator drew.
    let plain = match field {
        Field::HttpPath => "/a%20b?x=1&y=%21",
        Field::MiscCommand => "/bin/true --flag x=1",
        Field::ExportOptions => "ro,sync,no_root_squash,anonuid=65534",
        Field::MountOptions => "hard,noatime,rsize=65536,x-systemd.automount",
        Field::NfsVersion => "4.2",
        Field::CifsVersion => "3.1.1",
        Field::CifsCredentials => "a@b+c.cred",
        Field::MountPoint => "/tmp/lvsc-hostile-mnt/a b';$(x)`y`\"#!{}",
        Field::NfsExportPath => "x$(y)#z!",
        Field::SysctlValue => "1;touch /tmp/x #$HOME",
        Field::AuthFile => "/etc/lvsc/$(x) 'y'",
    };
    let src = rig.cluster(field, plain);
    assert!(
        lvsc_compiler::compile_source(&src).cluster.is_some(),
        "{field:?}: {plain:?} must pass"
    );
    case(&rig, &ns, &scripts, field, plain);
    // shellcheck once over every script the cases produced.
    let scripts = scripts.into_inner();
    for chunk in scripts.chunks(64).filter(|c| !c.is_empty()) {
        let out = Command::new("shellcheck").args(chunk).output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&rig.root);
}

#[test]
fn hostile_http_paths() {
    hostile_field(Field::HttpPath);
}

#[test]
fn hostile_misc_commands() {
    hostile_field(Field::MiscCommand);
}

#[test]
fn hostile_export_options() {
    hostile_field(Field::ExportOptions);
}

#[test]
fn hostile_mount_options() {
    hostile_field(Field::MountOptions);
}

#[test]
fn hostile_nfs_versions() {
    hostile_field(Field::NfsVersion);
}

#[test]
fn hostile_cifs_versions() {
    hostile_field(Field::CifsVersion);
}

#[test]
fn hostile_cifs_credentials() {
    hostile_field(Field::CifsCredentials);
}

#[test]
fn hostile_mount_points() {
    hostile_field(Field::MountPoint);
}

#[test]
fn hostile_nfs_export_paths() {
    hostile_field(Field::NfsExportPath);
}

#[test]
fn hostile_sysctl_values() {
    hostile_field(Field::SysctlValue);
}

#[test]
fn hostile_auth_files() {
    hostile_field(Field::AuthFile);
}
