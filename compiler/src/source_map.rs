//! Where each IR item came from: a walk of the typed tree, apart from the build, so
//! that compiling a 10,000-service file does not format 170,000 keys nobody reads.

use std::collections::BTreeMap;

use lvsc_lang::Span;
use lvsc_lang::ast::SourceFile;

/// Where each IR item came from, keyed `service/NAME`, `pool/NAME`, `real/POOL/NAME`,
/// `director/NAME`, `storage/NAME`, `vrrp` and `bgp`.
pub type SourceMap = BTreeMap<String, Span>;

/// The source map of a parsed file.
pub fn of(f: &SourceFile) -> SourceMap {
    let mut map = SourceMap::new();
    if let Some(b) = &f.balancer {
        for d in &b.directors {
            map.insert(format!("director/{}", d.name.value), d.span);
        }
        if let Some(v) = b.vrrp.first() {
            map.insert("vrrp".into(), v.span);
        }
        if let Some(g) = b.bgp.first() {
            map.insert("bgp".into(), g.span);
        }
    }
    for s in &f.services {
        map.insert(format!("service/{}", s.name.value), s.span);
    }
    for p in &f.pools {
        map.insert(format!("pool/{}", p.name.value), p.span);
        for r in &p.reals {
            map.insert(format!("real/{}/{}", p.name.value, r.name.value), r.span);
        }
    }
    for s in &f.storage {
        map.insert(format!("storage/{}", s.name.value), s.span);
    }
    map
}
