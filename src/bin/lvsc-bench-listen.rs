//! `lvsc-bench-listen PORT [THREADS]`: accepts TCP connections on every address of the
//! namespace at PORT and closes them at once, printing how many it took each second.
//! The reals' side of scripts/bench-run, where thousands of TCP checks a second arrive.

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(80);
    let threads: usize = args.next().and_then(|t| t.parse().ok()).unwrap_or(2);
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    let accepted = Arc::new(AtomicU64::new(0));
    for _ in 0..threads {
        let l = listener.try_clone()?;
        let n = accepted.clone();
        std::thread::spawn(move || {
            loop {
                // The connection closes when dropped; a check asks for nothing more.
                if l.accept().is_ok() {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    let mut out = std::io::stdout();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        writeln!(out, "accepted {}", accepted.load(Ordering::Relaxed))?;
        out.flush()?;
    }
}
