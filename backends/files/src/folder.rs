//! Writing a build into its folder, all or nothing. The new tree is made in a fresh
//! directory beside the old one, then swapped in with one `renameat2(RENAME_EXCHANGE)`:
//! a build that fails leaves the folder as it was, and a reader never sees half of
//! each. Nothing is written through a path lvsc did not create (every file is created
//! new in a directory it made), so a symlink planted in the folder is never followed.
//! A file whose contents did not change is carried over as the same file (hard link),
//! so its time stamps say it was not rewritten.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::OutputFile;

/// The manifest's file name in a build folder.
pub const MANIFEST: &str = "manifest.json";

/// What a build changed in its folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// `host/file` of each file written anew.
    pub changed: Vec<String>,
    /// How many files were carried over unchanged.
    pub unchanged: usize,
    /// Host folders of the old build that are gone (hosts that left the cluster).
    pub removed_hosts: Vec<String>,
}

/// Why a build could not be written; the folder is as it was.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The folder holds files that an lvsc build did not write: they would be lost.
    #[error(
        "{} holds files lvsc did not write ({}); use an empty or new folder, or move them",
        dir.display(),
        names.join(", ")
    )]
    Foreign {
        /// The folder.
        dir: PathBuf,
        /// What is there that no manifest lists.
        names: Vec<String>,
    },
    /// The output path exists and is not a directory.
    #[error("{} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// A file-system step failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> WriteError + use<> {
    let path = path.to_path_buf();
    move |source| WriteError::Io {
        action,
        path,
        source,
    }
}

/// Writes `files` and `manifest` as the whole content of `out`, replacing what an
/// earlier build wrote there in one step.
pub fn write(out: &Path, files: &[OutputFile], manifest: &str) -> Result<Written, WriteError> {
    // The folder the user named may itself be a link to where builds go: resolve it once.
    let out = match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(out).map_err(io("resolve", out))?,
        _ => out.to_path_buf(),
    };
    let old = existing(&out)?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io("create", &parent))?;
    let name = out
        .file_name()
        .map_or_else(|| "build".into(), |n| n.to_string_lossy().into_owned());
    let fresh = tempfile::Builder::new()
        .prefix(&format!(".{name}.lvsc-"))
        .tempdir_in(&parent)
        .map_err(io("create a folder in", &parent))?;
    let mut written = Written::default();
    for f in files {
        let host = fresh.path().join(&f.host);
        if !host.exists() {
            fs::create_dir(&host).map_err(io("create", &host))?;
            fs::set_permissions(&host, fs::Permissions::from_mode(0o755))
                .map_err(io("set the mode of", &host))?;
        }
        let path = host.join(&f.name);
        let mode = if f.executable { 0o755 } else { 0o644 };
        let previous = old.as_ref().map(|_| out.join(&f.host).join(&f.name));
        if previous
            .as_deref()
            .is_some_and(|p| same_plain_file(p, f.contents.as_bytes(), mode))
        {
            let p = previous.expect("checked");
            fs::hard_link(&p, &path).map_err(io("carry over", &p))?;
            written.unchanged += 1;
        } else {
            create(&path, f.contents.as_bytes(), mode)?;
            written.changed.push(format!("{}/{}", f.host, f.name));
        }
    }
    let old_manifest = out.join(MANIFEST);
    let manifest_same = old.is_some() && same_plain_file(&old_manifest, manifest.as_bytes(), 0o644);
    if manifest_same {
        fs::hard_link(&old_manifest, fresh.path().join(MANIFEST))
            .map_err(io("carry over", &old_manifest))?;
    } else {
        create(&fresh.path().join(MANIFEST), manifest.as_bytes(), 0o644)?;
    }
    fs::set_permissions(fresh.path(), fs::Permissions::from_mode(0o755))
        .map_err(io("set the mode of", fresh.path()))?;
    if let Some(old_hosts) = old {
        // A set: a rebuild of 160,000 hosts compared each old host with every file.
        let hosts: std::collections::HashSet<&str> =
            files.iter().map(|f| f.host.as_str()).collect();
        written.removed_hosts = old_hosts
            .into_iter()
            .filter(|h| !hosts.contains(h.as_str()))
            .collect();
    }
    // Nothing changed: leave the folder exactly as it is (the staging one goes).
    if manifest_same && written.changed.is_empty() && written.removed_hosts.is_empty() {
        return Ok(written);
    }
    swap(fresh.keep(), &out)?;
    Ok(written)
}

