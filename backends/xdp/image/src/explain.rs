//! Which real the XDP data plane sends a flow to: the program's own flow hash (the shared
//! `lvsc_xdp_common::service_flow`) over what the service hashes, modulo its table size,
//! then the service's Maglev table.

use lvsc_compiler::flow::{Flow, Pick};
use lvsc_compiler::ir::Service;
use lvsc_xdp_common::{HASH_CLIENT, HASH_DEST, addr_words, service_flow};

use crate::image::hashing;

/// A service's Maglev table as indexes into its reals, built as the image builds it
/// (`None` when no real has weight). Build it once per service for many flows.
pub fn table(s: &Service) -> Option<Vec<u32>> {
    let names: Vec<(&str, u32)> = s
        .reals
        .iter()
        .zip(s.table_weights())
        .map(|(r, w)| (r.name.as_str(), w))
        .collect();
    lvsc_maglev::table(&names, s.table_size)
}

/// Which real the XDP program sends flow `f` of service `s` to, and why; `table` is
/// [`table`] of `s`.
pub fn pick(s: &Service, table: Option<&[u32]>, f: &Flow) -> Pick {
    let Some(table) = table else {
        return Pick::undetermined("no real has weight: the packet passes to the kernel");
    };
    let (mode, host_bits) = hashing(s);
    let sctp = f.proto_number() == 132;
    let (sport, dport) = if sctp { (0, 0) } else { (f.sport, f.dport) };
    let h = service_flow(
        mode,
        host_bits,
        if f.src.is_ipv4() { 4 } else { 6 },
        &addr_words(f.src),
        &addr_words(f.dst),
        sport,
        dport,
        f.proto_number(),
    );
    let slot = h % s.table_size;
    let what = match (mode, host_bits) {
        (HASH_DEST, _) => "the destination address".to_string(),
        (HASH_CLIENT, 0) => "the client address".to_string(),
        (HASH_CLIENT, bits) => format!(
            "the client network (/{})",
            if f.src.is_ipv4() { 32 } else { 128 } - u32::from(bits)
        ),
        _ if sctp => "the addresses (SCTP ports are not read)".to_string(),
        _ => "addresses, ports and protocol".to_string(),
    };
    Pick::real(
        table[slot as usize] as usize,
        format!(
            "flow hash of {what} = {h:#010x}, slot {slot} of {}",
            s.table_size
        ),
    )
}
