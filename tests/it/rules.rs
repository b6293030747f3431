//! One failing file per LVS rule under tests/rules/, with the rendered diagnostics as a
//! snapshot.
//!
//! Update with `INSTA_UPDATE=always cargo test --test it rules` and review the diff.

use std::collections::BTreeSet;

#[test]
fn every_rule_has_a_failing_file_with_a_rendered_diagnostic() {
    let mut codes = BTreeSet::new();
    insta::glob!("../", "rules/*.lvs", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = format!("rules/{}", path.file_name().unwrap().to_string_lossy());
        let compiled = lvsc_compiler::compile_source(&text);
        let diags = &compiled.diagnostics;
        assert!(!diags.is_empty(), "{name} triggers no rule");
        for d in diags {
            assert!(
                !d.code.starts_with("lvsc::syntax::"),
                "{name} has a syntax error: {}",
                d.message
            );
            assert!(d.help.is_some(), "{name}: {} has no help", d.code);
            assert!(d.span.end() <= text.len());
        }
        codes.extend(diags.iter().map(|d| d.code));
        let shown = lvsc_lang::redact(&text, &compiled.secrets);
        let rendered: String = diags
            .iter()
            .map(|d| d.render(&name, &shown, false))
            .collect();
        assert!(!rendered.contains("hunter2"), "a secret leaked into {name}");
        insta::assert_snapshot!(rendered);
    });
    assert!(
        codes.len() >= 30,
        "only {} rule codes covered: {codes:?}",
        codes.len()
    );
}

#[test]
fn inline_secret_is_never_echoed() {
    let text = std::fs::read_to_string("tests/rules/inline-secret.lvs").unwrap();
    let compiled = lvsc_compiler::compile_source(&text);
    let d = compiled
        .diagnostics
        .iter()
        .find(|d| d.code == "lvsc::secret::inline")
        .unwrap();
    assert!(
        !d.message.contains("hunter2")
            && !d.label.contains("hunter2")
            && !d.help.as_deref().unwrap().contains("hunter2")
    );
}

#[test]
fn deny_warnings_turns_a_warning_into_failure() {
    use crate::support::lvsc;
    assert_eq!(
        lvsc(&["check", "tests/rules/unused-pool.lvs"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        lvsc(&["check", "--deny-warnings", "tests/rules/unused-pool.lvs"])
            .status
            .code(),
        Some(1)
    );
}
