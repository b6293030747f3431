//! Standard output that reports a closed pipe or a full disk as an error, never a panic.
//! (Files are written by lvsc-files, all or nothing.)

use std::io::Write;

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
