//! Over-dispersion of unit z-scores, for funnel limits that separate real
//! outliers from between-unit noise.
//!
//! Spiegelhalter D. J. (2005) "Handling over-dispersion of performance
//! indicators", Quality and Safety in Health Care 14:347–351, as the R
//! package FunnelPlotR implements it:
//!
//! 1. z-scores on a variance-stabilising scale with weights w_i = 1/s_i²:
//!    for a proportion the arcsine scale, z_i = (asin √y_i − asin √θ) · 2√n_i
//!    and w_i = 4n_i; for a rate per population the square-root scale,
//!    z_i = (√y_i − √θ) · 2√n_i and again w_i = 4n_i;
//! 2. Winsorise at the 10th and 90th percentiles (linear interpolation):
//!    values beyond them are set to them;
//! 3. multiplicative factor φ = Σ z_w² / k;
//! 4. additive (random-effects) variance, DerSimonian–Laird:
//!    τ² = max(0, (kφ − (k − 1)) / (Σ w_i − Σ w_i² / Σ w_i)).

use super::funnel::arcsine_z;
use super::percentile::quantile;
use super::poisson::sqrt_z;

/// φ and τ² for a set of units.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dispersion {
    /// Multiplicative over-dispersion factor.
    pub phi: f64,
    /// Additive between-unit variance on the unit scale (arcsine or square root).
    pub tau2: f64,
}

/// Estimates φ and τ² from units' `(numerator, denominator)` around `target`;
/// units with a zero denominator are skipped. `None` with fewer than 2 units.
pub fn dispersion(units: &[(u64, u64)], target: f64) -> Option<Dispersion> {
    let used: Vec<(u64, u64)> = units.iter().copied().filter(|(_, d)| *d > 0).collect();
    let k = used.len();
    if k < 2 {
        return None;
    }
    let z: Vec<f64> = used
        .iter()
        .map(|&(x, n)| arcsine_z(x as f64 / n as f64, target, n))
        .collect();
    let w: Vec<f64> = used.iter().map(|&(_, n)| 4.0 * n as f64).collect();
    of_scores(&z, &w)
}

/// φ and τ² for rates per population `(numerator, population)` around
/// `target`, on the square-root scale; units with no population are skipped.
pub(crate) fn rate_dispersion(units: &[(f64, f64)], target: f64) -> Option<Dispersion> {
    let used: Vec<(f64, f64)> = units.iter().copied().filter(|(_, n)| *n > 0.0).collect();
    let z: Vec<f64> = used
        .iter()
        .map(|&(x, n)| sqrt_z(x / n, target, n))
        .collect();
    let w: Vec<f64> = used.iter().map(|&(_, n)| 4.0 * n).collect();
    of_scores(&z, &w)
}

/// φ and τ² from z-scores and their weights (steps 2–4).
fn of_scores(z: &[f64], w: &[f64]) -> Option<Dispersion> {
    let k = z.len();
    if k < 2 {
        return None;
    }
    let mut sorted = z.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (lo, hi) = (quantile(&sorted, 0.1)?, quantile(&sorted, 0.9)?);
    let phi = z.iter().map(|v| v.clamp(lo, hi).powi(2)).sum::<f64>() / k as f64;
    let sw: f64 = w.iter().sum();
    let sw2: f64 = w.iter().map(|v| v * v).sum();
    let tau2 = ((k as f64 * phi - (k as f64 - 1.0)) / (sw - sw2 / sw)).max(0.0);
    Some(Dispersion { phi, tau2 })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: a numpy transcription of the steps above
    // (tests/fixtures/README.md), on twelve made-up units.
    #[test]
    fn matches_the_reference_computation() {
        let num = [5, 12, 30, 2, 18, 9, 25, 40, 3, 14, 7, 22];
        let den = [40, 60, 150, 30, 80, 70, 100, 180, 45, 90, 50, 95];
        let units: Vec<(u64, u64)> = num.iter().zip(den).map(|(&a, b)| (a, b)).collect();
        let target = 187.0 / 990.0;
        assert!((target - 0.18888888888888888f64).abs() < 1e-15);
        let d = dispersion(&units, target).unwrap();
        assert!((d.phi - 1.415165799723839).abs() < 1e-12, "{d:?}");
        assert!((d.tau2 - 0.0016898275696853294).abs() < 1e-12, "{d:?}");
        let adj = super::super::funnel::arcsine_limit(target, 100, 0.999, d.tau2).unwrap();
        assert!((adj - 0.3659002165860556).abs() < 1e-9, "{adj}");
    }

    // Reference: the same numpy transcription with sqrt(y) − sqrt(θ) in place
    // of the arcsine difference, on the same twelve units read as rates.
    const RATE_PHI: f64 = 1.1944533566796947;
    const RATE_TAU2: f64 = 0.0009416497966543319;

    #[test]
    fn rates_use_the_square_root_scale() {
        let num = [
            5.0, 12.0, 30.0, 2.0, 18.0, 9.0, 25.0, 40.0, 3.0, 14.0, 7.0, 22.0,
        ];
        let den = [
            40.0, 60.0, 150.0, 30.0, 80.0, 70.0, 100.0, 180.0, 45.0, 90.0, 50.0, 95.0,
        ];
        let units: Vec<(f64, f64)> = num.iter().zip(den).map(|(&a, b)| (a, b)).collect();
        let d = rate_dispersion(&units, 187.0 / 990.0).unwrap();
        assert!((d.phi - RATE_PHI).abs() < 1e-12, "{d:?}");
        assert!((d.tau2 - RATE_TAU2).abs() < 1e-12, "{d:?}");
    }

    #[test]
    fn too_few_units() {
        assert_eq!(dispersion(&[(1, 10), (0, 0)], 0.1), None);
    }
}
