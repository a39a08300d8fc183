//! Practice-level measures rolled up the hierarchy, with the statistics of
//! the audit's indicators adapted to each measure's model:
//!
//! - **shares of prescribing** (depot items of all antipsychotic items):
//!   binomial, as the indicators — Wilson intervals, exact binomial funnel
//!   limits, arcsine-scale z-scores and over-dispersion;
//! - **rates per population** (items or ADQs per 1,000 patients or
//!   STAR-PU): Poisson — exact (Garwood) intervals, exact Poisson funnel
//!   limits with interpolation, square-root-scale z-scores and
//!   over-dispersion (DerSimonian–Laird τ²), Spiegelhalter (2005).
//!
//! Higher levels pool numerators and denominators, so every level adds up.
//! Values in rows are unscaled (per patient); reports multiply by `per`.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::Values;
use crate::aggregate::statistics::{group_stats, Model, UnitStats};
use crate::date::Month;
use crate::ingest::locality::Level;
use crate::ingest::practices::Practices;
use crate::spec::Measure;
use crate::stats::percentile::deciles as decile_values;
use crate::stats::wilson::Z95;

/// A measure's statistical model: a share of prescribing is binomial, a
/// rate per population Poisson.
pub fn model(m: &Measure) -> Model {
    if m.is_proportion() {
        Model::Binomial
    } else {
        Model::Poisson
    }
}

/// One measure at one level and unit in one month.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureRow {
    /// The month.
    pub month: Month,
    /// Measure id.
    pub measure_id: String,
    /// `practice`, `pcn`, `sub_icb`, `icb`, `region` or `national`.
    pub level: Level,
    /// ODS code of the unit.
    pub unit_code: String,
    /// Name of the unit.
    pub unit_name: String,
    /// The numerator (items or ADQs).
    pub numerator: f64,
    /// The denominator (patients, STAR-PU, or items for a share).
    pub denominator: f64,
    /// Statistics on the unscaled rate (`isr` unused).
    pub stats: UnitStats,
}

/// Rolls practice values up every level and attaches the statistics.
/// Months in `without_adq` have no rows for measures that need ADQs.
pub fn roll_up(
    values: &Values,
    practices: &Practices,
    measures: &[Measure],
    months: &[Month],
    without_adq: &BTreeSet<Month>,
) -> Vec<MeasureRow> {
    let mut rows = Vec::new();
    let levels: Vec<Level> = Level::ALL
        .into_iter()
        .filter(|&l| l == Level::Practice || !super::level_unknown(practices, l))
        .collect();
    for &month in months {
        // Each practice's values this month, looked up once.
        let month_values: Vec<Option<&Vec<(f64, f64)>>> = practices
            .list
            .iter()
            .map(|p| values.units.get(&(month, p.code().to_string())))
            .collect();
        // Each measure on its own core; the rows keep the measures' order.
        let per_measure: Vec<Vec<MeasureRow>> = measures
            .par_iter()
            .enumerate()
            .map(|(k, m)| {
                let mut rows = Vec::new();
                if m.needs_adq() && without_adq.contains(&month) {
                    return rows;
                }
                let mut groups = Vec::new();
                for &level in &levels {
                    let mut units: BTreeMap<&str, (&str, f64, f64)> = BTreeMap::new();
                    for (p, v) in practices.list.iter().zip(&month_values) {
                        let Some(v) = v else {
                            continue;
                        };
                        let (code, unit_name) = &p.units[level];
                        let u = units.entry(code).or_insert((unit_name, 0.0, 0.0));
                        u.1 += v[k].0;
                        u.2 += v[k].1;
                    }
                    groups.push(
                        units
                            .into_iter()
                            .map(|(code, (unit_name, n, d))| MeasureRow {
                                month,
                                measure_id: m.id.clone(),
                                level,
                                unit_code: code.to_string(),
                                unit_name: unit_name.to_string(),
                                numerator: n,
                                denominator: d,
                                stats: UnitStats::default(),
                            })
                            .collect::<Vec<_>>(),
                    );
                }
                let national = groups
                    .last()
                    .and_then(|g| g.first())
                    .map(|r| (r.numerator, r.denominator));
                for mut g in groups {
                    attach(&mut g, national, model(m));
                    rows.extend(g);
                }
                rows
            })
            .collect();
        rows.extend(per_measure.into_iter().flatten());
    }
    rows
}

