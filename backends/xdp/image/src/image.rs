//! The map image: a small, versioned binary file with every map the XDP program reads.
//!
//! Layout (little endian; docs/map-image.md): a 32-byte header (magic `LVSCMAP\0`,
//! version, section counts, FNV-1a checksum of the body), then the service records,
//! the real records and the concatenated Maglev tables.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use lvsc_compiler::ir::{ForwardMethod, Protocol, Service, ServiceKey};

use rayon::prelude::*;

use crate::hash::fnv1a;
use crate::maglev;
use lvsc_xdp_common::{HASH_CLIENT, HASH_DEST, HASH_FLOW};

/// File magic.
pub const MAGIC: [u8; 8] = *b"LVSCMAP\0";
/// Format version.
pub const VERSION: u32 = 1;
const HEADER: usize = 32;
const SERVICE: usize = 40;
const REAL: usize = 40;

/// How a service forwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forwarding {
    /// Rewrite the destination MAC (direct routing).
    Direct = 1,
    /// IP-in-IP / IPv6-in-IPv6 encapsulation.
    Tunnel = 2,
}

/// A service record: the VIP key and where its table and reals are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRecord {
    /// VIP.
    pub vip: IpAddr,
    /// Port (0 for a firewall-mark service, which matches every port).
    pub port: u16,
    /// IP protocol number.
    pub proto: u8,
    /// Forwarding method.
    pub forwarding: Forwarding,
    /// What the slot is hashed from (`lvsc_xdp_common::HASH_*`).
    pub hash: u8,
    /// Bits at the end of the client address cleared before a client hash (the
    /// persistence netmask; 0 hashes the whole address).
    pub host_bits: u8,
    /// First slot of this service's table in the table section.
    pub table_offset: u32,
    /// Table size (prime).
    pub table_size: u32,
    /// First real of this service in the real section.
    pub first_real: u32,
    /// Number of reals.
    pub reals: u32,
}

/// A real record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealRecord {
    /// Address.
    pub addr: IpAddr,
    /// Outer source address for tunnel mode (unspecified for direct routing).
    pub encap_source: IpAddr,
    /// Weight (0: no table slots).
    pub weight: u32,
}

/// A whole image.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    /// Services.
    pub services: Vec<ServiceRecord>,
    /// Reals, grouped by service.
    pub reals: Vec<RealRecord>,
    /// Every service's table, concatenated; entries are indexes into `reals`.
    pub tables: Vec<u32>,
}

/// Why an image could not be built or read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// A NAT service: the XDP program rewrites MACs or encapsulates, never addresses.
    #[error("service {service}: the XDP data plane forwards by DR or TUN, not NAT")]
    Nat {
        /// The service.
        service: String,
    },
    /// A Maglev table size that is not prime.
    #[error("service {service}: table size {size} is not prime")]
    TableSizeNotPrime {
        /// The service.
        service: String,
        /// Its table size.
        size: u32,
    },
    /// Fewer bytes than the header.
    #[error("truncated: shorter than the header")]
    ShortHeader,
    /// Not a map image at all.
    #[error("not an lvsc map image (bad magic)")]
    BadMagic,
    /// A format version this lvsc does not read.
    #[error("map image version {found}; this lvsc reads version {VERSION}")]
    Version {
        /// The file's version.
        found: u32,
    },
    /// The sections the header announces do not fill the file exactly.
    #[error(
        "truncated or padded: header says {services} services, {reals} reals, {slots} slots; the file has {bytes} bytes"
    )]
    Length {
        /// Services announced.
        services: usize,
        /// Reals announced.
        reals: usize,
        /// Table slots announced.
        slots: usize,
        /// The file's size.
        bytes: usize,
    },
    /// The body does not match its checksum.
    #[error("corrupt: checksum mismatch")]
    Checksum,
    /// An address family other than 4 or 6.
    #[error("corrupt: unknown address family {0}")]
    Family(u8),
    /// A forwarding code other than direct or tunnel.
    #[error("corrupt: unknown forwarding {0}")]
    Forwarding(u8),
    /// A hash mode other than client, flow or destination.
    #[error("corrupt: unknown hash mode {0}")]
    Hash(u8),
    /// A service record pointing outside the table or real section.
    #[error("corrupt: a service points outside the tables or reals")]
    ServiceOutOfBounds,
    /// A table slot naming a real that is not in the file.
    #[error("corrupt: a table slot names a real that does not exist")]
    SlotOutOfBounds,
}

/// `table_offset` of a service whose table [`build_some`] was not asked to compute (plus
/// the service's ordinal, so that each is its own): it has no slots in `tables`.
pub const UNCOMPUTED: u32 = 0x8000_0000;

