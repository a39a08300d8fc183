//! The statistics of each unit within its (period, indicator or measure,
//! level) group, under the group's model: the 95% interval, percentile
//! rank, z-score and funnel limits around the national rate (exact; and
//! with the group's DerSimonian–Laird τ² for the over-dispersion-adjusted
//! limits), outlier flags, and for indicators the indirectly standardised
//! ratio.

use std::collections::HashMap;

use rayon::prelude::*;

use super::IndicatorRow;
use crate::stats::exact_test::{binomial_tails, poisson_tails, Tails};
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

    /// The exact test at a limit of two-sided coverage 1 − α, given
    /// `half_alpha` = α/2: high when P(Y ≥ y) < α/2, low when
    /// P(Y ≤ y) < α/2 (stats::exact_test).
    pub fn exact(tails: Tails, half_alpha: f64) -> Flag {
        if tails.upper < half_alpha {
            Flag::High
        } else if tails.lower < half_alpha {
            Flag::Low
        } else {
            Flag::None
        }
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
    /// Exact binomial funnel limits at 95% and 99.8% ([`P95`], [`P998`]).
    pub funnel: [Option<(f64, f64)>; 2],
    /// Over-dispersion-adjusted (additive τ²) limits at 95% and 99.8%.
    pub funnel_adjusted: [Option<(f64, f64)>; 2],
    /// Flags at 95% and 99.8%: the exact tail test against the national
    /// rate (a dot outside the interpolated funnel of a tiny unit, such as
    /// 1 of 1, is flagged only when it is unlikely).
    pub flag: [Option<Flag>; 2],
    /// Flags after over-dispersion: outside `funnel_adjusted` as well as
    /// flagged by the exact test.
    pub(crate) flag_adjusted: [Option<Flag>; 2],
    /// The group's multiplicative over-dispersion factor.
    pub phi: Option<f64>,
    /// The group's additive between-unit variance (arcsine scale).
    pub tau2: Option<f64>,
    /// Observed / expected, with exact Poisson limits.
    pub isr: Option<(f64, f64, f64)>,
}

/// Two-sided coverage of the limits, indexed by [`P95`] and [`P998`].
pub(crate) const COVERAGE: [(f64, f64); 2] = [(0.025, 0.975), (0.001, 0.999)];

/// The index of the 95% limits and flags in [`UnitStats`].
pub const P95: usize = 0;

/// The index of the 99.8% limits and flags in [`UnitStats`].
pub const P998: usize = 1;

