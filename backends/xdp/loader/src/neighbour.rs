//! Next-hop MACs from the kernel: the route to each real (its gateway, or the real itself
//! when on-link) and the neighbour table's entry for that hop, over rtnetlink.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr as InetAddr, UdpSocket};
use std::time::{Duration, Instant};

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkPayload};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{Socket, protocols::NETLINK_ROUTE};

use crate::Error;

/// How long to wait for the kernel to resolve a hop it has not met yet.
const RESOLVE_WAIT: Duration = Duration::from_secs(3);

/// Route requests sent in one datagram: thousands of reals cost a few system calls.
const BATCH: usize = 256;

/// The next hop towards each address and the interface the route leaves by, asked in
/// batches (one datagram of requests, then their answers, matched by sequence number).
fn next_hops(s: &Socket, addrs: &[IpAddr]) -> Result<Vec<(IpAddr, u32)>, Error> {
    let mut hops: Vec<(IpAddr, u32)> = addrs.iter().map(|a| (*a, 0)).collect();
    for (c, chunk) in addrs.chunks(BATCH).enumerate() {
        let base = c * BATCH;
        let mut buf = Vec::with_capacity(chunk.len() * 64);
        for (i, addr) in chunk.iter().enumerate() {
            let mut msg = RouteMessage::default();
            msg.header.address_family = if addr.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            };
            msg.header.destination_prefix_length = if addr.is_ipv4() { 32 } else { 128 };
            msg.attributes.push(RouteAttribute::Destination(match addr {
                IpAddr::V4(a) => RouteAddress::Inet(*a),
                IpAddr::V6(a) => RouteAddress::Inet6(*a),
            }));
            // Sequence numbers from 1: the answer names the request it answers.
            let seq = (base + i + 1) as u32;
            buf.extend(lvsc_netlink::encode(
                RouteNetlinkMessage::GetRoute(msg),
                NLM_F_REQUEST,
                seq,
                0,
            ));
        }
        s.send(&buf, 0)?;
        let mut answered = 0;
        lvsc_netlink::receive::<_, Error, _>(s, |seq, p: NetlinkPayload<RouteNetlinkMessage>| {
            let Some(i) = (seq as usize)
                .checked_sub(1)
                .filter(|i| (base..base + chunk.len()).contains(i))
            else {
                return Ok(false);
            };
            match p {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewRoute(r)) => {
                    for a in r.attributes {
                        match a {
                            RouteAttribute::Gateway(RouteAddress::Inet(g)) => hops[i].0 = g.into(),
                            RouteAttribute::Gateway(RouteAddress::Inet6(g)) => hops[i].0 = g.into(),
                            RouteAttribute::Oif(o) => hops[i].1 = o,
                            _ => {}
                        }
                    }
                }
                NetlinkPayload::Error(e) if e.code.is_some() => {
                    return Err(Error::NoRoute {
                        real: addrs[i],
                        source: std::io::Error::from_raw_os_error(-e.code.map_or(0, |c| c.get())),
                    });
                }
                _ => return Ok(false),
            }
            answered += 1;
            Ok(answered == chunk.len())
        })?;
    }
    Ok(hops)
}

/// Every usable neighbour entry on interface `index`.
fn neighbours(s: &Socket, index: u32) -> Result<HashMap<IpAddr, [u8; 6]>, Error> {
    let mut out = HashMap::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut msg = NeighbourMessage::default();
        msg.header.family = family;
        s.send(
            &lvsc_netlink::encode(
                RouteNetlinkMessage::GetNeighbour(msg),
                NLM_F_REQUEST | NLM_F_DUMP,
                2,
                0,
            ),
            0,
        )?;
        lvsc_netlink::receive(s, |_, p: NetlinkPayload<RouteNetlinkMessage>| {
            if let NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewNeighbour(n)) = p {
                let usable = !matches!(
                    n.header.state,
                    NeighbourState::Incomplete | NeighbourState::Failed | NeighbourState::None
                );
                if n.header.ifindex == index && usable {
                    let (mut ip, mut mac) = (None, None);
                    for a in n.attributes {
                        match a {
                            NeighbourAttribute::Destination(NeighbourAddress::Inet(a)) => {
                                ip = Some(IpAddr::V4(a));
                            }
                            NeighbourAttribute::Destination(NeighbourAddress::Inet6(a)) => {
                                ip = Some(IpAddr::V6(a));
                            }
                            NeighbourAttribute::LinkLayerAddress(l) => {
                                mac = <[u8; 6]>::try_from(l.as_slice()).ok();
                            }
                            _ => {}
                        }
                    }
                    if let (Some(ip), Some(mac)) = (ip, mac) {
                        out.insert(ip, mac);
                    }
                }
            }
            Ok::<_, Error>(false)
        })?;
    }
    Ok(out)
}

/// Makes the kernel resolve `hop`: one empty datagram to the discard port.
fn provoke(hop: IpAddr) {
    let bind: InetAddr = if hop.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    if let Ok(u) = UdpSocket::bind(bind) {
        let _ = u.send_to(&[], InetAddr::new(hop, 9));
    }
}

/// The next-hop MAC of each real as seen from `interface`. A hop the kernel has not
/// resolved yet is provoked and waited for; a real routed through another interface, or
/// a hop that stays unresolved, is an error naming it.
pub fn resolve(interface: &str, reals: &[IpAddr]) -> Result<HashMap<IpAddr, [u8; 6]>, Error> {
    let index = lvsc_netlink::if_index(interface)
        .ok_or_else(|| Error::NoInterface(interface.to_string()))?;
    let s = lvsc_netlink::connect(NETLINK_ROUTE)?;
    let mut hops = Vec::with_capacity(reals.len());
    for (&r, (hop, oif)) in reals.iter().zip(next_hops(&s, reals)?) {
        if oif != index {
            return Err(Error::OtherInterface {
                real: r,
                index: oif,
                interface: interface.to_string(),
            });
        }
        hops.push((r, hop));
    }
    let deadline = Instant::now() + RESOLVE_WAIT;
    let mut provoked = false;
    loop {
        let table = neighbours(&s, index)?;
        let missing: Vec<IpAddr> = hops
            .iter()
            .filter(|(_, h)| !table.contains_key(h))
            .map(|(_, h)| *h)
            .collect();
        if missing.is_empty() {
            return Ok(hops.iter().map(|(r, h)| (*r, table[h])).collect());
        }
        if Instant::now() > deadline {
            return Err(Error::Unresolved {
                hops: missing,
                interface: interface.to_string(),
                seconds: RESOLVE_WAIT.as_secs(),
            });
        }
        if !provoked {
            missing.iter().for_each(|h| provoke(*h));
            provoked = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
