//! Rolls practice counts up the locality hierarchy (practice, PCN, sub-ICB,
//! ICB, region, national) and attaches the statistics commissioners use.
//!
//! Higher levels pool numerators and denominators (never a mean of rates),
//! so every level adds up exactly. With disclosure control, each published
//! count is rounded before any rate or statistic is computed from it, and a
//! suppressed count (1 to 7) is missing: its unit has no rate, interval or
//! flag and is left out of every group statistic, deciles and changes;
//! expected counts and standardised ratios, built from age-sex cells below
//! the threshold, are not published.

pub mod change;
pub mod deciles;
pub mod statistics;

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::audit::evaluate::PracticeTotals;
use crate::date::Date;
use crate::ingest::locality::{Level, Scope};
use crate::ingest::practices::Practices;
use crate::spec::Indicator;
use crate::stats::disclosure::round_count;
pub use statistics::{Flag, UnitStats};

/// One aggregate row: an indicator at one level and unit on one index date.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRow {
    /// The index date.
    pub index_date: Date,
    /// Indicator id (shared by every row of the indicator).
    pub indicator_id: Arc<str>,
    /// Indicator title.
    pub indicator_title: Arc<str>,
    /// `practice`, `pcn`, `sub_icb`, `icb`, `region` or `national`.
    pub level: Level,
    /// ODS code of the unit (or `UNKNOWN`), shared by the unit's rows.
    pub unit_code: Arc<str>,
    /// Name of the unit.
    pub unit_name: Arc<str>,
    /// Patients in the numerator (rounded under disclosure control;
    /// `None` when suppressed).
    pub numerator: Option<u64>,
    /// Patients in the denominator (rounded under disclosure control;
    /// `None` when suppressed).
    pub denominator: Option<u64>,
    /// Numerator expected from national rates by age band and sex (not
    /// published under disclosure control).
    pub expected: Option<f64>,
    /// Rates, intervals, ranks, funnel limits and flags.
    pub stats: UnitStats,
}

impl IndicatorRow {
    /// `(numerator, denominator)` when neither is suppressed.
    pub fn counts(&self) -> Option<(u64, u64)> {
        self.numerator.zip(self.denominator)
    }

    /// True when a count is withheld by disclosure control.
    pub fn suppressed(&self) -> bool {
        self.counts().is_none()
    }
}

/// How the aggregate rows are made.
#[derive(Clone, Copy, Debug, Default)]
pub struct AggregateOptions {
    /// Publish counts under disclosure control (1 to 7 suppressed, others
    /// rounded to the nearest 5).
    pub disclosure_control: bool,
    /// What the top level stands for: England, or all practices in the extract.
    pub scope: Scope,
}

/// Pools the counts at every level and computes the statistics; rows are
/// ordered by date, indicator (spec order), level (smallest first) and unit code.
pub fn roll_up(
    counts: &PracticeTotals,
    practices: &Practices,
    indicators: &[Indicator],
    dates: &[Date],
    options: AggregateOptions,
) -> Vec<IndicatorRow> {
    let publish = |n: u64| {
        if options.disclosure_control {
            round_count(n)
        } else {
            Some(n)
        }
    };
    // Each (date, indicator) is pooled on its own, in parallel (the
    // statistics' special functions are the slow part); rows are put back
    // in order, and each value is computed exactly as one thread would.
    let groupings: Vec<Grouping> = Level::ALL
        .iter()
        .map(|&level| Grouping::new(practices, level))
        .collect();
    // Each text is allocated once and shared by its rows.
    let names: Vec<(Arc<str>, Arc<str>)> = indicators
        .iter()
        .map(|ind| (Arc::from(ind.id.as_str()), Arc::from(ind.title.as_str())))
        .collect();
    let pairs: Vec<(usize, usize)> = (0..dates.len())
        .flat_map(|d| (0..indicators.len()).map(move |i| (d, i)))
        .collect();
    let make = |(d, i): (usize, usize)| -> Vec<IndicatorRow> {
        let (date, (id, title)) = (dates[d], &names[i]);
        let per_practice: Vec<(u64, u64, f64)> = (0..practices.list.len())
            .map(|p| {
                let (n, m) = counts.get(d, i, p);
                (n, m, counts.expected(d, i, p))
            })
            .collect();
        let mut level_rows: Vec<Vec<IndicatorRow>> = Vec::new();
        for (&level, grouping) in Level::ALL.iter().zip(&groupings) {
            let mut sums = vec![(0u64, 0u64, 0.0f64); grouping.units.len()];
            for (&u, &(n, m, e)) in grouping.unit_of.iter().zip(&per_practice) {
                let sum = &mut sums[u as usize];
                sum.0 += n;
                sum.1 += m;
                sum.2 += e;
            }
            level_rows.push(
                grouping
                    .units
                    .iter()
                    .zip(sums)
                    .map(|((code, name), (n, m, e))| IndicatorRow {
                        index_date: date,
                        indicator_id: id.clone(),
                        indicator_title: title.clone(),
                        level,
                        unit_code: code.clone(),
                        unit_name: name.clone(),
                        numerator: publish(n),
                        denominator: publish(m),
                        expected: (!options.disclosure_control).then_some(e),
                        stats: UnitStats::default(),
                    })
                    .collect(),
            );
        }
        // The target of every level's funnel is the national rate.
        let national = level_rows
            .last()
            .and_then(|r| r.first())
            .and_then(IndicatorRow::counts);
        let mut rows = Vec::with_capacity(level_rows.iter().map(Vec::len).sum());
        for mut group in level_rows {
            statistics::attach(&mut group, national);
            rows.extend(group);
        }
        rows
    };
    // Every (date, indicator) makes one row per unit of every level. A few
    // pairs per thread are made at a time and moved into the vector of all
    // rows before the next: the rows are never held twice.
    let units: usize = groupings.iter().map(|g| g.units.len()).sum();
    let mut rows = Vec::with_capacity(pairs.len() * units);
    for chunk in pairs.chunks(4 * rayon::current_num_threads().max(1)) {
        let made: Vec<Vec<IndicatorRow>> = chunk.par_iter().map(|&pair| make(pair)).collect();
        for pair_rows in made {
            rows.extend(pair_rows);
        }
    }
    rows
}

/// The units of one level, worked out once for every date and indicator:
/// each practice's unit, and each unit's code and name (the name its first
/// practice gives it), in code order.
struct Grouping {
    /// Practice index -> index into `units`.
    unit_of: Vec<u32>,
    /// (code, name), sorted by code, shared by the unit's rows.
    units: Vec<(Arc<str>, Arc<str>)>,
}

impl Grouping {
    fn new(practices: &Practices, level: Level) -> Grouping {
        let mut first: BTreeMap<&str, &str> = BTreeMap::new();
        for practice in &practices.list {
            let (code, name) = &practice.units[level];
            first.entry(code.as_str()).or_insert(name.as_str());
        }
        let units: Vec<(&str, &str)> = first.into_iter().collect();
        let unit_of = practices
            .list
            .iter()
            .map(|practice| {
                let code = practice.units[level].0.as_str();
                // Every practice's code is among the units: found, never inserted.
                units
                    .binary_search_by(|(c, _)| (*c).cmp(code))
                    .unwrap_or_else(|at| at) as u32
            })
            .collect();
        let units = units
            .into_iter()
            .map(|(code, name)| (Arc::from(code), Arc::from(name)))
            .collect();
        Grouping { unit_of, units }
    }
}
