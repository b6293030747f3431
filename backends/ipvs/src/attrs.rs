//! IPVS netlink attributes (include/uapi/linux/ip_vs.h): encoding and careful decoding.
//!
//! Decoding skips attributes it does not know (newer kernels add counters and more)
//! and returns an error, never a panic, on a truncated or malformed value.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_core::{
    DecodeError, DefaultNla, Emitable, NLA_F_NESTED, Nla, NlaBuffer, NlasIterator, Parseable,
};

/// Commands of the IPVS family.
pub mod cmd {
    /// Add a service.
    pub const NEW_SERVICE: u8 = 1;
    /// Change a service.
    pub const SET_SERVICE: u8 = 2;
    /// Delete a service.
    pub const DEL_SERVICE: u8 = 3;
    /// Get (dump) services.
    pub const GET_SERVICE: u8 = 4;
    /// Add a destination.
    pub const NEW_DEST: u8 = 5;
    /// Change a destination.
    pub const SET_DEST: u8 = 6;
    /// Delete a destination.
    pub const DEL_DEST: u8 = 7;
    /// Get (dump) the destinations of a service.
    pub const GET_DEST: u8 = 8;
    /// Delete every service.
    pub const FLUSH: u8 = 17;
}

const CMD_ATTR_SERVICE: u16 = 1;
const CMD_ATTR_DEST: u16 = 2;

const SVC_AF: u16 = 1;
const SVC_PROTOCOL: u16 = 2;
const SVC_ADDR: u16 = 3;
const SVC_PORT: u16 = 4;
const SVC_FWMARK: u16 = 5;
const SVC_SCHED_NAME: u16 = 6;
const SVC_FLAGS: u16 = 7;
const SVC_TIMEOUT: u16 = 8;
const SVC_NETMASK: u16 = 9;

const DEST_ADDR: u16 = 1;
const DEST_PORT: u16 = 2;
const DEST_FWD_METHOD: u16 = 3;
const DEST_WEIGHT: u16 = 4;
const DEST_U_THRESH: u16 = 5;
const DEST_L_THRESH: u16 = 6;
const DEST_ADDR_FAMILY: u16 = 11;
const DEST_TUN_TYPE: u16 = 13;
const DEST_TUN_PORT: u16 = 14;
const DEST_TUN_FLAGS: u16 = 15;

/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;

/// A service attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SvcAttr {
    /// Address family.
    Af(u16),
    /// IP protocol number.
    Protocol(u16),
    /// Virtual address.
    Addr(IpAddr),
    /// Virtual port.
    Port(u16),
    /// Firewall mark.
    Fwmark(u32),
    /// Scheduler name.
    SchedName(String),
    /// Flags and the mask of flags to change.
    Flags(u32, u32),
    /// Persistence timeout in seconds.
    Timeout(u32),
    /// Persistence netmask: the mask's raw bytes for IPv4, a prefix length for IPv6.
    Netmask(u32),
}

/// A destination attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestAttr {
    /// Real server address.
    Addr(IpAddr),
    /// Real server port.
    Port(u16),
    /// Forwarding method (`IP_VS_CONN_F_*`).
    FwdMethod(u32),
    /// Weight.
    Weight(u32),
    /// Upper connection threshold.
    UThresh(u32),
    /// Lower connection threshold.
    LThresh(u32),
    /// Address family of the real (may differ from the service's).
    AddrFamily(u16),
    /// Tunnel type (0 ipip, 1 gue, 2 gre).
    TunType(u8),
    /// Tunnel (GUE) port.
    TunPort(u16),
    /// Tunnel flags (checksums).
    TunFlags(u16),
}

/// A top-level attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmdAttr {
    /// The service nest.
    Service(Vec<SvcAttr>),
    /// The destination nest.
    Dest(Vec<DestAttr>),
}

fn addr_bytes(ip: &IpAddr) -> [u8; 16] {
    // `union nf_inet_addr`: IPv4 in the first four bytes.
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b.copy_from_slice(&a.octets()),
    }
    b
}

