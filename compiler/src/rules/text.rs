//! Free text that ends up in generated files: each field against the grammar of the file
//! it reaches ([`crate::text`]), so that nothing can break out of it or change meaning.

use lvsc_lang::ast::SecretSource;
use lvsc_lang::{Diagnostic, Spanned, Value};

use crate::codes;
use crate::ctx::Ctx;
use crate::text::{self, Refusal};

type Grammar = fn(&str) -> Result<(), Refusal>;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let f = ctx.file;
    let mut fields: Vec<(&Spanned<String>, Grammar)> = Vec::new();
    let checks = f
        .services
        .iter()
        .filter_map(|s| s.check.as_ref())
        .chain(f.pools.iter().filter_map(|p| p.check.as_ref()))
        .chain(f.defaults.iter().filter_map(|d| d.check.as_ref()));
    for c in checks {
        if let Some(t) = &c.target {
            match c.kind.value.as_str() {
                "misc" => fields.push((t, text::misc_command)),
                _ => fields.push((t, text::url_path)),
            }
        }
    }
    let mut sources: Vec<(Spanned<String>, Grammar)> = Vec::new();
    for s in &f.storage {
        fields.extend(
            s.export_options
                .iter()
                .map(|o| (o, text::export_options as Grammar)),
        );
        fields.extend(
            s.credentials
                .iter()
                .map(|c| (c, text::option_path as Grammar)),
        );
        let version: Grammar = if s.kind.value == "cifs" {
            text::cifs_version
        } else {
            text::nfs_version
        };
        fields.extend(s.version.iter().map(|v| (v, version)));
        match &s.source.value {
            Value::Addr(e) => {
                if let Some(p) = &e.path {
                    sources.push((Spanned::new(p.clone(), s.source.span), text::export_path));
                }
            }
            Value::Path(p) | Value::Str(p) => {
                sources.push((Spanned::new(p.clone(), s.source.span), text::file_path));
            }
            _ => {}
        }
        for m in &s.mounts {
            fields.push((&m.path, text::file_path));
            fields.extend(
                m.options
                    .iter()
                    .map(|o| (o, text::mount_options as Grammar)),
            );
        }
    }
    fields.extend(f.balancer.iter().flat_map(|b| {
        b.sysctls
            .iter()
            .map(|s| (&s.value, text::sysctl_value as Grammar))
    }));
    for v in f.balancer.iter().flat_map(|b| &b.vrrp) {
        if let Some(SecretSource::File(p)) = v.auth.as_ref().map(|a| &a.secret) {
            fields.push((p, text::file_path));
        }
    }
    let sources = sources.iter().map(|(t, g)| (t, *g));
    for (t, grammar) in fields.into_iter().chain(sources) {
        if let Err(r) = grammar(&t.value) {
            out.push(unsafe_text(t, &r));
        }
    }
}

fn unsafe_text(t: &Spanned<String>, r: &Refusal) -> Diagnostic {
    Diagnostic::error(
        codes::UNSAFE_TEXT,
        t.span,
        format!("this text contains {}", r.found),
    )
    .with_label(format!("contains {}", r.found))
    .with_help(r.help.clone())
}