/// The statistics of every unit of one group from its `(numerator,
/// denominator)` pairs, against `target` (the national rate); `isr` is left
/// empty.
pub(crate) fn group_stats(
    units: &[(f64, f64)],
    target: Option<f64>,
    model: Model,
) -> Vec<UnitStats> {
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
    // Many units share a count (items are whole numbers), and an exact
    // interval takes a root search: each count's is worked out once, the
    // counts on all cores.
    let intervals: HashMap<u64, (f64, f64)> = match model {
        Model::Binomial => HashMap::new(),
        Model::Poisson => {
            let mut counts: Vec<u64> = units
                .iter()
                .zip(&rates)
                .filter(|(_, rate)| rate.is_some())
                .map(|(&(o, _), _)| o.to_bits())
                .collect();
            counts.sort_unstable();
            counts.dedup();
            counts
                .into_par_iter()
                .map(|bits| (bits, exact_interval(f64::from_bits(bits))))
                .collect()
        }
    };
    units
        .par_iter()
        .zip(rates)
        .zip(ranks)
        .map(|((&(o, n), rate), rank)| {
            let ci = match model {
                Model::Binomial => {
                    wilson(o.round() as u64, n.round() as u64, Z95).map(|c| (c.low, c.high))
                }
                Model::Poisson => rate.and_then(|_| {
                    let (lo, hi) = intervals.get(&o.to_bits())?;
                    Some((lo / n, hi / n))
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
                let tails = match model {
                    Model::Binomial => binomial_tails(o.round() as u64, n.round() as u64, t),
                    Model::Poisson => poisson_tails(o, t * n),
                };
                for (k, (lo, hi)) in COVERAGE.into_iter().enumerate() {
                    let limits =
                        |tau2| model.limit(t, n, lo, tau2).zip(model.limit(t, n, hi, tau2));
                    s.funnel[k] = limits(None);
                    if tau2.is_some() {
                        s.funnel_adjusted[k] = limits(tau2);
                    }
                    s.flag[k] = tails.map(|tl| Flag::exact(tl, lo));
                    // Adjusted: the exact test's flag, kept only where the
                    // rate is also beyond the wider adjusted limit.
                    s.flag_adjusted[k] = match (s.flag[k], Flag::of(rate, s.funnel_adjusted[k])) {
                        (Some(f), Some(a)) => Some(if f == a { f } else { Flag::None }),
                        _ => None,
                    };
                }
            }
            s
        })
        .collect()
}

/// Fills the statistics of every unit of one indicator group (binomial),
/// against the national `(numerator, denominator)`. Units with a
/// suppressed count get none, and play no part in the group's statistics.
pub(crate) fn attach(group: &mut [IndicatorRow], national: Option<(u64, u64)>) {
    let target = national
        .filter(|(_, d)| *d > 0)
        .map(|(n, d)| n as f64 / d as f64);
    let published: Vec<usize> = (0..group.len())
        .filter(|&k| !group[k].suppressed())
        .collect();
    let units: Vec<(f64, f64)> = published
        .iter()
        .filter_map(|&k| group[k].counts())
        .map(|(n, d)| (n as f64, d as f64))
        .collect();
    let stats = group_stats(&units, target, Model::Binomial);
    for (&k, mut s) in published.iter().zip(stats) {
        let row = &mut group[k];
        s.isr = row
            .numerator
            .zip(row.expected)
            .and_then(|(o, e)| standardised_ratio(o, e))
            .map(|r| (r.ratio, r.low, r.high));
        row.stats = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::ingest::locality::Level;

    fn row(num: u64, den: u64, expected: f64) -> IndicatorRow {
        IndicatorRow {
            index_date: Date(0),
            indicator_id: "X".into(),
            indicator_title: "x".into(),
            level: Level::Practice,
            unit_code: format!("P{num}").into(),
            unit_name: "".into(),
            numerator: Some(num),
            denominator: Some(den),
            expected: Some(expected),
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
        assert_eq!(g[0].stats.flag[P998], Some(Flag::None));
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
            g[0].stats.funnel[P998].unwrap(),
            g[0].stats.funnel_adjusted[P998].unwrap(),
        );
        assert!(adjusted.1 > exact.1, "{exact:?} {adjusted:?}");
    }

    /// On a grid of n, y and national p, the flags are those of the exact
    /// binomial test (scipy's tails): high when P(Y >= y) < α/2, low when
    /// P(Y <= y) < α/2, at 95% and 99.8%.
    #[test]
    fn flags_agree_with_an_exact_binomial_test_on_a_grid() {
        use crate::stats::exact_test::tests::BINOMIAL;
        for &(n, y, p, lower, upper) in BINOMIAL {
            let s = &group_stats(&[(y as f64, n as f64)], Some(p), Model::Binomial)[0];
            for (k, half_alpha) in [0.025, 0.001].into_iter().enumerate() {
                let want = if upper < half_alpha {
                    Flag::High
                } else if lower < half_alpha {
                    Flag::Low
                } else {
                    Flag::None
                };
                assert_eq!(s.flag[k], Some(want), "{y}/{n} at p = {p}, level {k}");
            }
        }
        let flag =
            |y: f64, n: f64, p: f64| group_stats(&[(y, n)], Some(p), Model::Binomial)[0].flag;
        // 1 of 1 against 43%: a 43% chance, not an outlier.
        assert_eq!(flag(1.0, 1.0, 0.43), [Some(Flag::None); 2]);
        // 0 of 7 against 88%: 0.12^7 = 3.6e-7, low at both levels.
        assert_eq!(flag(0.0, 7.0, 0.88), [Some(Flag::Low); 2]);
        // 1 of 1 is above the interpolated 99.8% limit all the same.
        let s = &group_stats(&[(1.0, 1.0)], Some(0.43), Model::Binomial)[0];
        assert!(s.funnel[P998].unwrap().1 < 1.0);
    }

    #[test]
    fn poisson_flags_follow_the_exact_poisson_test() {
        // Where 4 are expected (rate 0.004 per patient, 1,000 patients):
        // P(Y >= 11) = 0.00284 (scipy poisson.sf(10, 4)), high at 95% only;
        // P(Y >= 12) = 0.000915, high at 99.8% too.
        let flag = |y: f64| group_stats(&[(y, 1000.0)], Some(0.004), Model::Poisson)[0].flag;
        assert_eq!(flag(11.0), [Some(Flag::High), Some(Flag::None)]);
        assert_eq!(flag(12.0), [Some(Flag::High), Some(Flag::High)]);
    }
}
