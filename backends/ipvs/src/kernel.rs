//! Talking to the kernel: the IPVS generic netlink family over a netlink socket.

use std::fmt;

use lvsc_netlink::encode;
use netlink_packet_core::{
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NetlinkDeserializable, NetlinkPayload,
};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlMessage};
use netlink_sys::{Socket, protocols::NETLINK_GENERIC};

use crate::attrs::{CmdAttr, DestAttr, SvcAttr, cmd};
use crate::changes::Step;
use crate::message::IpvsMessage;
use crate::table::{Destination, F_HASHED, Key, Table, VirtualService, fwd};

/// Requests per send: enough to amortise the system call, small enough that the acks
/// fit the socket's receive buffer.
const BATCH: usize = 256;

/// Something went wrong talking to the kernel.
#[derive(Debug)]
pub enum Error {
    /// The socket failed.
    Io(std::io::Error),
    /// The kernel has no IPVS (module not loaded, or no CONFIG_IP_VS).
    NoIpvs,
    /// The kernel refused a request.
    Refused {
        /// What was asked.
        what: String,
        /// The errno.
        errno: i32,
    },
    /// A reply could not be decoded.
    Decode(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "netlink: {e}"),
            Error::NoIpvs => write!(
                f,
                "the kernel has no IPVS (load the ip_vs module, or use --backend nftables)"
            ),
            Error::Refused { what, errno } => {
                write!(
                    f,
                    "the kernel refused `{what}`: {}",
                    std::io::Error::from_raw_os_error(*errno)
                )
            }
            Error::Decode(e) => write!(f, "undecodable netlink reply: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<lvsc_netlink::DecodeError> for Error {
    fn from(e: lvsc_netlink::DecodeError) -> Self {
        Error::Decode(e.0)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// How an apply went, step by step.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Indexes of the steps the kernel acknowledged.
    pub applied: Vec<usize>,
    /// The first refused step and why, if any; later steps were not sent.
    pub refused: Option<(usize, Error)>,
    /// Requests sent (one per step, in batches of up to 256 per system call).
    pub messages_sent: usize,
}

/// The kernel's IPVS table: read it, change it.
pub trait Kernel {
    /// The live table.
    fn dump(&mut self) -> Result<Table, Error>;
    /// Sends the steps in order; stops after the batch where one is refused.
    fn apply(&mut self, steps: &[Step]) -> Outcome;
}

/// Called after each acknowledged batch of an apply: steps done, steps in all.
pub type Progress = Box<dyn FnMut(usize, usize) + Send>;

/// IPVS over a generic netlink socket.
pub struct Netlink {
    socket: Socket,
    family: u16,
    seq: u32,
    progress: Option<Progress>,
}

impl Netlink {
    /// Reports the progress of long applies to `f` (a front end's progress bar).
    pub fn with_progress(mut self, f: Progress) -> Self {
        self.progress = Some(f);
        self
    }

    /// Opens a socket and resolves the IPVS family id.
    pub fn open() -> Result<Self, Error> {
        let socket = lvsc_netlink::connect(NETLINK_GENERIC)?;
        // Many acks arrive at once when applying big batches.
        let _ = socket.set_rx_buf_sz(8 << 20);
        let mut nl = Netlink {
            socket,
            family: 0,
            seq: 1,
            progress: None,
        };
        nl.family = nl.resolve()?;
        Ok(nl)
    }

    fn resolve(&mut self) -> Result<u16, Error> {
        let msg = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(
                IpvsMessage::family_name().to_string(),
            )],
        });
        let seq = self.next_seq();
        self.send_all(&[encode(msg, NLM_F_REQUEST | NLM_F_ACK, seq, 0)])?;
        let mut family = None;
        self.receive(
            |_, payload: NetlinkPayload<GenlMessage<GenlCtrl>>| match payload {
                NetlinkPayload::InnerMessage(m) => {
                    for a in m.payload.nlas {
                        if let GenlCtrlAttrs::FamilyId(id) = a {
                            family = Some(id);
                        }
                    }
                    Ok(false)
                }
                NetlinkPayload::Error(e) if e.code.is_some() => Err(Error::NoIpvs),
                _ => Ok(true),
            },
        )?;
        family.ok_or(Error::NoIpvs)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send_all(&self, msgs: &[Vec<u8>]) -> Result<(), Error> {
        let buf: Vec<u8> = msgs.concat();
        self.socket.send(&buf, 0)?;
        Ok(())
    }

