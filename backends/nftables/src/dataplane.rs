//! The nftables data plane: the whole load balancer as one ruleset, for kernels without
//! IPVS. Each service has a named map from slot to real, filled from a weighted Maglev
//! table, and one rule per VIP that picks a slot (by hash or in turn) and DNATs through
//! the map. A changed weight or a real taken out by a check rewrites only the slots that
//! move, as element updates in one transaction; the rules stay.
//!
//! Persistence, the way kube-proxy's nftables mode does session affinity: one dynamic
//! set per real of the clients' networks (the address with the netmask applied) it
//! serves, each entry with the persistence timeout. A client whose network is in a set
//! goes to that real; a new one is hashed by its network and, once NATed, added to the
//! set of the real it got. A weight change or an added real moves no client that has an
//! entry; a real taken out has its set flushed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use lvsc_compiler::ir::{ForwardMethod, Real, Service};
use lvsc_compiler::views::DirectorView;

use crate::ruleset::{
    Chain, DATAPLANE_TABLE, MapModel, Model, Refusal, SetModel, comment, family, render, vip_match,
};

/// The fixed seed of every hash the data plane computes, so that every director (and
/// `lvsc explain`) picks the same slot for a flow.
pub const HASH_SEED: u32 = 0x6c76_7363;

/// The name a backend has in a slot table when it is the service's sorry server (no
/// real can have it: names are words).
pub const SORRY: &str = "(sorry)";

/// Slots of a service's table: a prime about 16 per backend (reals and the sorry
/// server), from 61 to 4093, so that shares follow weights closely and a map stays small.
pub fn slot_count(s: &Service) -> u32 {
    let backends =
        s.reals.iter().filter(|r| r.name != SORRY).count() + usize::from(s.sorry.is_some());
    let want = (16 * backends as u32).clamp(61, 4093);
    (want..).find(|n| lvsc_maglev::is_prime(*n)).unwrap_or(4093)
}

/// The map of a service: `svc_` and its name in letters, digits and `_`, with a hash of
/// the name so that `a-b` and `a_b` stay apart.
pub fn map_name(s: &Service) -> String {
    let plain: String = s
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let h = lvsc_maglev::fnv1a(s.name.as_bytes(), 0) as u32;
    format!("svc_{plain}_{h:08x}")
}

/// What a real is in a map: `addr . port`, or the address alone for a firewall-mark
/// service whose reals keep the client's port.
fn target(r: &Real) -> String {
    if r.port == 0 {
        r.ip.to_string()
    } else {
        format!("{} . {}", r.ip, r.port)
    }
}

/// The slot table of a service: slot → the real's `addr . port`, for the reals with
/// weight (empty when none has any).
pub fn slots(s: &Service) -> BTreeMap<u32, String> {
    let Some(table) = slot_reals(s) else {
        return BTreeMap::new();
    };
    table
        .iter()
        .enumerate()
        .map(|(slot, &i)| (slot as u32, target(&s.reals[i as usize])))
        .collect()
}

/// The slot table of a service as indexes into its reals (`None` when no real has
/// weight).
pub fn slot_reals(s: &Service) -> Option<Vec<u32>> {
    let names: Vec<(&str, u32)> = s
        .reals
        .iter()
        .zip(s.table_weights())
        .map(|(r, w)| (r.name.as_str(), w))
        .collect();
    lvsc_maglev::table(&names, slot_count(s))
}

/// How a service picks a slot. rr and wrr take the slots in turn; the hashing schedulers
/// hash what IPVS would (the client for sh/mh, the destination for dh, the client with
/// persistence); the schedulers that count connections, which nftables cannot, pick at
/// random by weight.
pub fn selector(s: &Service) -> String {
    let m = slot_count(s);
    let v6 = s.is_ipv6();
    let saddr = if v6 { "ip6 saddr" } else { "ip saddr" };
    let daddr = if v6 { "ip6 daddr" } else { "ip daddr" };
    let proto = s
        .vips
        .first()
        .map_or("tcp".to_string(), |v| v.proto.to_string());
    let hash_port = s.scheduler.flags.iter().any(|f| f.ends_with("-port"));
    let seed = format!("seed 0x{HASH_SEED:08x}");
    match s.scheduler.name.as_str() {
        _ if s.persistence.is_some() => format!("jhash {} mod {m} {seed}", client(s)),
        "rr" | "wrr" | "fo" => format!("numgen inc mod {m}"),
        "dh" => format!("jhash {daddr} mod {m} {seed}"),
        "sh" | "mh" if hash_port => format!("jhash {saddr} . {proto} sport mod {m} {seed}"),
        "sh" | "mh" => format!("jhash {saddr} mod {m} {seed}"),
        _ => format!("numgen random mod {m}"),
    }
}

