//! One module per subcommand.

pub mod apply;
pub mod build;
pub mod check;
pub mod export;
pub mod fmt;
pub mod hosts;
pub mod plan;

use lvsc_compiler::Cluster;

use crate::input;
use crate::report::{Format, Reporter};

/// Reads and compiles one file; prints its diagnostics; `None` when it has errors.
pub fn compile_file(path: &str) -> anyhow::Result<Option<Cluster>> {
    let src = input::read(path)?;
    let mut reporter = Reporter::new(Format::Text);
    if let Some(d) = &src.not_utf8 {
        reporter.file(&src.name, &src.text, std::slice::from_ref(d));
        return Ok(None);
    }
    let compiled = lvsc_compiler::compile_source(&src.text);
    reporter.file(
        &src.name,
        &lvsc_lang::redact(&src.text, &compiled.secrets),
        &compiled.diagnostics,
    );
    Ok(compiled.cluster)
}
