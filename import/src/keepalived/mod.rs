//! keepalived.conf to a `.lvs` file: one file per director (or one shared file), read as
//! keepalived reads them (`conf`), understood in keepalived's terms (`model`), written
//! as one cluster (`write`). What lvsc cannot express is reported at its line, never
//! dropped silently; secrets are never copied.

mod conf;
mod model;
mod write;

use std::path::PathBuf;

use lvsc_lang::{Diagnostic, Span};

pub use conf::Source;

use crate::ImportError;

/// Stable codes of the importer's findings.
pub mod code {
    /// A construct lvsc cannot express, left out.
    pub const UNSUPPORTED: &str = "lvsc::import::unsupported";
    /// A construct whose meaning lvsc approximates.
    pub const APPROXIMATED: &str = "lvsc::import::approximated";
    /// An inline secret, turned into a reference.
    pub const SECRET: &str = "lvsc::import::secret";
    /// A value keepalived.conf does not hold, written as a placeholder or inferred.
    pub const PLACEHOLDER: &str = "lvsc::import::placeholder";
    /// Directors' files that disagree.
    pub const CONFLICT: &str = "lvsc::import::conflict";
    /// Input keepalived would not accept either.
    pub const INVALID: &str = "lvsc::import::invalid";
}

/// How to import.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Cluster name for the generated file.
    pub cluster: String,
    /// Constructs left out or approximated are errors.
    pub strict: bool,
}

/// What an import produced: the `.lvs` text (none when there were errors), the files
/// read, and the findings about them.
#[derive(Debug)]
pub struct Imported {
    /// The formatted `.lvs` text, unless an error stopped the import.
    pub text: Option<String>,
    /// Every file read (the ones given, then the included ones as met).
    pub sources: Vec<Source>,
    /// Findings: the file (index into the sources) and the diagnostic.
    pub findings: Vec<(usize, Diagnostic)>,
    /// Spans holding secrets, per file: never show them.
    pub secrets: Vec<(usize, Span)>,
}

/// Imports keepalived.conf files, one per director, as one cluster.
pub fn import(paths: &[PathBuf], options: &Options) -> Result<Imported, ImportError> {
    let mut reader = conf::Reader::default();
    let mut trees = Vec::new();
    for p in paths {
        trees.push(reader.read(p).map_err(ImportError::Read)?);
    }
    let mut out = Findings {
        strict: options.strict,
        ..Findings::default()
    };
    for p in std::mem::take(&mut reader.problems) {
        let file = p.file.unwrap_or(0);
        let d = if p.warning {
            out.severity(Diagnostic::warning(code::UNSUPPORTED, p.span, p.message))
        } else {
            Diagnostic::error(code::INVALID, p.span, p.message)
        };
        out.list.push((file, d.with_label("here")));
    }
    let confs: Vec<(usize, model::Conf)> = trees
        .iter()
        .map(|t| {
            let file = t.first().map_or(0, |n| n.file);
            (file, model::read(t, &mut out))
        })
        .collect();
    // Each tree's file index is the index its first statement has; an empty file has
    // none, so use the order of the given paths among the sources.
    let confs = confs
        .into_iter()
        .zip(file_indices(&reader.sources, paths))
        .map(|((_, c), f)| (f, c))
        .collect::<Vec<_>>();
    let text = write::cluster(&confs, options, &mut out);
    // A copied comment that repeats a secret (`! the password is ...`) is not copied.
    let secrets: Vec<&str> = out
        .secrets
        .iter()
        .filter_map(|(f, sp)| reader.sources.get(*f)?.text.get(sp.start()..sp.end()))
        .map(|t| t.trim_matches('"'))
        .filter(|t| !t.is_empty())
        .collect();
    let text: String = text
        .split_inclusive('\n')
        .filter(|l| !(l.trim_start().starts_with('#') && secrets.iter().any(|s| l.contains(s))))
        .collect();
    let failed = out.list.iter().any(|(_, d)| d.is_error());
    let text = if failed {
        None
    } else {
        Some(crate::formatted(&text)?)
    };
    Ok(Imported {
        text,
        sources: reader.sources,
        findings: out.list,
        secrets: out.secrets,
    })
}

