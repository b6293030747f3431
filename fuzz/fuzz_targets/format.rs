//! The formatter: formatting twice is formatting once, and a formatted file means what
//! the original meant (the same diagnostics by code, the same cluster IR).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = lvsc_lang::decode(data) else { return };
    let Ok(once) = lvsc_lang::format(text) else { return };
    let twice = lvsc_lang::format(&once).expect("formatted output parses");
    assert_eq!(once, twice, "formatting is not idempotent");
    let before = lvsc_compiler::compile_source(text);
    let after = lvsc_compiler::compile_source(&once);
    let codes = |c: &lvsc_compiler::Compiled| {
        let mut v: Vec<&str> = c.diagnostics.iter().map(|d| d.code).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(codes(&before), codes(&after), "formatting changed the diagnostics");
    assert_eq!(before.cluster, after.cluster, "formatting changed the cluster");
});