/// The hosts of the build in `out`, or `None` when there is no folder yet. A folder
/// with anything a manifest does not list is refused (it is not lvsc's to replace).
fn existing(out: &Path) -> Result<Option<Vec<String>>, WriteError> {
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", out)(e)),
    };
    if !meta.is_dir() {
        return Err(WriteError::NotADirectory(out.to_path_buf()));
    }
    let mut entries: Vec<String> = fs::read_dir(out)
        .map_err(io("read", out))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(io("read", out))?;
    entries.sort();
    if entries.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let listed = read_manifest(&out.join(MANIFEST));
    let mut hosts = Vec::new();
    let mut foreign = Vec::new();
    for e in entries {
        if e == MANIFEST && listed.is_some() {
            continue;
        }
        let path = out.join(&e);
        let owned = listed
            .as_ref()
            .is_some_and(|l| l.iter().any(|p| p.split('/').next() == Some(e.as_str())))
            && fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        match owned {
            true => {
                // Inside a host folder, only the files the manifest names.
                for f in fs::read_dir(&path).map_err(io("read", &path))? {
                    let f = f.map_err(io("read", &path))?.file_name();
                    let p = format!("{e}/{}", f.to_string_lossy());
                    if !listed.as_ref().is_some_and(|l| l.contains(&p)) {
                        foreign.push(p);
                    }
                }
                hosts.push(e);
            }
            false => foreign.push(e),
        }
    }
    if !foreign.is_empty() {
        return Err(WriteError::Foreign {
            dir: out.to_path_buf(),
            names: foreign,
        });
    }
    Ok(Some(hosts))
}

/// The `host/file` paths a manifest lists, if it is one.
fn read_manifest(path: &Path) -> Option<Vec<String>> {
    let text = read_plain(path, 64 << 20)?;
    let doc: serde_json::Value = serde_json::from_slice(&text).ok()?;
    (doc["generator"] == "lvsc").then_some(())?;
    doc["files"]
        .as_array()?
        .iter()
        .map(|f| f["path"].as_str().map(str::to_string))
        .collect()
}

/// The contents of a regular file (never through a link), if it has at most `max` bytes.
fn read_plain(path: &Path, max: u64) -> Option<Vec<u8>> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    f.read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// Whether `path` is a plain file of ours to carry over: a regular file with one link,
/// the same mode and exactly these contents.
fn same_plain_file(path: &Path, contents: &[u8], mode: u32) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    meta.is_file()
        && meta.nlink() == 1
        && meta.len() == contents.len() as u64
        && meta.mode() & 0o7777 == mode
        && read_plain(path, meta.len()).is_some_and(|b| b == contents)
}

/// Creates a new file (never an existing one, never through a link) with `mode`.
fn create(path: &Path, contents: &[u8], mode: u32) -> Result<(), WriteError> {
    let mut f: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(io("create", path))?;
    f.write_all(contents).map_err(io("write", path))?;
    // The umask may have narrowed the mode: set it as meant.
    f.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(io("set the mode of", path))?;
    f.sync_all().map_err(io("write", path))
}

/// Puts `fresh` in place of `out`: one exchange when `out` exists, then the old tree
/// (now at `fresh`) is removed.
fn swap(fresh: PathBuf, out: &Path) -> Result<(), WriteError> {
    let clean = |p: &Path| {
        let _ = fs::remove_dir_all(p);
    };
    if fs::symlink_metadata(out).is_err() {
        return fs::rename(&fresh, out).map_err(|e| {
            clean(&fresh);
            io("move the new build to", out)(e)
        });
    }
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        &fresh,
        rustix::fs::CWD,
        out,
        rustix::fs::RenameFlags::EXCHANGE,
    ) {
        Ok(()) => {
            clean(&fresh);
            Ok(())
        }
        Err(e) => {
            clean(&fresh);
            Err(io("swap the new build into", out)(e.into()))
        }
    }
}

