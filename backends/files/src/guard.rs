//! The last gate before a file is written: every free-text value of the host views is
//! checked again against the grammar of the file it goes into ([`lvsc_compiler::text`]).
//! The compiler refuses such values at `check`; this keeps a value that slipped past the
//! rules (or an IR built by hand) out of the files all the same.

use lvsc_compiler::HostViews;
use lvsc_compiler::ir::Check;
use lvsc_compiler::text::{self, Refusal};

use crate::BuildError;

/// Every value that cannot go where it is meant to go, by host.
pub fn check(hosts: &HostViews) -> Vec<BuildError> {
    let mut errors = Vec::new();
    let mut gate =
        |host: &str, what: &str, value: &str, grammar: fn(&str) -> Result<(), Refusal>| {
            if let Err(r) = grammar(value) {
                errors.push(BuildError {
                    host: host.to_string(),
                    message: format!("{what} {value:?} {r}"),
                });
            }
        };
    for d in &hosts.directors {
        for s in d.services.iter() {
            match &s.check {
                Check::Http { path, .. } | Check::Https { path, .. } => {
                    gate(&d.name, "check path", path, text::url_path)
                }
                Check::Misc { command, .. } => {
                    gate(&d.name, "check command", command, text::misc_command)
                }
                Check::None | Check::Tcp { .. } => {}
            }
        }
        for v in d.sysctls.values() {
            gate(&d.name, "sysctl value", v, text::sysctl_value);
        }
    }
    for r in &hosts.reals {
        for m in &r.mounts {
            gate(&r.name, "mount point", &m.path, text::file_path);
            gate(&r.name, "mount options", &m.options, text::mount_options);
        }
    }
    for s in &hosts.storage {
        for e in &s.exports {
            gate(&s.name, "export path", &e.path, text::export_path);
            gate(&s.name, "export options", &e.options, text::export_options);
        }
    }
    errors
}
