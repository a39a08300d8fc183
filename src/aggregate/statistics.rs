//! The statistics of each unit within its (index date, indicator, level)
//! group: Wilson interval, percentile rank, funnel limits around the
//! national rate (exact binomial; and on the arcsine scale with the
//! group's DerSimonian–Laird τ² for the over-dispersion-adjusted limits),
//! outlier flags, and the indirectly standardised ratio.

use super::IndicatorRow;
use crate::stats::funnel::{arcsine_limit, arcsine_z, binomial_limit};
use crate::stats::overdispersion::dispersion;
use crate::stats::percentile::percent_rank;
use crate::stats::poisson::standardised_ratio;
use crate::stats::wilson::{wilson, Z95};

/// Where a unit falls against a pair of funnel limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// Above the upper limit.
    High,
    /// Below the lower limit.
    Low,
    /// Within the limits.
    None,
}

impl Flag {
    /// The flag as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::High => "high",
            Flag::Low => "low",
            Flag::None => "none",
        }
    }

    /// Where `rate` falls against `limits`; `None` when either is missing.
    pub fn of(rate: Option<f64>, limits: Option<(f64, f64)>) -> Option<Flag> {
        let (r, (lo, hi)) = (rate?, limits?);
        Some(if r > hi {
            Flag::High
        } else if r < lo {
            Flag::Low
        } else {
            Flag::None
        })
    }
}

/// A unit's statistics; `None` where the denominator is 0 or a group has too few units.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitStats {
    /// numerator / denominator.
    pub rate: Option<f64>,
    /// Wilson 95% lower limit.
    pub ci_low: Option<f64>,
    /// Wilson 95% upper limit.
    pub ci_high: Option<f64>,
    /// PERCENT_RANK within the group.
    pub percentile_rank: Option<f64>,
    /// z-score against the national rate, arcsine scale.
    pub z_score: Option<f64>,
    /// Exact binomial funnel limits at 95% and 99.8%.
    pub funnel: [Option<(f64, f64)>; 2],
    /// Over-dispersion-adjusted (additive τ²) limits at 95% and 99.8%.
    pub funnel_adjusted: [Option<(f64, f64)>; 2],
    /// Flags against `funnel` at 95% and 99.8%.
    pub flag: [Option<Flag>; 2],
    /// Flags against `funnel_adjusted` at 95% and 99.8%.
    pub flag_adjusted: [Option<Flag>; 2],
    /// The group's multiplicative over-dispersion factor.
    pub phi: Option<f64>,
    /// The group's additive between-unit variance (arcsine scale).
    pub tau2: Option<f64>,
    /// Observed / expected, with exact Poisson limits.
    pub isr: Option<(f64, f64, f64)>,
}

/// Two-sided coverage of the limits: 95% and 99.8%.
pub const COVERAGE: [(f64, f64); 2] = [(0.025, 0.975), (0.001, 0.999)];

/// Fills the statistics of every unit of one group, against the national
/// `(numerator, denominator)`.
pub fn attach(group: &mut [IndicatorRow], national: Option<(u64, u64)>) {
    let target = national
        .filter(|(_, d)| *d > 0)
        .map(|(n, d)| n as f64 / d as f64);
    let rates: Vec<Option<f64>> = group
        .iter()
        .map(|r| (r.denominator > 0).then(|| r.numerator as f64 / r.denominator as f64))
        .collect();
    let ranks = percent_rank(&rates);
    let units: Vec<(u64, u64)> = group.iter().map(|r| (r.numerator, r.denominator)).collect();
    let disp = target.and_then(|t| dispersion(&units, t));
    for ((row, rate), rank) in group.iter_mut().zip(rates).zip(ranks) {
        let n = row.denominator;
        let ci = wilson(row.numerator, n, Z95);
        let mut s = UnitStats {
            rate,
            ci_low: ci.map(|c| c.low),
            ci_high: ci.map(|c| c.high),
            percentile_rank: rank,
            phi: disp.map(|d| d.phi),
            tau2: disp.map(|d| d.tau2),
            isr: standardised_ratio(row.numerator, row.expected).map(|r| (r.ratio, r.low, r.high)),
            ..UnitStats::default()
        };
        if let (Some(t), Some(r)) = (target, rate) {
            s.z_score = Some(arcsine_z(r, t, n));
            for (k, (lo, hi)) in COVERAGE.into_iter().enumerate() {
                s.funnel[k] = binomial_limit(t, n, lo).zip(binomial_limit(t, n, hi));
                if let Some(d) = disp {
                    s.funnel_adjusted[k] =
                        arcsine_limit(t, n, lo, d.tau2).zip(arcsine_limit(t, n, hi, d.tau2));
                }
                s.flag[k] = Flag::of(rate, s.funnel[k]);
                s.flag_adjusted[k] = Flag::of(rate, s.funnel_adjusted[k]);
            }
        }
        row.stats = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;

    fn row(num: u64, den: u64, expected: f64) -> IndicatorRow {
        IndicatorRow {
            index_date: Date(0),
            indicator_id: "X".into(),
            indicator_title: "x".into(),
            level: "practice",
            unit_code: format!("P{num}"),
            unit_name: String::new(),
            numerator: num,
            denominator: den,
            expected,
            stats: UnitStats::default(),
        }
    }

    #[test]
    fn an_outlier_is_flagged_and_an_empty_unit_has_no_statistics() {
        let mut g = vec![
            row(10, 100, 10.0),
            row(12, 100, 10.0),
            row(45, 100, 10.0),
            row(0, 0, 0.0),
            row(9, 100, 10.0),
        ];
        attach(&mut g, Some((76, 400)));
        assert_eq!(g[2].stats.flag, [Some(Flag::High), Some(Flag::High)]);
        assert_eq!(g[0].stats.flag[1], Some(Flag::None));
        assert_eq!(
            g[3].stats,
            UnitStats {
                phi: g[0].stats.phi,
                tau2: g[0].stats.tau2,
                ..UnitStats::default()
            }
        );
        assert_eq!(g[2].stats.percentile_rank, Some(1.0));
        // The ISR of 45 observed against 10 expected.
        assert!((g[2].stats.isr.unwrap().0 - 4.5).abs() < 1e-12);
        // Over-dispersion widens the adjusted limits beyond the exact ones.
        let (exact, adjusted) = (
            g[0].stats.funnel[1].unwrap(),
            g[0].stats.funnel_adjusted[1].unwrap(),
        );
        assert!(adjusted.1 > exact.1, "{exact:?} {adjusted:?}");
    }
}