impl Nla for SvcAttr {
    fn value_len(&self) -> usize {
        match self {
            SvcAttr::Af(_) | SvcAttr::Protocol(_) | SvcAttr::Port(_) => 2,
            SvcAttr::Fwmark(_) | SvcAttr::Timeout(_) | SvcAttr::Netmask(_) => 4,
            SvcAttr::Addr(_) => 16,
            SvcAttr::SchedName(s) => s.len() + 1,
            SvcAttr::Flags(..) => 8,
        }
    }
    fn kind(&self) -> u16 {
        match self {
            SvcAttr::Af(_) => SVC_AF,
            SvcAttr::Protocol(_) => SVC_PROTOCOL,
            SvcAttr::Addr(_) => SVC_ADDR,
            SvcAttr::Port(_) => SVC_PORT,
            SvcAttr::Fwmark(_) => SVC_FWMARK,
            SvcAttr::SchedName(_) => SVC_SCHED_NAME,
            SvcAttr::Flags(..) => SVC_FLAGS,
            SvcAttr::Timeout(_) => SVC_TIMEOUT,
            SvcAttr::Netmask(_) => SVC_NETMASK,
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            SvcAttr::Af(v) | SvcAttr::Protocol(v) => buf[..2].copy_from_slice(&v.to_ne_bytes()),
            SvcAttr::Port(p) => buf[..2].copy_from_slice(&p.to_be_bytes()),
            SvcAttr::Fwmark(v) | SvcAttr::Timeout(v) | SvcAttr::Netmask(v) => {
                buf[..4].copy_from_slice(&v.to_ne_bytes())
            }
            SvcAttr::Addr(ip) => buf[..16].copy_from_slice(&addr_bytes(ip)),
            SvcAttr::SchedName(s) => {
                buf[..s.len()].copy_from_slice(s.as_bytes());
                buf[s.len()] = 0;
            }
            SvcAttr::Flags(f, m) => {
                buf[..4].copy_from_slice(&f.to_ne_bytes());
                buf[4..8].copy_from_slice(&m.to_ne_bytes());
            }
        }
    }
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        match self {
            DestAttr::Addr(_) => 16,
            DestAttr::Port(_)
            | DestAttr::AddrFamily(_)
            | DestAttr::TunPort(_)
            | DestAttr::TunFlags(_) => 2,
            DestAttr::TunType(_) => 1,
            _ => 4,
        }
    }
    fn kind(&self) -> u16 {
        match self {
            DestAttr::Addr(_) => DEST_ADDR,
            DestAttr::Port(_) => DEST_PORT,
            DestAttr::FwdMethod(_) => DEST_FWD_METHOD,
            DestAttr::Weight(_) => DEST_WEIGHT,
            DestAttr::UThresh(_) => DEST_U_THRESH,
            DestAttr::LThresh(_) => DEST_L_THRESH,
            DestAttr::AddrFamily(_) => DEST_ADDR_FAMILY,
            DestAttr::TunType(_) => DEST_TUN_TYPE,
            DestAttr::TunPort(_) => DEST_TUN_PORT,
            DestAttr::TunFlags(_) => DEST_TUN_FLAGS,
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            DestAttr::Addr(ip) => buf[..16].copy_from_slice(&addr_bytes(ip)),
            DestAttr::Port(p) | DestAttr::TunPort(p) => buf[..2].copy_from_slice(&p.to_be_bytes()),
            DestAttr::AddrFamily(v) | DestAttr::TunFlags(v) => {
                buf[..2].copy_from_slice(&v.to_ne_bytes())
            }
            DestAttr::TunType(t) => buf[0] = *t,
            DestAttr::FwdMethod(v)
            | DestAttr::Weight(v)
            | DestAttr::UThresh(v)
            | DestAttr::LThresh(v) => buf[..4].copy_from_slice(&v.to_ne_bytes()),
        }
    }
}

