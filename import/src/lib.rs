//! Importers: other tools' configuration turned into a formatted `.lvs` file, the way
//! into lvsc for clusters that exist already. Each importer reads its tool's format and
//! writes `.lvs` text that the formatter accepts; `lvsc check` then judges it like any
//! hand-written file.

pub mod ipvsadm;
pub mod keepalived;

/// Why a configuration could not be imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The input is not in the tool's format.
    #[error("line {line}: {message}")]
    Syntax {
        /// 1-based line of the input.
        line: usize,
        /// What is wrong there.
        message: String,
    },
    /// An input file could not be read.
    #[error("{0}")]
    Read(String),
    /// The generated text did not parse (a bug in the importer).
    #[error("internal: the imported text does not parse: {0}")]
    Generated(String),
}

/// Formats generated `.lvs` text canonically.
fn formatted(text: &str) -> Result<String, ImportError> {
    lvsc_lang::format(text).map_err(|d| {
        ImportError::Generated(
            d.iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}
