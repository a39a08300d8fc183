//! Exact Poisson interval for an observed count, indirectly standardised
//! ratios built on it, and funnel limits for a rate per population.
//!
//! Garwood F. (1936) "Fiducial limits for the Poisson distribution",
//! Biometrika 28:437–442: for O observed events at 95%,
//! lower = χ²(0.025; 2O) / 2 (0 when O = 0), upper = χ²(0.975; 2O + 2) / 2.
//! The ratio O/E is given with these limits divided by E. The same
//! formula takes a non-integer total (ADQs), where it is the continuous
//! extension of the count interval.
//!
//! Funnel limits for a rate O/n around a target θ (Spiegelhalter D. J.
//! (2005) "Funnel plots for comparing institutional performance",
//! Statistics in Medicine 24:1185–1202, appendix A.1.2):
//!
//! - **Exact Poisson with interpolation**: with E = θn, r_p the smallest r
//!   with P(R ≤ r) ≥ p under Poisson(E) and α = (P(R ≤ r_p) − p) /
//!   (P(R ≤ r_p) − P(R ≤ r_p − 1)), the limit is (r_p − α) / n.
//! - **Square-root scale**: √O has variance about 1/4, so √(O/n) has
//!   variance 1/(4n); the limit is (√θ + z_p √(1/(4n) + τ²))² (0 below
//!   zero), with τ² the between-unit variance on that scale, and a unit's
//!   z-score is (√y − √θ) · 2√n.

use statrs::distribution::{ChiSquared, ContinuousCDF, DiscreteCDF, Poisson};

use super::funnel::{interpolated_quantile, normal_quantile};

/// The exact 95% interval for a Poisson count (or a non-negative total).
pub(crate) fn exact_interval(observed: f64) -> (f64, f64) {
    let chi = |df: f64, p: f64| {
        ChiSquared::new(df)
            .map(|c| c.inverse_cdf(p) / 2.0)
            .unwrap_or(f64::NAN)
    };
    let o = observed;
    let low = if observed <= 0.0 {
        0.0
    } else {
        chi(2.0 * o, 0.025)
    };
    (low, chi(2.0 * o + 2.0, 0.975))
}

/// An indirectly standardised ratio with its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ratio {
    /// Observed / expected.
    pub ratio: f64,
    /// Lower 95% limit.
    pub low: f64,
    /// Upper 95% limit.
    pub high: f64,
}

/// O/E with exact Poisson limits; `None` when nothing is expected.
pub(crate) fn standardised_ratio(observed: u64, expected: f64) -> Option<Ratio> {
    if expected <= 0.0 {
        return None;
    }
    let (lo, hi) = exact_interval(observed as f64);
    Some(Ratio {
        ratio: observed as f64 / expected,
        low: lo / expected,
        high: hi / expected,
    })
}

/// The exact Poisson funnel limit at probability `p` for a unit with
/// population `n` around the rate `target`.
pub(crate) fn poisson_limit(target: f64, n: f64, p: f64) -> Option<f64> {
    if n <= 0.0 || !target.is_finite() || target < 0.0 {
        return None;
    }
    let expected = target * n;
    if expected == 0.0 {
        return Some(0.0);
    }
    let dist = Poisson::new(expected).ok()?;
    // A bracket that holds r_p: widen until cdf reaches p.
    let mut hi = (expected + 10.0 * expected.sqrt() + 20.0).ceil() as u64;
    while dist.cdf(hi) < p {
        hi = hi.checked_mul(2)?;
    }
    let guess = expected + normal_quantile(p) * expected.sqrt();
    Some((interpolated_quantile(|r| dist.cdf(r), p, hi, guess) / n).max(0.0))
}

/// The square-root-scale funnel limit at probability `p`, with an extra
/// between-unit variance `tau2` (0 for the unadjusted limit).
pub(crate) fn sqrt_limit(target: f64, n: f64, p: f64, tau2: f64) -> Option<f64> {
    if n <= 0.0 || target < 0.0 {
        return None;
    }
    let y = target.sqrt() + normal_quantile(p) * (1.0 / (4.0 * n) + tau2).sqrt();
    Some(y.max(0.0).powi(2))
}

/// A unit's z-score on the square-root scale: (√y − √θ) · 2√n.
pub(crate) fn sqrt_z(rate: f64, target: f64, n: f64) -> f64 {
    (rate.sqrt() - target.sqrt()) * 2.0 * n.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: scipy 1.17.1, the interpolation above written with
    // scipy.stats.poisson.ppf and poisson.cdf (tests/fixtures/README.md).
    #[test]
    fn exact_poisson_limits_match_scipy() {
        let cases = [
            (
                0.0185,
                6939.0,
                [0.013589667, 0.015296399, 0.021697466, 0.023676837],
            ),
            (
                0.0185,
                500.0,
                [0.002007226, 0.006492881, 0.030350292, 0.039082993],
            ),
            (
                2.5,
                4181.0,
                [2.424656415, 2.452067106, 2.547920347, 2.575785957],
            ),
        ];
        for (theta, n, want) in cases {
            for (p, w) in [0.001, 0.025, 0.975, 0.999].into_iter().zip(want) {
                let got = poisson_limit(theta, n, p).unwrap();
                assert!((got - w).abs() < 1e-8, "{theta} {n} {p}: {got} != {w}");
            }
        }
        assert_eq!(poisson_limit(0.0, 100.0, 0.999), Some(0.0));
        assert_eq!(poisson_limit(0.1, 0.0, 0.5), None);
    }

    // Reference: numpy, (sqrt(θ) + norm.ppf(p) * sqrt(1/(4n) + τ²))².
    #[test]
    fn square_root_limits_and_z_match_numpy() {
        let close = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-10;
        assert!(close(
            sqrt_limit(0.0185, 6939.0, 0.001, 0.0),
            0.013798270259
        ));
        assert!(close(
            sqrt_limit(0.0185, 6939.0, 0.999, 0.0),
            0.023889835787
        ));
        assert!(close(
            sqrt_limit(0.0185, 6939.0, 0.999, 1e-4),
            0.02960341825
        ));
        // B85010's antipsychotic items against a made-up target.
        let z = sqrt_z(112.0 / 6939.0, 0.0185, 6939.0);
        assert!((z - -1.4942189895799167).abs() < 1e-10, "{z}");
    }

    #[test]
    fn a_non_integer_total_has_an_interval() {
        // scipy: chi2.ppf(0.025, 2O)/2 and chi2.ppf(0.975, 2O+2)/2.
        let (l, h) = exact_interval(1321.72489);
        assert!((l - 1251.4211823994592).abs() < 1e-6 && (h - 1394.949752646955).abs() < 1e-6);
    }

    // Reference: scipy 1.17.1, chi2.ppf(0.025, 2O)/2 and chi2.ppf(0.975, 2O+2)/2.
    #[test]
    fn matches_scipy() {
        for (o, lo, hi) in [
            (0, 0.0, 3.688879454),
            (1, 0.025317808, 5.571643391),
            (5, 1.62348639, 11.668332079),
            (37, 26.051414567, 50.999626142),
        ] {
            let (l, h) = exact_interval(o as f64);
            assert!(
                (l - lo).abs() < 1e-6 && (h - hi).abs() < 1e-6,
                "{o}: {l} {h}"
            );
        }
        let r = standardised_ratio(5, 2.5).unwrap();
        assert!((r.ratio - 2.0).abs() < 1e-12 && (r.low - 0.649394556).abs() < 1e-6);
        assert_eq!(standardised_ratio(3, 0.0), None);
    }
}