/// Fills the statistics of one (month, measure, level) group.
fn attach(group: &mut [MeasureRow], national: Option<(f64, f64)>, model: Model) {
    let target = national.filter(|(_, d)| *d > 0.0).map(|(n, d)| n / d);
    let units: Vec<(f64, f64)> = group.iter().map(|r| (r.numerator, r.denominator)).collect();
    for (row, s) in group.iter_mut().zip(group_stats(&units, target, model)) {
        row.stats = s;
    }
}

/// A unit's change between the first month of a run and the last.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureChange {
    /// Measure id.
    pub measure_id: String,
    /// Level.
    pub level: Level,
    /// Unit code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// The baseline month and its (numerator, denominator).
    pub baseline: (Month, f64, f64),
    /// The latest month and its (numerator, denominator).
    pub current: (Month, f64, f64),
    /// Current rate − baseline rate with its 95% interval (unscaled).
    pub difference: Option<(f64, f64, f64)>,
    /// True when the interval excludes zero.
    pub significant: bool,
}

/// The change of every unit present in the first and last month: for a
/// share, Newcombe's interval (as the audit); for a rate, the Poisson
/// variance O/n² of each rate, the two added (a Wald interval).
pub fn changes(rows: &[MeasureRow], measures: &[Measure], months: &[Month]) -> Vec<MeasureChange> {
    let (Some(&first), Some(&last)) = (months.first(), months.last()) else {
        return Vec::new();
    };
    if first == last {
        return Vec::new();
    }
    let proportion: BTreeMap<&str, bool> = measures
        .iter()
        .map(|m| (m.id.as_str(), model(m) == Model::Binomial))
        .collect();
    let baseline: BTreeMap<(&str, Level, &str), &MeasureRow> = rows
        .iter()
        .filter(|r| r.month == first)
        .map(|r| ((r.measure_id.as_str(), r.level, r.unit_code.as_str()), r))
        .collect();
    rows.iter()
        .filter(|r| r.month == last)
        .filter_map(|now| {
            let base =
                baseline.get(&(now.measure_id.as_str(), now.level, now.unit_code.as_str()))?;
            let difference = if proportion
                .get(now.measure_id.as_str())
                .copied()
                .unwrap_or(false)
            {
                crate::stats::newcombe::difference(
                    now.numerator.round() as u64,
                    now.denominator.round() as u64,
                    base.numerator.round() as u64,
                    base.denominator.round() as u64,
                )
                .map(|d| (d.diff, d.low, d.high))
            } else {
                rate_difference(
                    (now.numerator, now.denominator),
                    (base.numerator, base.denominator),
                )
            };
            Some(MeasureChange {
                measure_id: now.measure_id.clone(),
                level: now.level,
                unit_code: now.unit_code.clone(),
                unit_name: now.unit_name.clone(),
                baseline: (first, base.numerator, base.denominator),
                current: (last, now.numerator, now.denominator),
                difference,
                significant: difference.is_some_and(|(_, lo, hi)| lo > 0.0 || hi < 0.0),
            })
        })
        .collect()
}

/// Difference of two Poisson rates (O1/n1 − O0/n0) with a 95% Wald interval.
pub(crate) fn rate_difference(
    (o1, n1): (f64, f64),
    (o0, n0): (f64, f64),
) -> Option<(f64, f64, f64)> {
    if n1 <= 0.0 || n0 <= 0.0 {
        return None;
    }
    let d = o1 / n1 - o0 / n0;
    let se = (o1 / (n1 * n1) + o0 / (n0 * n0)).sqrt();
    Some((d, d - Z95 * se, d + Z95 * se))
}

/// National deciles of practice rates for one month and measure.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasureDeciles {
    /// The month.
    pub month: Month,
    /// Measure id.
    pub measure_id: String,
    /// 10th..90th percentiles of practice rates (unscaled).
    pub deciles: [f64; 9],
}

