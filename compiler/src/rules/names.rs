//! Names: unique definitions, resolving references ("did you mean"), unused definitions.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use lvsc_lang::diagnostic::suggest;
use lvsc_lang::{Diagnostic, Span, Spanned};

use crate::codes;
use crate::ctx::Ctx;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let f = ctx.file;
    if f.cluster.is_none() && (!f.services.is_empty() || f.balancer.is_some()) {
        out.push(
            Diagnostic::error(
                codes::MISSING_CLUSTER,
                Span::new(0, 0),
                "the file does not name its cluster",
            )
            .with_label("expected `cluster NAME` here")
            .with_help(
                "start the file with `cluster NAME`; the name appears in every generated file",
            ),
        );
    }
    unique(out, "pool", f.pools.iter().map(|p| &p.name));
    unique(out, "service", f.services.iter().map(|s| &s.name));
    unique(out, "storage", f.storage.iter().map(|s| &s.name));
    unique(
        out,
        "director",
        f.balancer
            .iter()
            .flat_map(|b| b.directors.iter().map(|d| &d.name)),
    );
    for p in &f.pools {
        unique(out, "real", p.reals.iter().map(|r| &r.name));
    }
    // A real is a host: one name, one address, whichever pools it is in.
    // Sized once: at 160,000 reals a map that doubles holds its old table beside the new.
    let reals = f.pools.iter().map(|p| p.reals.len()).sum();
    let mut hosts: HashMap<&str, &lvsc_lang::ast::Real> =
        HashMap::with_capacity_and_hasher(reals, Default::default());
    for r in f.pools.iter().flat_map(|p| &p.reals) {
        match hosts.get(r.name.value.as_str()) {
            Some(first) if first.addr.value.ip != r.addr.value.ip => out.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    r.name.span,
                    format!("real `{}` has two addresses", r.name.value),
                )
                .with_label(format!("here it is {}", r.addr.value.ip))
                .with_related(
                    first.addr.span,
                    format!("elsewhere it is {}", first.addr.value.ip),
                )
                .with_help(
                    "a real's name is its host name: give each host one name and one address",
                ),
            ),
            Some(_) => {}
            None => {
                hosts.insert(&r.name.value, r);
            }
        }
    }
    drop(hosts);
    host_names(ctx, out);

    let pool_names: Vec<&str> = f.pools.iter().map(|p| p.name.value.as_str()).collect();
    let mut used = HashSet::default();
    for s in &f.services {
        match &s.pool {
            Some(p) => {
                used.insert(p.value.as_str());
                resolve_pool(out, p, ctx, &pool_names);
            }
            None => out.push(
                Diagnostic::error(
                    codes::NO_POOL,
                    s.name.span,
                    format!("service `{}` has no pool", s.name.value),
                )
                .with_label("no real servers behind this service")
                .with_help("add `pool NAME` naming the pool that serves it"),
            ),
        }
        for r in &s.routes {
            if let Some(p) = &r.pool {
                resolve_pool(out, p, ctx, &pool_names);
            }
        }
    }
    for st in &f.storage {
        for m in &st.mounts {
            used.insert(m.pool.value.as_str());
            resolve_pool(out, &m.pool, ctx, &pool_names);
        }
        if st.mounts.is_empty() {
            out.push(
                Diagnostic::warning(
                    codes::UNUSED_STORAGE,
                    st.name.span,
                    format!("storage `{}` is not mounted anywhere", st.name.value),
                )
                .with_label("unused")
                .with_help("add `mount PATH on pool NAME`, or remove the storage"),
            );
        }
    }
    for p in &f.pools {
        if !used.contains(p.name.value.as_str()) {
            out.push(
                Diagnostic::warning(
                    codes::UNUSED_POOL,
                    p.name.span,
                    format!("pool `{}` is not used by any service", p.name.value),
                )
                .with_label("unreachable: no service sends traffic here")
                .with_help("add `pool` to a service, or remove the pool"),
            );
        }
    }
}

fn resolve_pool(out: &mut Vec<Diagnostic>, p: &Spanned<String>, ctx: &Ctx<'_>, pools: &[&str]) {
    // The map, not the list: 10,000 services over 10,000 pools must not be quadratic.
    if ctx.pools.contains_key(p.value.as_str()) {
        return;
    }
    let d = Diagnostic::error(
        codes::UNKNOWN_POOL,
        p.span,
        format!("no pool is named `{}`", p.value),
    )
    .with_label("unknown pool");
    out.push(d.with_help(suggest(&p.value, pools, || match pools {
        [] => "define it with `pool NAME { real ... }`".into(),
        _ => format!("defined pools: {}", pools.join(", ")),
    })));
}

fn unique<'a>(
    out: &mut Vec<Diagnostic>,
    what: &str,
    names: impl Iterator<Item = &'a Spanned<String>>,
) {
    let mut seen: HashMap<&str, Span> = HashMap::default();
    for n in names {
        if let Some(first) = seen.get(n.value.as_str()) {
            out.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    n.span,
                    format!("{what} `{}` is defined twice", n.value),
                )
                .with_label("second definition")
                .with_related(*first, "first definition")
                .with_help(format!("rename one of them: {what} names are unique")),
            );
        } else {
            seen.insert(&n.value, n.span);
        }
    }
}

/// Every host gets a folder of its own in `lvsc build`: one name, one host, whatever its
/// role. (A real in several pools is one host; the loop above checked its address.)
fn host_names(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let f = ctx.file;
    let directors = f
        .balancer
        .iter()
        .flat_map(|b| &b.directors)
        .map(|d| (&d.name, "a director"));
    let reals = f
        .pools
        .iter()
        .flat_map(|p| &p.reals)
        .map(|r| (&r.name, "a real server"));
    // A storage server is a host when lvsc writes its exports: NFS and CIFS.
    let servers = f
        .storage
        .iter()
        .filter(|s| matches!(s.kind.value.as_str(), "nfs" | "cifs"))
        .map(|s| (s.server.as_ref().unwrap_or(&s.name), "a storage server"));
    let hosts = f.pools.iter().map(|p| p.reals.len()).sum::<usize>() + 16;
    let mut seen: HashMap<&str, (Span, &str)> =
        HashMap::with_capacity_and_hasher(hosts, Default::default());
    for (name, role) in directors.chain(reals).chain(servers) {
        match seen.get(name.value.as_str()) {
            Some(&(first, first_role)) if first_role != role => out.push(
                Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    name.span,
                    format!("`{}` names both {first_role} and {role}", name.value),
                )
                .with_label(format!("{role} named `{}`", name.value))
                .with_related(first, format!("{first_role} named `{}`", name.value))
                .with_help("every host gets its own folder of files: give each host its own name"),
            ),
            Some(_) => {}
            None => {
                seen.insert(&name.value, (name.span, role));
            }
        }
    }
}
