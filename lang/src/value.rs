//! Argument values: the typed atoms of the language.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// A transport protocol written after a port (`:80/tcp`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The protocol named `word`, if any.
    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "sctp" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An address with what may follow it: `/prefix`, `:port`, `/proto` or `:/path`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// The IPv4 or IPv6 address.
    pub ip: IpAddr,
    /// Prefix length (`192.0.2.2/24`).
    pub prefix: Option<u8>,
    /// Port (`:80`).
    pub port: Option<u16>,
    /// Protocol after the port (`:80/tcp`).
    pub proto: Option<Protocol>,
    /// Remote path (`192.0.2.50:/export/www`).
    pub path: Option<String>,
}

impl Endpoint {
    /// A bare address.
    pub fn ip(ip: IpAddr) -> Self {
        Endpoint {
            ip,
            prefix: None,
            port: None,
            proto: None,
            path: None,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bracket = self.ip.is_ipv6() && (self.port.is_some() || self.path.is_some());
        if bracket {
            write!(f, "[{}]", self.ip)?;
        } else {
            write!(f, "{}", self.ip)?;
        }
        if let Some(p) = self.prefix {
            write!(f, "/{p}")?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if let Some(p) = self.proto {
            write!(f, "/{p}")?;
        }
        if let Some(p) = &self.path {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// One argument of a directive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum Value {
    /// A bare word: keyword, name or sysctl key (`wlc`, `rs1`, `net.ipv4.ip_forward`).
    Word(String),
    /// A non-negative integer.
    Number(u64),
    /// A duration in milliseconds, written `500ms`, `5s`, `2m`, `1h` or `1d`.
    Duration(u64),
    /// A double-quoted string, escapes resolved.
    Str(String),
    /// A bare path starting with `/` (`/var/www`, `//server/share`).
    Path(String),
    /// An address, possibly with prefix, port, protocol or remote path.
    Addr(Endpoint),
    /// A token the lexer rejected (already reported).
    Invalid,
}

impl Value {
    /// A short description for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Word(_) => "a word",
            Value::Number(_) => "a number",
            Value::Duration(_) => "a duration",
            Value::Str(_) => "a string",
            Value::Path(_) => "a path",
            Value::Addr(_) => "an address",
            Value::Invalid => "an invalid token",
        }
    }
}

/// `text` as a `.lvs` string literal: in double quotes, with the escapes the lexer reads
/// (`\"`, `\\`, `\n`, `\t`).
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod quote_tests {
    #[test]
    fn a_quoted_string_lexes_back_to_itself() {
        for s in [
            "plain",
            "a \"b\" c",
            "back\\slash",
            "tab\tand\nnewline",
            "é",
        ] {
            let src = format!("cluster x\nservice s {{ route {} }}\n", super::quote(s));
            let parsed = crate::parse(&src);
            let route = &parsed.ast.services[0].routes[0];
            assert_eq!(route.pattern.value, s);
        }
    }
}