    fn receive<T, F>(&self, each: F) -> Result<(), Error>
    where
        T: NetlinkDeserializable + fmt::Debug,
        F: FnMut(u32, NetlinkPayload<T>) -> Result<bool, Error>,
    {
        lvsc_netlink::receive(&self.socket, each)
    }

    fn dump_cmd(&mut self, command: u8, attrs: Vec<CmdAttr>) -> Result<Vec<IpvsMessage>, Error> {
        let seq = self.next_seq();
        let family = self.family;
        self.send_all(&[encode(
            GenlMessage::from_payload(IpvsMessage {
                cmd: command,
                attrs,
            }),
            NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            family,
        )])?;
        let mut out = Vec::new();
        self.receive(|_, p: NetlinkPayload<GenlMessage<IpvsMessage>>| match p {
            NetlinkPayload::InnerMessage(m) => {
                out.push(m.payload);
                Ok(false)
            }
            NetlinkPayload::Error(e) if e.code.is_some() => Err(Error::Refused {
                what: "dump".into(),
                errno: e.code.map_or(0, |c| -c.get()),
            }),
            _ => Ok(true),
        })?;
        Ok(out)
    }
}

/// Builds the service model from a dumped service nest.
pub fn service_from(attrs: &[SvcAttr]) -> Option<VirtualService> {
    let (mut af, mut proto, mut addr, mut port, mut mark) = (None, 0, None, 0, None);
    let mut vs = VirtualService {
        key: Key::Fwmark { mark: 0, af: 0 },
        scheduler: String::new(),
        flags: 0,
        timeout: 0,
        netmask: 0,
        dests: Default::default(),
    };
    for a in attrs {
        match a {
            SvcAttr::Af(x) => af = Some(*x),
            SvcAttr::Protocol(p) => proto = *p,
            SvcAttr::Addr(ip) => addr = Some(*ip),
            SvcAttr::Port(p) => port = *p,
            SvcAttr::Fwmark(m) => mark = Some(*m),
            SvcAttr::SchedName(s) => vs.scheduler = s.clone(),
            SvcAttr::Flags(f, _) => vs.flags = f & !F_HASHED,
            SvcAttr::Timeout(t) => vs.timeout = *t,
            SvcAttr::Netmask(n) => vs.netmask = *n,
        }
    }
    vs.key = match (mark.filter(|m| *m != 0), addr) {
        (Some(mark), _) => Key::Fwmark { mark, af: af? },
        (None, Some(ip)) => Key::Addr { ip, port, proto },
        _ => return None,
    };
    Some(vs)
}

/// Builds a destination from a dumped destination nest.
pub fn dest_from(attrs: &[DestAttr]) -> Option<Destination> {
    let mut d = Destination {
        addr: "0.0.0.0".parse().ok()?,
        port: 0,
        fwd: 0,
        weight: 0,
        upper: 0,
        lower: 0,
        tunnel: None,
    };
    let (mut has_addr, mut tun) = (false, (0u8, 0u16, 0u16));
    for a in attrs {
        match a {
            DestAttr::Addr(ip) => {
                d.addr = *ip;
                has_addr = true;
            }
            DestAttr::Port(p) => d.port = *p,
            DestAttr::FwdMethod(f) => d.fwd = f & 0x7,
            DestAttr::Weight(w) => d.weight = *w,
            DestAttr::UThresh(u) => d.upper = *u,
            DestAttr::LThresh(l) => d.lower = *l,
            DestAttr::TunType(t) => tun.0 = *t,
            DestAttr::TunPort(p) => tun.1 = *p,
            DestAttr::TunFlags(f) => tun.2 = *f,
            DestAttr::AddrFamily(_) => {}
        }
    }
    // Kernels report tunnel fields for every destination; they matter only for tunnels.
    d.tunnel = (d.fwd == fwd::TUNNEL).then_some(tun);
    has_addr.then_some(d)
}

fn request(step: &Step) -> (u8, Vec<CmdAttr>) {
    match step {
        Step::AddService(s) => (cmd::NEW_SERVICE, vec![CmdAttr::Service(s.attrs())]),
        Step::EditService(s) => (cmd::SET_SERVICE, vec![CmdAttr::Service(s.attrs())]),
        Step::DelService(k) => (cmd::DEL_SERVICE, vec![CmdAttr::Service(k.attrs())]),
        Step::AddDest(k, d) => (
            cmd::NEW_DEST,
            vec![CmdAttr::Service(k.attrs()), CmdAttr::Dest(d.attrs())],
        ),
        Step::EditDest(k, d) => (
            cmd::SET_DEST,
            vec![CmdAttr::Service(k.attrs()), CmdAttr::Dest(d.attrs())],
        ),
        Step::DelDest(k, d) => (
            cmd::DEL_DEST,
            vec![CmdAttr::Service(k.attrs()), CmdAttr::Dest(d.key_attrs())],
        ),
    }
}

