//! `lvsc graph`: every example as Mermaid, DOT and SVG. The SVG is checked by an SVG
//! (XML) parser that is not lvsc's (Python's), and names every host and service; the
//! pictures committed under docs/ are what lvsc draws now.

use crate::support::{examples, lvsc, run, system_test_can_run, temp_dir};

#[test]
fn every_example_draws_as_mermaid_dot_and_svg() {
    let dir = temp_dir("graph");
    let mut svgs = Vec::new();
    for ex in examples() {
        let cluster = lvsc_compiler::compile_source(&std::fs::read_to_string(&ex).unwrap())
            .cluster
            .unwrap();
        let hosts = lvsc_compiler::views(&cluster);
        let mut names: Vec<String> = hosts.roles().iter().map(|(n, _)| n.to_string()).collect();
        names.extend(cluster.services.iter().map(|s| s.name.clone()));
        for format in ["mermaid", "dot", "svg"] {
            let out = lvsc(&["graph", &ex, "--format", format]);
            assert!(
                out.status.success(),
                "{ex} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).unwrap();
            for n in &names {
                assert!(text.contains(n.as_str()), "{ex} {format}: {n} is not drawn");
            }
            if format == "svg" {
                let file = dir.join(format!("{}.svg", svgs.len()));
                std::fs::write(&file, &text).unwrap();
                svgs.push(file);
            }
        }
        let mermaid = String::from_utf8(lvsc(&["graph", &ex]).stdout).unwrap();
        assert!(mermaid.starts_with("flowchart LR\n"), "{ex}");
        // A drained real is drawn grey.
        if cluster
            .services
            .iter()
            .flat_map(|s| &s.reals)
            .any(|r| r.drain)
        {
            assert!(mermaid.contains(" drained\n"), "{ex}: {mermaid}");
        }
    }
    if system_test_can_run("SVG parsed by Python's XML parser", &["python3"]) {
        let mut args = vec![
            "-c",
            "import sys, xml.etree.ElementTree as E\n\
             for f in sys.argv[1:]:\n\
             \x20   r = E.parse(f).getroot()\n\
             \x20   assert r.tag == '{http://www.w3.org/2000/svg}svg', (f, r.tag)\n\
             \x20   assert len(list(r.iter())) > 10, f\n",
        ];
        let paths: Vec<String> = svgs
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        args.extend(paths.iter().map(String::as_str));
        run("python3", &args);
    }
    for (picture, ex) in [
        ("docs/cluster-anycast-bgp.svg", "examples/anycast-bgp.lvs"),
        ("docs/cluster-web-nat.svg", "examples/web-nat.lvs"),
    ] {
        let now = lvsc(&["graph", ex, "--format", "svg"]).stdout;
        assert!(
            std::fs::read(picture).unwrap() == now,
            "{picture} is not what `lvsc graph {ex} --format svg` draws now; draw it again"
        );
    }
}