/// What a persistent service keys its clients by: the source address, with the
/// persistence netmask applied when it is narrower than the address.
pub fn client(s: &Service) -> String {
    let v6 = s.is_ipv6();
    let saddr = if v6 { "ip6 saddr" } else { "ip saddr" };
    let bits = if v6 { 128 } else { 32 };
    match s.persistence.as_ref().map(|p| p.prefix) {
        Some(p) if p < bits => {
            let mask = if v6 {
                std::net::Ipv6Addr::from(u128::MAX.checked_shl(u32::from(128 - p)).unwrap_or(0))
                    .to_string()
            } else {
                std::net::Ipv4Addr::from(u32::MAX.checked_shl(u32::from(32 - p)).unwrap_or(0))
                    .to_string()
            };
            format!("{saddr} & {mask}")
        }
        _ => saddr.to_string(),
    }
}

/// The affinity set of a persistent service's `i`th real.
pub fn affinity_set(s: &Service, i: usize) -> String {
    format!("{}_a{i}", map_name(s))
}

/// `ip to 10.0.0.1:80`: a DNAT straight to one real.
fn dnat_to(r: &Real) -> String {
    match (r.ip, r.port) {
        (IpAddr::V4(a), 0) => format!("ip to {a}"),
        (IpAddr::V6(a), 0) => format!("ip6 to {a}"),
        (IpAddr::V4(a), p) => format!("ip to {a}:{p}"),
        (IpAddr::V6(a), p) => format!("ip6 to [{a}]:{p}"),
    }
}

/// A persistent service's affinity sets: one per real, of client networks.
fn affinity_sets(s: &Service) -> Vec<SetModel> {
    let Some(p) = &s.persistence else {
        return Vec::new();
    };
    let typeof_ = if s.is_ipv6() { "ip6 saddr" } else { "ip saddr" };
    (0..s.reals.len())
        .map(|i| SetModel {
            name: affinity_set(s, i),
            typeof_: typeof_.into(),
            timeout: format!("{}s", p.timeout_s.max(1)),
        })
        .collect()
}

/// The rules a persistent service adds in postrouting, where the real is known: each
/// new connection to a VIP of the service refreshes its client's entry in the set of the
/// real it was NATed to.
fn affinity_learning(s: &Service) -> Vec<String> {
    if s.persistence.is_none() {
        return Vec::new();
    }
    let Some(first) = s.vips.first() else {
        return Vec::new();
    };
    let fam = family(first.ip);
    let vips: Vec<String> = s.vips.iter().map(|v| v.ip.to_string()).collect();
    let key = client(s);
    s.reals
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let port = if r.port == 0 {
                String::new()
            } else {
                format!(" {} dport {}", first.proto, r.port)
            };
            format!(
                "ct original {fam} daddr {{ {} }} {fam} daddr {}{port} update @{} {{ {key} }} {}",
                vips.join(", "),
                r.ip,
                affinity_set(s, i),
                comment(s)
            )
        })
        .collect()
}

/// The map's `typeof`: a slot number to an address and port (or an address alone).
fn map_type(s: &Service) -> String {
    let daddr = if s.is_ipv6() { "ip6 daddr" } else { "ip daddr" };
    let with_port = s.reals.iter().any(|r| r.port != 0);
    // The port's type must be the service's protocol's: nft refuses `tcp dport` in a rule
    // that matched `udp`.
    let proto = s
        .vips
        .first()
        .map_or("tcp".to_string(), |v| v.proto.to_string());
    let value = if with_port {
        format!("{daddr} . {proto} dport")
    } else {
        daddr.to_string()
    };
    format!("numgen inc mod 2 : {value}")
}

