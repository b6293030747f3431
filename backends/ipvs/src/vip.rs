//! The addresses a director must hold (its VIPs), added over rtnetlink.

use lvsc_compiler::ir::InterfaceAddress;
use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkPayload};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use crate::kernel::Error;

fn index(interface: &str) -> Result<u32, Error> {
    lvsc_netlink::if_index(interface).ok_or_else(|| Error::Refused {
        what: format!("find interface {interface}"),
        errno: libc::ENODEV,
    })
}

/// Adds each address to its interface (replacing an identical one, so it is idempotent),
/// many requests per send, checking every acknowledgement.
pub fn hold(addrs: &[InterfaceAddress]) -> Result<(), Error> {
    let socket = lvsc_netlink::connect(NETLINK_ROUTE)?;
    let _ = socket.set_rx_buf_sz(8 << 20);
    let mut seq = 0u32;
    for chunk in addrs.chunks(256) {
        let mut buf = Vec::new();
        for a in chunk {
            seq += 1;
            buf.extend(request(a, seq)?);
        }
        socket.send(&buf, 0)?;
        let mut acked = 0;
        lvsc_netlink::receive(&socket, |seq, p: NetlinkPayload<RouteNetlinkMessage>| {
            let NetlinkPayload::Error(e) = p else {
                return Ok(false);
            };
            acked += 1;
            if let Some(code) = e.code {
                let a = &addrs[(seq as usize).saturating_sub(1).min(addrs.len() - 1)];
                return Err(Error::Refused {
                    what: format!("add {}/{} to {}", a.addr, a.prefix, a.interface),
                    errno: -code.get(),
                });
            }
            Ok(acked == chunk.len())
        })?;
    }
    Ok(())
}

/// Removes each address from its interface; one that is not there is already removed.
pub fn release(addrs: &[InterfaceAddress]) -> Result<(), Error> {
    let socket = lvsc_netlink::connect(NETLINK_ROUTE)?;
    for (i, a) in addrs.iter().enumerate() {
        let seq = i as u32 + 1;
        let mut msg = message(a)?;
        msg.header.index = index(&a.interface)?;
        socket.send(
            &lvsc_netlink::encode(
                RouteNetlinkMessage::DelAddress(msg),
                NLM_F_REQUEST | NLM_F_ACK,
                seq,
                0,
            ),
            0,
        )?;
        lvsc_netlink::receive(&socket, |_, p: NetlinkPayload<RouteNetlinkMessage>| {
            let NetlinkPayload::Error(e) = p else {
                return Ok(false);
            };
            match e.code.map(|c| -c.get()) {
                None | Some(libc::EADDRNOTAVAIL | libc::ENOENT) => Ok(true),
                Some(errno) => Err(Error::Refused {
                    what: format!("remove {}/{} from {}", a.addr, a.prefix, a.interface),
                    errno,
                }),
            }
        })?;
    }
    Ok(())
}

/// The address message for `a`, without its interface index.
fn message(a: &InterfaceAddress) -> Result<AddressMessage, Error> {
    let mut msg = AddressMessage::default();
    msg.header.family = if a.addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    msg.header.prefix_len = a.prefix;
    msg.attributes.push(AddressAttribute::Local(a.addr));
    if a.addr.is_ipv4() {
        msg.attributes.push(AddressAttribute::Address(a.addr));
    }
    Ok(msg)
}

fn request(a: &InterfaceAddress, seq: u32) -> Result<Vec<u8>, Error> {
    let mut msg = message(a)?;
    msg.header.index = index(&a.interface)?;
    Ok(lvsc_netlink::encode(
        RouteNetlinkMessage::NewAddress(msg),
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
        seq,
        0,
    ))
}
