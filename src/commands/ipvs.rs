//! Planning and applying against the kernel's IPVS table.

use std::process::ExitCode;

use lvsc_compiler::hosts::DirectorView;
use lvsc_ipvs::{Kernel, Netlink, Step, diff, inverse};

/// Reads the live table; meant to run beside the compiler on another core.
pub fn dump() -> anyhow::Result<lvsc_ipvs::Table> {
    Ok(Netlink::open()?.dump()?)
}

/// Prints the change set from the live table to the director's; exit 0 none, 2 some.
pub fn plan(d: &DirectorView, live: &lvsc_ipvs::Table, drain: bool) -> anyhow::Result<ExitCode> {
    let steps = diff(live, &lvsc_ipvs::desired(&d.services), drain);
    if steps.is_empty() {
        println!("No changes: the IPVS table of {} matches.", d.name);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "IPVS plan for {}: {}",
        d.name,
        crate::report::plural(steps.len(), "step", "steps")
    );
    for s in &steps {
        println!("  {s}");
    }
    Ok(ExitCode::from(2))
}

/// Sends the change set; reports exactly what was applied when the kernel refuses.
pub fn apply(
    d: &DirectorView,
    dry_run: bool,
    atomic: bool,
    drain: bool,
) -> anyhow::Result<ExitCode> {
    let mut nl = Netlink::open()?;
    let before = nl.dump()?;
    let steps = diff(&before, &lvsc_ipvs::desired(&d.services), drain);
    if dry_run {
        for s in &steps {
            println!("{s}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    hold_vips(d)?;
    if steps.is_empty() {
        eprintln!("{}: IPVS table already matches; nothing sent", d.name);
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = nl.apply(&steps);
    let Some((at, why)) = outcome.refused else {
        eprintln!(
            "{}: {} applied ({})",
            d.name,
            crate::report::plural(steps.len(), "change", "changes"),
            crate::report::plural(outcome.messages_sent, "netlink request", "netlink requests")
        );
        return Ok(ExitCode::SUCCESS);
    };
    eprintln!("lvsc: {}: {why}", d.name);
    eprintln!(
        "step {} of {} was refused: {}",
        at + 1,
        steps.len(),
        steps[at]
    );
    let applied: Vec<&Step> = outcome.applied.iter().map(|&i| &steps[i]).collect();
    eprintln!("applied ({}):", applied.len());
    for s in &applied {
        eprintln!("  {s}");
    }
    eprintln!("not applied ({}):", steps.len() - applied.len());
    for (i, s) in steps
        .iter()
        .enumerate()
        .filter(|(i, _)| !outcome.applied.contains(i))
    {
        eprintln!("  {}{s}", if i == at { "refused: " } else { "" });
    }
    if atomic && !applied.is_empty() {
        // Undo in reverse order, each step against the table as it was before.
        let undo: Vec<Step> = applied
            .iter()
            .rev()
            .flat_map(|s| inverse(s, &before))
            .collect();
        let back = nl.apply(&undo);
        match back.refused {
            None => eprintln!(
                "--atomic: the {} applied steps were rolled back; the table is as before",
                applied.len()
            ),
            Some((i, e)) => eprintln!(
                "--atomic: rollback failed at `{}` ({e}); run `lvsc plan` to see the table",
                undo[i]
            ),
        }
    } else {
        eprintln!("run `lvsc plan` to see what remains; it reads the table as it now is");
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
