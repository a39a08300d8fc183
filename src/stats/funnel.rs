//! Funnel-plot control limits for a proportion around a target θ.
//!
//! Spiegelhalter D. J. (2005) "Funnel plots for comparing institutional
//! performance", Statistics in Medicine 24:1185–1202, appendix A.1.1:
//!
//! - **Exact binomial with interpolation.** For n cases, let r_p be the
//!   smallest r with P(R ≤ r) ≥ p under Binomial(n, θ), and
//!   α = (P(R ≤ r_p) − p) / (P(R ≤ r_p) − P(R ≤ r_p − 1)); the limit is
//!   (r_p − α) / n.
//! - **Arcsine scale.** y = asin √x has variance 1/(4n); the limit is
//!   sin²(asin √θ + z_p / (2√n)), clamped to [0, π/2] before squaring.
//!   [`arcsine_z`] is a unit's z-score on that scale.

use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, Normal};

/// The standard normal quantile Φ⁻¹(p).
pub(crate) fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The exact binomial limit at probability `p` for `n` cases around `target`.
pub fn binomial_limit(target: f64, n: u64, p: f64) -> Option<f64> {
    if n == 0 || !(0.0..=1.0).contains(&target) {
        return None;
    }
    let dist = Binomial::new(target, n).ok()?;
    let mean = n as f64 * target;
    let guess = mean + normal_quantile(p) * (mean * (1.0 - target)).sqrt();
    Some((interpolated_quantile(|r| dist.cdf(r), p, n, guess) / n as f64).clamp(0.0, 1.0))
}

/// r_p − α for a discrete distribution given by its `cdf`: r_p the smallest
/// r in 0..=`hi` with cdf(r) ≥ p (`hi` when none is), α the interpolation
/// (cdf(r_p) − p) / (cdf(r_p) − cdf(r_p − 1)).
///
/// The search starts at `guess` (a normal approximation to r_p) and
/// gallops out until it brackets r_p, then bisects: a handful of cdf
/// evaluations where bisection over 0..=`hi` takes twenty or more. On a
/// monotone cdf it finds the same r_p, so the limit is the same to the bit.
pub(crate) fn interpolated_quantile(cdf: impl Fn(u64) -> f64, p: f64, hi: u64, guess: f64) -> f64 {
    let mut known: Vec<(u64, f64)> = Vec::with_capacity(8);
    let mut at = |r: u64| match known.iter().find(|(k, _)| *k == r) {
        Some(&(_, v)) => v,
        None => {
            let v = cdf(r);
            known.push((r, v));
            v
        }
    };
    // r_p lies in lo..=hi throughout.
    let mut lo = 0u64;
    let mut hi = hi;
    let start = if guess.is_finite() {
        (guess.round().max(0.0) as u64).min(hi)
    } else {
        hi / 2
    };
    if at(start) >= p {
        hi = start;
        let mut step = 1u64;
        while let Some(probe) = hi.checked_sub(step).filter(|&r| r >= lo) {
            if at(probe) >= p {
                hi = probe;
                step = step.saturating_mul(2);
            } else {
                lo = probe + 1;
                break;
            }
        }
    } else {
        lo = start + 1;
        let mut step = 1u64;
        while let Some(probe) = lo.checked_add(step).filter(|&r| r < hi) {
            if at(probe) < p {
                lo = probe + 1;
                step = step.saturating_mul(2);
            } else {
                hi = probe;
                break;
            }
        }
    }
    lo = lo.min(hi);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at(mid) >= p {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let at_r = at(lo);
    let below = if lo == 0 { 0.0 } else { at(lo - 1) };
    let alpha = if at_r > below {
        (at_r - p) / (at_r - below)
    } else {
        0.0
    };
    lo as f64 - alpha
}

/// The arcsine-scale limit at probability `p` for `n` cases, with an extra
/// between-unit variance `tau2` (0 for the unadjusted limit).
pub(crate) fn arcsine_limit(target: f64, n: u64, p: f64, tau2: f64) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let sd = (1.0 / (4.0 * n as f64) + tau2).sqrt();
    let y =
        (target.sqrt().asin() + normal_quantile(p) * sd).clamp(0.0, std::f64::consts::FRAC_PI_2);
    Some(y.sin().powi(2))
}

