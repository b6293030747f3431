//! The IPVS table as a director holds it: the model both the compiler's desired state
//! and the kernel's live state are expressed in, so they compare directly.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use lvsc_compiler::ir::{ForwardMethod, Protocol, Service, ServiceKey, TunnelType};

use crate::attrs::{AF_INET, AF_INET6, DestAttr, SvcAttr};

/// `IP_VS_SVC_F_PERSISTENT`.
pub const F_PERSISTENT: u32 = 0x1;
/// `IP_VS_SVC_F_HASHED`: kernel bookkeeping, never compared.
pub const F_HASHED: u32 = 0x2;
/// `IP_VS_SVC_F_ONEPACKET`.
pub const F_ONEPACKET: u32 = 0x4;
/// `IP_VS_SVC_F_SCHED1`: sh-fallback / mh-fallback.
pub const F_SCHED1: u32 = 0x8;
/// `IP_VS_SVC_F_SCHED2`: sh-port / mh-port.
pub const F_SCHED2: u32 = 0x10;

/// Forwarding methods (`IP_VS_CONN_F_*`).
pub mod fwd {
    /// Masquerading (NAT).
    pub const MASQ: u32 = 0;
    /// Tunnelling.
    pub const TUNNEL: u32 = 2;
    /// Direct routing.
    pub const DROUTE: u32 = 3;
}

/// How IPVS identifies a service.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// Address, port and IP protocol number.
    Addr {
        /// Virtual address.
        ip: IpAddr,
        /// Virtual port.
        port: u16,
        /// 6 TCP, 17 UDP, 132 SCTP.
        proto: u16,
    },
    /// Firewall mark and address family.
    Fwmark {
        /// The mark.
        mark: u32,
        /// `AF_INET` or `AF_INET6`.
        af: u16,
    },
}

impl Key {
    /// The address family.
    pub fn af(&self) -> u16 {
        match self {
            Key::Addr { ip, .. } if ip.is_ipv6() => AF_INET6,
            Key::Addr { .. } => AF_INET,
            Key::Fwmark { af, .. } => *af,
        }
    }

    /// The attributes that name the service in a request.
    pub fn attrs(&self) -> Vec<SvcAttr> {
        match self {
            Key::Addr { ip, port, proto } => {
                vec![
                    SvcAttr::Af(self.af()),
                    SvcAttr::Protocol(*proto),
                    SvcAttr::Addr(*ip),
                    SvcAttr::Port(*port),
                ]
            }
            Key::Fwmark { mark, af } => vec![SvcAttr::Af(*af), SvcAttr::Fwmark(*mark)],
        }
    }
}

/// `-t 192.0.2.100:80`, `-u [2001:db8::1]:53`, `-f 10`: as ipvsadm names services.
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Addr { ip, port, proto } => {
                let flag = match proto {
                    17 => "-u",
                    132 => "--sctp-service",
                    _ => "-t",
                };
                write!(f, "{flag} {}", std::net::SocketAddr::new(*ip, *port))
            }
            Key::Fwmark { mark, af } if *af == AF_INET6 => write!(f, "-f {mark} -6"),
            Key::Fwmark { mark, .. } => write!(f, "-f {mark}"),
        }
    }
}

/// A virtual service and its destinations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VirtualService {
    /// Identity.
    pub key: Key,
    /// Scheduler name.
    pub scheduler: String,
    /// `IP_VS_SVC_F_*` flags, without `HASHED`.
    pub flags: u32,
    /// Persistence timeout in seconds (0 when not persistent).
    pub timeout: u32,
    /// Persistence netmask as IPVS stores it (raw mask bytes for IPv4, prefix for IPv6).
    pub netmask: u32,
    /// Destinations by address and port.
    pub dests: BTreeMap<(IpAddr, u16), Destination>,
}

/// A real server of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// `fwd::*`.
    pub fwd: u32,
    /// Weight.
    pub weight: u32,
    /// Upper threshold.
    pub upper: u32,
    /// Lower threshold.
    pub lower: u32,
    /// Tunnel type, port and flags for tunnelling destinations.
    pub tunnel: Option<(u8, u16, u16)>,
}

