//! Loading the nftables data plane on a director: the kernel settings NAT forwarding
//! needs, then the ruleset in one `nft -f` transaction (all of it or none of it).

use std::io::Write;
use std::process::{Command, Stdio};

use lvsc_compiler::views::DirectorView;

use crate::dataplane::dataplane;
use crate::ruleset::Refusal;

/// What an apply sets: kernel settings first, then the ruleset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Apply {
    /// The director.
    pub host: String,
    /// `sysctl` keys and values, sorted.
    pub sysctls: Vec<(String, String)>,
    /// The ruleset, loaded with `nft -f`.
    pub ruleset: String,
}

/// Why an apply stopped, and what it had changed by then.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A kernel setting was refused before the ruleset was touched.
    #[error("sysctl {key}={value} failed; nothing else was changed")]
    Sysctl {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// A tool could not be started.
    #[error("running {tool}: {source}")]
    Spawn {
        /// `sysctl` or `nft`.
        tool: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// nft refused the ruleset: the previous one is still in place.
    #[error(
        "nft refused the ruleset; the previous ruleset is still in place (one transaction); \
         sysctls were set: {set}"
    )]
    Refused {
        /// The settings already made, `key=value, ...`.
        set: String,
    },
}

impl Apply {
    /// What applying `d`'s data plane sets; refusals name the services it cannot carry.
    pub fn new(cluster: &str, d: &DirectorView) -> Result<Apply, Vec<Refusal>> {
        let ruleset = dataplane(cluster, d)?;
        Ok(Apply {
            host: d.name.clone(),
            sysctls: sysctls(d),
            ruleset,
        })
    }

    /// The commands an apply runs, as a dry run prints them.
    pub fn script(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.sysctls {
            out += &format!("sysctl -w {k}={v}\n");
        }
        out += &format!("nft -f - <<'EOF'\n{}EOF\n", self.ruleset);
        out
    }

    /// Sets the kernel settings, then loads the ruleset in one transaction.
    pub fn run(&self) -> Result<(), ApplyError> {
        set_sysctls(&self.sysctls)?;
        let spawn = |source| ApplyError::Spawn {
            tool: "nft",
            source,
        };
        let mut nft = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .map_err(spawn)?;
        let written = nft
            .stdin
            .take()
            .expect("stdin was piped")
            .write_all(self.ruleset.as_bytes());
        let status = nft.wait().map_err(spawn)?;
        if written.is_err() || !status.success() {
            let set: Vec<String> = self
                .sysctls
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            return Err(ApplyError::Refused {
                set: set.join(", "),
            });
        }
        Ok(())
    }
}

/// The kernel settings `d`'s data plane needs, sorted: the director's own, and forwarding
/// (NAT through nftables forwards packets).
pub fn sysctls(d: &DirectorView) -> Vec<(String, String)> {
    let mut sysctls: Vec<(String, String)> = d.sysctls.clone().into_iter().collect();
    if d.services.iter().any(|s| !s.is_ipv6()) {
        sysctls.push(("net.ipv4.ip_forward".into(), "1".into()));
    }
    if d.services.iter().any(|s| s.is_ipv6()) {
        sysctls.push(("net.ipv6.conf.all.forwarding".into(), "1".into()));
    }
    sysctls.sort();
    sysctls.dedup();
    sysctls
}

/// Sets `sysctls` in order; stops at the first the kernel refuses.
pub fn set_sysctls(sysctls: &[(String, String)]) -> Result<(), ApplyError> {
    for (k, v) in sysctls {
        let status = Command::new("sysctl")
            .args(["-qw", &format!("{k}={v}")])
            .status()
            .map_err(|source| ApplyError::Spawn {
                tool: "sysctl",
                source,
            })?;
        if !status.success() {
            return Err(ApplyError::Sysctl {
                key: k.clone(),
                value: v.clone(),
            });
        }
    }
    Ok(())
}
