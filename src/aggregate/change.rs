//! Change since the baseline: for every unit, its rate at the first index
//! date of the run and at the last, the difference with Newcombe's
//! interval, its p-value, and the Benjamini–Hochberg q-value over every
//! change of the run (many pairs are tested at once).

use crate::ingest::locality::Level;
use std::collections::BTreeMap;
use std::sync::Arc;

use super::IndicatorRow;
use crate::date::Date;
use crate::stats::multiple::{benjamini_hochberg, two_proportion_p};
use crate::stats::newcombe::difference;

/// One unit's change between the baseline and the latest index date.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRow {
    /// Indicator id.
    pub indicator_id: Arc<str>,
    /// Level.
    pub level: Level,
    /// Unit code.
    pub unit_code: Arc<str>,
    /// Unit name.
    pub unit_name: Arc<str>,
    /// The baseline date.
    pub baseline_date: Date,
    /// `(numerator, denominator)` at the baseline; `None` when suppressed.
    pub baseline: Option<(u64, u64)>,
    /// The latest date.
    pub current_date: Date,
    /// `(numerator, denominator)` at the latest date; `None` when suppressed.
    pub current: Option<(u64, u64)>,
    /// Current rate − baseline rate, with its 95% interval; `None` when a
    /// denominator is 0.
    pub difference: Option<(f64, f64, f64)>,
    /// True when the interval excludes zero.
    pub significant: bool,
    /// Two-sided p-value of the difference (score test).
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg q-value over every change of the run.
    pub q_value: Option<f64>,
    /// True when the q-value is below 0.05 (false discovery rate 5%): what
    /// the report calls significant.
    pub significant_fdr: bool,
}

/// The change of every unit present at both the first and last date;
/// empty with fewer than two dates. Ordered like the indicator rows.
pub fn changes(rows: &[IndicatorRow], dates: &[Date]) -> Vec<ChangeRow> {
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return Vec::new();
    };
    if first == last {
        return Vec::new();
    }
    let baseline: BTreeMap<(&str, Level, &str), &IndicatorRow> = rows
        .iter()
        .filter(|r| r.index_date == first)
        .map(|r| ((&*r.indicator_id, r.level, &*r.unit_code), r))
        .collect();
    let mut out: Vec<ChangeRow> = rows
        .iter()
        .filter(|r| r.index_date == last)
        .filter_map(|now| {
            let base = baseline.get(&(&*now.indicator_id, now.level, &*now.unit_code))?;
            // A suppressed count on either side: no change is computed.
            let diff = now
                .counts()
                .zip(base.counts())
                .and_then(|((n1, d1), (n0, d0))| difference(n1, d1, n0, d0));
            Some(ChangeRow {
                indicator_id: now.indicator_id.clone(),
                level: now.level,
                unit_code: now.unit_code.clone(),
                unit_name: now.unit_name.clone(),
                baseline_date: first,
                baseline: base.counts(),
                current_date: last,
                current: now.counts(),
                difference: diff.map(|d| (d.diff, d.low, d.high)),
                significant: diff.is_some_and(|d| d.significant()),
                p_value: now
                    .counts()
                    .zip(base.counts())
                    .and_then(|((n1, d1), (n0, d0))| two_proportion_p(n1, d1, n0, d0)),
                q_value: None,
                significant_fdr: false,
            })
        })
        .collect();
    let q = benjamini_hochberg(&out.iter().map(|c| c.p_value).collect::<Vec<_>>());
    for (c, q) in out.iter_mut().zip(q) {
        c.q_value = q;
        c.significant_fdr = q.is_some_and(|q| q < 0.05);
    }
    out
}
