//! What the `lvsc run` end-to-end tests share: HTTP servers in namespaces, the loop as a
//! child process, clients that count who answered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Netns;

/// A small HTTP server in a namespace that answers its name.
pub struct Http(Child);

impl Http {
    /// Starts `name`'s server in `ns` on port 8080.
    pub fn start(ns: &Netns, name: &str, root: &Path) -> Http {
        Http::start_on(ns, name, root, 8080)
    }

    /// Starts `name`'s server in `ns` on `port`.
    pub fn start_on(ns: &Netns, name: &str, root: &Path, port: u16) -> Http {
        let dir = root.join(format!("www-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), name).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "python3", "-m", "http.server"])
            .arg(port.to_string())
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
                .arg(format!(
                    "import socket; socket.create_connection(('127.0.0.1', {port}), 1)"
                ))
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

/// The client: N GETs to VIP:80, each on a new connection, `gap` seconds apart, from
/// source port BASE+i when BASE is not 0 (so that a flow can be sent again); closes with
/// a reset so that no TIME_WAIT holds a port. Prints the time since its start and who
/// answered (or `error`).
const CLIENT: &str = r#"
import socket, struct, sys, time
n, gap, vip, base = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
t0 = time.monotonic()
for i in range(n):
    t = time.monotonic() - t0
    who = "error"
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if base:
            s.bind(("", base + i))
        s.settimeout(1)
        s.connect((vip, 80))
        s.sendall(b"GET / HTTP/1.0\r\nHost: vip\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        if head.startswith(b"HTTP/1.0 200") or head.startswith(b"HTTP/1.1 200"):
            who = body.decode().strip()
    except Exception:
        pass
    finally:
        s.close()
    print(f"{t:.3f} {who}", flush=True)
    if gap:
        time.sleep(gap)
"#;

/// Client lines (`TIME WHO`) as (time, who answered).
pub fn answers(out: &str) -> Vec<(f64, String)> {
    out.lines()
        .filter_map(|l| {
            let (t, who) = l.split_once(' ')?;
            Some((t.parse().ok()?, who.to_string()))
        })
        .collect()
}

/// `n` requests from `client` to `vip`, `gap` seconds apart, from source ports `base`+i
/// (any port when 0): (time, who answered).
pub fn client_requests(
    client: &Netns,
    vip: &str,
    n: usize,
    gap: f64,
    base: u16,
) -> Vec<(f64, String)> {
    let (n, gap, base) = (n.to_string(), gap.to_string(), base.to_string());
    let out = client.exec(
        "timeout",
        &["120", "python3", "-c", CLIENT, &n, &gap, vip, &base],
    );
    answers(&out)
}

/// Requests running in the background while the test changes things.
pub struct Stream {
    child: Child,
    /// When the client started (its times count from about here).
    pub started: Instant,
}

/// Starts `n` requests to `vip`, `gap` seconds apart, in the background.
pub fn client_stream(client: &Netns, vip: &str, n: usize, gap: f64) -> Stream {
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
        .args([&n.to_string(), &gap.to_string(), vip, "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    Stream { child, started }
}

impl Stream {
    /// Waits for the last request: (time, who answered) of each.
    pub fn finish(self) -> Vec<(f64, String)> {
        let out = self.child.wait_with_output().unwrap();
        answers(&String::from_utf8_lossy(&out.stdout))
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

/// Asserts that `promtool check metrics` finds nothing wrong with `metrics`.
pub fn promtool_check(metrics: &str) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut promtool.stdin.take().unwrap(), metrics.as_bytes()).unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Sends `flows` (`SRC:PORT->VIP:PORT/PROTO` lines, written to `file`) from `client`
/// with `lvsc-flows send`, bounded; real → flows it answered (`error`: unanswered).
pub fn send_flows(client: &Netns, file: &Path, flows: &[String]) -> BTreeMap<String, usize> {
    std::fs::write(file, flows.join("\n") + "\n").unwrap();
    let out = client.exec(
        "timeout",
        &[
            "120",
            env!("CARGO_BIN_EXE_lvsc-flows"),
            "send",
            file.to_str().unwrap(),
            "2000",
        ],
    );
    let mut by_real = BTreeMap::new();
    for line in out.lines() {
        if let Some(real) = line.split_whitespace().nth(1) {
            *by_real.entry(real.to_string()).or_insert(0) += 1;
        }
    }
    by_real
}