/// A unit's z-score on the arcsine scale: (asin √y − asin √θ) · 2√n.
pub fn arcsine_z(rate: f64, target: f64, n: u64) -> f64 {
    (rate.sqrt().asin() - target.sqrt().asin()) * 2.0 * (n as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-7)
    }

    // Reference: scipy 1.17.1, the same interpolation written with
    // scipy.stats.binom.ppf and binom.cdf (tests/fixtures/README.md).
    #[test]
    fn exact_binomial_limits_match_scipy() {
        let cases = [
            (
                0.15,
                50,
                [0.005397084, 0.046787282, 0.245990755, 0.314742431],
            ),
            (
                0.15,
                400,
                [0.096122703, 0.114589822, 0.184573889, 0.206369299],
            ),
            (
                0.6,
                30,
                [0.302396474, 0.404664269, 0.756774677, 0.847540573],
            ),
        ];
        for (theta, n, want) in cases {
            for (p, w) in [0.001, 0.025, 0.975, 0.999].into_iter().zip(want) {
                let got = binomial_limit(theta, n, p);
                assert!(close(got, w), "theta {theta} n {n} p {p}: {got:?} != {w}");
            }
        }
        assert_eq!(binomial_limit(0.2, 0, 0.5), None);
    }

    // Reference: numpy, sin(clip(arcsin(sqrt(θ)) + Φ⁻¹(p)/(2√n)))².
    #[test]
    fn arcsine_limits_match_numpy() {
        let want = [0.031765806, 0.065648395, 0.261070094, 0.334023769];
        for (p, w) in [0.001, 0.025, 0.975, 0.999].into_iter().zip(want) {
            assert!(close(arcsine_limit(0.15, 50, p, 0.0), w), "p {p}");
        }
        assert!(
            (arcsine_z(5.0 / 40.0, 0.18888888888888888, 40) - -1.116182203647282).abs() < 1e-12
        );
    }

    /// The search over 0..=hi by plain bisection: the reference the
    /// galloping search must match.
    fn bisected(cdf: impl Fn(u64) -> f64, p: f64, hi: u64) -> f64 {
        let (mut lo, mut hi) = (0u64, hi);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if cdf(mid) >= p {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let at = cdf(lo);
        let below = if lo == 0 { 0.0 } else { cdf(lo - 1) };
        let alpha = if at > below {
            (at - p) / (at - below)
        } else {
            0.0
        };
        lo as f64 - alpha
    }

    /// Every starting point near r_p, above and below, lands on r_p: each
    /// gallop step and each bisection boundary is crossed.
    #[test]
    fn every_guess_near_the_quantile_finds_it() {
        for (target, n) in [(0.3, 1000), (0.02, 50), (0.9, 7)] {
            let dist = Binomial::new(target, n).unwrap();
            let cdf = |r| dist.cdf(r);
            for p in [0.001, 0.025, 0.975, 0.999] {
                let want = bisected(cdf, p, n);
                let centre = want.ceil() as i64;
                for g in centre - 70..centre + 70 {
                    let got = interpolated_quantile(cdf, p, n, g as f64);
                    assert_eq!(got.to_bits(), want.to_bits(), "n {n} p {p} guess {g}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// From any starting guess, good or bad, the galloping search
        /// finds the bisection's quantile, bit for bit, for binomial and
        /// Poisson cdfs (the funnels' two models), at the tails they use
        /// and at the edges (p near 0 or 1, tiny and huge n).
        #[test]
        fn galloping_search_equals_bisection(
            target in 0.0f64..1.0,
            n in 0u64..200_000,
            p in proptest::sample::select(vec![1e-9, 0.001, 0.025, 0.5, 0.975, 0.999, 1.0 - 1e-9]),
            off in -5.0f64..5.0,
            wild in proptest::option::of(0.0f64..1e7),
        ) {
            let mean = n as f64 * target;
            let normal = mean + normal_quantile(p) * (mean * (1.0 - target)).sqrt();
            let guess = wild.unwrap_or(normal + off * (1.0 + mean.sqrt()));
            let binomial = Binomial::new(target, n).unwrap();
            let b = |r| binomial.cdf(r);
            proptest::prop_assert_eq!(
                interpolated_quantile(b, p, n, guess).to_bits(),
                bisected(b, p, n).to_bits()
            );
            let poisson = statrs::distribution::Poisson::new(mean.max(1e-6)).unwrap();
            let c = |r| poisson.cdf(r);
            let hi = (mean + 10.0 * mean.sqrt() + 20.0).ceil() as u64;
            proptest::prop_assert_eq!(
                interpolated_quantile(c, p, hi, guess).to_bits(),
                bisected(c, p, hi).to_bits()
            );
        }
    }
}
