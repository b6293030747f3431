//! Progress on long work (an apply of thousands of services, an XDP install, a big
//! build): a bar or spinner on standard error while it runs, cleared at the end; nothing
//! when standard error is not a terminal, or with `--quiet`.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: no progress at all.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn shown() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// A bar of `total` steps, labelled `what`.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new(total).with_message(what.to_string());
    b.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    b
}

/// A spinner labelled `what`, ticking on its own while the work runs.
pub fn spinner(what: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let s = ProgressBar::new_spinner().with_message(what.to_string());
    s.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"),
    );
    s.enable_steady_tick(Duration::from_millis(100));
    s
}
