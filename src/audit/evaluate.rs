//! Evaluates every indicator for every cohort patient at every index date
//! and counts them per practice: the last step of the streaming fold, after
//! `collect` has built each cohort patient's history.
//!
//! Patients are split into blocks evaluated in parallel; each thread keeps
//! its own count array, merged by addition at the end, so the counts are
//! exact and independent of the thread count. Review rows are sorted before
//! they leave this module.

use std::sync::Mutex;

use rayon::prelude::*;

use super::dose::{DoseProfiles, DoseSummary};
use super::dose_coverage::DoseCoverage;
use super::facts::{
    all_terms, evaluate as evaluate_facts, EventItem, FactValue, FactWindows, HeldDoses, History,
    MedItem,
};
use crate::classify::classifier::DrugTable;
use crate::date::Date;
use crate::ingest::population::{AgeBandsAt, Population, Sex, AGE_BANDS};
use crate::spec::CompiledSpec;

/// Numerator and denominator counts by (index date, indicator, practice,
/// stratum); a stratum is an age band x sex cell, for standardisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Number of index dates.
    pub dates: usize,
    /// Number of indicators.
    pub indicators: usize,
    /// Number of practices.
    pub practices: usize,
    /// (numerator, denominator) per cell: a cell counts patients of one
    /// practice, so 32 bits hold it, and halve the array.
    data: Vec<u32>,
}

/// Strata per practice: every age band x sex.
pub(crate) const STRATA: usize = AGE_BANDS.len() * 4;

/// The stratum of an age band index and sex.
pub(crate) fn stratum(age_band: usize, sex: Sex) -> usize {
    age_band * 4 + sex as usize
}

/// One thread's share of the evaluation: counts, review rows, cohort sizes
/// per date, registered patients per (date, practice, stratum), dose coverage.
type Accumulator = (
    Counts,
    Vec<ReviewRow>,
    Vec<u64>,
    Vec<u64>,
    Vec<DoseCoverage>,
);

impl Counts {
    /// All-zero counts.
    pub fn new(dates: usize, indicators: usize, practices: usize) -> Counts {
        Counts {
            dates,
            indicators,
            practices,
            data: vec![0; dates * indicators * practices * STRATA * 2],
        }
    }

    fn slot(&self, d: usize, i: usize, p: usize, s: usize) -> usize {
        (((d * self.indicators + i) * self.practices + p) * STRATA + s) * 2
    }

    /// `(numerator, denominator)` of one practice, summed over strata.
    pub fn get(&self, d: usize, i: usize, p: usize) -> (u64, u64) {
        (0..STRATA).fold((0, 0), |(n, m), s| {
            let (a, b) = self.get_stratum(d, i, p, s);
            (n + a, m + b)
        })
    }

    /// `(numerator, denominator)` of one practice and stratum.
    pub(crate) fn get_stratum(&self, d: usize, i: usize, p: usize, s: usize) -> (u64, u64) {
        let k = self.slot(d, i, p, s);
        (u64::from(self.data[k]), u64::from(self.data[k + 1]))
    }

    fn add(&mut self, d: usize, i: usize, p: usize, s: usize, num: bool, den: bool) {
        let k = self.slot(d, i, p, s);
        self.data[k] += num as u32;
        self.data[k + 1] += den as u32;
    }

    /// Adds counts to one cell (merging partial audits).
    pub(crate) fn add_cell(&mut self, d: usize, i: usize, p: usize, s: usize, num: u64, den: u64) {
        let k = self.slot(d, i, p, s);
        let cell = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        self.data[k] = self.data[k].saturating_add(cell(num));
        self.data[k + 1] = self.data[k + 1].saturating_add(cell(den));
    }

    fn merge(mut self, other: Counts) -> Counts {
        for (a, b) in self.data.iter_mut().zip(other.data) {
            *a += b;
        }
        self
    }
}

/// One flagged patient for one indicator, for the practice pharmacist.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReviewRow {
    /// Index date (position in the run's dates).
    pub date: usize,
    /// Indicator (position in the spec).
    pub indicator: usize,
    /// Practice index.
    pub practice: u32,
    /// Patient index.
    pub patient: u32,
    /// Drugs of the indicator issued in the current window, with their last issue dates.
    pub drugs: String,
    /// Last medication review on or before T.
    pub last_review: Option<Date>,
    /// The doses of the spec's dose review concept.
    pub dose: DoseSummary,
}

