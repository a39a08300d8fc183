//! Exact Poisson interval for an observed count, and indirectly
//! standardised ratios built on it.
//!
//! Garwood F. (1936) "Fiducial limits for the Poisson distribution",
//! Biometrika 28:437–442: for O observed events at 95%,
//! lower = χ²(0.025; 2O) / 2 (0 when O = 0), upper = χ²(0.975; 2O + 2) / 2.
//! The ratio O/E is given with these limits divided by E.

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// The exact 95% interval for a Poisson count.
pub fn exact_interval(observed: u64) -> (f64, f64) {
    let chi = |df: f64, p: f64| {
        ChiSquared::new(df)
            .map(|c| c.inverse_cdf(p) / 2.0)
            .unwrap_or(f64::NAN)
    };
    let o = observed as f64;
    let low = if observed == 0 {
        0.0
    } else {
        chi(2.0 * o, 0.025)
    };
    (low, chi(2.0 * o + 2.0, 0.975))
}

/// An indirectly standardised ratio with its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ratio {
    /// Observed / expected.
    pub ratio: f64,
    /// Lower 95% limit.
    pub low: f64,
    /// Upper 95% limit.
    pub high: f64,
}

/// O/E with exact Poisson limits; `None` when nothing is expected.
pub fn standardised_ratio(observed: u64, expected: f64) -> Option<Ratio> {
    if expected <= 0.0 {
        return None;
    }
    let (lo, hi) = exact_interval(observed);
    Some(Ratio {
        ratio: observed as f64 / expected,
        low: lo / expected,
        high: hi / expected,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: scipy 1.17.1, chi2.ppf(0.025, 2O)/2 and chi2.ppf(0.975, 2O+2)/2.
    #[test]
    fn matches_scipy() {
        for (o, lo, hi) in [
            (0, 0.0, 3.688879454),
            (1, 0.025317808, 5.571643391),
            (5, 1.62348639, 11.668332079),
            (37, 26.051414567, 50.999626142),
        ] {
            let (l, h) = exact_interval(o);
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
