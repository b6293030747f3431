//! Every example under examples/ is a clean, formatted cluster: the one place that says so.

use crate::support::{examples, lvsc};

#[test]
fn every_example_is_clean_with_warnings_denied_and_formatted() {
    let ex = examples();
    assert!(ex.len() >= 9, "{ex:?}");
    for f in &ex {
        let text = std::fs::read_to_string(f).unwrap();
        let compiled = lvsc_compiler::compile_source(&text);
        assert!(
            compiled.diagnostics.is_empty(),
            "{f}: {:?}",
            compiled.diagnostics
        );
        assert!(compiled.cluster.is_some());
        let out = lvsc(&["check", f]);
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = lvsc(&["check", "--deny-warnings", f]);
        assert!(out.status.success(), "{f}");
        let out = lvsc(&["fmt", "--check", f]);
        assert!(
            out.status.success(),
            "{f} is not formatted: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            lvsc_lang::format(&text).unwrap(),
            text,
            "{f} is not formatted"
        );
    }
}