/// Deciles of practice rates per month and measure, in row order.
pub fn deciles(rows: &[MeasureRow]) -> Vec<MeasureDeciles> {
    type Group<'a> = ((Month, &'a str), Vec<Option<f64>>);
    let mut groups: Vec<Group> = Vec::new();
    for r in rows.iter().filter(|r| r.level == Level::Practice) {
        match groups.last_mut() {
            Some((k, v)) if *k == (r.month, r.measure_id.as_str()) => v.push(r.stats.rate),
            _ => groups.push(((r.month, r.measure_id.as_str()), vec![r.stats.rate])),
        }
    }
    groups
        .into_iter()
        .filter_map(|((month, id), rates)| {
            decile_values(&rates).map(|d| MeasureDeciles {
                month,
                measure_id: id.to_string(),
                deciles: d,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::statistics::{P95, P998};
    use crate::aggregate::Flag;
    use crate::stats::funnel::binomial_limit;
    use crate::stats::poisson::{poisson_limit, sqrt_z};
    use crate::stats::wilson::wilson;

    fn row(n: f64, d: f64) -> MeasureRow {
        MeasureRow {
            month: Month(0),
            measure_id: "M".into(),
            level: Level::Practice,
            unit_code: format!("P{n}"),
            unit_name: String::new(),
            numerator: n,
            denominator: d,
            stats: UnitStats::default(),
        }
    }

    #[test]
    fn rates_get_poisson_statistics() {
        // Four practices' antipsychotic items and list sizes (the real
        // September 2017 sample), against their pooled rate.
        let mut g = vec![
            row(112.0, 6939.0),
            row(199.0, 10529.0),
            row(134.0, 6632.0),
            row(93.0, 4181.0),
        ];
        let national = (538.0, 28281.0);
        attach(&mut g, Some(national), Model::Poisson);
        let t = 538.0 / 28281.0;
        let s = &g[0].stats;
        assert_eq!(s.rate, Some(112.0 / 6939.0));
        // Garwood interval of 112 (scipy: 92.2204535, 134.7651033) over 6939.
        assert!((s.ci_low.unwrap() - 92.2204535325584 / 6939.0).abs() < 1e-9);
        assert!((s.ci_high.unwrap() - 134.7651032921354 / 6939.0).abs() < 1e-9);
        assert_eq!(
            s.funnel[P998],
            poisson_limit(t, 6939.0, 0.001).zip(poisson_limit(t, 6939.0, 0.999))
        );
        assert_eq!(s.z_score, Some(sqrt_z(112.0 / 6939.0, t, 6939.0)));
        assert_eq!(s.flag[P998], Some(Flag::None));
        // The highest rate ranks 1, the lowest 0.
        assert_eq!(g[3].stats.percentile_rank, Some(1.0));
        assert_eq!(g[0].stats.percentile_rank, Some(0.0));
    }

    #[test]
    fn a_share_gets_binomial_statistics() {
        let mut g = vec![
            row(0.0, 112.0),
            row(2.0, 199.0),
            row(2.0, 134.0),
            row(0.0, 93.0),
        ];
        attach(&mut g, Some((4.0, 538.0)), Model::Binomial);
        let w = wilson(2, 199, Z95).unwrap();
        assert_eq!(
            (g[1].stats.ci_low, g[1].stats.ci_high),
            (Some(w.low), Some(w.high))
        );
        assert_eq!(
            g[1].stats.funnel[P95],
            binomial_limit(4.0 / 538.0, 199, 0.025).zip(binomial_limit(4.0 / 538.0, 199, 0.975))
        );
    }

    #[test]
    fn a_rate_difference_has_a_wald_interval() {
        let (d, lo, hi) = rate_difference((120.0, 1000.0), (100.0, 1000.0)).unwrap();
        assert!((d - 0.02).abs() < 1e-15);
        let se = (120.0f64 / 1e6 + 100.0 / 1e6).sqrt();
        assert!(
            (lo - (0.02 - 1.959963984540054 * se)).abs() < 1e-12
                && (hi - (0.02 + 1.959963984540054 * se)).abs() < 1e-12
        );
        assert_eq!(rate_difference((1.0, 0.0), (1.0, 10.0)), None);
    }
}
