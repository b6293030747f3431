//! What kind of interface the program goes on, over rtnetlink: the attach mode depends
//! on it.

use netlink_packet_core::{NLM_F_REQUEST, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

use crate::Error;

/// Whether the interface is a veth. Native XDP on a veth sends `XDP_TX` frames only
/// when its peer runs an XDP program too, so generic mode is the one that works there.
pub fn is_veth(index: u32) -> Result<bool, Error> {
    let s = lvsc_netlink::connect(NETLINK_ROUTE)?;
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    s.send(
        &lvsc_netlink::encode(RouteNetlinkMessage::GetLink(msg), NLM_F_REQUEST, 1, 0),
        0,
    )?;
    let mut veth = false;
    lvsc_netlink::receive::<_, Error, _>(
        &s,
        |_, p: NetlinkPayload<RouteNetlinkMessage>| match p {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(l)) => {
                veth = l.attributes.iter().any(|a| {
                    matches!(a, LinkAttribute::LinkInfo(infos)
                        if infos.iter().any(|i| matches!(i, LinkInfo::Kind(InfoKind::Veth))))
                });
                Ok(true)
            }
            NetlinkPayload::Error(e) if e.code.is_some() => Err(Error::Interface {
                index,
                source: std::io::Error::from_raw_os_error(-e.code.map_or(0, |c| c.get())),
            }),
            _ => Ok(false),
        },
    )?;
    Ok(veth)
}
