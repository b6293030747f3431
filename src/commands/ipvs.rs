//! Printing plans and applies against the kernel's IPVS table.

use std::process::ExitCode;

use lvsc_compiler::views::DirectorView;
use lvsc_ipvs::Netlink;
use lvsc_ipvs::director::{self, Options, Rollback};

use crate::report::plural;

/// Reads the live table; meant to run beside the compiler on another core.
pub fn dump() -> anyhow::Result<lvsc_ipvs::Table> {
    use lvsc_ipvs::Kernel;
    Ok(Netlink::open()?.dump()?)
}

/// Prints the change set from the live table to the director's; exit 0 none, 2 some.
pub fn plan(d: &DirectorView, live: &lvsc_ipvs::Table, drain: bool) -> anyhow::Result<ExitCode> {
    let steps = director::plan(d, live, drain);
    if steps.is_empty() {
        outln!("No changes: the IPVS table of {} matches.", d.name);
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "IPVS plan for {}: {}",
        d.name,
        plural(steps.len(), "step", "steps")
    );
    for s in &steps {
        outln!("  {s}");
    }
    Ok(ExitCode::from(2))
}

/// Sends the change set; reports exactly what was applied when the kernel refuses.
pub fn apply(d: &DirectorView, dry_run: bool, opts: Options) -> anyhow::Result<ExitCode> {
    let mut nl = Netlink::open()?;
    if dry_run {
        use lvsc_ipvs::Kernel;
        for s in director::plan(d, &nl.dump()?, opts.drain) {
            outln!("{s}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    hold_vips(d)?;
    let bar = std::sync::Arc::new(std::sync::OnceLock::new());
    let shown = bar.clone();
    let mut nl = nl.with_progress(Box::new(move |done, total| {
        let b = shown.get_or_init(|| crate::progress::bar(total as u64, "IPVS"));
        b.set_position(done as u64);
    }));
    let done = director::apply(&mut nl, d, opts)?;
    if let Some(b) = bar.get() {
        b.finish_and_clear();
    }
    let steps = &done.steps;
    if steps.is_empty() {
        eprintln!("{}: IPVS table already matches; nothing sent", d.name);
        return Ok(ExitCode::SUCCESS);
    }
    let Some(r) = done.refused else {
        eprintln!(
            "{}: {} applied ({})",
            d.name,
            plural(steps.len(), "change", "changes"),
            plural(done.messages_sent, "netlink request", "netlink requests")
        );
        return Ok(ExitCode::SUCCESS);
    };
    eprintln!("lvsc: {}: {}", d.name, r.error);
    eprintln!(
        "step {} of {} was refused: {}",
        r.at + 1,
        steps.len(),
        steps[r.at]
    );
    eprintln!("applied ({}):", r.applied.len());
    for &i in &r.applied {
        eprintln!("  {}", steps[i]);
    }
    eprintln!("not applied ({}):", steps.len() - r.applied.len());
    for (i, s) in steps
        .iter()
        .enumerate()
        .filter(|(i, _)| !r.applied.contains(i))
    {
        eprintln!("  {}{s}", if i == r.at { "refused: " } else { "" });
    }
    match r.rollback {
        Some(Rollback::Done) => eprintln!(
            "--atomic: the {} applied steps were rolled back; the table is as before",
            r.applied.len()
        ),
        Some(Rollback::Failed { step, error }) => eprintln!(
            "--atomic: rollback failed at `{step}` ({error}); run `lvsc plan` to see the table"
        ),
        None => eprintln!("run `lvsc plan` to see what remains; it reads the table as it now is"),
    }
    Ok(ExitCode::from(1))
}

/// A director without VRRP holds its VIPs itself; with VRRP, keepalived moves them to
/// whichever director is master, so adding them here would answer ARP twice.
fn hold_vips(d: &DirectorView) -> anyhow::Result<()> {
    if d.vrrp.is_some() {
        return Ok(());
    }
    lvsc_ipvs::vip::hold(&d.floating)?;
    let shown: Vec<String> = d
        .floating
        .iter()
        .take(4)
        .map(|a| format!("{}/{} on {}", a.addr, a.prefix, a.interface))
        .collect();
    let more = d.floating.len().saturating_sub(shown.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    eprintln!("{}: holds {}{tail}", d.name, shown.join(", "));
    Ok(())
}
