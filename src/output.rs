//! Writing output: standard output that reports a closed pipe or a full disk as an error
//! (never a panic), and generated files written atomically, only when they change.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// `print!` to standard output, failing the command (`?`) when it cannot be written.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))?
    };
}

/// `println!` to standard output, failing the command (`?`) when it cannot be written.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

/// Writes to standard output; a closed pipe or a full disk is an error, said once.
pub fn write_stdout(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    std::io::stdout()
        .lock()
        .write_fmt(args)
        .context("writing to standard output")
}

/// Flushes standard output (what a command printed last may still be buffered).
pub fn flush_stdout() -> anyhow::Result<()> {
    std::io::stdout()
        .lock()
        .flush()
        .context("writing to standard output")
}

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