/// The request bytes for a step (for tests and `--dry-run --verbose`).
pub fn encode_step(step: &Step, family: u16, seq: u32) -> Vec<u8> {
    let (command, attrs) = request(step);
    encode(
        GenlMessage::from_payload(IpvsMessage {
            cmd: command,
            attrs,
        }),
        NLM_F_REQUEST | NLM_F_ACK,
        seq,
        family,
    )
}

impl Kernel for Netlink {
    fn dump(&mut self) -> Result<Table, Error> {
        let mut table = Table::default();
        for m in self.dump_cmd(cmd::GET_SERVICE, vec![])? {
            for a in &m.attrs {
                if let CmdAttr::Service(s) = a
                    && let Some(vs) = service_from(s)
                {
                    table.services.insert(vs.key.clone(), vs);
                }
            }
        }
        let keys: Vec<Key> = table.services.keys().cloned().collect();
        for k in keys {
            let replies = self.dump_cmd(cmd::GET_DEST, vec![CmdAttr::Service(k.attrs())])?;
            let vs = table.services.get_mut(&k).expect("key from the table");
            for m in replies {
                for a in &m.attrs {
                    if let CmdAttr::Dest(d) = a
                        && let Some(dest) = dest_from(d)
                    {
                        vs.dests.insert((dest.addr, dest.port), dest);
                    }
                }
            }
        }
        Ok(table)
    }

