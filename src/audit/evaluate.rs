//! Evaluates every indicator for every cohort patient at every index date
//! and counts them per practice: the last step of the streaming fold, after
//! `collect` has built each cohort patient's history.
//!
//! Patients are split into blocks evaluated in parallel. Every thread adds
//! into one count array, locking the practice it adds a patient to; the
//! other tallies are one per thread, merged by addition at the end. Sums of
//! integers are the same in any order, so the counts are exact and
//! independent of the thread count. Review rows are sorted before they
//! leave this module.

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
/// Each practice's cells are together, so that evaluation threads share
/// one array, each locking the practice it adds a patient to.
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

/// Numerator and denominator by (index date, indicator, practice), the
/// strata summed, with the numerator each practice would have at the
/// national rate of every stratum (indirect standardisation): all the
/// roll-up and the outputs need, at 1/40 of the stratified array.
#[derive(Clone, Debug, PartialEq)]
pub struct PracticeTotals {
    /// Number of indicators.
    pub indicators: usize,
    /// Number of practices.
    pub practices: usize,
    /// `(numerator, denominator, expected)` per (date, indicator, practice).
    data: Vec<(u64, u64, f64)>,
}

impl PracticeTotals {
    fn at(&self, d: usize, i: usize, p: usize) -> usize {
        (d * self.indicators + i) * self.practices + p
    }

    /// `(numerator, denominator)` of one practice.
    pub fn get(&self, d: usize, i: usize, p: usize) -> (u64, u64) {
        let (n, m, _) = self.data[self.at(d, i, p)];
        (n, m)
    }

    /// The numerator expected of one practice from the national rate in
    /// each age band x sex stratum: Σ_s denominator_ps × numerator_s /
    /// denominator_s over the strata with a national denominator.
    pub fn expected(&self, d: usize, i: usize, p: usize) -> f64 {
        self.data[self.at(d, i, p)].2
    }
}

/// Strata per practice: every age band x sex.
pub(crate) const STRATA: usize = AGE_BANDS.len() * 4;

/// The stratum of an age band index and sex.
pub(crate) fn stratum(age_band: usize, sex: Sex) -> usize {
    age_band * 4 + sex as usize
}

