//! Formatter properties: idempotent, and the typed tree is unchanged by formatting.

use proptest::prelude::*;
use serde_json::Value as Json;

/// The typed tree as JSON with every position erased: what the file *means*.
fn meaning(source: &str) -> Json {
    fn erase(v: &mut Json) {
        match v {
            Json::Object(map) => {
                map.remove("span");
                if map.len() == 2 && map.contains_key("start") && map.contains_key("len") {
                    *v = Json::Bool(true);
                    return;
                }
                map.values_mut().for_each(erase);
            }
            Json::Array(items) => items.iter_mut().for_each(erase),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(lvsc_lang::parse(source).ast).unwrap();
    erase(&mut v);
    v
}

fn check_formatting(source: &str) {
    let Ok(once) = lvsc_lang::format(source) else {
        return;
    };
    let twice = lvsc_lang::format(&once).expect("formatted output parses");
    assert_eq!(once, twice, "not idempotent for {source:?}");
    assert_eq!(
        meaning(source),
        meaning(&once),
        "meaning changed for {source:?}"
    );
}

/// Real files: formatting the examples keeps their meaning. (That they are clean and
/// formatted is checked once, with the CLI, in tests/it/examples.rs.)
#[test]
fn examples_keep_their_meaning() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "lvs") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!lvsc_lang::parse(&text).has_errors(), "{}", path.display());
            check_formatting(&text);
        }
    }
}

/// Separators the parser accepts between directives.
fn sep() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\n".to_string()),
        Just("; ".to_string()),
        Just("\n\n\n".to_string()),
        Just(" # note\n".to_string()),
        Just("\n  # own line\n".to_string()),
        Just("\r\n".to_string()),
    ]
}

fn space() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(" ".to_string()),
        Just("   ".to_string()),
        Just("\t".to_string())
    ]
}

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,6}"
}

fn ipv4() -> impl Strategy<Value = String> {
    (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"))
}

fn real() -> impl Strategy<Value = String> {
    (
        name(),
        ipv4(),
        proptest::option::of(0u32..70000),
        proptest::option::of(0u32..100),
        any::<bool>(),
        space(),
    )
        .prop_map(|(n, ip, port, w, drain, sp)| {
            let mut s = format!("real{sp}{n}{sp}{ip}");
            if let Some(p) = port.filter(|p| *p <= 65535) {
                s.push_str(&format!(":{p}"));
            }
            if let Some(w) = w {
                s.push_str(&format!("{sp}weight {w}"));
            }
            if drain {
                s.push_str(" drain");
            }
            s
        })
}

fn check() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..60).prop_map(|s| format!("check tcp every {s}s timeout 2s")),
        ("/[a-z]{0,8}", 200u32..500)
            .prop_map(|(p, c)| format!("check http \"{p}\" expect {c} every 5s")),
        "[a-z /\\-]{1,20}".prop_map(|c| format!("check misc \"{c}\" every 10s")),
    ]
}

fn pool() -> impl Strategy<Value = String> {
    (
        name(),
        proptest::collection::vec((real(), sep()), 0..5),
        proptest::option::of(check()),
        sep(),
    )
        .prop_map(|(n, reals, check, s)| {
            let mut out = format!("pool {n} {{{s}");
            if let Some(c) = check {
                out.push_str(&c);
                out.push_str(&s);
            }
            for (r, s) in reals {
                out.push_str(&r);
                out.push_str(&s);
            }
            out.push('}');
            out
        })
}

fn service() -> impl Strategy<Value = String> {
    let scheduler = prop_oneof![
        Just("rr"),
        Just("wlc"),
        Just("sh sh-port"),
        Just("mh mh-fallback")
    ];
    let forward = prop_oneof![
        Just("nat"),
        Just("dr"),
        Just("tun ipip"),
        Just("tun gue port 6080")
    ];
    (name(), ipv4(), 1u16..65535, scheduler, forward, name(), proptest::option::of(1u32..3600), sep()).prop_map(
        |(n, ip, port, sch, fwd, pool, pers, s)| {
            let mut out = format!("service {n} {{{s}vip {ip}:{port}/tcp{s}scheduler {sch}{s}forward {fwd}{s}pool {pool}");
            if let Some(p) = pers {
                out.push_str(&format!("{s}persistence {p}s netmask 255.255.255.0"));
            }
            out.push_str(" }");
            out
        },
    )
}

fn document() -> impl Strategy<Value = String> {
    let item = prop_oneof![pool(), service()];
    let balancer = "balancer { vrrp 51 { advert 1s; auth env P }\ndirector lb1 192.0.2.2/24 on eth0 priority 100 }\n";
    (
        name(),
        any::<bool>(),
        proptest::collection::vec((item, sep()), 0..6),
    )
        .prop_map(move |(n, b, items)| {
            let mut out = format!("cluster {n}\n");
            if b {
                out.push_str(balancer);
            }
            for (i, s) in items {
                out.push_str(&i);
                out.push_str(&s);
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_documents_format_stably(doc in document()) {
        let parsed = lvsc_lang::parse(&doc);
        prop_assert!(!parsed.has_errors(), "{doc:?}: {:?}", parsed.diagnostics);
        check_formatting(&doc);
    }

    #[test]
    fn arbitrary_text_never_panics_and_formats_stably(text in "[a-z0-9 {};#\"\n./:\\[\\]-]{0,200}") {
        let parsed = lvsc_lang::parse(&text);
        for d in &parsed.diagnostics {
            prop_assert!(d.span.end() <= text.len());
        }
        check_formatting(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(text) = lvsc_lang::decode(&bytes) {
            let _ = lvsc_lang::parse(text);
        }
    }
}