    fn apply(&mut self, steps: &[Step]) -> Outcome {
        let mut out = Outcome::default();
        for (b, chunk) in steps.chunks(BATCH).enumerate() {
            let first_seq = self.seq.wrapping_add(1);
            let msgs: Vec<Vec<u8>> = chunk
                .iter()
                .map(|s| encode_step(s, self.family, self.next_seq()))
                .collect();
            if let Err(e) = self.send_all(&msgs) {
                out.refused = Some((b * BATCH, e));
                return out;
            }
            out.messages_sent += msgs.len();
            let mut acked = 0;
            let mut refused: Option<(usize, Error)> = None;
            let result = self.receive(|seq, p: NetlinkPayload<GenlMessage<IpvsMessage>>| {
                if let NetlinkPayload::Error(e) = &p {
                    let i = seq.wrapping_sub(first_seq) as usize;
                    match e.code {
                        None => out.applied.push(b * BATCH + i),
                        Some(code) if refused.is_none() => {
                            refused = Some((
                                b * BATCH + i,
                                Error::Refused {
                                    what: chunk[i].to_string(),
                                    errno: -code.get(),
                                },
                            ));
                        }
                        Some(_) => {}
                    }
                    acked += 1;
                }
                Ok(acked == chunk.len())
            });
            if let Err(e) = result {
                out.refused = Some((b * BATCH, e));
                return out;
            }
            if let Some(r) = refused {
                out.refused = Some(r);
                out.applied.sort_unstable();
                return out;
            }
            if let Some(p) = self.progress.as_mut() {
                p((b * BATCH + chunk.len()).min(steps.len()), steps.len());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::{AF_INET, AF_INET6, parse_cmd_attrs};
    use netlink_packet_core::{DefaultNla, Emitable};
    use proptest::prelude::*;

    fn svc() -> VirtualService {
        VirtualService {
            key: Key::Addr {
                ip: "192.0.2.100".parse().unwrap(),
                port: 80,
                proto: 6,
            },
            scheduler: "wlc".into(),
            flags: 0,
            timeout: 0,
            netmask: u32::MAX,
            dests: Default::default(),
        }
    }

    #[test]
    fn new_service_request_bytes() {
        let bytes = encode_step(&Step::AddService(svc()), 0x1c, 7);
        // nlmsghdr: length, type (the family id), flags REQUEST|ACK, sequence.
        assert_eq!(
            u32::from_ne_bytes(bytes[0..4].try_into().unwrap()) as usize,
            bytes.len()
        );
        assert_eq!(u16::from_ne_bytes(bytes[4..6].try_into().unwrap()), 0x1c);
        assert_eq!(
            u16::from_ne_bytes(bytes[6..8].try_into().unwrap()),
            NLM_F_REQUEST | NLM_F_ACK
        );
        assert_eq!(u32::from_ne_bytes(bytes[8..12].try_into().unwrap()), 7);
        // genlmsghdr: cmd NEW_SERVICE, version 1.
        assert_eq!(&bytes[16..18], &[cmd::NEW_SERVICE, 1]);
        // The service nest: type 1 with the nested flag.
        let nest_type = u16::from_ne_bytes(bytes[22..24].try_into().unwrap());
        assert_eq!(nest_type, 1 | netlink_packet_core::NLA_F_NESTED);
        let attrs = parse_cmd_attrs(&bytes[20..]).unwrap();
        let CmdAttr::Service(s) = &attrs[0] else {
            panic!("{attrs:?}")
        };
        assert!(s.contains(&SvcAttr::Port(80)));
        assert!(s.contains(&SvcAttr::SchedName("wlc".into())));
        // The port goes in network order: 80 = 0x0050.
        let port_at = bytes
            .windows(6)
            .position(|w| w == [6, 0, 4, 0, 0, 80])
            .expect("port attribute");
        assert!(port_at > 20);
        assert_eq!(service_from(s).unwrap(), svc());
    }

    /// A dump reply as the kernel sends it: known attributes, stats and unknown ones.
    fn kernel_reply() -> Vec<u8> {
        let mut svc_attrs: Vec<u8> = Vec::new();
        let known = svc().attrs();
        let mut b = vec![0u8; known.as_slice().buffer_len()];
        known.as_slice().emit(&mut b);
        svc_attrs.extend(b);
        // IPVS_SVC_ATTR_STATS (10, nested) and an attribute from the future (99).
        for nla in [
            DefaultNla::new(10 | netlink_packet_core::NLA_F_NESTED, vec![0; 36]),
            DefaultNla::new(99, vec![1, 2, 3]),
        ] {
            let mut b = vec![0u8; nla.buffer_len()];
            nla.emit(&mut b);
            svc_attrs.extend(b);
        }
        let nest = DefaultNla::new(1 | netlink_packet_core::NLA_F_NESTED, svc_attrs);
        let mut out = vec![0u8; nest.buffer_len()];
        nest.emit(&mut out);
        out
    }

    #[test]
    fn decoding_skips_unknown_attributes() {
        let attrs = parse_cmd_attrs(&kernel_reply()).unwrap();
        let CmdAttr::Service(s) = &attrs[0] else {
            panic!()
        };
        assert_eq!(service_from(s).unwrap(), svc());
    }

    #[test]
    fn every_truncation_is_an_error_or_a_prefix_never_a_panic() {
        let full = kernel_reply();
        for n in 0..full.len() {
            let _ = parse_cmd_attrs(&full[..n]);
        }
        assert!(parse_cmd_attrs(&full[..full.len() - 3]).is_err());
    }

    #[test]
    fn ipv6_and_fwmark_services_round_trip() {
        for key in [
            Key::Addr {
                ip: "2001:db8::100".parse().unwrap(),
                port: 443,
                proto: 6,
            },
            Key::Fwmark {
                mark: 10,
                af: AF_INET,
            },
            Key::Fwmark {
                mark: 11,
                af: AF_INET6,
            },
        ] {
            let v = VirtualService {
                key,
                netmask: 128,
                flags: 1,
                timeout: 300,
                ..svc()
            };
            let bytes = encode_step(&Step::EditService(v.clone()), 0x1c, 1);
            let attrs = parse_cmd_attrs(&bytes[20..]).unwrap();
            let CmdAttr::Service(s) = &attrs[0] else {
                panic!()
            };
            assert_eq!(service_from(s).unwrap(), v);
        }
    }

    #[test]
    fn destinations_round_trip() {
        let d = Destination {
            addr: "192.0.2.21".parse().unwrap(),
            port: 8080,
            fwd: fwd::TUNNEL,
            weight: 3,
            upper: 100,
            lower: 50,
            tunnel: Some((1, 6080, 1)),
        };
        let bytes = encode_step(&Step::AddDest(svc().key, d.clone()), 0x1c, 1);
        let attrs = parse_cmd_attrs(&bytes[20..]).unwrap();
        let CmdAttr::Dest(a) = &attrs[1] else {
            panic!("{attrs:?}")
        };
        assert_eq!(dest_from(a).unwrap(), d);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_cmd_attrs(&bytes);
            let _ = crate::attrs::parse_service(&bytes);
            let _ = crate::attrs::parse_dest(&bytes, AF_INET);
        }
    }
}