/// The source index of each given path (included files come between them).
fn file_indices(sources: &[Source], paths: &[PathBuf]) -> Vec<usize> {
    let mut next = 0;
    paths
        .iter()
        .map(|p| {
            let name = p.display().to_string();
            let i = (next..sources.len())
                .find(|&i| sources[i].name == name)
                .unwrap_or(next);
            next = i + 1;
            i
        })
        .collect()
}

/// The findings of one import, and the spans of secrets met.
#[derive(Default)]
pub struct Findings {
    list: Vec<(usize, Diagnostic)>,
    secrets: Vec<(usize, Span)>,
    strict: bool,
}

impl Findings {
    fn severity(&self, mut d: Diagnostic) -> Diagnostic {
        if self.strict {
            d.severity = lvsc_lang::Severity::Error;
        }
        d
    }

    /// The location of a statement's first line.
    pub fn loc(&self, n: &conf::Node) -> model::Loc {
        model::Loc {
            file: n.file,
            span: n.span(),
        }
    }

    /// A location.
    pub fn loc_span(&self, file: usize, span: Span) -> model::Loc {
        model::Loc { file, span }
    }

    /// A construct left out.
    pub fn unsupported(&mut self, n: &conf::Node, message: &str) {
        let d = Diagnostic::warning(code::UNSUPPORTED, n.span(), message)
            .with_label("left out")
            .with_help("lvsc cannot express this; check that the cluster works without it (`--strict` makes this an error)");
        let d = self.severity(d);
        self.list.push((n.file, d));
    }

    /// A construct whose meaning changes a little.
    pub fn approximated(&mut self, n: &conf::Node, message: &str) {
        self.push(Finding::approximated(self.loc(n), message.to_string()));
    }

    /// Input that keepalived would not accept either.
    pub fn bad(&mut self, n: &conf::Node, message: &str) {
        self.list.push((
            n.file,
            Diagnostic::error(code::INVALID, n.span(), message)
                .with_label("here")
                .with_help("fix the keepalived.conf (`keepalived -t -f FILE` checks it), then import again"),
        ));
    }

    /// A word that keepalived would not accept either.
    pub fn bad_word(&mut self, w: &conf::Word, message: &str) {
        self.list.push((
            w.file,
            Diagnostic::error(code::INVALID, w.span, message)
                .with_label("here")
                .with_help("fix the keepalived.conf (`keepalived -t -f FILE` checks it), then import again"),
        ));
    }

    /// A span holding a secret.
    pub fn secret(&mut self, file: usize, span: Span) {
        self.secrets.push((file, span));
    }

    /// A finding made elsewhere.
    pub fn push(&mut self, f: Finding) {
        let d = if f.0.code == code::APPROXIMATED || f.0.code == code::UNSUPPORTED {
            self.severity(f.0)
        } else {
            f.0
        };
        self.list.push((f.1, d));
    }
}

/// A finding and its file.
pub struct Finding(Diagnostic, usize);

impl Finding {
    /// A meaning that changes a little.
    pub fn approximated(at: model::Loc, message: String) -> Finding {
        Finding(
            Diagnostic::warning(code::APPROXIMATED, at.span, message)
                .with_label("approximated")
                .with_help("lvsc's meaning differs here; check that it suits the cluster (`--strict` makes this an error)"),
            at.file,
        )
    }

    /// Any warning with its own code, label and help.
    pub fn warning(
        at: model::Loc,
        code: &'static str,
        message: String,
        label: &str,
        help: String,
    ) -> Finding {
        Finding(
            Diagnostic::warning(code, at.span, message)
                .with_label(label)
                .with_help(help),
            at.file,
        )
    }
}
