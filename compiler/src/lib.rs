//! The compiler: checks a parsed `.lvs` file against the LVS rules and lowers it to the
//! cluster IR and per-host views that every backend compiles from.
//!
//! It knows LVS semantics but nothing about netlink, BPF or templates; backends get
//! the IR and never see the syntax tree.

pub mod codes;
pub mod diff;
pub mod ir;
pub mod net;
pub mod views;

mod build;
mod ctx;
mod rules;

pub use build::{DEFAULT_TABLE_SIZE, SourceMap};
pub use ctx::{SCHEDULER_HELP, SCHEDULERS};
pub use ir::Cluster;
pub use views::{HostViews, views};

use lvsc_lang::{Diagnostic, ast::SourceFile};

/// The result of compiling one file.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The IR, when there was no error (warnings allowed).
    pub cluster: Option<Cluster>,
    /// Where each IR item came from.
    pub source_map: SourceMap,
    /// Every syntax and rule diagnostic, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans of secrets written inline: mask them before showing the source.
    pub secrets: Vec<lvsc_lang::Span>,
}

/// Runs every rule over a syntax tree and, when none fails, builds the IR.
pub fn compile(file: &SourceFile) -> Compiled {
    run(file, true)
}

fn run(file: &SourceFile, build_ir: bool) -> Compiled {
    let ctx = ctx::Ctx::new(file);
    let mut diagnostics = Vec::new();
    rules::check(&ctx, &mut diagnostics);
    let (cluster, source_map) = if !build_ir || diagnostics.iter().any(Diagnostic::is_error) {
        (None, SourceMap::new())
    } else {
        let (c, m) = build::build(&ctx);
        (Some(c), m)
    };
    Compiled {
        cluster,
        source_map,
        diagnostics,
        secrets: file.inline_secret_spans(),
    }
}

/// Parses and compiles source text; the IR is only built from a file without syntax errors.
pub fn compile_source(text: &str) -> Compiled {
    source(text, true)
}

/// Parses and checks source text without building the IR (what `lvsc check` needs).
pub fn check_source(text: &str) -> Compiled {
    source(text, false)
}

fn source(text: &str, build_ir: bool) -> Compiled {
    let parsed = lvsc_lang::parse(text);
    let mut compiled = run(&parsed.ast, build_ir);
    if parsed.has_errors() {
        compiled.cluster = None;
        compiled.source_map.clear();
    }
    let mut diagnostics = parsed.diagnostics;
    diagnostics.append(&mut compiled.diagnostics);
    diagnostics.sort_by_key(|d| (d.span.start, d.span.len));
    compiled.diagnostics = diagnostics;
    compiled
}