/// One thread's share of the evaluation (the counts are shared): review
/// rows, cohort sizes per date, registered patients per (date, practice,
/// stratum), dose coverage.
type Accumulator = (Vec<ReviewRow>, Vec<u64>, Vec<u64>, Vec<DoseCoverage>);

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

    /// Cells of one practice: every date x indicator x stratum, a
    /// numerator and a denominator each.
    fn per_practice(&self) -> usize {
        self.dates * self.indicators * STRATA * 2
    }

    /// Where a cell lies among its practice's cells.
    fn offset(&self, d: usize, i: usize, s: usize) -> usize {
        ((d * self.indicators + i) * STRATA + s) * 2
    }

    fn slot(&self, d: usize, i: usize, p: usize, s: usize) -> usize {
        p * self.per_practice() + self.offset(d, i, s)
    }

    /// Each practice's counts with the strata summed and its expected
    /// numerator: what the roll-up and the outputs read, so the
    /// stratified array can be dropped before the aggregate rows are made.
    /// Each (date, indicator) is worked out on its own, on all cores.
    pub fn practice_totals(&self) -> PracticeTotals {
        let (dates, indicators, practices) = (self.dates, self.indicators, self.practices);
        let pairs: Vec<(usize, usize)> = (0..dates)
            .flat_map(|d| (0..indicators).map(move |i| (d, i)))
            .collect();
        let per_pair: Vec<Vec<(u64, u64, f64)>> = pairs
            .into_par_iter()
            .map(|(d, i)| self.standardise(d, i))
            .collect();
        PracticeTotals {
            indicators,
            practices,
            data: per_pair.into_iter().flatten().collect(),
        }
    }

    /// Every practice's `(numerator, denominator, expected numerator)` for
    /// one date and indicator, the national rate of each stratum pooled
    /// over all practices.
    fn standardise(&self, d: usize, i: usize) -> Vec<(u64, u64, f64)> {
        let mut strata = [(0u64, 0u64); STRATA];
        for p in 0..self.practices {
            for (s, cell) in strata.iter_mut().enumerate() {
                let (n, m) = self.get_stratum(d, i, p, s);
                cell.0 += n;
                cell.1 += m;
            }
        }
        (0..self.practices)
            .map(|p| {
                let expected = (0..STRATA)
                    .filter(|&s| strata[s].1 > 0)
                    .map(|s| {
                        self.get_stratum(d, i, p, s).1 as f64 * strata[s].0 as f64
                            / strata[s].1 as f64
                    })
                    .sum();
                let (n, m) = self.get(d, i, p);
                (n, m, expected)
            })
            .collect()
    }

    /// Puts practice `p`'s cells at practice `to[p]`, in place (`to` is a
    /// permutation of the practices): a merge of one partial takes its
    /// array in the union's practice order without a second array.
    pub(crate) fn permute_practices(&mut self, to: &[usize]) {
        let width = self.per_practice();
        let mut to = to.to_vec();
        for i in 0..to.len() {
            // Each swap puts one practice in its place for good.
            while to[i] != i {
                let j = to[i];
                let (lo, hi) = (i.min(j), i.max(j));
                let (a, b) = self.data.split_at_mut(hi * width);
                a[lo * width..(lo + 1) * width].swap_with_slice(&mut b[..width]);
                to.swap(i, j);
            }
        }
    }

    /// The array cut into one lockable part per practice, for threads
    /// that each evaluate patients of any practice.
    fn practice_parts(&mut self) -> Vec<Mutex<&mut [u32]>> {
        let width = self.per_practice().max(1);
        self.data.chunks_mut(width).map(Mutex::new).collect()
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

    /// Adds counts to one cell (merging partial audits).
    pub(crate) fn add_cell(&mut self, d: usize, i: usize, p: usize, s: usize, num: u64, den: u64) {
        let k = self.slot(d, i, p, s);
        let cell = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        self.data[k] = self.data[k].saturating_add(cell(num));
        self.data[k + 1] = self.data[k + 1].saturating_add(cell(den));
    }

    /// The cells with a count, in (date, indicator, practice, stratum)
    /// order, each as `(date, indicator, practice, stratum, numerator,
    /// denominator)`: what a partial writes.
    pub(crate) fn non_zero(
        &self,
    ) -> impl Iterator<Item = (usize, usize, usize, usize, u64, u64)> + '_ {
        let (dates, indicators, practices) = (self.dates, self.indicators, self.practices);
        (0..dates)
            .flat_map(move |d| (0..indicators).map(move |i| (d, i)))
            .flat_map(move |(d, i)| (0..practices).map(move |p| (d, i, p)))
            .flat_map(move |(d, i, p)| (0..STRATA).map(move |s| (d, i, p, s)))
            .filter_map(move |(d, i, p, s)| {
                let (n, m) = self.get_stratum(d, i, p, s);
                (n > 0 || m > 0).then_some((d, i, p, s, n, m))
            })
    }

    /// Adds `other`'s counts (merging partials): its practice `p` is this
    /// array's practice `practice_of[p]`; its dates and indicators are
    /// this array's first ones. Each cell saturates, as in [`Counts::add_cell`].
    pub(crate) fn add_counts(&mut self, other: &Counts, practice_of: &[usize]) {
        let width = STRATA * 2;
        for d in 0..other.dates.min(self.dates) {
            for i in 0..other.indicators.min(self.indicators) {
                for (p, &to) in practice_of.iter().enumerate().take(other.practices) {
                    let from = other.slot(d, i, p, 0);
                    let into = self.slot(d, i, to, 0);
                    let cells = &other.data[from..from + width];
                    for (a, b) in self.data[into..into + width].iter_mut().zip(cells) {
                        *a = a.saturating_add(*b);
                    }
                }
            }
        }
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
            Vec::new(),
            vec![0u64; inp.dates.len()],
            vec![0u64; inp.dates.len() * inp.practices * STRATA],
            vec![DoseCoverage::default(); inp.dates.len()],
        )
    };

    // The per-thread tallies, merged by addition: exact, and the same
    // whatever the thread count.
    let ages: Vec<AgeBandsAt> = windows.iter().map(|w| AgeBandsAt::new(w.t)).collect();
    let merge = |a: Accumulator, b: Accumulator| {
        let mut review = a.0;
        review.extend(b.0);
        let add = |x: Vec<u64>, y: Vec<u64>| x.iter().zip(&y).map(|(x, y)| x + y).collect();
        let mut doses = a.3;
        for (x, y) in doses.iter_mut().zip(&b.3) {
            x.merge(y);
        }
        (review, add(a.1, b.1), add(a.2, b.2), doses)
    };
    // The counts grow with dates x indicators x practices x strata (half
    // a GB for 8 quarter ends over England's practices): every thread
    // adds into one array, a practice's part locked while one patient's
    // indicators at one date are added. Integer sums in any order are the
    // same, so the counts do not depend on the threads.
    let mut counts = Counts::new(inp.dates.len(), n_ind, inp.practices);
    let offsets: Vec<Vec<usize>> = (0..inp.dates.len())
        .map(|d| (0..n_ind).map(|i| counts.offset(d, i, 0)).collect())
        .collect();
    let parts = counts.practice_parts();
    // A few blocks per thread balance the load; the other accumulators
    // are one per thread. A block takes its thread's accumulator and puts
    // it back when done.
    let threads = rayon::current_num_threads().max(1);
    let blocks = (threads * 4).clamp(1, n.max(1));
    let slots: Vec<Mutex<Option<Accumulator>>> = (0..threads).map(|_| Mutex::new(None)).collect();
    let slot_of = || {
        let i = rayon::current_thread_index().unwrap_or(0) % threads;
        slots[i].lock().unwrap_or_else(|e| e.into_inner())
    };
    (0..blocks).into_par_iter().for_each(|block| {
        let taken = slot_of().take();
        let (mut review, mut sizes, mut registered, mut doses) = taken.unwrap_or_else(empty);
        {
            let mut values: Vec<FactValue> = Vec::with_capacity(spec.facts.len());
            let mut flags: Vec<(bool, bool)> = Vec::with_capacity(n_ind);
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
                    flags.clear();
                    for (i, ind) in spec.indicators.iter().enumerate() {
                        let den = all_terms(&values, &ind.denominator);
                        let num = den && all_terms(&values, &ind.numerator);
                        flags.push((num, den));
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
                    // Every practice has a part, unless there is no
                    // indicator to count (an empty array has none).
                    if let Some(part) = parts.get(pr) {
                        let mut cells = part.lock().unwrap_or_else(|e| e.into_inner());
                        let counted = flags.iter().zip(&offsets[d]).filter(|((n, m), _)| *n || *m);
                        for (&(num, den), &at) in counted {
                            let k = at + 2 * st;
                            cells[k] += u32::from(num);
                            cells[k + 1] += u32::from(den);
                        }
                    }
                }
            }
        }
        let done = (review, sizes, registered, doses);
        let mut slot = slot_of();
        *slot = Some(match slot.take() {
            Some(other) => merge(other, done),
            None => done,
        });
    });
    drop(parts);
    let (mut review, cohort_sizes, registered, dose_coverage) = slots
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts of 2 dates x 3 indicators x 4 practices, each cell's value
    /// naming it.
    fn labelled() -> Counts {
        let mut c = Counts::new(2, 3, 4);
        for d in 0..2 {
            for i in 0..3 {
                for p in 0..4 {
                    let v = (100 * d + 10 * i + p) as u64;
                    c.add_cell(d, i, p, (d + i + p) % STRATA, v, v + 1);
                }
            }
        }
        c
    }

    #[test]
    fn permuting_practices_moves_every_cell_of_each() {
        let before = labelled();
        let to = [2, 0, 3, 1];
        let mut after = before.clone();
        after.permute_practices(&to);
        for d in 0..2 {
            for i in 0..3 {
                for (p, &moved) in to.iter().enumerate() {
                    for s in 0..STRATA {
                        let (a, b) = (
                            before.get_stratum(d, i, p, s),
                            after.get_stratum(d, i, moved, s),
                        );
                        assert_eq!(a, b, "date {d}, indicator {i}, practice {p}, stratum {s}");
                    }
                }
            }
        }
    }

    #[test]
    fn practice_totals_sum_the_strata_and_standardise_by_the_national_rate() {
        // Stratum 0: 1 of 2 and 3 of 4 (national 4/6); stratum 1: 0 of 2
        // and 2 of 2 (national 2/4); the other strata are empty and add
        // nothing (no 0/0).
        let mut c = Counts::new(1, 1, 2);
        c.add_cell(0, 0, 0, 0, 1, 2);
        c.add_cell(0, 0, 0, 1, 0, 2);
        c.add_cell(0, 0, 1, 0, 3, 4);
        c.add_cell(0, 0, 1, 1, 2, 2);
        let totals = c.practice_totals();
        assert_eq!((totals.get(0, 0, 0), totals.get(0, 0, 1)), ((1, 4), (5, 6)));
        // 2 x 4/6 + 2 x 2/4 and 4 x 4/6 + 2 x 2/4: they add up to the 6 observed.
        assert!((totals.expected(0, 0, 0) - 7.0 / 3.0).abs() < 1e-12);
        assert!((totals.expected(0, 0, 1) - 11.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn adding_counts_places_practices_and_sums() {
        let part = labelled();
        let mut total = Counts::new(2, 3, 6);
        let to = [5, 1, 0, 3];
        total.add_counts(&part, &to);
        total.add_counts(&part, &to);
        for (d, i, p, s, n, m) in part.non_zero() {
            assert_eq!(total.get_stratum(d, i, to[p], s), (2 * n, 2 * m));
        }
        assert_eq!(total.non_zero().count(), part.non_zero().count());
        // Cells come out in (date, indicator, practice, stratum) order.
        let cells: Vec<_> = total.non_zero().map(|c| (c.0, c.1, c.2, c.3)).collect();
        assert!(cells.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(part.non_zero().count(), 2 * 3 * 4);
    }
}
