//! The compiler: checks a parsed `.lvs` file against the LVS rules and lowers it to the
//! cluster IR and per-host views that every backend compiles from.
//!
//! It knows LVS semantics but nothing about netlink, BPF or templates; backends get
//! the IR and never see the syntax tree.

pub mod capability;
pub mod codes;
pub mod diff;
pub mod drain;
pub mod flow;
pub mod ir;
pub mod net;
pub mod text;
pub mod views;

mod build;
mod ctx;
mod rules;
mod source_map;

pub use build::{DEFAULT_TABLE_SIZE, is_prime};
pub use ctx::{SCHEDULER_HELP, SCHEDULERS};
pub use ir::Cluster;
pub use source_map::SourceMap;
pub use views::{HostViews, views};

use lvsc_lang::Diagnostic;

/// The result of compiling one file.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The IR, when there was no error (warnings allowed).
    pub cluster: Option<Cluster>,
    /// Every syntax and rule diagnostic, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Spans that may hold a secret: mask them before showing the source.
    pub secrets: Vec<lvsc_lang::Span>,
}

/// Runs every rule over a parsed file and, when neither the parse nor a rule found an
/// error, builds the IR.
pub fn compile(parsed: &lvsc_lang::Parse) -> Compiled {
    run(
        &parsed.ast,
        &parsed.diagnostics,
        &parsed.secrets,
        true,
        None,
    )
}

/// Like [`compile`], checked for `backend` (every director on that data plane) instead
/// of the data planes the file names.
pub fn compile_for(parsed: &lvsc_lang::Parse, backend: Option<ir::Dataplane>) -> Compiled {
    run(
        &parsed.ast,
        &parsed.diagnostics,
        &parsed.secrets,
        true,
        backend,
    )
}

fn run(
    ast: &lvsc_lang::ast::SourceFile,
    syntax: &[Diagnostic],
    secrets: &[lvsc_lang::Span],
    build_ir: bool,
    backend: Option<ir::Dataplane>,
) -> Compiled {
    let ctx = ctx::Ctx::new(ast, backend);
    let mut diagnostics = syntax.to_vec();
    rules::check(&ctx, &mut diagnostics);
    // The IR is built from what the parser and the rules vouched for: never from a tree
    // with a syntax error (a service without a VIP, a pool without a name, ...).
    let cluster =
        (build_ir && !diagnostics.iter().any(Diagnostic::is_error)).then(|| build::build(&ctx));
    diagnostics.sort_by_key(|d| (d.span.start(), d.span.len()));
    Compiled {
        cluster,
        diagnostics,
        secrets: secrets.to_vec(),
    }
}

/// Where each item of `text`'s IR came from (kept apart from the compile, which does not
/// need it).
pub fn source_map(text: &str) -> SourceMap {
    source_map::of(&lvsc_lang::parse_ast(text).ast)
}

/// Parses and compiles source text; the IR is only built from a file without syntax errors.
pub fn compile_source(text: &str) -> Compiled {
    source(text, true, None)
}

/// Like [`compile_source`], checked for `backend` instead of the file's data planes.
pub fn compile_source_for(text: &str, backend: Option<ir::Dataplane>) -> Compiled {
    source(text, true, backend)
}

/// Parses and checks source text without building the IR (what `lvsc check` needs).
pub fn check_source(text: &str) -> Compiled {
    source(text, false, None)
}

/// Like [`check_source`], checked for `backend` instead of the file's data planes.
pub fn check_source_for(text: &str, backend: Option<ir::Dataplane>) -> Compiled {
    source(text, false, backend)
}

fn source(text: &str, build_ir: bool, backend: Option<ir::Dataplane>) -> Compiled {
    // The typed tree alone: the concrete one is dropped directive by directive.
    let parsed = lvsc_lang::parse_ast(text);
    run(
        &parsed.ast,
        &parsed.diagnostics,
        &parsed.secrets,
        build_ir,
        backend,
    )
}