/// A nest of attributes.
struct Nest<'a, T: Nla> {
    kind: u16,
    items: &'a [T],
}

impl<T: Nla> Nla for Nest<'_, T> {
    fn value_len(&self) -> usize {
        self.items.buffer_len()
    }
    fn kind(&self) -> u16 {
        self.kind | NLA_F_NESTED
    }
    fn emit_value(&self, buf: &mut [u8]) {
        self.items.emit(buf)
    }
}

impl Nla for CmdAttr {
    fn value_len(&self) -> usize {
        match self {
            CmdAttr::Service(a) => a.as_slice().buffer_len(),
            CmdAttr::Dest(a) => a.as_slice().buffer_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            CmdAttr::Service(_) => CMD_ATTR_SERVICE | NLA_F_NESTED,
            CmdAttr::Dest(_) => CMD_ATTR_DEST | NLA_F_NESTED,
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            CmdAttr::Service(a) => a.as_slice().emit(buf),
            CmdAttr::Dest(a) => a.as_slice().emit(buf),
        }
    }
}

fn fixed<const N: usize>(v: &[u8], what: &str) -> Result<[u8; N], DecodeError> {
    v.get(..N)
        .and_then(|s| s.try_into().ok())
        .ok_or_else(|| DecodeError::from(format!("{what}: {} bytes, need {N}", v.len())))
}

fn addr(v: &[u8], af: Option<u16>) -> Result<IpAddr, DecodeError> {
    // Without the family yet, 16 bytes are ambiguous; the caller fixes IPv4 up later.
    match (af, v.len()) {
        (Some(AF_INET), n) if n >= 4 => {
            Ok(IpAddr::V4(Ipv4Addr::from(fixed::<4>(v, "IPv4 address")?)))
        }
        (_, n) if n >= 16 => Ok(IpAddr::V6(Ipv6Addr::from(fixed::<16>(v, "address")?))),
        (_, 4) => Ok(IpAddr::V4(Ipv4Addr::from(fixed::<4>(v, "IPv4 address")?))),
        _ => Err(DecodeError::from(format!("address of {} bytes", v.len()))),
    }
}

/// An IPv4 address decoded before its family was known, as the first 4 of 16 bytes.
fn to_v4(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(a) => {
            let o = a.octets();
            IpAddr::V4(Ipv4Addr::new(o[0], o[1], o[2], o[3]))
        }
        v4 => v4,
    }
}

fn nlas(buf: &[u8]) -> impl Iterator<Item = Result<NlaBuffer<&[u8]>, DecodeError>> {
    NlasIterator::new(buf)
}

/// Decodes a service nest; unknown attributes are skipped.
pub fn parse_service(buf: &[u8]) -> Result<Vec<SvcAttr>, DecodeError> {
    let mut out = Vec::new();
    let mut af = None;
    for nla in nlas(buf) {
        let nla = nla?;
        let v = nla.value();
        let a = match nla.kind() & !NLA_F_NESTED {
            SVC_AF => {
                let x = u16::from_ne_bytes(fixed(v, "service family")?);
                af = Some(x);
                SvcAttr::Af(x)
            }
            SVC_PROTOCOL => SvcAttr::Protocol(u16::from_ne_bytes(fixed(v, "protocol")?)),
            SVC_ADDR => SvcAttr::Addr(addr(v, af)?),
            SVC_PORT => SvcAttr::Port(u16::from_be_bytes(fixed(v, "port")?)),
            SVC_FWMARK => SvcAttr::Fwmark(u32::from_ne_bytes(fixed(v, "fwmark")?)),
            SVC_SCHED_NAME => {
                let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                SvcAttr::SchedName(
                    String::from_utf8(v[..end].to_vec())
                        .map_err(|_| DecodeError::from("scheduler name is not UTF-8"))?,
                )
            }
            SVC_FLAGS => {
                let b: [u8; 8] = fixed(v, "flags")?;
                SvcAttr::Flags(
                    u32::from_ne_bytes(fixed(&b[..4], "flags")?),
                    u32::from_ne_bytes(fixed(&b[4..], "mask")?),
                )
            }
            SVC_TIMEOUT => SvcAttr::Timeout(u32::from_ne_bytes(fixed(v, "timeout")?)),
            SVC_NETMASK => SvcAttr::Netmask(u32::from_ne_bytes(fixed(v, "netmask")?)),
            _ => continue,
        };
        out.push(a);
    }
    if af == Some(AF_INET) {
        for a in &mut out {
            if let SvcAttr::Addr(ip) = a {
                *ip = to_v4(*ip);
            }
        }
    }
    Ok(out)
}