/// What the evaluation produces.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Counts per (date, indicator, practice).
    pub counts: Counts,
    /// Review rows, sorted by date, indicator, practice, patient.
    pub review: Vec<ReviewRow>,
    /// Cohort patients evaluated at each date (registered and alive).
    pub cohort_sizes: Vec<u64>,
    /// The dose concept's known and unknown doses at each date, over those
    /// patients (empty without a dose concept).
    pub dose_coverage: Vec<DoseCoverage>,
}

/// A walk through patient-sorted items, one patient at a time in
/// increasing order: no per-patient offsets for a national population.
struct Runs<'a, T> {
    items: &'a [T],
    patient: fn(&T) -> u32,
}

impl<'a, T> Runs<'a, T> {
    /// The items from the first patient `from` on.
    fn from(items: &'a [T], patient: fn(&T) -> u32, from: u32) -> Runs<'a, T> {
        let start = items.partition_point(|it| patient(it) < from);
        Runs {
            items: &items[start..],
            patient,
        }
    }

    /// Patient `p`'s items; every later call asks for a later patient.
    fn take(&mut self, p: u32) -> &'a [T] {
        let of = self.patient;
        let skipped = self.items.iter().take_while(|&it| of(it) < p).count();
        let rest = &self.items[skipped..];
        let (run, rest) = rest.split_at(rest.iter().take_while(|&it| of(it) == p).count());
        self.items = rest;
        run
    }
}

/// The inputs to an evaluation.
pub struct Inputs<'a> {
    /// The compiled spec.
    pub spec: &'a CompiledSpec,
    /// Patients and registrations.
    pub(crate) pop: &'a Population,
    /// Number of practices.
    pub practices: usize,
    /// Cohort membership per patient.
    pub cohort: &'a [bool],
    /// Matched events, sorted by patient then date.
    pub events: &'a [EventItem],
    /// Matched issues, sorted by patient then date.
    pub meds: &'a [MedItem],
    /// The drugs the issues refer to.
    pub drugs: &'a DrugTable,
    /// What each drug's dose is counted in.
    pub(crate) doses: &'a DoseProfiles,
    /// The index dates.
    pub dates: &'a [Date],
}

