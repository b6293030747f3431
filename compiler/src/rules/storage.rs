//! Shared storage: sources in the right form, and the single-server scalability limit.

use lvsc_lang::{Diagnostic, Value};

use crate::codes;
use crate::ctx::Ctx;

/// The seed: "a single NFS/CIFS can only support data access for 4 to 8 servers".
const SINGLE_SERVER_CLIENTS: usize = 8;

pub fn check(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for st in &ctx.file.storage {
        let kind = st.kind.value.as_str();
        let ok = match (kind, &st.source.value) {
            ("nfs" | "cephfs" | "glusterfs", Value::Addr(e)) => e.path.is_some(),
            ("cifs", Value::Path(p) | Value::Str(p)) => p.starts_with("//") && p[2..].contains('/'),
            ("gfs2" | "ocfs2", Value::Path(p) | Value::Str(p)) => p.starts_with("/dev/"),
            ("gpfs" | "coda", Value::Word(_)) => true,
            ("database", Value::Addr(e)) => e.port.is_some(),
            _ => false,
        };
        if !ok {
            let expected = match kind {
                "nfs" | "cephfs" | "glusterfs" => "ADDR:/path, like 192.0.2.50:/export/www",
                "cifs" => "//server/share, like //192.0.2.60/share",
                "gfs2" | "ocfs2" => "a shared block device, like /dev/mapper/shared",
                "database" => "ADDR:PORT, like 192.0.2.80:5432",
                _ => "a file-system name",
            };
            out.push(
                Diagnostic::error(
                    codes::STORAGE_SOURCE,
                    st.source.span,
                    format!("`{kind}` shares {expected}"),
                )
                .with_label("not in that form")
                .with_help(format!(
                    "write `{kind} {}`",
                    expected.split(", like ").nth(1).unwrap_or("NAME")
                )),
            );
        }
        if !matches!(kind, "nfs" | "cifs") {
            continue;
        }
        let clients: std::collections::BTreeSet<_> = st
            .mounts
            .iter()
            .filter_map(|m| ctx.pools.get(m.pool.value.as_str()))
            .flat_map(|p| p.reals.iter().map(|r| r.addr.value.ip))
            .collect();
        if clients.len() > SINGLE_SERVER_CLIENTS {
            let span = st.mounts.first().map_or(st.kind.span, |m| m.span);
            out.push(
                Diagnostic::warning(codes::SINGLE_SERVER_SCALE, st.kind.span, format!("one {} server shared by {} reals", kind.to_uppercase(), clients.len()))
                    .with_label(format!("a single {} server serves 4 to 8 clients well", kind.to_uppercase()))
                    .with_related(span, "mounted here")
                    .with_help("for a pool this large use a cluster file system (gfs2, ocfs2, gpfs, cephfs or glusterfs)"),
            );
        }
    }
}
