//! Secrets written into a file (VRRP and BGP passwords) are never shown again: every front end
//! that renders source masks these spans first, whatever else is wrong with the file.
//!
//! The spans come from the concrete tree, so they cover what the typed tree cannot hold:
//! a second `auth` line, an `auth` in the wrong block, an unknown auth type, an
//! unterminated string.

use crate::cst::{self, Directive};
use crate::span::Span;
use crate::value::Value;

/// Words of an `auth` line that are never secret: the type, and the source keyword.
const AUTH_WORDS: &[&str] = &["pass", "ah", "env", "file"];

/// The spans of every argument of every `auth` directive that may be a secret: all of
/// them but the auth type, `env`/`file` and the name or path after those.
pub fn spans(file: &cst::File) -> Vec<Span> {
    let mut out = Vec::new();
    walk(file.directives(), &mut out);
    out
}

/// [`spans`] of one directive and its block, added to `out`.
pub fn spans_in(d: &Directive, out: &mut Vec<Span>) {
    walk(std::iter::once(d), out);
}

fn walk<'a>(dirs: impl Iterator<Item = &'a Directive>, out: &mut Vec<Span>) {
    for d in dirs {
        if d.name.value == "auth" {
            let mut args = d.args.iter();
            while let Some(a) = args.next() {
                match &a.value {
                    Value::Word(w) if w == "env" || w == "file" => {
                        args.next(); // a variable name or a path, not the secret
                    }
                    Value::Word(w) if AUTH_WORDS.contains(&w.as_str()) => {}
                    _ => out.push(a.span),
                }
            }
        }
        // `neighbor ADDR ... password SECRET`: the argument after `password`, unless it
        // is `env NAME` or `file PATH`.
        let mut args = d.args.iter();
        while let Some(a) = args.next() {
            if matches!(&a.value, Value::Word(w) if w == "password") {
                match args.next() {
                    Some(n) if matches!(&n.value, Value::Word(w) if w == "env" || w == "file") => {
                        args.next();
                    }
                    Some(n) => out.push(n.span),
                    None => {}
                }
            }
        }
        walk(d.children(), out);
    }
}

/// `source` with every byte inside `spans` (except the quotes) replaced by `*`; byte
/// offsets are kept, so diagnostics render at the same places without the secret.
pub fn redact(source: &str, spans: &[Span]) -> String {
    let mut bytes = source.as_bytes().to_vec();
    for s in spans {
        let end = s.end().min(bytes.len());
        for b in &mut bytes[s.start().min(end)..end] {
            if *b != b'"' {
                *b = b'*';
            }
        }
    }
    // Whole characters were replaced byte by byte with ASCII, so this stays UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    fn shown(src: &str) -> String {
        super::redact(src, &crate::parse(src).secrets)
    }

    #[test]
    fn every_way_of_writing_a_secret_is_masked() {
        for src in [
            "balancer { vrrp 1 { auth pass \"hunter2\" } }",
            "balancer { vrrp 1 { auth pass env X; auth pass \"hunter2\" } }",
            "balancer { vrrp 1 { auth md5 \"hunter2\" } }",
            "balancer { vrrp 1 { auth \"hunter2\" } }",
            "balancer { vrrp 1 { auth pass hunter2 } }",
            "balancer { vrrp 1 {\n auth pass \"hunter2\n } }",
            "service s { auth pass \"hunter2\" }",
            "auth ah 'hunter2'",
            "balancer { bgp { neighbor 192.0.2.1 asn 1 password \"hunter2\" } }",
            "balancer { bgp { neighbor 192.0.2.1 password hunter2 bfd } }",
        ] {
            let s = shown(src);
            assert!(!s.contains("hunter2"), "{src:?} shows {s:?}");
            assert_eq!(s.len(), src.len());
        }
    }

    #[test]
    fn references_stay_readable() {
        let src = "balancer { vrrp 1 { auth pass env VRRP_PASS } }";
        assert_eq!(shown(src), src);
        let src = "balancer { vrrp 1 { auth ah file /etc/lvsc/vrrp.secret } }";
        assert_eq!(shown(src), src);
    }
}
