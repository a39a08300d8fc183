//! Change since the baseline: for every unit, its rate at the first index
//! date of the run and at the last, and the difference with Newcombe's
//! interval.

use std::collections::BTreeMap;

use super::IndicatorRow;
use crate::date::Date;
use crate::stats::newcombe::difference;

/// One unit's change between the baseline and the latest index date.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeRow {
    /// Indicator id.
    pub indicator_id: String,
    /// Level.
    pub level: &'static str,
    /// Unit code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
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
    let baseline: BTreeMap<(&str, &str, &str), &IndicatorRow> = rows
        .iter()
        .filter(|r| r.index_date == first)
        .map(|r| ((r.indicator_id.as_str(), r.level, r.unit_code.as_str()), r))
        .collect();
    rows.iter()
        .filter(|r| r.index_date == last)
        .filter_map(|now| {
            let base =
                baseline.get(&(now.indicator_id.as_str(), now.level, now.unit_code.as_str()))?;
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
            })
        })
        .collect()
}
