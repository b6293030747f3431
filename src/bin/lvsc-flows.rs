//! Test traffic with chosen client addresses and ports, to see which real got each flow
//! and whether any failed (the differential and hitless tests, natively and in the QEMU
//! guest).
//!
//! - `lvsc-flows serve NAME TCP_PORTS UDP_PORTS`: answers NAME to each UDP datagram and,
//!   on each TCP connection, at once and then once per line received, until the client
//!   closes. Ports comma-separated (`-` for none); a UDP entry may be `ADDR:PORT`: a
//!   direct-routing real answers from the VIP only when its socket is bound to the VIP.
//! - `lvsc-flows http TCP_PORTS TLS_PORTS [CERT KEY]`: answers `200 OK` to every HTTP
//!   request on each port (IPv4 and IPv6), over TLS with the PEM certificate and key on
//!   the second list: a real that passes any HTTP or HTTPS health check.
//! - `lvsc-flows send FILE [TIMEOUT_MS]`: for each line `SRC:PORT->VIP:PORT/PROTO` of
//!   FILE, one connection (or datagram) from exactly that client address and port;
//!   prints `FLOW NAME`, or `FLOW error` when nothing answered in time.
//! - `lvsc-flows load VIP:PORT SECONDS RATE CONNS`: RATE requests a second for SECONDS,
//!   alternately on one of CONNS kept-alive connections and on a new connection each;
//!   prints one JSON object: requests that succeeded on each kind, failed ones, and kept
//!   connections that were reset or closed under it.
//! - `lvsc-flows hold VIP:PORT CONNS UNTIL`: opens CONNS connections and makes one request
//!   on each, prints `held N`, waits until the file UNTIL exists, then makes one more
//!   request on each; prints how many answered (`survived N of M`).
//! - `lvsc-flows talk VIP:PORT CONNS SECONDS GAP_MS`: opens CONNS connections, each
//!   sending a request every GAP_MS for SECONDS and waiting for its answer (up to 20 s);
//!   prints one JSON object: connections opened and failed (reset, closed, timed out),
//!   answers, the longest wait for an answer (ms), connections that waited 100 ms or
//!   more at least once (a lost packet), and connections whose real changed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

fn ports(list: &str) -> Vec<u16> {
    list.split(',').filter_map(|p| p.parse().ok()).collect()
}

/// One TCP client: the name at once, then once per line.
fn answer(c: TcpStream, name: &str) {
    let mut w = match c.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let line = format!("{name}\n");
    if w.write_all(line.as_bytes()).is_err() {
        return;
    }
    let mut r = BufReader::new(c);
    let mut buf = String::new();
    while matches!(r.read_line(&mut buf), Ok(n) if n > 0) {
        if w.write_all(line.as_bytes()).is_err() {
            return;
        }
        buf.clear();
    }
}

fn serve(name: String, tcp: &str, udp: &str) -> std::io::Result<()> {
    let mut threads = Vec::new();
    for p in ports(tcp) {
        let l = TcpListener::bind(("0.0.0.0", p))?;
        let name = name.clone();
        threads.push(std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let name = name.clone();
                std::thread::spawn(move || answer(c, &name));
            }
        }));
    }
    let udp: Vec<SocketAddr> = udp
        .split(',')
        .filter_map(|e| {
            e.parse()
                .ok()
                .or_else(|| Some(SocketAddr::from(([0, 0, 0, 0], e.parse().ok()?))))
        })
        .collect();
    for at in udp {
        let s = UdpSocket::bind(at)?;
        let name = name.clone();
        threads.push(std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((_, from)) = s.recv_from(&mut buf) {
                let _ = s.send_to(name.as_bytes(), from);
            }
        }));
    }
    println!("serving");
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Answers HTTP requests with `200 OK`, in plain text or over TLS.
fn http(plain: &str, tls: &str, cert: Option<(&str, &str)>) -> std::io::Result<()> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let config = match cert {
        Some((cert, key)) => {
            let bad = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
            let certs = CertificateDer::pem_file_iter(cert)
                .map_err(|e| bad(e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(e.to_string()))?;
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| bad(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(certs, key)
                .map_err(|e| bad(e.to_string()))?;
            Some(std::sync::Arc::new(config))
        }
        None => None,
    };
    let mut threads = Vec::new();
    let listeners = ports(plain)
        .into_iter()
        .map(|p| (p, None))
        .chain(ports(tls).into_iter().map(|p| (p, config.clone())));
    for (port, tls) in listeners {
        // [::] takes IPv4 too (the kernel's default bindv6only=0).
        let l = TcpListener::bind(("::", port))?;
        threads.push(std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
                    match tls {
                        Some(config) => {
                            if let Ok(conn) = rustls::ServerConnection::new(config) {
                                let _ = ok_response(rustls::StreamOwned::new(conn, c));
                            }
                        }
                        None => {
                            let _ = ok_response(c);
                        }
                    }
                });
            }
        }));
    }
    println!("serving");
    for t in threads {
        let _ = t.join();
    }
    Ok(())
}