/// Builds the image of a director's services; `sources` are the director's addresses,
/// the outer source of tunnelled packets (one per family).
pub fn build(services: &[Service], sources: &[IpAddr]) -> Result<Image, ImageError> {
    build_some(services, sources, |_| true)
}

/// What decides a service's Maglev table, hashed: its size and its reals' names and
/// table weights (the table is a pure function of them). Equal inputs, equal table, so
/// a loader can tell an unchanged service without computing its table.
pub fn table_inputs(s: &Service) -> u64 {
    let mut h = fnv1a(&s.table_size.to_le_bytes(), 0);
    for (r, w) in s.reals.iter().zip(s.table_weights()) {
        h = fnv1a(r.name.as_bytes(), h);
        // A separator: names `ab`+`c` and `a`+`bc` differ.
        h = fnv1a(&[0xff], h);
        h = fnv1a(&w.to_le_bytes(), h);
    }
    h
}

/// [`build`], computing the tables only of the services `wanted` (by index): the others
/// get an [`UNCOMPUTED`] offset and no slots. Such an image is for a loader that knows
/// those tables are installed already; it is never written to a file.
pub fn build_some(
    services: &[Service],
    sources: &[IpAddr],
    wanted: impl Fn(usize) -> bool + Sync,
) -> Result<Image, ImageError> {
    // The tables are independent and most of the work: build them on every core.
    let tables: Vec<Option<Vec<u32>>> = services
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            if !maglev::is_prime(s.table_size) || !wanted(i) {
                return None;
            }
            let names: Vec<(&str, u32)> = s
                .reals
                .iter()
                .zip(s.table_weights())
                .map(|(r, w)| (r.name.as_str(), w))
                .collect();
            maglev::table(&names, s.table_size)
        })
        .collect();
    let mut img = Image::default();
    // One allocation: growing a vector of hundreds of megabytes by doubling copies it
    // and faults in fresh pages each time.
    img.tables.reserve_exact(
        services
            .iter()
            .enumerate()
            .filter(|(i, _)| wanted(*i))
            .map(|(_, s)| s.table_size as usize)
            .sum(),
    );
    for (i, (s, table)) in services.iter().zip(tables).enumerate() {
        let forwarding = match s.forward.method {
            ForwardMethod::Dr => Forwarding::Direct,
            ForwardMethod::Tun => Forwarding::Tunnel,
            ForwardMethod::Nat => {
                return Err(ImageError::Nat {
                    service: s.name.clone(),
                });
            }
        };
        if !maglev::is_prime(s.table_size) {
            return Err(ImageError::TableSizeNotPrime {
                service: s.name.clone(),
                size: s.table_size,
            });
        }
        let first_real = img.reals.len() as u32;
        let mut table_offset = img.tables.len() as u32;
        match table {
            Some(t) => img.tables.extend(t.iter().map(|i| first_real + i)),
            None if !wanted(i) => table_offset = UNCOMPUTED + i as u32,
            None => img
                .tables
                .extend(std::iter::repeat_n(u32::MAX, s.table_size as usize)),
        }
        for r in &s.reals {
            let unspecified = if r.ip.is_ipv4() {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            };
            let encap_source = match forwarding {
                Forwarding::Tunnel => sources
                    .iter()
                    .copied()
                    .find(|s| s.is_ipv4() == r.ip.is_ipv4())
                    .unwrap_or(unspecified),
                Forwarding::Direct => unspecified,
            };
            img.reals.push(RealRecord {
                addr: r.ip,
                encap_source,
                weight: r.weight,
            });
        }
        let (hash, host_bits) = hashing(s);
        for (vip, port, proto) in match_keys(s) {
            img.services.push(ServiceRecord {
                vip,
                port,
                proto,
                forwarding,
                hash,
                host_bits,
                table_offset,
                table_size: s.table_size,
                first_real,
                reals: s.reals.len() as u32,
            });
        }
    }
    Ok(img)
}

/// What a service's slot is hashed from, and the client bits cleared first: persistence
/// hashes the client's network (its netmask), `sh`/`mh` without `-port` the client,
/// `dh` the destination, every other scheduler the whole flow.
pub fn hashing(s: &Service) -> (u8, u8) {
    let bits = if s.is_ipv6() { 128 } else { 32 };
    if let Some(p) = &s.persistence {
        return (HASH_CLIENT, bits - p.prefix.min(bits));
    }
    let by_port = s.scheduler.flags.iter().any(|f| f.ends_with("-port"));
    match s.scheduler.name.as_str() {
        "sh" | "mh" if !by_port => (HASH_CLIENT, 0),
        "dh" => (HASH_DEST, 0),
        _ => (HASH_FLOW, 0),
    }
}

