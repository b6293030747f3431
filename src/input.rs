//! Reading source files (or standard input) as text.

use std::io::Read;

use lvsc_lang::Diagnostic;

/// A source file read into memory.
pub struct SourceText {
    /// The name to show in diagnostics (`-` is shown as `<stdin>`).
    pub name: String,
    /// The text; for a file that is not UTF-8, its bytes with each invalid one as `?`.
    pub text: String,
    /// The decoding error, when the file is not UTF-8.
    pub not_utf8: Option<Diagnostic>,
}

/// Reads `path` (`-` for standard input).
pub fn read(path: &str) -> std::io::Result<SourceText> {
    let (name, bytes) = if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        ("<stdin>".to_string(), buf)
    } else {
        let bytes = std::fs::read(path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{path}: {e}")))?;
        (path.to_string(), bytes)
    };
    Ok(SourceText::new(name, &bytes))
}

impl SourceText {
    /// A source named `name` from its bytes.
    pub fn new(name: String, bytes: &[u8]) -> SourceText {
        match lvsc_lang::decode(bytes) {
            Ok(text) => SourceText {
                name,
                text: text.to_string(),
                not_utf8: None,
            },
            Err(d) => SourceText {
                name,
                text: lvsc_lang::decode_lossy(bytes),
                not_utf8: Some(*d),
            },
        }
    }
}
