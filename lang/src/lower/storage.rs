//! `storage NAME { }`: the shared file system, its server, exports and mounts.

use crate::ast::*;
use crate::codes;
use crate::cst::Directive;
use crate::diagnostic::Diagnostic;
use crate::keywords::{Block, Place, at};
use crate::span::Spanned;
use crate::value::Value;

use super::Lower;

/// The file-system line of a storage block: kind, source, version, credentials.
type FsSource = (
    Spanned<String>,
    Spanned<Value>,
    Option<Spanned<String>>,
    Option<Spanned<String>>,
);

impl Lower<'_> {
    pub(super) fn storage(&mut self, d: &Directive) -> Option<Storage> {
        let (name, block) = self.name_and_block(
            d,
            "a storage name",
            "storage data { nfs 192.0.2.50:/export }",
        )?;
        let mut kind: Option<FsSource> = None;
        let mut server = None;
        let mut manage = None;
        let mut export_options = None;
        let mut mounts = Vec::new();
        for c in self.directives(block.directives(), Block::Storage) {
            let mut a = self.line(c);
            match c.name.value.as_str() {
                "server" => {
                    let v = self.word(&mut a, "the storage server's host name");
                    self.single_span(&mut server, c, v);
                    self.options(&mut a, at(Place::OptionOf("server")), |l, _, a, _| {
                        let v = l.addr(a, "the address rollout tools reach it at");
                        l.single_span(&mut manage, c, v);
                    });
                }
                "export-options" => {
                    let v = self.string(&mut a, "quoted exports(5) options");
                    self.single_span(&mut export_options, c, v);
                }
                "mount" => {
                    let path = self.path(&mut a, "a mount point");
                    let pool = match a.peek_word() {
                        Some("on") => {
                            a.next();
                            match a.peek_word() {
                                Some("pool") => {
                                    a.next();
                                    self.word(&mut a, "a pool name")
                                }
                                _ => {
                                    self.missing(&a, "`pool NAME`");
                                    None
                                }
                            }
                        }
                        _ => {
                            self.missing(&a, "`on pool NAME`");
                            None
                        }
                    };
                    let mut options = None;
                    self.options(&mut a, at(Place::OptionOf("mount")), |l, _, a, _| {
                        options = l.string(a, "quoted mount options")
                    });
                    if let (Some(path), Some(pool)) = (path, pool) {
                        mounts.push(Mount {
                            path,
                            pool,
                            options,
                            span: c.span,
                        });
                    }
                    continue;
                }
                _ => {
                    let source = self.take(
                        &mut a,
                        "what is shared (ADDR:/path, //server/share or a device)",
                        |v| match v {
                            Value::Invalid => None,
                            v => Some(v.clone()),
                        },
                    );
                    let mut version = None;
                    let mut credentials = None;
                    self.options(
                        &mut a,
                        at(Place::OptionOf("storage")),
                        |l, w, a, _| match w {
                            "version" => {
                                version = l.take(a, "a protocol version", |v| match v {
                                    Value::Number(n) => Some(n.to_string()),
                                    Value::Word(s) | Value::Str(s) => Some(s.clone()),
                                    Value::Addr(e) => Some(e.ip.to_string()),
                                    _ => None,
                                })
                            }
                            _ => {
                                if a.peek_word() == Some("file") {
                                    a.next();
                                }
                                credentials = l.path(a, "a credentials file path");
                            }
                        },
                    );
                    if let Some(source) = source {
                        let k = (c.name.clone(), source, version, credentials);
                        self.once(&mut kind, c, k, |x| x.0.span);
                    }
                    continue;
                }
            }
            self.finish(&a);
        }
        let Some((kind, source, version, credentials)) = kind else {
            self.push(
                Diagnostic::error(
                    codes::MISSING_DIRECTIVE,
                    name.span,
                    format!("storage `{}` does not say what it shares", name.value),
                )
                .with_label("no file system given")
                .with_help(format!(
                    "add one of: {}",
                    at(Place::ValueOf("storage")).join(", ")
                )),
            );
            return None;
        };
        Some(Storage {
            name,
            kind,
            source,
            version,
            credentials,
            server,
            manage,
            export_options,
            mounts,
            span: d.span,
        })
    }
}