/// Decodes a destination nest; unknown attributes (counters, stats) are skipped.
/// `svc_af` is the service's family, used when the destination carries none.
pub fn parse_dest(buf: &[u8], svc_af: u16) -> Result<Vec<DestAttr>, DecodeError> {
    let mut out = Vec::new();
    let mut af = None;
    for nla in nlas(buf) {
        let nla = nla?;
        let v = nla.value();
        let a = match nla.kind() & !NLA_F_NESTED {
            DEST_ADDR => DestAttr::Addr(addr(v, None)?),
            DEST_PORT => DestAttr::Port(u16::from_be_bytes(fixed(v, "port")?)),
            DEST_FWD_METHOD => {
                DestAttr::FwdMethod(u32::from_ne_bytes(fixed(v, "forwarding method")?))
            }
            DEST_WEIGHT => DestAttr::Weight(u32::from_ne_bytes(fixed(v, "weight")?)),
            DEST_U_THRESH => DestAttr::UThresh(u32::from_ne_bytes(fixed(v, "upper threshold")?)),
            DEST_L_THRESH => DestAttr::LThresh(u32::from_ne_bytes(fixed(v, "lower threshold")?)),
            DEST_ADDR_FAMILY => {
                let x = u16::from_ne_bytes(fixed(v, "destination family")?);
                af = Some(x);
                DestAttr::AddrFamily(x)
            }
            DEST_TUN_TYPE => DestAttr::TunType(
                *v.first()
                    .ok_or_else(|| DecodeError::from("empty tunnel type"))?,
            ),
            DEST_TUN_PORT => DestAttr::TunPort(u16::from_be_bytes(fixed(v, "tunnel port")?)),
            DEST_TUN_FLAGS => DestAttr::TunFlags(u16::from_ne_bytes(fixed(v, "tunnel flags")?)),
            _ => continue,
        };
        out.push(a);
    }
    if af.unwrap_or(svc_af) == AF_INET {
        for a in &mut out {
            if let DestAttr::Addr(ip) = a {
                *ip = to_v4(*ip);
            }
        }
    }
    Ok(out)
}

/// Decodes the top-level attributes of a message; unknown ones are skipped.
pub fn parse_cmd_attrs(buf: &[u8]) -> Result<Vec<CmdAttr>, DecodeError> {
    let mut out = Vec::new();
    let mut svc_af = AF_INET;
    for nla in nlas(buf) {
        let nla = nla?;
        match nla.kind() & !NLA_F_NESTED {
            CMD_ATTR_SERVICE => {
                let s = parse_service(nla.value())?;
                if let Some(SvcAttr::Af(af)) = s.iter().find(|a| matches!(a, SvcAttr::Af(_))) {
                    svc_af = *af;
                }
                out.push(CmdAttr::Service(s));
            }
            CMD_ATTR_DEST => out.push(CmdAttr::Dest(parse_dest(nla.value(), svc_af)?)),
            _ => {
                // Make sure even a skipped attribute is well-formed.
                DefaultNla::parse(&nla)?;
            }
        }
    }
    Ok(out)
}

/// Emits a nest (used by tests to build kernel-like replies).
pub fn nest_bytes<T: Nla>(kind: u16, items: &[T]) -> Vec<u8> {
    let n = Nest { kind, items };
    let mut buf = vec![0u8; n.buffer_len()];
    n.emit(&mut buf);
    buf
}
