//! Feeds arbitrary bytes to the parser and formatter: no panic, formatting idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = lvsc_lang::decode(data) else { return };
    let parsed = lvsc_lang::parse(text);
    for d in &parsed.diagnostics {
        assert!(d.span.end() <= text.len());
    }
    if let Ok(once) = lvsc_lang::format(text) {
        let twice = lvsc_lang::format(&once).expect("formatted output parses");
        assert_eq!(once, twice);
    }
});