/// The rules of a service: per VIP, DNAT through its map, and a drop for when the map
/// has no real (a lookup that finds nothing does not match).
fn rules(s: &Service) -> Vec<String> {
    let map = map_name(s);
    let with_port = s.reals.iter().any(|r| r.port != 0);
    let target = if with_port { "addr . port to" } else { "to" };
    let how = selector(s);
    let mut out = Vec::new();
    for v in &s.vips {
        if s.persistence.is_some() {
            let key = client(s);
            for (i, r) in s.reals.iter().enumerate() {
                let set = affinity_set(s, i);
                out.push(format!(
                    "{} {key} @{set} update @{set} {{ {key} }} dnat {} {}",
                    vip_match(v),
                    dnat_to(r),
                    comment(s)
                ));
            }
        }
        out.push(format!(
            "{} dnat {} {target} {how} map @{map} {}",
            vip_match(v),
            family(v.ip),
            comment(s)
        ));
        out.push(format!(
            "{} counter drop comment \"{}: no real\"",
            vip_match(v),
            s.name
        ));
    }
    out
}

/// The services the nftables data plane can carry; each other one refused with why.
fn carried(d: &DirectorView) -> Result<Vec<&Service>, Vec<Refusal>> {
    let mut refusals = Vec::new();
    for s in d.services.iter() {
        if s.forward.method != ForwardMethod::Nat {
            refusals.push(Refusal {
                service: s.name.clone(),
                reason: format!(
                    "the nftables data plane forwards by NAT only; {} needs IPVS or the XDP data plane",
                    if s.forward.method == ForwardMethod::Dr {
                        "direct routing"
                    } else {
                        "IP tunnelling"
                    }
                ),
            });
        }
    }
    if refusals.is_empty() {
        Ok(d.services.iter().collect())
    } else {
        Err(refusals)
    }
}

/// The whole load balancer as one nftables ruleset (NAT services only); the services
/// it cannot carry are refused, each with its reason.
pub fn dataplane(cluster: &str, d: &DirectorView) -> Result<String, Vec<Refusal>> {
    let services = carried(d)?;
    let mut maps = Vec::new();
    let mut sets = Vec::new();
    let mut pre = Vec::new();
    let mut post = Vec::new();
    for s in services {
        sets.extend(affinity_sets(s));
        post.extend(affinity_learning(s));
        maps.push(MapModel {
            name: map_name(s),
            typeof_: map_type(s),
            elements: slots(s)
                .iter()
                .map(|(slot, to)| format!("{slot} : {to}"))
                .collect(),
        });
        pre.extend(rules(s));
    }
    let mut chains = vec![
        Chain {
            name: "prerouting",
            hook: "type nat hook prerouting priority dstnat; policy accept;",
            rules: pre,
        },
        Chain {
            name: "forward",
            hook: "type filter hook forward priority filter; policy accept;",
            rules: vec!["ct state established,related accept".into()],
        },
    ];
    if !post.is_empty() {
        chains.push(Chain {
            name: "postrouting",
            hook: "type nat hook postrouting priority srcnat; policy accept;",
            rules: post,
        });
    }
    Ok(render(&Model {
        title: "nftables data plane",
        table: DATAPLANE_TABLE,
        cluster,
        host: &d.name,
        sets,
        maps,
        chains,
        mark: Some(shape_mark(d)),
    }))
}

/// The shape of the data plane without its elements: the maps and the rules. Two
/// configurations of one shape differ by map elements only.
pub fn shape(d: &DirectorView) -> Vec<String> {
    let mut out = Vec::new();
    for s in d.services.iter() {
        out.push(format!("map {} {}", map_name(s), map_type(s)));
        out.extend(
            affinity_sets(s)
                .iter()
                .map(|a| format!("set {} {} {}", a.name, a.typeof_, a.timeout)),
        );
        out.extend(rules(s));
        out.extend(affinity_learning(s));
    }
    out
}

