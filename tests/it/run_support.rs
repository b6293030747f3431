//! What the `lvsc run` end-to-end tests share: HTTP servers in namespaces, the loop as a
//! child process, clients that count who answered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Netns;

/// A small HTTP server in a namespace that answers its name on port 8080.
pub struct Http(Child);

impl Http {
    /// Starts `name`'s server in `ns`.
    pub fn start(ns: &Netns, name: &str, root: &Path) -> Http {
        let dir = root.join(format!("www-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), name).unwrap();
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                "python3",
                "-m",
                "http.server",
                "8080",
            ])
            .args(["--bind", "0.0.0.0", "--directory"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Bounded: the port answers within seconds.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let up = Command::new("ip")
                .args(["netns", "exec", &ns.name, "python3", "-c"])
                .arg("import socket; socket.create_connection(('127.0.0.1', 8080), 1)")
                .output()
                .is_ok_and(|o| o.status.success());
            if up {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Http(child)
    }

    /// Stops the server (the port then refuses connections).
    pub fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `lvsc run` as a child process in a namespace, its log in a file.
pub struct RunLoop {
    child: Child,
    log: PathBuf,
    socket: PathBuf,
}

impl RunLoop {
    /// Starts `lvsc run FILE --socket SOCKET EXTRA...` in `ns`.
    pub fn start(ns: &Netns, file: &Path, socket: &Path, dir: &Path, extra: &[&str]) -> RunLoop {
        let log = dir.join("run.log");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, env!("CARGO_BIN_EXE_lvsc"), "run"])
            .arg(file)
            .arg("--socket")
            .arg(socket)
            .args(extra)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("run.err")).unwrap())
            .spawn()
            .unwrap();
        RunLoop {
            child,
            log,
            socket: socket.to_path_buf(),
        }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `lvsc status --json`, when the loop answers.
    pub fn status(&self) -> Option<serde_json::Value> {
        let out = Command::new(env!("CARGO_BIN_EXE_lvsc"))
            .args(["status", "--json", "--socket"])
            .arg(&self.socket)
            .output()
            .ok()?;
        serde_json::from_slice(&out.stdout).ok()
    }

    /// Sends SIGHUP.
    pub fn hup(&self) {
        crate::support::run("kill", &["-HUP", &self.child.id().to_string()]);
    }

    /// Sends SIGTERM and waits for the loop to end; it must end cleanly.
    pub fn stop(mut self) {
        crate::support::run("kill", &["-TERM", &self.child.id().to_string()]);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "lvsc run ended with {status}");
        assert!(self.log().contains("\"event\":\"stop\""));
    }
}

impl Drop for RunLoop {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (bounded) until `ok` holds; panics with `what` when it never does.
pub fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The client: N GETs to the VIP, each on a new connection, `gap` seconds apart; prints
/// the time since its start and who answered (or `error`).
const CLIENT: &str = r#"
import sys, time, urllib.request
n, gap, url = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
t0 = time.monotonic()
for _ in range(n):
    t = time.monotonic() - t0
    try:
        who = urllib.request.urlopen(url, timeout=1).read().decode()
    except Exception:
        who = "error"
    print(f"{t:.3f} {who}", flush=True)
    if gap:
        time.sleep(gap)
"#;

/// The VIP every test cluster uses.
pub const VIP_URL: &str = "http://203.0.113.80/";

fn parse(out: &str) -> Vec<(f64, String)> {
    out.lines()
        .filter_map(|l| {
            let (t, who) = l.split_once(' ')?;
            Some((t.parse().ok()?, who.to_string()))
        })
        .collect()
}

/// `n` requests from `client`, `gap` seconds apart: (time, who answered).
pub fn client_requests(client: &Netns, n: usize, gap: f64) -> Vec<(f64, String)> {
    let out = client.exec(
        "timeout",
        &[
            "120",
            "python3",
            "-c",
            CLIENT,
            &n.to_string(),
            &gap.to_string(),
            VIP_URL,
        ],
    );
    parse(&out)
}

/// Requests running in the background while the test changes things.
pub struct Stream {
    child: Child,
    /// When the client started (its times count from about here).
    pub started: Instant,
}

/// Starts `n` requests `gap` seconds apart in the background.
pub fn client_stream(client: &Netns, n: usize, gap: f64) -> Stream {
    let started = Instant::now();
    let child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &client.name,
            "timeout",
            "120",
            "python3",
            "-c",
            CLIENT,
        ])
        .args([&n.to_string(), &gap.to_string(), VIP_URL])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    Stream { child, started }
}

impl Stream {
    /// Waits for the last request: (time, who answered) of each.
    pub fn finish(self) -> Vec<(f64, String)> {
        let out = self.child.wait_with_output().unwrap();
        parse(&String::from_utf8_lossy(&out.stdout))
    }
}

/// How many answers each real gave.
pub fn spread(answers: &[(f64, String)]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for (_, who) in answers {
        *m.entry(who.clone()).or_default() += 1;
    }
    m
}
