//! Free text that ends up in generated files: nothing that would break out of them.
//!
//! Shell scripts quote every value, so shell metacharacters are harmless there; but
//! keepalived.conf, exports(5) and sysctl files are line-based, so control characters
//! (a newline above all) would start a new directive, and some fields are single tokens.

use lvsc_lang::ast::SecretSource;
use lvsc_lang::{Diagnostic, Spanned, Value};

use crate::codes;
use crate::ctx::Ctx;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let f = ctx.file;
    let mut texts: Vec<&Spanned<String>> = Vec::new();
    let checks = f
        .services
        .iter()
        .filter_map(|s| s.check.as_ref())
        .chain(f.pools.iter().filter_map(|p| p.check.as_ref()))
        .chain(f.defaults.iter().filter_map(|d| d.check.as_ref()));
    for c in checks {
        if let Some(t) = &c.target {
            texts.push(t);
            match c.kind.value.as_str() {
                "misc" if t.value.contains('"') => out.push(unsafe_text(
                    t,
                    "a double quote",
                    "keepalived reads the command as one quoted string",
                )),
                "http" | "https" if t.value.contains(char::is_whitespace) => out.push(unsafe_text(
                    t,
                    "whitespace",
                    "keepalived reads the URL path as one word; write spaces as %20",
                )),
                _ => {}
            }
        }
    }
    for s in &f.storage {
        texts.extend(
            s.export_options
                .iter()
                .chain(&s.credentials)
                .chain(&s.version),
        );
        if let Value::Path(p) | Value::Str(p) = &s.source.value
            && p.chars().any(char::is_control)
        {
            out.push(unsafe_text(
                &Spanned::new(p.clone(), s.source.span),
                "a control character",
                "mount sources are single lines",
            ));
        }
        for m in &s.mounts {
            texts.push(&m.path);
            texts.extend(m.options.iter());
            if m.options
                .as_ref()
                .is_some_and(|o| o.value.contains(char::is_whitespace))
            {
                out.push(unsafe_text(
                    m.options.as_ref().unwrap(),
                    "whitespace",
                    "mount options are one comma-separated word",
                ));
            }
        }
    }
    texts.extend(
        f.balancer
            .iter()
            .flat_map(|b| b.sysctls.iter().map(|s| &s.value)),
    );
    for v in f.balancer.iter().flat_map(|b| &b.vrrp) {
        if let Some(SecretSource::File(p)) = v.auth.as_ref().map(|a| &a.secret) {
            texts.push(p);
        }
    }
    for t in texts {
        if t.value.chars().any(char::is_control) {
            out.push(unsafe_text(
                t,
                "a control character",
                "generated files are line-based: a newline would start a new directive",
            ));
        }
    }
}

fn unsafe_text(t: &Spanned<String>, what: &str, why: &str) -> Diagnostic {
    Diagnostic::error(
        codes::UNSAFE_TEXT,
        t.span,
        format!("this text contains {what}"),
    )
    .with_label(format!("contains {what}"))
    .with_help(format!("remove it: {why}"))
}
