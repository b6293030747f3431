//! Writing generated files: atomically, and only when their contents change.

use std::path::Path;

use anyhow::Context;

/// Whether a write changed the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// The file was created or its contents changed.
    Changed,
    /// The file already had these contents; it was not touched.
    Unchanged,
}

/// Writes `text` to `path` through a temporary file and a rename, so a crash never
/// leaves half a file; does nothing when the file already holds `text`.
pub fn write_if_changed(path: &Path, text: &str, mode: Option<u32>) -> anyhow::Result<Written> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(Written::Unchanged);
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path
        .file_name()
        .context("not a file path")?
        .to_string_lossy();
    let tmp = dir.join(format!(".{name}.lvsc.tmp"));
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    let perms = match (mode, std::fs::metadata(path)) {
        (Some(m), _) => Some(std::os::unix::fs::PermissionsExt::from_mode(m)),
        (None, Ok(meta)) => Some(meta.permissions()),
        (None, Err(_)) => None,
    };
    if let Some(p) = perms {
        std::fs::set_permissions(&tmp, p)?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(Written::Changed)
}
