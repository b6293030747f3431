//! What each data plane makes of each feature of the language, in one table: honoured
//! exactly, approximated (and how), or refused (and why). The `dataplane` rules report
//! from it, docs/backends.md shows it (a test holds the two together), and `lvsc
//! explain` follows the same meanings.

use crate::ir::Dataplane;

/// How a data plane treats a feature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Same meaning as on IPVS.
    Exact,
    /// Honoured in part; the text says how it differs.
    Approximated(&'static str),
    /// Not possible on that data plane; the text says why and what to use instead.
    Refused(&'static str),
}

/// One feature, as written in a cluster file, and its support on each data plane.
#[derive(Clone, Copy, Debug)]
pub struct Capability {
    /// The directive or value as written (`scheduler wlc`, `persistence netmask`).
    pub feature: &'static str,
    /// On IPVS (the reference meaning).
    pub ipvs: Support,
    /// On the nftables data plane.
    pub nftables: Support,
    /// On the XDP data plane.
    pub xdp: Support,
}

impl Capability {
    /// The support on one data plane.
    pub fn on(&self, plane: Dataplane) -> Support {
        match plane {
            Dataplane::Ipvs => self.ipvs,
            Dataplane::Nftables => self.nftables,
            Dataplane::Xdp => self.xdp,
        }
    }
}

use Support::{Approximated as Approx, Exact, Refused};

const NFT_NO_COUNTS: &str = "picked at random by weight (numgen random over the Maglev slots): nftables keeps no connection counts";
const XDP_NO_COUNTS: &str =
    "Maglev hashing of the flow by weight: the XDP program keeps no connection counts";
const FWMARK: &str = "the service's VIPs are matched directly, not a mark: packets marked by other rules are not balanced";
const NO_THRESHOLDS: &str = "connection thresholds need per-real connection counts, which only IPVS keeps: remove them or use the IPVS data plane";

/// Every feature whose meaning depends on the data plane, in the order docs/backends.md
/// lists them. A feature not listed means the same everywhere.
pub const TABLE: &[Capability] = &[
    Capability {
        feature: "scheduler rr",
        ipvs: Exact,
        nftables: Exact,
        xdp: Approx("Maglev hashing of the flow, equal shares: each flow to one real, not in turn"),
    },
    Capability {
        feature: "scheduler wrr",
        ipvs: Exact,
        nftables: Exact,
        xdp: Approx("Maglev hashing of the flow by weight: each flow to one real, not in turn"),
    },
    Capability {
        feature: "scheduler lc",
        ipvs: Exact,
        nftables: Approx(NFT_NO_COUNTS),
        xdp: Approx(XDP_NO_COUNTS),
    },
    Capability {
        feature: "scheduler wlc",
        ipvs: Exact,
        nftables: Approx(NFT_NO_COUNTS),
        xdp: Approx(XDP_NO_COUNTS),
    },
    Capability {
        feature: "scheduler sed",
        ipvs: Exact,
        nftables: Approx(NFT_NO_COUNTS),
        xdp: Approx(XDP_NO_COUNTS),
    },
    Capability {
        feature: "scheduler nq",
        ipvs: Exact,
        nftables: Approx(NFT_NO_COUNTS),
        xdp: Approx(XDP_NO_COUNTS),
    },
    Capability {
        feature: "scheduler lblc",
        ipvs: Exact,
        nftables: Approx(NFT_NO_COUNTS),
        xdp: Approx(XDP_NO_COUNTS),
    },
    Capability {
        feature: "scheduler lblcr",
        ipvs: Exact,
        nftables: Approx(NFT_NO_COUNTS),
        xdp: Approx(XDP_NO_COUNTS),
    },
    Capability {
        feature: "scheduler ovf",
        ipvs: Exact,
        nftables: Approx(NFT_NO_COUNTS),
        xdp: Approx(XDP_NO_COUNTS),
    },
    Capability {
        feature: "scheduler fo",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "scheduler dh",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "scheduler sh",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "scheduler mh",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "sh-port",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "mh-port",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "sh-fallback",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "mh-fallback",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "persistence",
        ipvs: Exact,
        nftables: Approx(
            "an affinity entry per masked client lives `timeout` after the client's last new connection (IPVS: after its last connection ends)",
        ),
        xdp: Approx(
            "the masked client address is hashed: a client stays on one real while the table holds, with no timeout; a table change moves only the clients of the slots that move",
        ),
    },
    Capability {
        feature: "persistence netmask",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "ops",
        ipvs: Exact,
        nftables: Approx(
            "each UDP flow is scheduled once (connection tracking), not each datagram",
        ),
        xdp: Approx("each flow is hashed to one real, not each datagram scheduled anew"),
    },
    Capability {
        feature: "upper",
        ipvs: Exact,
        nftables: Refused(NO_THRESHOLDS),
        xdp: Refused(NO_THRESHOLDS),
    },
    Capability {
        feature: "lower",
        ipvs: Exact,
        nftables: Refused(NO_THRESHOLDS),
        xdp: Refused(NO_THRESHOLDS),
    },
    Capability {
        feature: "sorry",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "quorum",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "forward nat",
        ipvs: Exact,
        nftables: Exact,
        xdp: Refused(
            "the XDP program rewrites MACs or encapsulates, never addresses: use forward dr or tun, or the nftables data plane",
        ),
    },
    Capability {
        feature: "forward dr",
        ipvs: Exact,
        nftables: Refused(
            "nftables rewrites MACs only in the netdev family, which has no connection tracking to keep a flow on its real: use IPVS or the XDP data plane",
        ),
        xdp: Exact,
    },
    Capability {
        feature: "forward tun",
        ipvs: Exact,
        nftables: Refused("nftables cannot encapsulate: use IPVS or the XDP data plane"),
        xdp: Exact,
    },
    Capability {
        feature: "tun ipip",
        ipvs: Exact,
        nftables: Refused("nftables cannot encapsulate: use IPVS or the XDP data plane"),
        xdp: Exact,
    },
    Capability {
        feature: "tun gue",
        ipvs: Exact,
        nftables: Refused("nftables cannot encapsulate: use IPVS or the XDP data plane"),
        xdp: Refused(
            "the XDP program encapsulates in IPIP (IPv6-in-IPv6) only: use tun ipip or IPVS",
        ),
    },
    Capability {
        feature: "tun gre",
        ipvs: Exact,
        nftables: Refused("nftables cannot encapsulate: use IPVS or the XDP data plane"),
        xdp: Refused(
            "the XDP program encapsulates in IPIP (IPv6-in-IPv6) only: use tun ipip or IPVS",
        ),
    },
    Capability {
        feature: "IPv6",
        ipvs: Exact,
        nftables: Exact,
        xdp: Exact,
    },
    Capability {
        feature: "fwmark",
        ipvs: Exact,
        nftables: Approx(FWMARK),
        xdp: Approx(FWMARK),
    },
    Capability {
        feature: "sctp",
        ipvs: Exact,
        nftables: Exact,
        xdp: Approx("hashed by addresses only: the program does not read SCTP ports"),
    },
];

/// The row of a feature, when its meaning depends on the data plane.
pub fn lookup(feature: &str) -> Option<&'static Capability> {
    TABLE.iter().find(|c| c.feature == feature)
}

