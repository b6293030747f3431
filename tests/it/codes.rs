//! Every diagnostic code has a fixture under tests/ that triggers it: a code without one
//! is a diagnostic nobody has seen rendered.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every `.lvs` file under `dir`, recursively.
fn fixtures(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            fixtures(&p, out);
        } else if p.extension().is_some_and(|x| x == "lvs") {
            out.push(p);
        }
    }
}

#[test]
fn every_diagnostic_code_has_a_fixture_that_triggers_it() {
    let mut files = Vec::new();
    fixtures(Path::new("tests"), &mut files);
    let mut seen = BTreeSet::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        match lvsc_lang::decode(&bytes) {
            Err(d) => {
                seen.insert(d.code);
            }
            Ok(text) => {
                seen.extend(
                    lvsc_compiler::compile_source(text)
                        .diagnostics
                        .iter()
                        .map(|d| d.code),
                );
            }
        }
    }
    let missing: Vec<&str> = lvsc_lang::codes::ALL
        .iter()
        .chain(lvsc_compiler::codes::ALL)
        .filter(|c| !seen.contains(*c))
        .copied()
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a fixture under tests/ (add one that triggers each): {missing:?}"
    );
}
