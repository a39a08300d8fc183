//! Rolls practice counts up the locality hierarchy: practice, PCN, sub-ICB,
//! ICB, region, national. Higher levels pool numerators and denominators
//! (never a mean of rates), so every level adds up exactly.

use std::collections::BTreeMap;

use crate::audit::evaluate::Counts;
use crate::date::Date;
use crate::ingest::practices::{Practices, LEVELS};
use crate::spec::Indicator;
use crate::stats::wilson::{wilson, Z95};

/// One aggregate row: an indicator at one level and unit on one index date.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRow {
    /// The index date.
    pub index_date: Date,
    /// Indicator id.
    pub indicator_id: String,
    /// Indicator title.
    pub indicator_title: String,
    /// `practice`, `pcn`, `sub_icb`, `icb`, `region` or `national`.
    pub level: &'static str,
    /// ODS code of the unit (or `UNKNOWN`).
    pub unit_code: String,
    /// Name of the unit.
    pub unit_name: String,
    /// Patients in the numerator.
    pub numerator: u64,
    /// Patients in the denominator.
    pub denominator: u64,
    /// numerator / denominator; `None` when the denominator is 0.
    pub rate: Option<f64>,
    /// Wilson 95% lower limit.
    pub ci_low: Option<f64>,
    /// Wilson 95% upper limit.
    pub ci_high: Option<f64>,
}

/// Pools the counts at every level, ordered by date, indicator (spec
/// order), level (smallest first) and unit code.
pub fn roll_up(
    counts: &Counts,
    practices: &Practices,
    indicators: &[Indicator],
    dates: &[Date],
) -> Vec<IndicatorRow> {
    let mut rows = Vec::new();
    for (d, &date) in dates.iter().enumerate() {
        for (i, ind) in indicators.iter().enumerate() {
            for (level, level_name) in LEVELS.iter().enumerate() {
                let mut units: BTreeMap<&str, (&str, u64, u64)> = BTreeMap::new();
                for (p, practice) in practices.list.iter().enumerate() {
                    let (code, name) = &practice.units[level];
                    let (num, den) = counts.get(d, i, p);
                    let e = units.entry(code.as_str()).or_insert((name.as_str(), 0, 0));
                    e.1 += num;
                    e.2 += den;
                }
                for (code, (name, num, den)) in units {
                    let ci = wilson(num, den, Z95);
                    rows.push(IndicatorRow {
                        index_date: date,
                        indicator_id: ind.id.clone(),
                        indicator_title: ind.title.clone(),
                        level: level_name,
                        unit_code: code.to_string(),
                        unit_name: name.to_string(),
                        numerator: num,
                        denominator: den,
                        rate: ci.map(|c| c.rate),
                        ci_low: ci.map(|c| c.low),
                        ci_high: ci.map(|c| c.high),
                    });
                }
            }
        }
    }
    rows
}