/// Evaluates every indicator at every index date.
pub fn evaluate(inp: &Inputs<'_>) -> Evaluation {
    let spec = inp.spec;
    let n = inp.pop.len();
    let windows: Vec<FactWindows> = inp
        .dates
        .iter()
        .map(|&t| FactWindows::new(&spec.facts, t))
        .collect();
    let n_ind = spec.indicators.len();
    // Registered patients by (date, practice, stratum): outside the cohort
    // a patient counts only in the registered-population denominators,
    // added to each such indicator at the end.
    let registered_slot = |d: usize, pr: usize, st: usize| (d * inp.practices + pr) * STRATA + st;
    let empty = || {
        (
            Counts::new(inp.dates.len(), n_ind, inp.practices),
            Vec::new(),
            vec![0u64; inp.dates.len()],
            vec![0u64; inp.dates.len() * inp.practices * STRATA],
            vec![DoseCoverage::default(); inp.dates.len()],
        )
    };

    // One accumulator per block of patients (a few per thread), merged by
    // addition: exact, and the same whatever the thread count.
    let ages: Vec<AgeBandsAt> = windows.iter().map(|w| AgeBandsAt::new(w.t)).collect();
    let merge = |a: Accumulator, b: Accumulator| {
        let mut review = a.1;
        review.extend(b.1);
        let add = |x: Vec<u64>, y: Vec<u64>| x.iter().zip(&y).map(|(x, y)| x + y).collect();
        let mut doses = a.4;
        for (x, y) in doses.iter_mut().zip(&b.4) {
            x.merge(y);
        }
        (a.0.merge(b.0), review, add(a.2, b.2), add(a.3, b.3), doses)
    };
    // A few blocks per thread balance the load, but the accumulators are
    // one per thread: the counts grow with dates x indicators x practices
    // x strata (half a GB for 8 quarter ends over England's practices). A
    // block takes its thread's accumulator and puts it back when done.
    let threads = rayon::current_num_threads().max(1);
    let blocks = (threads * 4).clamp(1, n.max(1));
    let slots: Vec<Mutex<Option<Accumulator>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let slot_of = || {
        let i = rayon::current_thread_index().unwrap_or(0) % threads;
        slots[i].lock().unwrap_or_else(|e| e.into_inner())
    };
    (0..blocks).into_par_iter().for_each(|block| {
        let taken = slot_of().take();
        let (mut counts, mut review, mut sizes, mut registered, mut doses) =
            taken.unwrap_or_else(empty);
        {
            let mut values: Vec<FactValue> = Vec::with_capacity(spec.facts.len());
            let mut held = HeldDoses::default();
            let first = (block * n / blocks) as u32;
            let mut events = Runs::from(inp.events, |e| e.patient, first);
            let mut meds = Runs::from(inp.meds, |m| m.patient, first);
            for p in first..((block + 1) * n / blocks) as u32 {
                let pi = p as usize;
                let in_cohort = inp.cohort[pi];
                let mut h = History {
                    registered_since: None,
                    events: events.take(p),
                    meds: meds.take(p),
                    drugs: inp.drugs,
                    doses: inp.doses,
                };
                for (d, w) in windows.iter().enumerate() {
                    let Some(practice) = inp.pop.practice_at(p, w.t) else {
                        continue;
                    };
                    let pr = practice as usize;
                    let st = stratum(
                        ages[d].index(inp.pop.date_of_birth[pi].get()),
                        inp.pop.sex[pi],
                    );
                    if !in_cohort {
                        registered[registered_slot(d, pr, st)] += 1;
                        continue;
                    }
                    sizes[d] += 1;
                    h.registered_since = inp.pop.registered_since(p, w.t);
                    evaluate_facts(&spec.facts, w, &h, &mut values, &mut held);
                    if let Some(c) = spec.dose_review_concept {
                        doses[d].add(held.at(&h, c, w.t));
                    }
                    // Worked out once per patient and date, for the first
                    // indicator that flags them.
                    let mut dose: Option<DoseSummary> = None;
                    for (i, ind) in spec.indicators.iter().enumerate() {
                        let den = all_terms(&values, &ind.denominator);
                        let num = den && all_terms(&values, &ind.numerator);
                        counts.add(d, i, pr, st, num, den);
                        if num && ind.review {
                            review.push(ReviewRow {
                                date: d,
                                indicator: i,
                                practice,
                                patient: p,
                                drugs: drugs_issued(spec, &h, ind.drug_mask, w.t),
                                last_review: last_review(spec, &h, w.t),
                                dose: dose
                                    .get_or_insert_with(|| {
                                        spec.dose_review_concept
                                            .map_or_else(DoseSummary::default, |c| {
                                                held.summary(&h, c, w.t)
                                            })
                                    })
                                    .clone(),
                            });
                        }
                    }
                }
            }
        }
        let done = (counts, review, sizes, registered, doses);
        let mut slot = slot_of();
        *slot = Some(match slot.take() {
            Some(other) => merge(other, done),
            None => done,
        });
    });
    let (mut counts, mut review, cohort_sizes, registered, dose_coverage) = slots
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
        .reduce(merge)
        .unwrap_or_else(empty);
    for (i, ind) in spec.indicators.iter().enumerate() {
        if !ind.denominator.is_empty() {
            continue;
        }
        for d in 0..inp.dates.len() {
            for pr in 0..inp.practices {
                for st in 0..STRATA {
                    let n = registered[registered_slot(d, pr, st)];
                    counts.add_cell(d, i, pr, st, 0, n);
                }
            }
        }
    }
    review.par_sort_unstable();
    Evaluation {
        counts,
        review,
        cohort_sizes,
        dose_coverage: if spec.dose_review_concept.is_some() {
            dose_coverage
        } else {
            Vec::new()
        },
    }
}

/// "Name (last issued YYYY-MM-DD); ..." for drugs of `mask` issued in the
/// current window, by name.
fn drugs_issued(spec: &CompiledSpec, h: &History<'_>, mask: u64, t: Date) -> String {
    if mask == 0 {
        return String::new();
    }
    let lo = t.add_months(-(spec.current_months as i32));
    let mut last: Vec<(&str, Date)> = Vec::new();
    for m in h.meds.iter().filter(|m| m.date > lo && m.date <= t) {
        let info = &h.drugs.drugs[m.drug as usize];
        if info.mask & mask == 0 {
            continue;
        }
        match last.iter_mut().find(|(n, _)| *n == info.name) {
            Some((_, d)) => *d = (*d).max(m.date),
            None => last.push((&info.name, m.date)),
        }
    }
    last.sort();
    last.iter()
        .map(|(n, d)| format!("{n} (last issued {d})"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn last_review(spec: &CompiledSpec, h: &History<'_>, t: Date) -> Option<Date> {
    let bit = spec.review_concept?;
    h.events
        .iter()
        .filter(|e| e.date <= t && e.mask & (1 << bit) != 0)
        .map(|e| e.date)
        .max()
}