/// Reads a request's head and answers `200 OK`.
fn ok_response(mut s: impl Read + Write) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut b = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
        match s.read(&mut b)? {
            0 => break,
            n => head.extend_from_slice(&b[..n]),
        }
    }
    s.write_all(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")?;
    s.flush()
}

/// Reads one answer line (the name), without the newline.
fn read_name(s: &mut TcpStream) -> std::io::Result<String> {
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match s.read(&mut b)? {
            0 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "closed",
                ));
            }
            _ if b[0] == b'\n' => break,
            _ => out.push(b[0]),
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// One flow: the answer's text.
fn one(src: SocketAddr, dst: SocketAddr, udp: bool, timeout: Duration) -> std::io::Result<String> {
    let domain = Domain::for_address(src);
    let (ty, proto) = if udp {
        (Type::DGRAM, Protocol::UDP)
    } else {
        (Type::STREAM, Protocol::TCP)
    };
    let s = Socket::new(domain, ty, Some(proto))?;
    s.set_reuse_address(true)?;
    s.bind(&SockAddr::from(src))?;
    s.set_read_timeout(Some(timeout))?;
    if udp {
        s.connect(&SockAddr::from(dst))?;
        s.send(b"?")?;
        let mut buf = [0u8; 512];
        let n = UdpSocket::from(s).recv(&mut buf)?;
        return Ok(String::from_utf8_lossy(&buf[..n]).trim().to_string());
    }
    s.connect_timeout(&SockAddr::from(dst), timeout)?;
    read_name(&mut TcpStream::from(s))
}

fn send(file: &str, timeout: Duration) -> std::io::Result<()> {
    let text = std::fs::read_to_string(file)?;
    let mut out = std::io::stdout().lock();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parsed = line.split_once("->").and_then(|(s, rest)| {
            let (d, proto) = rest.rsplit_once('/')?;
            Some((s.parse().ok()?, d.parse().ok()?, proto == "udp"))
        });
        let Some((src, dst, udp)) = parsed else {
            writeln!(out, "{line} error:unreadable")?;
            continue;
        };
        let who = one(src, dst, udp, timeout).unwrap_or_else(|e| {
            eprintln!("{line}: {e}");
            "error".into()
        });
        writeln!(
            out,
            "{line} {}",
            if who.is_empty() { "error" } else { &who }
        )?;
    }
    Ok(())
}

