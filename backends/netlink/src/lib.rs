//! The netlink plumbing the IPVS and XDP backends share: encoding one message, the
//! receive loop that splits datagrams into messages, and interface lookup.

use std::ffi::CString;
use std::fmt;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    NetlinkSerializable,
};
use netlink_sys::{Socket, SocketAddr};

/// A reply that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "undecodable netlink reply: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

/// A netlink socket of `protocol` (`netlink_sys::protocols::*`), bound and connected to
/// the kernel.
pub fn connect(protocol: isize) -> std::io::Result<Socket> {
    let mut socket = Socket::new(protocol)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    Ok(socket)
}

/// The receive buffer: larger than any datagram the kernel sends.
const RECV_BUFFER: usize = 1 << 16;

/// Reads messages (several may share one datagram) until `each`, given each message's
/// sequence number and payload, says it is done (returns `true`) or a dump ends.
pub fn receive<T, E, F>(socket: &Socket, mut each: F) -> Result<(), E>
where
    T: NetlinkDeserializable + fmt::Debug,
    E: From<std::io::Error> + From<DecodeError>,
    F: FnMut(u32, NetlinkPayload<T>) -> Result<bool, E>,
{
    // One system call per datagram into a buffer larger than any the kernel sends
    // (dumps fill at most 32 KiB); `recv_from_full` peeks first, two calls each.
    let mut buf: Vec<u8> = Vec::with_capacity(RECV_BUFFER);
    loop {
        buf.clear();
        let n = socket.recv(&mut buf, libc::MSG_TRUNC)?;
        if n > buf.len() {
            return Err(std::io::Error::other(format!(
                "a netlink datagram of {n} bytes does not fit {RECV_BUFFER}"
            ))
            .into());
        }
        for bytes in split(&buf) {
            let msg =
                NetlinkMessage::<T>::deserialize(bytes?).map_err(|e| DecodeError(e.to_string()))?;
            if matches!(msg.payload, NetlinkPayload::Done(_))
                || each(msg.header.sequence_number, msg.payload)?
            {
                return Ok(());
            }
        }
    }
}

/// The messages of one datagram, each as its bytes: a length that runs past the end or
/// is shorter than a header is an error, never a panic.
pub fn split(buf: &[u8]) -> impl Iterator<Item = Result<&[u8], DecodeError>> {
    let mut offset = 0;
    std::iter::from_fn(move || {
        if offset >= buf.len() {
            return None;
        }
        let bytes = &buf[offset..];
        let len = match NetlinkBuffer::new_checked(bytes) {
            Ok(b) => b.length() as usize,
            Err(e) => {
                offset = buf.len();
                return Some(Err(DecodeError(e.to_string())));
            }
        };
        if len > bytes.len() {
            offset = buf.len();
            return Some(Err(DecodeError(format!(
                "a message of {len} bytes in {} left",
                bytes.len()
            ))));
        }
        // Messages are 4-byte aligned; the last may end the datagram unaligned.
        offset += len.next_multiple_of(4).max(len);
        Some(Ok(&bytes[..len]))
    })
}

/// One message as bytes; a non-zero `message_type` overrides the payload's own (generic
/// netlink families are numbered at run time).
pub fn encode<T>(payload: T, flags: u16, seq: u32, message_type: u16) -> Vec<u8>
where
    T: NetlinkSerializable + fmt::Debug,
    NetlinkPayload<T>: From<T>,
{
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::from(payload));
    msg.finalize();
    if message_type != 0 {
        msg.header.message_type = message_type;
    }
    let mut buf = vec![0u8; msg.buffer_len()];
    msg.serialize(&mut buf);
    buf
}

/// The index of a network interface, if it exists.
pub fn if_index(interface: &str) -> Option<u32> {
    let name = CString::new(interface).ok()?;
    // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
    let i = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (i != 0).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_walks_aligned_messages_and_refuses_bad_lengths() {
        let mut buf = Vec::new();
        for len in [16u32, 18, 16] {
            let mut m = vec![0u8; len as usize];
            m[..4].copy_from_slice(&len.to_ne_bytes());
            buf.extend(&m);
            buf.resize(buf.len().next_multiple_of(4), 0);
        }
        let lens: Vec<usize> = split(&buf).map(|m| m.unwrap().len()).collect();
        assert_eq!(lens, [16, 18, 16]);
        let mut bad = buf[..16].to_vec();
        bad[..4].copy_from_slice(&400u32.to_ne_bytes());
        assert!(split(&bad).next().unwrap().is_err());
        assert!(split(&[1, 2, 3]).next().unwrap().is_err());
        assert_eq!(split(&[]).count(), 0);
    }
}
