//! Many changes tested at once: each difference's p-value from the pooled
//! two-proportion score test, and the Benjamini–Hochberg false discovery
//! rate over all of them.
//!
//! A quarterly run tests hundreds of unit-indicator pairs, so at 95% about
//! one in twenty "significant" changes is there by chance alone.
//!
//! - Score test: z = (p1 − p2) / √(p̄(1 − p̄)(1/n1 + 1/n2)), p̄ the pooled
//!   proportion; p = 2(1 − Φ(|z|)) (Pearson's χ² without continuity
//!   correction). `None` where p̄ is 0 or 1 (no variation to test).
//! - Benjamini Y., Hochberg Y. (1995) "Controlling the false discovery
//!   rate", JRSS B 57:289–300: with the m p-values in ascending order,
//!   q(i) = min over k ≥ i of m · p(k) / k, capped at 1; a change is
//!   significant at FDR 5% when q < 0.05.

use statrs::distribution::{ContinuousCDF, Normal};

/// The two-sided p-value of `x1/n1` against `x2/n2`.
pub(crate) fn two_proportion_p(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<f64> {
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (x1 + x2) as f64 / (n1f + n2f);
    let var = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    if var <= 0.0 {
        return None;
    }
    let z = (x1 as f64 / n1f - x2 as f64 / n2f) / var.sqrt();
    Some(2.0 * Normal::standard().sf(z.abs()))
}

/// Benjamini–Hochberg adjusted p-values (q-values), in the input's order;
/// missing p-values stay missing and do not count among the m tests.
pub(crate) fn benjamini_hochberg(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut order: Vec<(usize, f64)> = p
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let m = order.len() as f64;
    let mut q = vec![None; p.len()];
    let mut running = 1.0f64;
    for (rank, &(i, v)) in order.iter().enumerate().rev() {
        running = running.min(v * m / (rank + 1) as f64).min(1.0);
        q[i] = Some(running);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: statsmodels 0.15.0, proportions_ztest([x1, x2], [n1, n2]).
    #[test]
    fn score_test_matches_statsmodels() {
        for (x1, n1, x2, n2, want) in [
            (15, 26, 8, 28, 0.030592629056511642),
            (30, 100, 20, 100, 0.10247043485974941),
            (0, 10, 5, 12, 0.020227453708576967),
        ] {
            let p = two_proportion_p(x1, n1, x2, n2).unwrap();
            assert!((p - want).abs() < 1e-10, "{p} {want}");
        }
        assert_eq!(two_proportion_p(3, 3, 3, 3), None);
        assert_eq!(two_proportion_p(1, 0, 1, 2), None);
    }

    // Reference: statsmodels 0.15.0, multipletests(p, method="fdr_bh").
    #[test]
    fn benjamini_hochberg_matches_statsmodels() {
        let p = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.0001, 0.049];
        let want = [
            0.02666666666666667,
            0.064,
            0.06,
            0.02,
            0.2285714285714286,
            0.5,
            0.0008,
            0.06533333333333334,
        ];
        let mut input: Vec<Option<f64>> = p.iter().map(|&v| Some(v)).collect();
        input.insert(3, None);
        let q = benjamini_hochberg(&input);
        assert_eq!(q[3], None);
        let got: Vec<f64> = q.iter().flatten().copied().collect();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{g} {w}");
        }
    }
}