/// A kept-alive connection: a request is a line, the answer the real's name.
fn connect(to: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect_timeout(&to, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_nodelay(true)?;
    read_name(&mut s)?;
    Ok(s)
}

fn request(s: &mut TcpStream) -> std::io::Result<String> {
    s.write_all(b"?\n")?;
    read_name(s)
}

#[derive(Default)]
struct Tally {
    kept_ok: u64,
    new_ok: u64,
    kept_failed: u64,
    new_failed: u64,
    resets: u64,
}

fn load(to: SocketAddr, seconds: f64, rate: f64, conns: usize) -> std::io::Result<()> {
    let timeout = Duration::from_millis(1000);
    let mut kept: Vec<Option<TcpStream>> = (0..conns).map(|_| connect(to, timeout).ok()).collect();
    let opened = kept.iter().filter(|c| c.is_some()).count();
    let mut t = Tally::default();
    let start = Instant::now();
    let gap = Duration::from_secs_f64(1.0 / rate);
    let mut n: u64 = 0;
    while start.elapsed().as_secs_f64() < seconds {
        let due = start + gap * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        if n.is_multiple_of(2) && !kept.is_empty() {
            let i = (n / 2) as usize % kept.len();
            let ok = match kept[i].as_mut() {
                Some(s) => match request(s) {
                    Ok(_) => true,
                    Err(e) => {
                        // A kept connection that breaks: reset, closed or silent.
                        eprintln!("kept connection {i}: {e}");
                        t.resets += 1;
                        false
                    }
                },
                None => false,
            };
            if ok {
                t.kept_ok += 1;
            } else {
                t.kept_failed += 1;
                kept[i] = connect(to, timeout).ok();
            }
        } else {
            match connect(to, timeout) {
                Ok(_) => t.new_ok += 1,
                Err(e) => {
                    eprintln!("new connection: {e}");
                    t.new_failed += 1;
                }
            }
        }
        n += 1;
    }
    println!(
        "{{\"opened\":{opened},\"kept_ok\":{},\"new_ok\":{},\"kept_failed\":{},\"new_failed\":{},\"resets\":{}}}",
        t.kept_ok, t.new_ok, t.kept_failed, t.new_failed, t.resets
    );
    Ok(())
}

fn hold(to: SocketAddr, conns: usize, until: &str) -> std::io::Result<()> {
    let timeout = Duration::from_millis(3000);
    let mut held: Vec<TcpStream> = (0..conns)
        .filter_map(|_| connect(to, timeout).ok())
        .filter_map(|mut s| request(&mut s).ok().map(|_| s))
        .collect();
    println!("held {}", held.len());
    std::io::stdout().flush()?;
    while !std::path::Path::new(until).exists() {
        std::thread::sleep(Duration::from_millis(100));
    }
    let total = held.len();
    let survived = held.iter_mut().map(request).filter(Result::is_ok).count();
    println!("survived {survived} of {total}");
    Ok(())
}

/// One connection of `talk`: answers, the longest wait, whether it failed or moved.
fn talk_one(mut s: TcpStream, until: Instant, gap: Duration) -> (u64, u128, bool, bool) {
    let first = read_name(&mut s).ok();
    let (mut answers, mut longest, mut moved) = (0u64, 0u128, false);
    while Instant::now() < until {
        let sent = Instant::now();
        match request(&mut s) {
            Ok(name) => {
                answers += 1;
                longest = longest.max(sent.elapsed().as_millis());
                moved |= first.as_deref() != Some(name.as_str());
            }
            Err(_) => {
                return (
                    answers,
                    longest.max(sent.elapsed().as_millis()),
                    true,
                    moved,
                );
            }
        }
        std::thread::sleep(gap);
    }
    (answers, longest, first.is_none(), moved)
}

fn talk(to: SocketAddr, conns: usize, seconds: f64, gap_ms: u64) -> std::io::Result<()> {
    let opened: Vec<TcpStream> = (0..conns)
        .filter_map(|_| TcpStream::connect_timeout(&to, Duration::from_secs(3)).ok())
        .collect();
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let gap = Duration::from_millis(gap_ms);
    let threads: Vec<_> = opened
        .into_iter()
        .map(|s| {
            std::thread::spawn(move || {
                // TCP's own retransmissions bridge a failover: wait long for an answer.
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                let _ = s.set_nodelay(true);
                talk_one(s, until, gap)
            })
        })
        .collect();
    let n = threads.len();
    let (mut answers, mut longest, mut failed, mut moved, mut stalled) = (0, 0, 0, 0, 0);
    for t in threads {
        let (a, l, f, m) = t.join().unwrap_or((0, 0, true, false));
        answers += a;
        longest = longest.max(l);
        failed += usize::from(f);
        moved += usize::from(m);
        // A wait of 100 ms is a lost packet: the RTT here is well under a millisecond.
        stalled += usize::from(l >= 100);
    }
    println!(
        "{{\"opened\":{n},\"failed\":{failed},\"moved\":{moved},\"stalled\":{stalled},\"answers\":{answers},\"longest_wait_ms\":{longest}}}"
    );
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |s: &str| s.parse::<f64>().ok();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve", name, tcp, udp] => serve(name.to_string(), tcp, udp),
        ["http", plain, tls] => http(plain, tls, None),
        ["http", plain, tls, cert, key] => http(plain, tls, Some((cert, key))),
        ["send", file] => send(file, Duration::from_millis(1000)),
        ["send", file, ms] => send(file, Duration::from_millis(ms.parse().unwrap_or(1000))),
        ["talk", to, conns, secs, gap] => {
            match (to.parse(), conns.parse(), num(secs), gap.parse()) {
                (Ok(to), Ok(c), Some(s), Ok(g)) => talk(to, c, s, g),
                _ => usage(),
            }
        }
        ["hold", to, conns, until] => match (to.parse(), conns.parse()) {
            (Ok(to), Ok(c)) => hold(to, c, until),
            _ => usage(),
        },
        ["load", to, secs, rate, conns] => {
            match (to.parse(), num(secs), num(rate), conns.parse()) {
                (Ok(to), Some(s), Some(r), Ok(c)) if r > 0.0 => load(to, s, r, c),
                _ => usage(),
            }
        }
        _ => usage(),
    }
}

fn usage() -> std::io::Result<()> {
    eprintln!(
        "usage: lvsc-flows serve NAME TCP_PORTS UDP_PORTS | http TCP_PORTS TLS_PORTS [CERT KEY] | send FILE [TIMEOUT_MS] | load VIP:PORT SECONDS RATE CONNS | hold VIP:PORT CONNS UNTIL | talk VIP:PORT CONNS SECONDS GAP_MS"
    );
    std::process::exit(2)
}