/// Every change that turns service `s` from slots `old` into `new` (its current
/// weights): the slot map's element changes and, for a persistent service, a flush of
/// the affinity set of each real that no longer has weight, so its clients move now.
/// `None` when nothing changes.
pub fn service_changes(
    s: &Service,
    old: &BTreeMap<u32, String>,
    new: &BTreeMap<u32, String>,
) -> Option<String> {
    let mut out = element_changes(&map_name(s), old, new)?;
    if s.persistence.is_some() {
        for (i, r) in s.reals.iter().enumerate() {
            if r.weight == 0 {
                let _ = writeln!(
                    out,
                    "flush set inet {DATAPLANE_TABLE} {}",
                    affinity_set(s, i)
                );
            }
        }
    }
    Some(out)
}

/// The name of the empty set that marks a table of this shape: `lvsc run` reads it back
/// to know whether element updates are enough.
pub fn shape_mark(d: &DirectorView) -> String {
    let h = lvsc_maglev::fnv1a(shape(d).join("\n").as_bytes(), 0);
    format!("lvsc_shape_{h:016x}")
}

/// The commands that turn map `map` from `old` slots into `new` ones, as one `nft -f`
/// transaction: deletes of the slots that change or go, adds of the new ones. `None`
/// when nothing changes.
pub fn element_changes(
    map: &str,
    old: &BTreeMap<u32, String>,
    new: &BTreeMap<u32, String>,
) -> Option<String> {
    let gone: Vec<String> = old
        .iter()
        .filter(|(k, v)| new.get(k) != Some(v))
        .map(|(k, _)| k.to_string())
        .collect();
    let come: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(k) != Some(v))
        .map(|(k, v)| format!("{k} : {v}"))
        .collect();
    if gone.is_empty() && come.is_empty() {
        return None;
    }
    let mut out = String::new();
    if !gone.is_empty() {
        let _ = writeln!(
            out,
            "delete element inet {DATAPLANE_TABLE} {map} {{ {} }}",
            gone.join(", ")
        );
    }
    if !come.is_empty() {
        let _ = writeln!(
            out,
            "add element inet {DATAPLANE_TABLE} {map} {{ {} }}",
            come.join(", ")
        );
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(weights: &[u32]) -> Service {
        let text = include_str!("../../../examples/web-nat.lvs");
        let c = lvsc_compiler::compile_source(text).cluster.unwrap();
        let mut s = c.services[0].clone();
        s.reals.truncate(weights.len());
        while s.reals.len() < weights.len() {
            let mut r = s.reals[0].clone();
            r.name = format!("extra{}", s.reals.len());
            r.ip = format!("10.10.0.{}", 100 + s.reals.len()).parse().unwrap();
            s.reals.push(r);
        }
        for (r, w) in s.reals.iter_mut().zip(weights) {
            r.weight = *w;
        }
        s
    }

    #[test]
    fn slots_follow_weights_and_a_real_taken_out_moves_only_its_slots() {
        let s = service(&[5, 3, 1, 0]);
        let t = slots(&s);
        assert_eq!(t.len() as u32, slot_count(&s));
        let share = |t: &BTreeMap<u32, String>, r: &Real| {
            t.values().filter(|v| **v == target(r)).count() as f64 / t.len() as f64
        };
        for (r, want) in s.reals.iter().zip([5.0 / 9.0, 3.0 / 9.0, 1.0 / 9.0, 0.0]) {
            assert!(
                (share(&t, r) - want).abs() < 0.02,
                "{}: {}",
                r.name,
                share(&t, r)
            );
        }
        let mut down = s.clone();
        down.reals[2].weight = 0;
        let after = slots(&down);
        let moved = t.iter().filter(|(k, v)| after.get(k) != Some(v)).count();
        let held = t.values().filter(|v| **v == target(&s.reals[2])).count();
        // Maglev: the slots of the real taken out, and a few more at most.
        assert!(
            moved <= held + t.len() / 50,
            "{moved} moved, it held {held}"
        );
        let cmds = element_changes("m", &t, &after).unwrap();
        assert!(cmds.starts_with("delete element inet lvsc_dataplane m {"));
        assert!(element_changes("m", &t, &t).is_none());
    }

    #[test]
    fn map_names_are_nft_identifiers_and_distinct() {
        let mut a = service(&[1]);
        let mut b = a.clone();
        a.name = "a-b".into();
        b.name = "a_b".into();
        assert_ne!(map_name(&a), map_name(&b));
        assert!(
            map_name(&a)
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
    }
}
