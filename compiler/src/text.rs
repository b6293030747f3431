//! What free text may contain. Each free-text field of the language ends up in a file
//! with its own grammar: keepalived.conf, exports(5), mount(8) options, sysctl.conf,
//! shell. A value one of these functions accepts reaches its file verbatim (or through
//! that file's own quoting) and means there what it meant in the cluster file.
//!
//! The compiler refuses everything else at `check`, with the span; the backends call the
//! same functions again before they write, so nothing unchecked is ever written.

use std::fmt;

/// Why a text cannot go where it is meant to go, and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What was found: "`!`", "whitespace", "an empty option", ...
    pub found: String,
    /// What to do instead.
    pub help: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "contains {}: {}", self.found, self.help)
    }
}

fn refuse(found: impl Into<String>, help: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal {
        found: found.into(),
        help: help.into(),
    })
}

/// How a character is named in a refusal.
fn named(c: char) -> String {
    match c {
        '"' => "a double quote".into(),
        '\'' => "a single quote".into(),
        '`' => "a backquote".into(),
        '\\' => "a backslash".into(),
        c if c.is_control() => "a control character".into(),
        c if c.is_whitespace() => "whitespace".into(),
        c if !c.is_ascii() => format!("the non-ASCII character `{c}`"),
        c => format!("`{c}`"),
    }
}

/// The first character outside `allowed`, refused with `help`.
fn only(s: &str, allowed: impl Fn(char) -> bool, help: &str) -> Result<(), Refusal> {
    match s.chars().find(|&c| !allowed(c)) {
        Some(c) => refuse(named(c), help),
        None => Ok(()),
    }
}

fn longest(s: &str, max: usize, what: &str) -> Result<(), Refusal> {
    if s.len() > max {
        return refuse(
            format!("{} bytes", s.len()),
            format!("{what} is at most {max} bytes long"),
        );
    }
    Ok(())
}

/// The path (and query) of an HTTP check: keepalived reads it as one word and treats
/// `#`, `!`, `$`, quotes, braces and backslashes specially, so those and anything else
/// outside a URL's plain characters must be percent-encoded.
pub fn url_path(s: &str) -> Result<(), Refusal> {
    longest(s, 1024, "a URL path")?;
    if !s.starts_with('/') {
        return refuse(
            "no leading `/`",
            "an HTTP check path starts with `/`, like \"/healthz\"",
        );
    }
    only(
        s,
        |c| c.is_ascii_alphanumeric() || "-._~/?&=+,:@%".contains(c),
        "percent-encode it (a space is %20, `!` is %21, `#` is %23, `$` is %24)",
    )?;
    let bytes = s.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return refuse(
                "a `%` not followed by two hex digits",
                "write `%` itself as %25",
            );
        }
    }
    Ok(())
}

/// A `misc` check command: an absolute program path and its arguments, separated by
/// single spaces. keepalived splits it into words itself and runs it without a shell
/// (and `lvsc run` does the same), so quoting, variables and comments have no place in
/// it: put anything more in a script and name the script.
pub fn misc_command(s: &str) -> Result<(), Refusal> {
    longest(s, 1024, "a check command")?;
    let help = "name a script that does it: a command is a program path and plain \
                arguments, separated by spaces";
    if !s.starts_with('/') {
        return refuse("no absolute program path", help);
    }
    if s.ends_with(' ') || s.contains("  ") {
        return refuse("an empty argument", help);
    }
    only(
        s,
        |c| c.is_ascii_alphanumeric() || " /._,:=+@%-".contains(c),
        help,
    )
}

/// Options as `name[=value]` items joined by commas, with `name` and `value` limited to
/// characters the option parsers (exports(5), mount(8)) read literally.
fn option_list(s: &str, what: &str, name_char: impl Fn(char) -> bool) -> Result<(), Refusal> {
    longest(s, 1024, what)?;
    let help = format!(
        "{what} are `name` or `name=value` items joined by commas, without spaces or quotes"
    );
    for item in s.split(',') {
        let (name, value) = item.split_once('=').unwrap_or((item, ""));
        if name.is_empty() {
            return refuse("an empty option", help);
        }
        only(name, &name_char, &help)?;
        only(
            value,
            |c| c.is_ascii_alphanumeric() || "_:/.@+-".contains(c),
            &help,
        )?;
    }
    Ok(())
}

