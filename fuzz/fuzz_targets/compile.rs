//! The whole compile and build: any text that compiles gives every generated file, the
//! host views, a plan against itself that is empty, and an XDP map image that reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = lvsc_lang::decode(data) else { return };
    let compiled = lvsc_compiler::compile_source(text);
    for d in &compiled.diagnostics {
        assert!(d.span.end() <= text.len(), "a span past the end");
    }
    let Some(cluster) = compiled.cluster else { return };
    let _ = lvsc_compiler::views(&cluster);
    for set in [
        lvsc_files::FileSet::Hosts,
        lvsc_files::FileSet::NftablesDataplane,
        lvsc_files::FileSet::IpvsadmRules,
    ] {
        let _ = lvsc_files::build(&cluster, set);
    }
    assert!(lvsc_compiler::diff::diff(&cluster, &cluster).is_empty());
    let review = lvsc_review::Review::new(&cluster, &cluster, "fuzz.lvs", true);
    if let Ok(r) = review {
        let _ = lvsc_review::json::render(&r);
        let _ = lvsc_review::markdown::render(&r);
    }
    // Maglev tables cost time in proportion to their size: build small ones only.
    if cluster.services.iter().map(|s| s.table_size as u64).sum::<u64>() <= 1 << 20 {
        if let Ok(img) = lvsc_xdp_image::image::build(&cluster.services, &[]) {
            let back = lvsc_xdp_image::image::Image::from_bytes(&img.to_bytes());
            assert_eq!(back.as_ref(), Ok(&img), "the image does not read back");
        }
    }
});
