//! Evaluates a patient's facts at one index date from their folded history.
//!
//! Windows follow the audit's date rules: `(T - N months, T]`, calendar
//! months clamped to the month's last day; the bounds are computed once per
//! index date ([`FactWindows`]), not per patient.

use crate::classify::classifier::{ConceptMask, DrugTable};
use crate::classify::form::Form;
use crate::date::Date;
use crate::spec::{Fact, Term};

use super::dose::{
    doses_at, DoseProfiles, DoseSummary, DosesAt, StatedDaily, Thousandths, EARLIER_MONTHS,
};
use crate::spec::doses::DoseScale;

/// One clinical event of a cohort patient that matched a concept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventItem {
    /// Dense patient index.
    pub patient: u32,
    /// Date recorded.
    pub date: Date,
    /// Event concepts the code belongs to.
    pub mask: ConceptMask,
}

/// One medication issue of a cohort patient that matched a concept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MedItem {
    /// Dense patient index.
    pub patient: u32,
    /// Date issued.
    pub date: Date,
    /// Drug id in the [`DrugTable`].
    pub drug: u32,
    /// The quantity issued.
    pub quantity: Thousandths,
    /// The daily amount its dosage instruction states, if clearly.
    pub stated: StatedDaily,
}

/// A patient's matched history, each slice sorted by date.
#[derive(Clone, Copy, Debug)]
pub struct History<'a> {
    /// When the unbroken registration spanning the index date began.
    pub registered_since: Option<Date>,
    /// Matched clinical events.
    pub events: &'a [EventItem],
    /// Matched medication issues.
    pub meds: &'a [MedItem],
    /// The drugs the issues refer to.
    pub drugs: &'a DrugTable,
    /// What each drug's dose is counted in.
    pub(crate) doses: &'a DoseProfiles,
}

/// The value of a fact for one patient at one index date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FactValue {
    /// Whether the fact holds.
    pub on: bool,
    /// The date it refers to (the start date of a `started` fact).
    pub date: Option<Date>,
}

/// Each fact's window bounds `(lo, hi]` at one index date.
#[derive(Clone, Debug)]
pub struct FactWindows {
    /// The index date.
    pub t: Date,
    bounds: Vec<(Date, Date)>,
    /// For `ingredients` facts: the starts of the last period and of the
    /// one before it, for other issues and for depots.
    periods: Vec<[Date; 4]>,
}

const EVER: Date = Date(i32::MIN);

impl FactWindows {
    /// Computes the window of every fact at `t`.
    pub fn new(facts: &[Fact], t: Date) -> FactWindows {
        let months_back = |m: u32| t.add_months(-(m as i32));
        let bounds = facts
            .iter()
            .map(|f| match f {
                Fact::Recorded { months, .. } => (months.map_or(EVER, months_back), t),
                Fact::Issued {
                    months,
                    offset_months,
                    ..
                } => (
                    months_back(months + offset_months),
                    months_back(*offset_months),
                ),
                Fact::Ingredients { months, .. } => (months_back(2 * months), t),
                Fact::Started {
                    months,
                    settle_days,
                    ..
                } => (months_back(*months), t.add_days(-(*settle_days as i32))),
                _ => (EVER, t),
            })
            .collect();
        let periods = facts
            .iter()
            .map(|f| match f {
                Fact::Ingredients {
                    months,
                    depot_months,
                    ..
                } => [
                    months_back(*months),
                    months_back(2 * months),
                    months_back(*depot_months),
                    months_back(2 * depot_months),
                ],
                _ => [EVER; 4],
            })
            .collect();
        FactWindows { t, bounds, periods }
    }
}

fn has(mask: ConceptMask, bit: u8) -> bool {
    mask & (1 << bit) != 0
}

fn term(values: &[FactValue], t: &Term) -> bool {
    values[t.fact].on != t.negated
}