/// exports(5) options that stand alone.
const EXPORT_FLAGS: &[&str] = &[
    "secure",
    "insecure",
    "rw",
    "ro",
    "async",
    "sync",
    "wdelay",
    "no_wdelay",
    "hide",
    "nohide",
    "crossmnt",
    "nocrossmnt",
    "subtree_check",
    "no_subtree_check",
    "secure_locks",
    "insecure_locks",
    "auth_nlm",
    "no_auth_nlm",
    "mountpoint",
    "mp",
    "nordirplus",
    "pnfs",
    "no_pnfs",
    "security_label",
    "root_squash",
    "no_root_squash",
    "all_squash",
    "no_all_squash",
    "acl",
    "no_acl",
];
/// exports(5) options that take `=value`.
const EXPORT_VALUED: &[&str] = &[
    "sec",
    "mountpoint",
    "mp",
    "fsid",
    "refer",
    "replicas",
    "anonuid",
    "anongid",
];

/// Whether `value` is what exportfs takes for option `name`; why not when it is not.
fn export_value(name: &str, value: &str) -> Result<(), String> {
    let digits =
        !value.is_empty() && value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit());
    let ok = match name {
        "sec" => value
            .split(':')
            .all(|f| ["sys", "krb5", "krb5i", "krb5p", "none"].contains(&f)),
        "anonuid" | "anongid" => digits && value.parse::<u32>().is_ok(),
        "fsid" => {
            digits
                || value == "root"
                || (value.len() >= 32 && value.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
        }
        "mountpoint" | "mp" => value.starts_with('/'),
        "refer" | "replicas" => value.split(':').all(|loc| {
            loc.split_once('@').is_some_and(|(path, hosts)| {
                path.starts_with('/')
                    && !hosts.is_empty()
                    && hosts.split('+').all(|h| {
                        !h.is_empty()
                            && h.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                    })
            })
        }),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(match name {
        "sec" => "sec= takes sys, krb5, krb5i, krb5p or none, joined by `:`".into(),
        "anonuid" | "anongid" => format!("{name}= takes a numeric id"),
        "fsid" => "fsid= takes a number, `root` or a UUID".into(),
        "mountpoint" | "mp" => format!("{name}= takes an absolute path"),
        _ => format!("{name}= takes PATH@HOST[+HOST][:PATH@HOST...]"),
    })
}

/// The options of an NFS export, as exports(5) reads them inside `client(...)`: its
/// own option names, which exportfs refuses to guess about.
pub fn export_options(s: &str) -> Result<(), Refusal> {
    option_list(s, "export options", |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
    })?;
    for item in s.split(',') {
        let (name, valued) = match item.split_once('=') {
            Some((n, _)) => (n, true),
            None => (item, false),
        };
        if let Some((name, value)) = item.split_once('=')
            && let Err(why) = export_value(name, value)
        {
            return refuse(format!("`{item}`"), why);
        }
        let known = if valued { EXPORT_VALUED } else { EXPORT_FLAGS };
        if !known.contains(&name) {
            let all = EXPORT_FLAGS.iter().chain(EXPORT_VALUED).copied();
            let help = match lvsc_lang::diagnostic::did_you_mean(name, all) {
                Some(m) => format!("did you mean `{m}`? (see exports(5))"),
                None if valued => format!("`{name}` takes no value in exports(5)"),
                None => format!("exports(5) has no option `{name}`"),
            };
            return refuse(format!("the unknown export option `{item}`"), help);
        }
    }
    Ok(())
}

/// Mount options, as `mount -o` reads them.
pub fn mount_options(s: &str) -> Result<(), Refusal> {
    option_list(s, "mount options", |c| {
        c.is_ascii_alphanumeric() || "_.-".contains(c)
    })
}

/// NFS protocol versions mount.nfs takes as `vers=`.
pub const NFS_VERSIONS: &[&str] = &["2", "3", "4", "4.0", "4.1", "4.2"];
/// SMB protocol versions mount.cifs takes as `vers=`.
pub const CIFS_VERSIONS: &[&str] = &["1.0", "2.0", "2.1", "3", "3.0", "3.02", "3.1.1", "3.11"];

/// A protocol version among `known`, which becomes `vers=` of a mount.
pub fn protocol_version(s: &str, known: &[&str]) -> Result<(), Refusal> {
    if known.contains(&s) {
        return Ok(());
    }
    let found = match s.chars().find(|c| !(c.is_ascii_digit() || *c == '.')) {
        Some(c) => named(c),
        None => format!("the unknown version `{s}`"),
    };
    refuse(found, format!("the versions are {}", known.join(", ")))
}

/// An NFS version.
pub fn nfs_version(s: &str) -> Result<(), Refusal> {
    protocol_version(s, NFS_VERSIONS)
}

/// A CIFS (SMB) version.
pub fn cifs_version(s: &str) -> Result<(), Refusal> {
    protocol_version(s, CIFS_VERSIONS)
}