/// The table as Markdown, as docs/backends.md shows it.
pub fn markdown() -> String {
    let cell = |s: Support| match s {
        Exact => "exact".to_string(),
        Approx(how) => format!("approximated: {how}"),
        Refused(why) => format!("refused: {why}"),
    };
    let mut out = String::from("| feature | IPVS | nftables | XDP |\n|---|---|---|---|\n");
    for c in TABLE {
        out += &format!(
            "| `{}` | {} | {} | {} |\n",
            c.feature,
            cell(c.ipvs),
            cell(c.nftables),
            cell(c.xdp)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheduler_has_a_row_and_ipvs_is_the_reference() {
        for (name, flags) in crate::ctx::SCHEDULERS {
            assert!(lookup(&format!("scheduler {name}")).is_some(), "{name}");
            for f in *flags {
                assert!(lookup(f).is_some(), "{f}");
            }
        }
        assert!(TABLE.iter().all(|c| c.ipvs == Exact));
    }

    /// docs/backends.md shows this table as it is here; regenerate it from `markdown()`.
    #[test]
    fn the_documented_table_is_this_table() {
        let doc = include_str!("../../docs/backends.md");
        assert!(
            doc.contains(&markdown()),
            "docs/backends.md does not show the capability table of compiler/src/capability.rs; paste this in:\n{}",
            markdown()
        );
    }
}
