//! Standard output that ends the command on a closed pipe (quietly) or a full disk (with
//! a message), never with a panic.
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

/// Whether `e` is standard output's reader having closed the pipe.
pub fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Flushes standard output (what a command printed last may still be buffered).
pub fn flush_stdout() -> anyhow::Result<()> {
    std::io::stdout()
        .lock()
        .flush()
        .context("writing to standard output")
}
