//! The `check` and `fmt` commands, run as a user runs them.

use std::process::Output;

use crate::support::{lvsc, lvsc_stdin};

fn tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lvsc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn check_reports_json_records() {
    let p = tmp(
        "bad.lvs",
        b"pool web {\n  real rs1 192.0.2.21 weight heavy\n}\n",
    );
    let out = lvsc(&["check", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = v
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "lvsc::syntax::wrong-argument")
        .unwrap();
    assert_eq!(d["line"], 2);
    assert_eq!(d["column"], 30);
    assert_eq!(d["file"], p.to_str().unwrap());
    assert!(d["help"].as_str().unwrap().contains("a weight"));
    assert!(d["message"].as_str().unwrap().contains("weight"));
}

#[test]
fn text_diagnostics_have_no_colour_with_no_color_or_off_terminal() {
    let p = tmp("bad2.lvs", b"pool web {\n  prot 80\n}\n");
    let out = lvsc(&["check", p.to_str().unwrap()]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains('\x1b'), "{err}");
    assert!(err.contains("lvsc::syntax::unknown-keyword"));
    assert!(err.contains("did you mean `port`?"));
}

#[test]
fn fmt_reads_stdin_writes_stdout_and_is_idempotent() {
    let messy = b"cluster  web\npool web {   port 80 ; real rs1 192.0.2.21   weight 3 # main\n\n\n  real rs2 192.0.2.22 }\n";
    let out = lvsc_stdin(&["fmt", "-"], messy);
    assert!(out.status.success());
    let once = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        once,
        "cluster web\npool web {\n  port 80\n  real rs1 192.0.2.21 weight 3 # main\n\n  real rs2 192.0.2.22\n}\n"
    );
    let twice = lvsc_stdin(&["fmt", "-"], once.as_bytes());
    assert_eq!(String::from_utf8(twice.stdout).unwrap(), once);
    assert_eq!(
        lvsc_stdin(&["fmt", "--check", "-"], messy).status.code(),
        Some(1)
    );
    assert_eq!(
        lvsc_stdin(&["fmt", "--check", "-"], once.as_bytes())
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn fmt_rewrites_in_place_and_check_mode_changes_nothing() {
    let p = tmp(
        "inplace.lvs",
        b"cluster web;pool web { real rs1 192.0.2.21 }",
    );
    let path = p.to_str().unwrap();
    assert_eq!(lvsc(&["fmt", "--check", path]).status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "cluster web;pool web { real rs1 192.0.2.21 }"
    );
    assert!(lvsc(&["fmt", path]).status.success());
    assert_eq!(
        std::fs::read_to_string(&p).unwrap(),
        "cluster web\npool web {\n  real rs1 192.0.2.21\n}\n"
    );
    assert!(lvsc(&["fmt", "--check", path]).status.success());
}

#[test]
fn fmt_refuses_a_file_with_syntax_errors_and_leaves_it_alone() {
    let text = b"pool web {\n  real rs1 \"unterminated\n}\n";
    let p = tmp("broken.lvs", text);
    let out = lvsc(&["fmt", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unterminated-string"));
    assert_eq!(std::fs::read(&p).unwrap(), text);
}

fn assert_fails_cleanly(out: &Output, code: &str) {
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(code),
        "expected {code} in: {}",
        &err[..err.len().min(2000)]
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn invalid_utf8_is_a_diagnostic() {
    let p = tmp("latin1.lvs", b"cluster caf\xe9\n");
    assert_fails_cleanly(
        &lvsc(&["check", p.to_str().unwrap()]),
        "lvsc::syntax::not-utf8",
    );
}

#[test]
fn ten_thousand_nested_braces_do_not_overflow_the_stack() {
    let mut text = String::from("pool web ");
    text.push_str(&"x {".repeat(10_000));
    text.push_str(&"}".repeat(10_000));
    let p = tmp("deep.lvs", text.as_bytes());
    assert_fails_cleanly(
        &lvsc(&["check", p.to_str().unwrap()]),
        "lvsc::syntax::nesting-too-deep",
    );
    let unclosed = "{".repeat(10_000);
    let p = tmp("deep2.lvs", unclosed.as_bytes());
    assert_fails_cleanly(
        &lvsc(&["check", p.to_str().unwrap()]),
        "lvsc::syntax::expected-keyword",
    );
}

#[test]
fn unterminated_string_at_end_of_file() {
    let p = tmp(
        "unterminated.lvs",
        b"cluster web\npool web {\n  check misc \"/bin/true",
    );
    let out = lvsc(&["check", p.to_str().unwrap()]);
    assert_fails_cleanly(&out, "lvsc::syntax::unterminated-string");
    assert!(String::from_utf8_lossy(&out.stderr).contains("lvsc::syntax::unclosed-block"));
}

#[test]
fn fifty_megabyte_file_is_checked_with_one_diagnostic() {
    let mut text = String::with_capacity(51 << 20);
    text.push_str("pool big {\n");
    let mut i = 0u32;
    while text.len() < 50 << 20 {
        text.push_str(&format!(
            "  real r{i} 10.{}.{}.{} weight 1\n",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
        i += 1;
    }
    text.push_str("  real last 10.0.0.1 weight heavy\n}\n");
    let p = tmp("big.lvs", text.as_bytes());
    let out = lvsc(&["check", "--format", "json", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"lvsc::syntax::wrong-argument"), "{codes:?}");
}

#[test]
fn random_bytes_never_panic() {
    // A fixed pseudo-random sequence: reproducible, and different shapes of garbage.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..20 {
        let len = 1 << (round % 14);
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let b = (state >> 24) as u8;
                if round % 2 == 0 {
                    b"{}\";#/:.[] \n\tabc0129"[usize::from(b) % 20]
                } else {
                    b
                }
            })
            .collect();
        let p = tmp(&format!("random{round}.lvs"), &bytes);
        let out = lvsc(&["check", p.to_str().unwrap()]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "round {round}: {:?}",
            out.status
        );
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}
