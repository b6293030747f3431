//! `lvsc build --target ebpf` and `lvsc inspect`: the map image end to end.

use crate::support::lvsc;

#[test]
fn images_build_inspect_and_follow_weights() {
    let dir = std::env::temp_dir().join(format!("lvsc-img-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let img = dir.join("web.img");
    let out = lvsc(&[
        "build",
        "examples/web-dr.lvs",
        "--target",
        "ebpf",
        "-o",
        img.to_str().unwrap(),
        "--host",
        "lb1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8(lvsc(&["inspect", img.to_str().unwrap()]).stdout).unwrap();
    // Weights 3 : 1 : drained, within one percentage point.
    assert!(
        shown.contains("real 192.0.2.21 weight 3 slots") && shown.contains("(75.0%)"),
        "{shown}"
    );
    assert!(
        shown.contains("real 192.0.2.23 weight 0 slots 0 (0.0%)"),
        "{shown}"
    );
    // Deterministic: the same input gives the same bytes.
    let again = dir.join("again.img");
    assert!(
        lvsc(&[
            "build",
            "examples/web-dr.lvs",
            "--target",
            "ebpf",
            "-o",
            again.to_str().unwrap(),
            "--host",
            "lb1"
        ])
        .status
        .success()
    );
    assert_eq!(std::fs::read(&img).unwrap(), std::fs::read(&again).unwrap());
    // A corrupt image: a clear error and exit 1.
    let mut bytes = std::fs::read(&img).unwrap();
    bytes[200] ^= 0xff;
    let bad = dir.join("bad.img");
    std::fs::write(&bad, &bytes).unwrap();
    let out = lvsc(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum"));
    // NAT is not an XDP forwarding method.
    let out = lvsc(&[
        "build",
        "examples/web-nat.lvs",
        "--target",
        "ebpf",
        "-o",
        dir.join("nat.img").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every director of every example with several builds byte-identical Maglev tables for
/// each service it can carry on XDP (the image's table section, and the map image as a
/// whole for direct routing, where no director address goes in): a flow that ECMP moves
/// to another director reaches the same real.
#[test]
fn every_director_builds_the_same_maglev_tables() {
    use lvsc_compiler::ir::ForwardMethod;
    let mut compared = 0;
    for ex in crate::support::examples() {
        let text = std::fs::read_to_string(&ex).unwrap();
        let cluster = lvsc_compiler::compile_source(&text).cluster.unwrap();
        let views = lvsc_compiler::views(&cluster);
        if views.directors.len() < 2 {
            continue;
        }
        let images: Vec<(String, Vec<u8>, Vec<u8>)> = views
            .directors
            .iter()
            .map(|d| {
                let services: Vec<_> = d
                    .services
                    .iter()
                    .filter(|s| s.forward.method != ForwardMethod::Nat)
                    .cloned()
                    .collect();
                let sources: Vec<_> = d.addresses.iter().map(|a| a.addr).collect();
                let img = lvsc_xdp_image::image::build(&services, &sources).unwrap();
                let tables: Vec<u8> = img.tables.iter().flat_map(|t| t.to_le_bytes()).collect();
                let direct: Vec<_> = services
                    .iter()
                    .filter(|s| s.forward.method == ForwardMethod::Dr)
                    .cloned()
                    .collect();
                let whole = lvsc_xdp_image::image::build(&direct, &sources)
                    .unwrap()
                    .to_bytes();
                (d.name.clone(), tables, whole)
            })
            .collect();
        let (first, tables, whole) = &images[0];
        for (name, t, w) in &images[1..] {
            assert!(t == tables, "{ex}: {name}'s tables differ from {first}'s");
            assert!(
                w == whole,
                "{ex}: {name}'s direct-routing image differs from {first}'s"
            );
            compared += 1;
        }
    }
    assert!(compared >= 5, "only {compared} directors compared");
}
