//! The netlink decoders: a datagram split into messages, each read as IPVS generic
//! netlink (and the service and destination models built from it) and as rtnetlink.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsc_ipvs::attrs::CmdAttr;
use lvsc_ipvs::message::IpvsMessage;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_generic::GenlMessage;
use netlink_packet_route::RouteNetlinkMessage;

fuzz_target!(|data: &[u8]| {
    for bytes in lvsc_netlink::split(data) {
        let Ok(bytes) = bytes else { break };
        if let Ok(m) = NetlinkMessage::<GenlMessage<IpvsMessage>>::deserialize(bytes)
            && let NetlinkPayload::InnerMessage(g) = m.payload
        {
            for a in &g.payload.attrs {
                match a {
                    CmdAttr::Service(s) => {
                        let _ = lvsc_ipvs::kernel::service_from(s);
                    }
                    CmdAttr::Dest(d) => {
                        let _ = lvsc_ipvs::kernel::dest_from(d);
                    }
                }
            }
        }
        let _ = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes);
    }
});
