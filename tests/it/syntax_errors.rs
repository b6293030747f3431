//! Snapshot tests of rendered syntax diagnostics: one file under tests/syntax/ per error.
//!
//! Update with `INSTA_UPDATE=always cargo test --test it syntax_errors` and review the diff.

use std::collections::BTreeSet;

fn render_all(name: &str, text: &str) -> (String, Vec<&'static str>) {
    let parsed = lvsc_lang::parse(text);
    let rendered: String = parsed
        .diagnostics
        .iter()
        .map(|d| d.render(name, text, false))
        .collect();
    (
        rendered,
        parsed.diagnostics.iter().map(|d| d.code).collect(),
    )
}

#[test]
fn every_syntax_error_renders_with_code_span_and_help() {
    let mut codes = BTreeSet::new();
    let mut files = 0;
    insta::glob!("../", "syntax/*.lvs", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!("syntax/{}", path.file_name().unwrap().to_string_lossy());
        let (rendered, found) = render_all(&name, &text);
        let parsed = lvsc_lang::parse(&text);
        assert!(parsed.has_errors(), "{name} must have a syntax error");
        for d in &parsed.diagnostics {
            assert!(d.code.starts_with("lvsc::syntax::"), "{name}: {}", d.code);
            assert!(d.help.is_some(), "{name}: {} has no help", d.code);
            assert!(d.span.end() <= text.len(), "{name}: span past the end");
        }
        codes.extend(found);
        files += 1;
        insta::assert_snapshot!(rendered);
    });
    assert!(files >= 25, "only {files} syntax error cases");
    assert!(
        codes.len() >= 18,
        "only {} distinct codes: {codes:?}",
        codes.len()
    );
}
