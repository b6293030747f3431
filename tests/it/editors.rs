//! Editor support checked by the real tools: the TextMate grammar by
//! vscode-tmgrammar-test, the tree-sitter grammar by its corpus and by parsing every
//! example without an ERROR node, the Vim syntax by Vim itself.

use std::path::Path;
use std::process::Command;

use crate::support::{examples, run, system_test_can_run};

#[test]
fn textmate_grammar_passes_its_annotated_tests() {
    if !system_test_can_run("TextMate grammar", &["npx", "node"]) {
        return;
    }
    let dir = Path::new("editors/vscode");
    assert!(
        dir.join("node_modules/vscode-tmgrammar-test").exists(),
        "run `npm ci` in editors/vscode (scripts/test-all does)"
    );
    let out = Command::new("npx")
        .current_dir(dir)
        .args([
            "vscode-tmgrammar-test",
            "-g",
            "syntaxes/lvs.tmLanguage.json",
            "test/*.lvs",
        ])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("run successfuly"),
        "{text}"
    );
}

#[test]
fn tree_sitter_grammar_passes_its_corpus_and_parses_every_example() {
    if !system_test_can_run("tree-sitter grammar", &["tree-sitter", "cc"]) {
        return;
    }
    // Generate into a scratch copy: the generated parser is not committed.
    let dir = std::env::temp_dir().join(format!("lvsc-ts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    run(
        "cp",
        &["-r", "editors/tree-sitter-lvs", dir.to_str().unwrap()],
    );
    let ts = |args: &[&str]| {
        let out = Command::new("tree-sitter")
            .current_dir(&dir)
            .args(args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "tree-sitter {args:?} failed:\n{text}");
        text
    };
    ts(&["generate", "--js-runtime", "native"]);
    let corpus = ts(&["test"]);
    assert!(corpus.contains("failed parses: 0"), "{corpus}");
    let paths: Vec<String> = examples()
        .iter()
        .map(|e| {
            std::fs::canonicalize(e)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut args = vec!["parse", "-p", "."];
    args.extend(paths.iter().map(String::as_str));
    let trees = ts(&args);
    assert!(
        !trees.contains("ERROR") && !trees.contains("MISSING"),
        "{trees}"
    );
    assert_eq!(trees.matches("(source_file").count(), paths.len());
    // The highlight query is valid and captures what it should.
    let web_dr = std::fs::canonicalize("examples/web-dr.lvs").unwrap();
    let q = ts(&[
        "query",
        "-p",
        ".",
        "queries/highlights.scm",
        web_dr.to_str().unwrap(),
    ]);
    for capture in [
        "keyword",
        "type",
        "constant.builtin",
        "number",
        "string",
        "comment",
    ] {
        assert!(
            q.contains(&format!("capture: {}", capture)) || q.contains(&format!("- {capture},")),
            "no @{capture} in:\n{q}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vim_syntax_names_each_kind_of_token() {
    if !system_test_can_run("Vim syntax", &["vim"]) {
        return;
    }
    let out = std::env::temp_dir().join(format!("lvsc-vim-{}.out", std::process::id()));
    let script = std::env::temp_dir().join(format!("lvsc-vim-{}.vim", std::process::id()));
    // (line, column) in examples/web-dr.lvs and the syntax group Vim must report.
    let probes = [
        (1, 1, "lvsComment"),
        (2, 1, "lvsBlock"),
        (2, 9, "lvsName"),
        (11, 16, "lvsAddress"),
        (11, 29, "lvsConstant"),
        (16, 9, "lvsConstant"),
        (16, 14, "lvsString"),
        (16, 43, "lvsDuration"),
        (25, 13, "lvsScheduler"),
        (26, 3, "lvsDirective"),
    ];
    let calls: String = probes
        .iter()
        .map(|(l, c, _)| format!("call add(out, synIDattr(synID({l}, {c}, 1), 'name'))\n"))
        .collect();
    std::fs::write(
        &script,
        format!(
            "set nocompatible\nlet &rtp = '{}/editors/vim,' . &rtp\nfiletype on\nsyntax on\nedit examples/web-dr.lvs\nlet out = [&filetype]\n{calls}call writefile(out, '{}')\nqall!\n",
            std::env::current_dir().unwrap().display(),
            out.display()
        ),
    )
    .unwrap();
    run(
        "vim",
        &["-Nu", "NONE", "-es", "-S", script.to_str().unwrap()],
    );
    let got = std::fs::read_to_string(&out).unwrap();
    let mut lines = got.lines();
    assert_eq!(lines.next(), Some("lvs"), "filetype not detected");
    for ((l, c, want), have) in probes.iter().zip(lines) {
        assert_eq!(have, *want, "line {l} column {c}");
    }
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_file(script);
}