/// True when every term holds.
pub(crate) fn all_terms(values: &[FactValue], terms: &[Term]) -> bool {
    terms.iter().all(|t| term(values, t))
}

/// How many distinct ingredients of `concept` are held at `t`: issued in
/// the last period and in the period before it, with depot issues on
/// depot periods (`periods` = starts of the last and previous period for
/// other issues, then for depots).
fn held_ingredients(h: &History<'_>, concept: u8, t: Date, periods: &[Date; 4]) -> u32 {
    // Per ingredient: issued in [last, previous] period, for [other, depot] issues.
    let mut seen: Vec<(&str, [[bool; 2]; 2])> = Vec::new();
    for m in h.meds.iter().filter(|m| m.date <= t) {
        let info = &h.drugs.drugs[m.drug as usize];
        let Some(ingredient) = info.ingredient.as_deref() else {
            continue;
        };
        if !has(info.mask, concept) {
            continue;
        }
        let kind = usize::from(info.form == Form::Depot);
        let (last, before) = (periods[2 * kind], periods[2 * kind + 1]);
        let period = if m.date > last {
            0
        } else if m.date > before {
            1
        } else {
            continue;
        };
        match seen.iter_mut().find(|(n, _)| *n == ingredient) {
            Some((_, s)) => s[kind][period] = true,
            None => {
                let mut s = [[false; 2]; 2];
                s[kind][period] = true;
                seen.push((ingredient, s));
            }
        }
    }
    seen.iter()
        .filter(|(_, s)| s.iter().any(|k| k[0] && k[1]))
        .count() as u32
}

/// Slack for floating-point sums of doses: a total within this (relative
/// for falls) of a threshold is at it, so exactly 100% of the BNF maximum
/// is not above it and a fall of exactly 25% is a fall of 25%.
const ROUNDING: f64 = 1e-9;

/// One patient's doses, each (concept, date) worked out once for the dose
/// facts and the dose counts of a date: the default spec's five dose facts
/// need only two.
#[derive(Default)]
pub(crate) struct HeldDoses(Vec<((u8, Date), DosesAt)>);

impl HeldDoses {
    /// Where the concept's doses at `d` are, worked out if they are not yet.
    fn index(&mut self, h: &History<'_>, concept: u8, d: Date) -> usize {
        match self.0.iter().position(|(key, _)| *key == (concept, d)) {
            Some(k) => k,
            None => {
                let held = doses_at(h.meds, h.drugs, h.doses, concept, d);
                self.0.push(((concept, d), held));
                self.0.len() - 1
            }
        }
    }

    /// The concept's drugs held at `d`, with their doses.
    pub(crate) fn at(&mut self, h: &History<'_>, concept: u8, d: Date) -> &DosesAt {
        let k = self.index(h, concept, d);
        &self.0[k].1
    }

    /// What the review list shows of the concept's doses at `t` and
    /// [`EARLIER_MONTHS`] before, from the doses the facts worked out.
    pub(crate) fn summary(&mut self, h: &History<'_>, concept: u8, t: Date) -> DoseSummary {
        let now = self.index(h, concept, t);
        let before = self.index(h, concept, t.add_months(-EARLIER_MONTHS));
        DoseSummary::of(&self.0[now].1, &self.0[before].1)
    }

    /// The total daily dose on `scale` of the concept's drugs held at `d`.
    fn total(&mut self, h: &History<'_>, concept: u8, scale: DoseScale, d: Date) -> Option<f64> {
        self.at(h, concept, d).total(scale)
    }
}

