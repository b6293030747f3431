//! One director's IPVS table made to match its view: the change set from the live table,
//! sent in order; when the kernel refuses a step, exactly what was applied, and with
//! `atomic` the applied steps undone.

use lvsc_compiler::ir::Service;
use lvsc_compiler::views::DirectorView;

use crate::changes::{Step, diff, inverse};
use crate::kernel::{Error, Kernel};
use crate::table::{Table, desired};

/// How to apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// If the kernel refuses a step, undo the steps already made.
    pub atomic: bool,
    /// A real that leaves gets weight 0 and stays until a later apply without `drain`.
    pub drain: bool,
}

/// What an apply did.
#[derive(Debug)]
pub struct Applied {
    /// The change set, in the order it was sent.
    pub steps: Vec<Step>,
    /// Netlink requests sent.
    pub messages_sent: usize,
    /// The refused step, when one was.
    pub refused: Option<Refusal>,
}

/// A refused step and what it left behind.
#[derive(Debug)]
pub struct Refusal {
    /// Index of the refused step in [`Applied::steps`].
    pub at: usize,
    /// The kernel's answer.
    pub error: Error,
    /// Indexes of the steps the kernel acknowledged before it.
    pub applied: Vec<usize>,
    /// With `atomic`: how the undo went.
    pub rollback: Option<Rollback>,
}

/// How undoing the applied steps went.
#[derive(Debug)]
pub enum Rollback {
    /// Every applied step was undone; the table is as before.
    Done,
    /// The undo stopped at this step; the table is neither old nor new.
    Failed {
        /// The undo step the kernel refused.
        step: Step,
        /// Its answer.
        error: Error,
    },
}

/// The change set that makes `kernel`'s live table match `d`.
pub fn plan(d: &DirectorView, live: &Table, drain: bool) -> Vec<Step> {
    diff(live, &desired(&d.services), drain)
}

/// Reads the live table, sends the change set, and reports exactly what happened.
pub fn apply(kernel: &mut impl Kernel, d: &DirectorView, opts: Options) -> Result<Applied, Error> {
    let before = kernel.dump()?;
    let steps = plan(d, &before, opts.drain);
    if steps.is_empty() {
        return Ok(Applied {
            steps,
            messages_sent: 0,
            refused: None,
        });
    }
    let outcome = kernel.apply(&steps);
    let refused = outcome.refused.map(|(at, error)| {
        let rollback = (opts.atomic && !outcome.applied.is_empty()).then(|| {
            // Undo in reverse order, each step against the table as it was before.
            let undo: Vec<Step> = outcome
                .applied
                .iter()
                .rev()
                .flat_map(|&i| inverse(&steps[i], &before))
                .collect();
            match kernel.apply(&undo).refused {
                None => Rollback::Done,
                Some((i, error)) => Rollback::Failed {
                    step: undo[i].clone(),
                    error,
                },
            }
        });
        Refusal {
            at,
            error,
            applied: outcome.applied.clone(),
            rollback,
        }
    });
    Ok(Applied {
        steps,
        messages_sent: outcome.messages_sent,
        refused,
    })
}

/// Changes these services of the kernel's table to `services` (one batch), leaving the
/// others alone; `live` is the table as last read, and follows what the kernel
/// acknowledged (or is read again after a refusal, so it stays the truth).
pub fn update_services(
    kernel: &mut impl Kernel,
    live: &mut Table,
    services: &[Service],
) -> Result<Applied, Error> {
    let want = desired(services);
    let mut now = Table::default();
    for key in want.services.keys() {
        if let Some(l) = live.services.get(key) {
            now.services.insert(key.clone(), l.clone());
        }
    }
    let steps = diff(&now, &want, false);
    if steps.is_empty() {
        return Ok(Applied {
            steps,
            messages_sent: 0,
            refused: None,
        });
    }
    let outcome = kernel.apply(&steps);
    let refused = match outcome.refused {
        None => {
            live.services.extend(want.services);
            None
        }
        Some((at, error)) => {
            *live = kernel.dump()?;
            Some(Refusal {
                at,
                error,
                applied: outcome.applied,
                rollback: None,
            })
        }
    };
    Ok(Applied {
        steps,
        messages_sent: outcome.messages_sent,
        refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::Outcome;

    /// A kernel that refuses the step at one index and records what it was sent.
    struct Refusing {
        table: Table,
        refuse_at: usize,
        sent: Vec<Vec<Step>>,
    }

    impl Kernel for Refusing {
        fn dump(&mut self) -> Result<Table, Error> {
            Ok(self.table.clone())
        }

        fn apply(&mut self, steps: &[Step]) -> Outcome {
            self.sent.push(steps.to_vec());
            let first = self.sent.len() == 1;
            let stop = if first { self.refuse_at } else { usize::MAX };
            Outcome {
                applied: (0..steps.len().min(stop)).collect(),
                refused: (stop < steps.len()).then(|| {
                    (
                        stop,
                        Error::Refused {
                            what: "test".into(),
                            errno: 22,
                        },
                    )
                }),
                messages_sent: steps.len(),
            }
        }
    }

    fn refusing_at(refuse_at: usize) -> Refusing {
        Refusing {
            table: Table::default(),
            refuse_at,
            sent: Vec::new(),
        }
    }

    fn web_dr_director() -> DirectorView {
        let text = include_str!("../../../examples/web-dr.lvs");
        let c = lvsc_compiler::compile_source(text).cluster.unwrap();
        lvsc_compiler::views(&c).directors.remove(0)
    }

    #[test]
    fn a_refusal_with_atomic_undoes_the_applied_steps_in_reverse() {
        let mut k = refusing_at(2);
        let atomic = Options {
            atomic: true,
            drain: false,
        };
        let out = apply(&mut k, &web_dr_director(), atomic).unwrap();
        let r = out.refused.expect("refused");
        assert_eq!((r.at, r.applied.clone()), (2, vec![0, 1]));
        assert!(matches!(r.rollback, Some(Rollback::Done)));
        // The undo is the inverse of step 1, then of step 0.
        let want: Vec<Step> = [1, 0]
            .iter()
            .flat_map(|&i| inverse(&out.steps[i], &Table::default()))
            .collect();
        assert_eq!(k.sent[1], want);
    }

    #[test]
    fn without_atomic_nothing_is_undone() {
        let mut k = refusing_at(1);
        let out = apply(&mut k, &web_dr_director(), Options::default()).unwrap();
        assert!(out.refused.unwrap().rollback.is_none());
        assert_eq!(k.sent.len(), 1);
    }
}
