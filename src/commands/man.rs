//! `lvsc man --out DIR`: the manual pages, generated from the command-line definition
//! (clap_mangen): lvsc(1), one lvsc-COMMAND(1) per subcommand, and lvs(5), the language,
//! from the keyword table the parser and the language server use.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `lvsc man`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder to write the pages into (created when missing).
    #[arg(long, short)]
    out: PathBuf,
}

/// Writes every page of `cmd` and the language's page.
pub fn run(args: Args, cmd: clap::Command) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)?;
    let mut written = 0;
    write_pages(&cmd, "lvsc", &args.out, &mut written)?;
    write(&args.out.join("lvs.5"), language_page().as_bytes())?;
    eprintln!("wrote {} pages to {}", written + 1, args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes one page whole, through a new temporary file renamed over the old page (never
/// half a page, never through a link planted at its name), readable by all.
fn write(path: &Path, page: &[u8]) -> anyhow::Result<()> {
    lvsc_files::folder::replace(path, page, Some(0o644)).map_err(|e| anyhow::anyhow!("{e}"))
}

/// lvsc.1, then lvsc-SUB.1 for each subcommand (and theirs), named as `man lvsc-SUB` finds them.
fn write_pages(
    cmd: &clap::Command,
    name: &str,
    out: &Path,
    written: &mut usize,
) -> anyhow::Result<()> {
    let cmd = cmd
        .clone()
        .name(name.to_string())
        .bin_name(name.replace('-', " "));
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    write(&out.join(format!("{name}.1")), &page)?;
    *written += 1;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), out, written)?;
    }
    Ok(())
}

/// lvs(5): every keyword of the language with its help and an example, block by block.
fn language_page() -> String {
    use lvsc_lang::keywords::{GRAMMAR, KEYWORDS, Place};
    let esc = |s: &str| s.replace('\\', "\\e").replace('-', "\\-");
    let mut out = String::from(
        ".TH LVS 5 \"\" \"lvsc\" \"File Formats\"\n\
         .SH NAME\nlvs \\- the lvsc cluster file (cluster.lvs)\n\
         .SH DESCRIPTION\nOne declarative file describes a Linux Virtual Server cluster in \
         three tiers: the load-balancer tier (directors, VIPs, VRRP or BGP), the real-server \
         pools and shared storage. \\fBlvsc check\\fR checks it; \\fBlvsc build\\fR, \
         \\fBplan\\fR and \\fBapply\\fR compile it. A directive is a keyword, its arguments \
         and an optional block in braces; \\fB#\\fR starts a comment; \\fB;\\fR ends a \
         directive on a line.\n",
    );
    for (place, words) in GRAMMAR {
        let Place::In(block) = place else { continue };
        let title = match block.keyword() {
            "top" => "TOP LEVEL".to_string(),
            b => format!("IN {}", b.to_uppercase()),
        };
        out += &format!(".SH {title}\n");
        for w in *words {
            if let Some(k) = KEYWORDS.iter().find(|k| k.name == *w) {
                out += &format!(
                    ".TP\n.B {}\n{}\n.br\n\\fIExample:\\fR {}\n",
                    esc(k.name),
                    esc(k.help),
                    esc(k.example)
                );
            }
        }
    }
    out += ".SH SEE ALSO\n\\fBlvsc\\fR(1), docs/language.md in the lvsc sources\n";
    out
}