/// Evaluates every fact, in order, into `out`; `held` (both cleared first)
/// keeps the doses worked out, for the caller to read too.
pub(crate) fn evaluate(
    facts: &[Fact],
    w: &FactWindows,
    h: &History<'_>,
    out: &mut Vec<FactValue>,
    held: &mut HeldDoses,
) {
    out.clear();
    held.0.clear();
    for (i, fact) in facts.iter().enumerate() {
        let (lo, hi) = w.bounds[i];
        let in_window = |d: Date| lo < d && d <= hi;
        let drug_has = |m: &MedItem, bit: u8| has(h.drugs.drugs[m.drug as usize].mask, bit);
        let value = match fact {
            Fact::Recorded { concept, .. } => FactValue {
                on: h
                    .events
                    .iter()
                    .any(|e| in_window(e.date) && has(e.mask, *concept)),
                date: None,
            },
            Fact::Issued {
                concept,
                exclude,
                min_issues,
                ..
            } => {
                let n = h
                    .meds
                    .iter()
                    .filter(|m| {
                        in_window(m.date)
                            && drug_has(m, *concept)
                            && !exclude.is_some_and(|x| drug_has(m, x))
                    })
                    .count();
                FactValue {
                    on: n as u32 >= *min_issues,
                    date: None,
                }
            }
            Fact::Ingredients {
                concept, at_least, ..
            } => FactValue {
                on: held_ingredients(h, *concept, w.t, &w.periods[i]) >= *at_least,
                date: None,
            },
            Fact::Started {
                concept,
                washout_months,
                ..
            } => {
                // The first issue after lo (and by T); it must also be by hi.
                let first = h
                    .meds
                    .iter()
                    .find(|m| m.date > lo && m.date <= w.t && drug_has(m, *concept))
                    .map(|m| m.date);
                match first {
                    Some(d0) if d0 <= hi => {
                        let wash_lo = d0.add_months(-(*washout_months as i32));
                        let earlier = h
                            .meds
                            .iter()
                            .any(|m| m.date >= wash_lo && m.date < d0 && drug_has(m, *concept));
                        // Registered for the whole washout, or the patient
                        // may have transferred in on the drug.
                        let seen_whole_washout = h.registered_since.is_some_and(|r| r <= wash_lo);
                        let new = !earlier && seen_whole_washout;
                        FactValue {
                            on: new,
                            date: new.then_some(d0),
                        }
                    }
                    _ => FactValue::default(),
                }
            }
            Fact::RecordedAfterStart {
                concept,
                start,
                from_days,
                to_days,
            } => match out[*start].date {
                Some(d0) => {
                    let from = d0.add_days(*from_days as i32);
                    let to = d0.add_days(*to_days as i32).min(w.t);
                    FactValue {
                        on: h
                            .events
                            .iter()
                            .any(|e| e.date >= from && e.date <= to && has(e.mask, *concept)),
                        date: None,
                    }
                }
                None => FactValue::default(),
            },
            Fact::DoseKnown {
                concept,
                scale,
                months_before,
            } => FactValue {
                on: held
                    .total(
                        h,
                        *concept,
                        *scale,
                        w.t.add_months(-(*months_before as i32)),
                    )
                    .is_some(),
                date: None,
            },
            Fact::DoseAbove { concept, percent } => FactValue {
                on: held
                    .total(h, *concept, DoseScale::BnfMaximum, w.t)
                    .is_some_and(|p| p > f64::from(*percent) + ROUNDING),
                date: None,
            },
            Fact::DoseFell {
                concept,
                scale,
                months,
                percent,
            } => {
                let then = held.total(h, *concept, *scale, w.t.add_months(-(*months as i32)));
                let now = held.total(h, *concept, *scale, w.t);
                let kept = f64::from(100 - percent) / 100.0;
                FactValue {
                    on: then
                        .zip(now)
                        .is_some_and(|(a, b)| a > 0.0 && b <= a * kept + ROUNDING * a),
                    date: None,
                }
            }
            Fact::Any(ts) => FactValue {
                on: ts.iter().any(|t| term(out, t)),
                date: None,
            },
            Fact::All(ts) => FactValue {
                on: all_terms(out, ts),
                date: None,
            },
            Fact::Count(ts, k) => FactValue {
                on: ts.iter().filter(|t| term(out, t)).count() as u32 >= *k,
                date: None,
            },
        };
        out.push(value);
    }
}