/// What the XDP program matches a service's packets on: (VIP, port, IP protocol
/// number), one per VIP; a firewall-mark service matches every port (0) of its VIPs.
pub fn match_keys(s: &Service) -> Vec<(IpAddr, u16, u8)> {
    let number = |p: Protocol| match p {
        Protocol::Tcp => 6,
        Protocol::Udp => 17,
        Protocol::Sctp => 132,
    };
    match &s.key {
        ServiceKey::Addr { ip, port, proto } => vec![(*ip, *port, number(*proto))],
        ServiceKey::Fwmark { .. } => {
            let proto = number(s.vips.first().map_or(Protocol::Tcp, |v| v.proto));
            s.vips.iter().map(|v| (v.ip, 0, proto)).collect()
        }
    }
}

/// An address as the maps hold it: 16 bytes (IPv4 in the first four) and the family.
pub fn addr16(ip: IpAddr) -> ([u8; 16], u8) {
    match ip {
        IpAddr::V4(a) => {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&a.octets());
            (b, 4)
        }
        IpAddr::V6(a) => (a.octets(), 6),
    }
}

fn ip_from(b: &[u8], family: u8) -> Result<IpAddr, ImageError> {
    let b: [u8; 16] = b.try_into().expect("callers pass 16 bytes");
    match family {
        4 => Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        6 => Ok(IpAddr::V6(Ipv6Addr::from(b))),
        f => Err(ImageError::Family(f)),
    }
}

