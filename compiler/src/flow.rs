//! One client flow, as `lvsc explain` takes it (`SRC:PORT->VIP:PORT/PROTO`), the service
//! it reaches, and what a data plane decides for it. Each backend explains its own
//! decision; this is what they share.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use crate::ir::{Protocol, Service, ServiceKey};

/// A client's flow to a VIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// Client address.
    pub src: IpAddr,
    /// Client port.
    pub sport: u16,
    /// VIP.
    pub dst: IpAddr,
    /// VIP port.
    pub dport: u16,
    /// Protocol.
    pub proto: Protocol,
}

impl Flow {
    /// The IP protocol number.
    pub fn proto_number(&self) -> u8 {
        match self.proto {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// The service the flow reaches: the one with this VIP, port and protocol (a
    /// firewall-mark service: this VIP and protocol, on the VIP's port).
    pub fn service<'a>(&self, services: &'a [Service]) -> Option<&'a Service> {
        services.iter().find(|s| {
            let by_key = match s.key {
                ServiceKey::Addr { ip, port, proto } => {
                    ip == self.dst && port == self.dport && proto == self.proto
                }
                ServiceKey::Fwmark { .. } => false,
            };
            by_key
                || s.vips
                    .iter()
                    .any(|v| v.ip == self.dst && v.port == self.dport && v.proto == self.proto)
        })
    }
}

impl std::fmt::Display for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}->{}/{}",
            SocketAddr::new(self.src, self.sport),
            SocketAddr::new(self.dst, self.dport),
            self.proto
        )
    }
}

impl FromStr for Flow {
    type Err = String;

    /// `198.51.100.7:40000->203.0.113.80:80/tcp`; IPv6 in brackets.
    fn from_str(text: &str) -> Result<Flow, String> {
        let form =
            "expected SRC:PORT->VIP:PORT/PROTO, e.g. 198.51.100.7:40000->203.0.113.80:80/tcp";
        let (src, rest) = text.split_once("->").ok_or(form)?;
        let (dst, proto) = rest.rsplit_once('/').ok_or(form)?;
        let src: SocketAddr = src
            .trim()
            .parse()
            .map_err(|_| format!("client `{src}`: {form}"))?;
        let dst: SocketAddr = dst
            .trim()
            .parse()
            .map_err(|_| format!("VIP `{dst}`: {form}"))?;
        let proto = Protocol::from_word(proto.trim())
            .ok_or_else(|| format!("protocol `{proto}`: tcp, udp or sctp"))?;
        if src.is_ipv4() != dst.is_ipv4() {
            return Err("the client and the VIP are of different address families".into());
        }
        Ok(Flow {
            src: src.ip(),
            sport: src.port(),
            dst: dst.ip(),
            dport: dst.port(),
            proto,
        })
    }
}

/// What a data plane does with a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pick {
    /// The real (an index into the service's reals), when the flow alone decides it.
    pub real: Option<usize>,
    /// How it was decided, or why the flow alone does not decide it.
    pub why: String,
}

impl Pick {
    /// The flow decides: real `i`, because `why`.
    pub fn real(i: usize, why: impl Into<String>) -> Pick {
        Pick {
            real: Some(i),
            why: why.into(),
        }
    }

    /// The flow alone does not decide (state, order or chance does).
    pub fn undetermined(why: impl Into<String>) -> Pick {
        Pick {
            real: None,
            why: why.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_parse_in_both_families() {
        let f: Flow = "198.51.100.7:40000->203.0.113.80:80/tcp".parse().unwrap();
        assert_eq!(f.sport, 40000);
        assert_eq!(f.proto_number(), 6);
        assert_eq!(f.to_string(), "198.51.100.7:40000->203.0.113.80:80/tcp");
        let f: Flow = "[2001:db8::7]:5000->[2001:db8::80]:53/udp".parse().unwrap();
        assert!(f.dst.is_ipv6());
        assert!("1.2.3.4:1->[::1]:2/tcp".parse::<Flow>().is_err());
        assert!("1.2.3.4:1->5.6.7.8:2/icmp".parse::<Flow>().is_err());
        assert!("1.2.3.4->5.6.7.8:2/tcp".parse::<Flow>().is_err());
    }
}
