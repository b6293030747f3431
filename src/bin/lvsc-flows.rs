//! Test traffic with chosen client addresses and ports, to see which real got each flow
//! (the differential test of the three data planes, natively and in the QEMU guest).
//!
//! - `lvsc-flows serve NAME TCP_PORTS UDP_PORTS`: answers each TCP connection and each
//!   UDP datagram on those ports (comma-separated, `-` for none) with NAME. A UDP entry
//!   may be `ADDR:PORT`: a direct-routing real answers from the VIP only when its socket
//!   is bound to the VIP.
//! - `lvsc-flows send FILE [TIMEOUT_MS]`: for each line `SRC:PORT->VIP:PORT/PROTO` of
//!   FILE, one connection (or datagram) from exactly that client address and port;
//!   prints `FLOW NAME`, or `FLOW error` when nothing answered in time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

fn ports(list: &str) -> Vec<u16> {
    list.split(',').filter_map(|p| p.parse().ok()).collect()
}

fn serve(name: String, tcp: &str, udp: &str) -> std::io::Result<()> {
    let mut threads = Vec::new();
    for p in ports(tcp) {
        let l = TcpListener::bind(("0.0.0.0", p))?;
        let name = name.clone();
        threads.push(std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let mut c = c;
                let _ = c.write_all(name.as_bytes());
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
    let mut answer = Vec::new();
    if udp {
        s.connect(&SockAddr::from(dst))?;
        s.send(b"?")?;
        let mut buf = [0u8; 512];
        let n = std::net::UdpSocket::from(s).recv(&mut buf)?;
        answer.extend_from_slice(&buf[..n]);
    } else {
        s.connect_timeout(&SockAddr::from(dst), timeout)?;
        std::net::TcpStream::from(s).read_to_end(&mut answer)?;
    }
    Ok(String::from_utf8_lossy(&answer).trim().to_string())
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

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve", name, tcp, udp] => serve(name.to_string(), tcp, udp),
        ["send", file] => send(file, Duration::from_millis(1000)),
        ["send", file, ms] => send(file, Duration::from_millis(ms.parse().unwrap_or(1000))),
        _ => {
            eprintln!("usage: lvsc-flows serve NAME TCP_PORTS UDP_PORTS | send FILE [TIMEOUT_MS]");
            std::process::exit(2)
        }
    }
}