/// Replaces the file at `path` with `contents` in one rename, through a new temporary
/// file beside it (never a fixed name someone could plant a link at). A link the user
/// named is followed to the file it names; `mode` defaults to the old file's.
pub fn replace(path: &Path, contents: &[u8], mode: Option<u32>) -> Result<(), WriteError> {
    let path = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(path).map_err(io("resolve", path))?
        }
        _ => path.to_path_buf(),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mode = mode.or_else(|| fs::metadata(&path).ok().map(|m| m.mode() & 0o7777));
    let mut tmp = tempfile::Builder::new()
        .prefix(".lvsc-")
        .tempfile_in(&dir)
        .map_err(io("create a file in", &dir))?;
    tmp.write_all(contents).map_err(io("write", tmp.path()))?;
    if let Some(m) = mode {
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(m))
            .map_err(io("set the mode of", &path))?;
    }
    tmp.as_file().sync_all().map_err(io("write", &path))?;
    tmp.persist(&path)
        .map_err(|e| io("replace", &path)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(host: &str, name: &str, contents: &str) -> OutputFile {
        OutputFile {
            host: host.into(),
            name: name.into(),
            contents: contents.into(),
            executable: name.ends_with(".sh"),
        }
    }

    const MANIFEST_TEXT: &str =
        "{\"generator\": \"lvsc\", \"files\": [{\"path\": \"a/x\"}, {\"path\": \"b/y.sh\"}]}\n";

    fn first_build(dir: &Path) -> PathBuf {
        let out = dir.join("out");
        let files = [file("a", "x", "one\n"), file("b", "y.sh", "#!/bin/sh\n")];
        write(&out, &files, MANIFEST_TEXT).unwrap();
        out
    }

    #[test]
    fn unchanged_files_are_carried_over_and_gone_hosts_removed() {
        let dir = tempfile::tempdir().unwrap();
        let out = first_build(dir.path());
        let before = fs::metadata(out.join("a/x")).unwrap().ino();
        assert_eq!(
            fs::metadata(out.join("b/y.sh")).unwrap().mode() & 0o777,
            0o755
        );
        let manifest = "{\"generator\": \"lvsc\", \"files\": [{\"path\": \"a/x\"}]}\n";
        let w = write(&out, &[file("a", "x", "one\n")], manifest).unwrap();
        assert_eq!(w.unchanged, 1);
        assert_eq!(w.removed_hosts, ["b"]);
        assert_eq!(fs::metadata(out.join("a/x")).unwrap().ino(), before);
        assert!(!out.join("b").exists());
        // Nothing is left beside the folder.
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }

    #[test]
    fn a_planted_link_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let out = first_build(dir.path());
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious\n").unwrap();
        // A link in place of a file the build writes: replaced, not followed.
        fs::remove_file(out.join("a/x")).unwrap();
        std::os::unix::fs::symlink(&victim, out.join("a/x")).unwrap();
        let files = [file("a", "x", "two\n"), file("b", "y.sh", "#!/bin/sh\n")];
        write(&out, &files, MANIFEST_TEXT).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
        assert_eq!(fs::read_to_string(out.join("a/x")).unwrap(), "two\n");
        // A link in place of a host's folder: not lvsc's, so the build is refused.
        fs::remove_dir_all(out.join("b")).unwrap();
        std::os::unix::fs::symlink(dir.path(), out.join("b")).unwrap();
        let err = write(&out, &files, MANIFEST_TEXT).unwrap_err();
        assert!(
            matches!(&err, WriteError::Foreign { names, .. } if names == &["b"]),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    }

    #[test]
    fn replace_never_touches_a_planted_temporary_name() {
        let dir = tempfile::tempdir().unwrap();
        let mine = dir.path().join("x.lvsc.tmp");
        fs::write(&mine, "mine").unwrap();
        let target = dir.path().join("x.img");
        replace(&target, b"image", Some(0o644)).unwrap();
        replace(&target, b"image 2", None).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"image 2");
        assert_eq!(fs::read_to_string(&mine).unwrap(), "mine");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn foreign_files_are_refused_and_the_folder_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let out = first_build(dir.path());
        fs::write(out.join(".x.lvsc.tmp"), "mine").unwrap();
        let err = write(&out, &[file("a", "x", "two\n")], MANIFEST_TEXT).unwrap_err();
        assert!(err.to_string().contains(".x.lvsc.tmp"), "{err}");
        assert_eq!(fs::read_to_string(out.join("a/x")).unwrap(), "one\n");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "a staging folder was left behind");
    }
}
