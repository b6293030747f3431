//! Address arithmetic the rules need.

use std::net::IpAddr;

/// Whether `a` and `b` share the first `prefix` bits (false across families).
pub fn same_subnet(a: IpAddr, b: IpAddr, prefix: u8) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The prefix length of a contiguous netmask, or `None` when it has holes.
pub fn mask_prefix(mask: IpAddr) -> Option<u8> {
    let (bits, width) = match mask {
        IpAddr::V4(m) => (u128::from(u32::from(m)) << 96, 32),
        IpAddr::V6(m) => (u128::from(m), 128),
    };
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0 && ones <= width).then_some(ones as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_and_masks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(same_subnet(ip("192.0.2.2"), ip("192.0.2.200"), 24));
        assert!(!same_subnet(ip("192.0.2.2"), ip("192.0.3.2"), 24));
        assert!(same_subnet(ip("10.0.0.1"), ip("11.0.0.1"), 0));
        assert!(same_subnet(ip("2001:db8::1"), ip("2001:db8::ff"), 64));
        assert!(!same_subnet(ip("2001:db8::1"), ip("192.0.2.1"), 0));
        assert_eq!(mask_prefix(ip("255.255.255.0")), Some(24));
        assert_eq!(mask_prefix(ip("255.255.255.255")), Some(32));
        assert_eq!(mask_prefix(ip("0.0.0.0")), Some(0));
        assert_eq!(mask_prefix(ip("255.0.255.0")), None);
        assert_eq!(mask_prefix(ip("ffff:ffff:ffff:ffff::")), Some(64));
    }
}
