//! The statistics of each unit within its (period, indicator or measure,
//! level) group, under the group's model: the 95% interval, percentile
//! rank, z-score and funnel limits around the national rate (exact; and
//! with the group's DerSimonian–Laird τ² for the over-dispersion-adjusted
//! limits), outlier flags, and for indicators the indirectly standardised
//! ratio.

use super::IndicatorRow;
use crate::stats::funnel::{arcsine_limit, arcsine_z, binomial_limit};
use crate::stats::overdispersion::{dispersion, rate_dispersion};
use crate::stats::percentile::percent_rank;
use crate::stats::poisson::{
    exact_interval, poisson_limit, sqrt_limit, sqrt_z, standardised_ratio,
};
use crate::stats::wilson::{wilson, Z95};

/// How a group's numerators arise, which fixes its statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Model {
    /// A count out of a denominator of the same things (patients, items):
    /// Wilson intervals, exact binomial limits, the arcsine scale.
    Binomial,
    /// A total over a population (items or ADQs per patient): exact
    /// (Garwood) intervals, exact Poisson limits, the square-root scale.
    Poisson,
}

impl Model {
    /// The model's name as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Binomial => "binomial",
            Model::Poisson => "poisson",
        }
    }

    /// The funnel limit at probability `p` for a unit with denominator `n`
    /// around `target`; over-dispersion-adjusted when `tau2` is given.
    pub fn limit(self, target: f64, n: f64, p: f64, tau2: Option<f64>) -> Option<f64> {
        let cases = n.round() as u64;
        match (self, tau2) {
            (Model::Binomial, None) => binomial_limit(target, cases, p),
            (Model::Binomial, Some(t)) => arcsine_limit(target, cases, p, t),
            (Model::Poisson, None) => poisson_limit(target, n, p),
            (Model::Poisson, Some(t)) => sqrt_limit(target, n, p, t),
        }
    }
}

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

/// The statistics of every unit of one group from its `(numerator,
/// denominator)` pairs, against `target` (the national rate); `isr` is left
/// empty.
pub fn group_stats(units: &[(f64, f64)], target: Option<f64>, model: Model) -> Vec<UnitStats> {
    let rates: Vec<Option<f64>> = units
        .iter()
        .map(|&(o, n)| (n > 0.0).then(|| o / n))
        .collect();
    let ranks = percent_rank(&rates);
    let disp = target.and_then(|t| match model {
        Model::Binomial => {
            let counts: Vec<(u64, u64)> = units
                .iter()
                .map(|&(o, n)| (o.round() as u64, n.round() as u64))
                .collect();
            dispersion(&counts, t)
        }
        Model::Poisson => rate_dispersion(units, t),
    });
    units
        .iter()
        .zip(rates)
        .zip(ranks)
        .map(|((&(o, n), rate), rank)| {
            let ci = match model {
                Model::Binomial => {
                    wilson(o.round() as u64, n.round() as u64, Z95).map(|c| (c.low, c.high))
                }
                Model::Poisson => rate.map(|_| {
                    let (lo, hi) = exact_interval(o);
                    (lo / n, hi / n)
                }),
            };
            let mut s = UnitStats {
                rate,
                ci_low: ci.map(|c| c.0),
                ci_high: ci.map(|c| c.1),
                percentile_rank: rank,
                phi: disp.map(|d| d.phi),
                tau2: disp.map(|d| d.tau2),
                ..UnitStats::default()
            };
            if let (Some(t), Some(r)) = (target, rate) {
                s.z_score = Some(match model {
                    Model::Binomial => arcsine_z(r, t, n.round() as u64),
                    Model::Poisson => sqrt_z(r, t, n),
                });
                let tau2 = disp.map(|d| d.tau2);
                for (k, (lo, hi)) in COVERAGE.into_iter().enumerate() {
                    let limits =
                        |tau2| model.limit(t, n, lo, tau2).zip(model.limit(t, n, hi, tau2));
                    s.funnel[k] = limits(None);
                    if tau2.is_some() {
                        s.funnel_adjusted[k] = limits(tau2);
                    }
                    s.flag[k] = Flag::of(rate, s.funnel[k]);
                    s.flag_adjusted[k] = Flag::of(rate, s.funnel_adjusted[k]);
                }
            }
            s
        })
        .collect()
}

/// Fills the statistics of every unit of one indicator group (binomial),
/// against the national `(numerator, denominator)`.
pub fn attach(group: &mut [IndicatorRow], national: Option<(u64, u64)>) {
    let target = national
        .filter(|(_, d)| *d > 0)
        .map(|(n, d)| n as f64 / d as f64);
    let units: Vec<(f64, f64)> = group
        .iter()
        .map(|r| (r.numerator as f64, r.denominator as f64))
        .collect();
    let stats = group_stats(&units, target, Model::Binomial);
    for (row, mut s) in group.iter_mut().zip(stats) {
        s.isr = standardised_ratio(row.numerator, row.expected).map(|r| (r.ratio, r.low, r.high));
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