impl Image {
    /// The image as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body_len =
            self.services.len() * SERVICE + self.reals.len() * REAL + self.tables.len() * 4;
        // The header first with a zero checksum, patched once the body is written: one
        // buffer, no copy of a body that can be hundreds of megabytes.
        let mut out = Vec::with_capacity(HEADER + body_len);
        out.extend(MAGIC);
        out.extend(VERSION.to_le_bytes());
        for n in [self.services.len(), self.reals.len(), self.tables.len()] {
            out.extend((n as u32).to_le_bytes());
        }
        out.extend([0u8; 8]);
        for s in &self.services {
            let (a, f) = addr16(s.vip);
            out.extend(a);
            out.extend(s.port.to_le_bytes());
            out.extend([s.proto, f, s.forwarding as u8, s.hash]);
            for v in [s.table_offset, s.table_size, s.first_real, s.reals] {
                out.extend(v.to_le_bytes());
            }
            out.extend([s.host_bits, 0]);
        }
        for r in &self.reals {
            let (a, f) = addr16(r.addr);
            let (e, _) = addr16(r.encap_source);
            out.extend(a);
            out.extend(e);
            out.extend(r.weight.to_le_bytes());
            out.extend([f, 0, 0, 0]);
        }
        for t in &self.tables {
            out.extend_from_slice(&t.to_le_bytes());
        }
        let sum = fnv1a(&out[HEADER..], 0);
        out[24..32].copy_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads an image, rejecting a wrong magic or version, a truncated file, a bad
    /// checksum or records that point outside their sections.
    pub fn from_bytes(b: &[u8]) -> Result<Image, ImageError> {
        if b.len() < HEADER {
            return Err(ImageError::ShortHeader);
        }
        if b[..8] != MAGIC {
            return Err(ImageError::BadMagic);
        }
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes"));
        let version = u32_at(8);
        if version != VERSION {
            return Err(ImageError::Version { found: version });
        }
        let (ns, nr, nt) = (
            u32_at(12) as usize,
            u32_at(16) as usize,
            u32_at(20) as usize,
        );
        let want = ns.checked_mul(SERVICE).and_then(|s| {
            nr.checked_mul(REAL)
                .and_then(|r| nt.checked_mul(4).map(|t| s + r + t))
        });
        let Some(len) = want.filter(|l| HEADER + l == b.len()) else {
            return Err(ImageError::Length {
                services: ns,
                reals: nr,
                slots: nt,
                bytes: b.len(),
            });
        };
        let body = &b[HEADER..HEADER + len];
        if fnv1a(body, 0).to_le_bytes() != b[24..32] {
            return Err(ImageError::Checksum);
        }
        let mut img = Image::default();
        for rec in body[..ns * SERVICE].chunks_exact(SERVICE) {
            let w = |o: usize| u32::from_le_bytes(rec[o..o + 4].try_into().expect("4 bytes"));
            let s = ServiceRecord {
                vip: ip_from(&rec[..16], rec[19])?,
                port: u16::from_le_bytes([rec[16], rec[17]]),
                proto: rec[18],
                forwarding: match rec[20] {
                    1 => Forwarding::Direct,
                    2 => Forwarding::Tunnel,
                    f => return Err(ImageError::Forwarding(f)),
                },
                hash: match rec[21] {
                    h @ (HASH_CLIENT | HASH_FLOW | HASH_DEST) => h,
                    h => return Err(ImageError::Hash(h)),
                },
                host_bits: rec[38],
                table_offset: w(22),
                table_size: w(26),
                first_real: w(30),
                reals: w(34),
            };
            if s.table_offset as usize + s.table_size as usize > nt
                || s.first_real as usize + s.reals as usize > nr
            {
                return Err(ImageError::ServiceOutOfBounds);
            }
            img.services.push(s);
        }
        for rec in body[ns * SERVICE..ns * SERVICE + nr * REAL].chunks_exact(REAL) {
            img.reals.push(RealRecord {
                addr: ip_from(&rec[..16], rec[36])?,
                encap_source: ip_from(&rec[16..32], rec[36])?,
                weight: u32::from_le_bytes(rec[32..36].try_into().expect("4 bytes")),
            });
        }
        img.tables = body[ns * SERVICE + nr * REAL..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        if img
            .tables
            .iter()
            .any(|&t| t != u32::MAX && t as usize >= nr)
        {
            return Err(ImageError::SlotOutOfBounds);
        }
        Ok(img)
    }

    /// A human-readable dump, as `lvsc inspect` prints it.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "lvsc map image v{VERSION}: {} services, {} reals, {} table slots\n",
            self.services.len(),
            self.reals.len(),
            self.tables.len()
        );
        for s in &self.services {
            let proto = match s.proto {
                6 => "tcp",
                17 => "udp",
                _ => "sctp",
            };
            let vip = if s.vip.is_ipv6() {
                format!("[{}]", s.vip)
            } else {
                s.vip.to_string()
            };
            let _ = writeln!(
                out,
                "\nservice {vip}:{}/{proto} {:?}, hash {}, table {} slots at {}",
                s.port,
                s.forwarding,
                match (s.hash, s.host_bits) {
                    (HASH_FLOW, _) => "addresses+ports".to_string(),
                    (HASH_DEST, _) => "destination address".to_string(),
                    (_, 0) => "client address".to_string(),
                    (_, bits) => format!(
                        "client network (/{})",
                        if s.vip.is_ipv4() { 32 } else { 128 } - u32::from(bits)
                    ),
                },
                s.table_size,
                s.table_offset
            );
            let slots =
                &self.tables[s.table_offset as usize..(s.table_offset + s.table_size) as usize];
            for i in s.first_real..s.first_real + s.reals {
                let r = &self.reals[i as usize];
                let n = slots.iter().filter(|&&t| t == i).count();
                let share = 100.0 * n as f64 / f64::from(s.table_size);
                let _ = write!(
                    out,
                    "  real {} weight {} slots {n} ({share:.1}%)",
                    r.addr, r.weight
                );
                if !r.encap_source.is_unspecified() {
                    let _ = write!(out, " encap from {}", r.encap_source);
                }
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Image {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../examples/web-dr.lvs"
        ))
        .unwrap();
        let c = lvsc_compiler::compile_source(&text).cluster.unwrap();
        build(&c.services, &["192.0.2.2".parse().unwrap()]).unwrap()
    }

    #[test]
    fn round_trip() {
        let img = sample();
        assert_eq!(Image::from_bytes(&img.to_bytes()).unwrap(), img);
        assert_eq!(img.tables.len(), 65537);
        // rs3 is drained: no slots.
        assert!(!img.tables.contains(&2));
    }

    #[test]
    fn corrupt_and_truncated_images_are_rejected() {
        let bytes = sample().to_bytes();
        for n in [0, 7, 31, 32, bytes.len() - 1] {
            assert!(
                Image::from_bytes(&bytes[..n]).is_err(),
                "{n} bytes accepted"
            );
        }
        let mut flipped = bytes.clone();
        flipped[100] ^= 1;
        assert!(
            Image::from_bytes(&flipped)
                .unwrap_err()
                .to_string()
                .contains("checksum")
        );
        let mut magic = bytes.clone();
        magic[0] = b'X';
        assert!(
            Image::from_bytes(&magic)
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
        let mut version = bytes;
        version[8] = 9;
        assert!(
            Image::from_bytes(&version)
                .unwrap_err()
                .to_string()
                .contains("version")
        );
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = Image::from_bytes(&b);
        }
    }
}