/// A file path that becomes the value of a mount option (`credentials=PATH`): no
/// comma, which would start another option, and nothing a mount helper unquotes.
pub fn option_path(s: &str) -> Result<(), Refusal> {
    longest(s, 4096, "a path")?;
    if !s.starts_with('/') {
        return refuse("a relative path", "give an absolute path");
    }
    only(
        s,
        |c| c.is_ascii_alphanumeric() || "/._@+-".contains(c),
        "this path becomes a mount option: use letters, digits and / . _ @ + - only",
    )?;
    if s.ends_with('/') || s.split('/').any(|p| p == "." || p == "..") {
        return refuse(
            "a path that is not a file's",
            "name the file itself, without `.`, `..` or a trailing `/`",
        );
    }
    Ok(())
}

/// A path on a host (a mount point, a secret's file): any printable text, since every
/// script quotes it, but one line and absolute.
pub fn file_path(s: &str) -> Result<(), Refusal> {
    longest(s, 4096, "a path")?;
    if !s.starts_with('/') {
        return refuse("a relative path", "give an absolute path");
    }
    only(
        s,
        |c| !c.is_control(),
        "generated files are line-based: a newline would start a new directive",
    )
}

/// The path of an NFS export: exports(5) quotes it, and reads neither a double quote
/// nor a backslash inside quotes as itself.
pub fn export_path(s: &str) -> Result<(), Refusal> {
    file_path(s)?;
    only(
        s,
        |c| c != '"' && c != '\\',
        "exports(5) cannot carry it in a path; rename the directory",
    )
}

/// The value of a kernel setting in sysctl.conf: one line, no surrounding blanks.
pub fn sysctl_value(s: &str) -> Result<(), Refusal> {
    longest(s, 4096, "a sysctl value")?;
    if s.is_empty() || s.trim() != s {
        return refuse(
            "surrounding whitespace",
            "sysctl.conf trims it; write the value alone",
        );
    }
    only(
        s,
        |c| !c.is_control(),
        "generated files are line-based: a newline would start a new directive",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_paths() {
        for ok in ["/", "/healthz", "/a/b?x=1&y=%20z", "/~user/x.html"] {
            assert_eq!(url_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "healthz", "/a b", "/a!b", "/a#b", "/a${X}", "/a\"b", "/a\\b", "/a}", "/%2", "/%zz",
            "/é", "/a'b",
        ] {
            assert!(url_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn misc_commands() {
        assert_eq!(
            misc_command("/usr/local/lib/lvsc/check-mysql-lag --max-lag 30"),
            Ok(())
        );
        for bad in [
            "check",
            "/bin/x \"y\"",
            "/bin/x 'y'",
            "/bin/x $HOME",
            "/bin/x # c",
            "/bin/x !",
            "/bin/x  y",
            "/bin/x ",
            "/bin/x\ty",
            "/bin/x `y`",
            "/bin/x;y",
            "/bin/x {y}",
        ] {
            assert!(misc_command(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn option_lists() {
        assert_eq!(
            export_options("ro,sync,no_subtree_check,sec=krb5:krb5i"),
            Ok(())
        );
        assert!(export_options("ro,no_root_squas").is_err());
        assert!(export_options("ro=1").is_err());
        assert_eq!(
            mount_options("rw,uid=www-data,gid=www-data,_netdev,vers=4.2,x-systemd.automount"),
            Ok(())
        );
        for bad in [
            "ro) *(rw,no_root_squash",
            "ro,,rw",
            "ro rw",
            "ro,\"x\"",
            "",
            "rw;touch",
            "rw,$(x)",
        ] {
            assert!(export_options(bad).is_err(), "{bad}");
            assert!(mount_options(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn versions_and_option_paths() {
        for ok in ["3", "4.2"] {
            assert_eq!(nfs_version(ok), Ok(()), "{ok}");
        }
        assert_eq!(cifs_version("3.1.1"), Ok(()));
        for bad in ["4.2,rw", "", "4.", ".4", "4..2", "1.2.3.4", "v4", "9.9"] {
            assert!(nfs_version(bad).is_err(), "{bad}");
        }
        assert_eq!(option_path("/etc/lvsc/uploads.cred"), Ok(()));
        for bad in ["/a,uid=0", "a", "/a b", "/a=b"] {
            assert!(option_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_and_sysctl_values() {
        assert_eq!(file_path("/tmp/a b';touch x;'"), Ok(()));
        assert!(file_path("/a\nb").is_err());
        assert_eq!(export_path("/export/x$(y)#z"), Ok(()));
        assert!(export_path("/export/\"x").is_err());
        assert_eq!(sysctl_value("1;touch /tmp/x"), Ok(()));
        assert!(sysctl_value(" 1").is_err());
        assert!(sysctl_value("1\nnet.x = 2").is_err());
    }
}