impl Destination {
    /// Attributes for NEW_DEST / SET_DEST.
    pub fn attrs(&self) -> Vec<DestAttr> {
        let mut a = vec![
            DestAttr::Addr(self.addr),
            DestAttr::Port(self.port),
            DestAttr::FwdMethod(self.fwd),
            DestAttr::Weight(self.weight),
            DestAttr::UThresh(self.upper),
            DestAttr::LThresh(self.lower),
            DestAttr::AddrFamily(if self.addr.is_ipv6() {
                AF_INET6
            } else {
                AF_INET
            }),
        ];
        // Only kernels with tunnel types know these; plain IPIP needs none of them.
        if let Some((t, p, fl)) = self.tunnel.filter(|t| *t != (0, 0, 0)) {
            a.extend([
                DestAttr::TunType(t),
                DestAttr::TunPort(p),
                DestAttr::TunFlags(fl),
            ]);
        }
        a
    }

    /// Attributes that name the destination for DEL_DEST.
    pub fn key_attrs(&self) -> Vec<DestAttr> {
        vec![DestAttr::Addr(self.addr), DestAttr::Port(self.port)]
    }
}

impl VirtualService {
    /// Attributes for NEW_SERVICE / SET_SERVICE (the kernel wants every one of them).
    pub fn attrs(&self) -> Vec<SvcAttr> {
        let mut a = self.key.attrs();
        a.extend([
            SvcAttr::SchedName(self.scheduler.clone()),
            SvcAttr::Flags(self.flags, u32::MAX),
            SvcAttr::Timeout(self.timeout),
            SvcAttr::Netmask(self.netmask),
        ]);
        a
    }

    /// The service's own settings are equal (destinations aside).
    pub fn same_settings(&self, other: &VirtualService) -> bool {
        (
            &self.key,
            &self.scheduler,
            self.flags,
            self.timeout,
            self.netmask,
        ) == (
            &other.key,
            &other.scheduler,
            other.flags,
            other.timeout,
            other.netmask,
        )
    }
}

/// Every service of one director.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Services by key.
    pub services: BTreeMap<Key, VirtualService>,
}

/// The default persistence netmask IPVS keeps for a family (a host mask).
pub fn host_netmask(af: u16) -> u32 {
    if af == AF_INET6 {
        128
    } else {
        u32::from_ne_bytes([255; 4])
    }
}

fn netmask(prefix: u8, af: u16) -> u32 {
    if af == AF_INET6 {
        return u32::from(prefix);
    }
    let bits = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    u32::from_ne_bytes(bits.to_be_bytes())
}

/// The table a director must hold for the compiler's services.
pub fn desired(services: &[Service]) -> Table {
    let mut t = Table::default();
    for s in services {
        let key = match &s.key {
            ServiceKey::Addr { ip, port, proto } => Key::Addr {
                ip: *ip,
                port: *port,
                proto: match proto {
                    Protocol::Tcp => 6,
                    Protocol::Udp => 17,
                    Protocol::Sctp => 132,
                },
            },
            ServiceKey::Fwmark { mark, ipv6 } => Key::Fwmark {
                mark: *mark,
                af: if *ipv6 { AF_INET6 } else { AF_INET },
            },
        };
        let af = key.af();
        let mut flags = 0;
        if s.persistence.is_some() {
            flags |= F_PERSISTENT;
        }
        if s.ops {
            flags |= F_ONEPACKET;
        }
        for f in &s.scheduler.flags {
            flags |= if f.ends_with("fallback") {
                F_SCHED1
            } else {
                F_SCHED2
            };
        }
        let (fwd, tunnel) = match s.forward.method {
            ForwardMethod::Nat => (fwd::MASQ, None),
            ForwardMethod::Dr => (fwd::DROUTE, None),
            ForwardMethod::Tun => {
                let t = match s.forward.tunnel.unwrap_or(TunnelType::Ipip) {
                    TunnelType::Ipip => 0,
                    TunnelType::Gue => 1,
                    TunnelType::Gre => 2,
                };
                let csum = if s.forward.tunnel_csum { 1 } else { 0 };
                (
                    fwd::TUNNEL,
                    Some((t, s.forward.tunnel_port.unwrap_or(0), csum)),
                )
            }
        };
        let dests = s
            .reals
            .iter()
            .map(|r| {
                let d = Destination {
                    addr: r.ip,
                    port: r.port,
                    fwd,
                    weight: r.weight,
                    upper: r.upper,
                    lower: r.lower,
                    tunnel,
                };
                ((r.ip, r.port), d)
            })
            .collect();
        let vs = VirtualService {
            key: key.clone(),
            scheduler: s.scheduler.name.clone(),
            flags,
            timeout: s.persistence.as_ref().map_or(0, |p| p.timeout_s),
            netmask: s
                .persistence
                .as_ref()
                .map_or(host_netmask(af), |p| netmask(p.prefix, af)),
            dests,
        };
        t.services.insert(key, vs);
    }
    t
}
