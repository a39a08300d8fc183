//! Percentile ranks and deciles, as OpenPrescribing computes them.
//!
//! - Percentile rank: PERCENT_RANK = (rank − 1) / (n − 1), where rank is 1 +
//!   the number of units with a strictly lower value (ties take the lowest
//!   rank) and n counts units with a value (units with a zero denominator
//!   are excluded). One unit alone ranks 0.
//! - Quantiles by linear interpolation between order statistics (Hyndman &
//!   Fan 1996, definition 7; numpy's and R's default): with the n sorted
//!   values x and h = (n − 1)p, Q(p) = x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]).

/// The percentile rank of each value among those present.
pub(crate) fn percent_rank(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut sorted: Vec<f64> = values.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    values
        .iter()
        .map(|v| {
            v.map(|x| {
                if n <= 1 {
                    return 0.0;
                }
                let below = sorted.partition_point(|y| y.total_cmp(&x).is_lt());
                below as f64 / (n - 1) as f64
            })
        })
        .collect()
}

/// The p-quantile (0 ≤ p ≤ 1) of sorted values by linear interpolation.
pub(crate) fn quantile(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// The 10th, 20th, ..., 90th percentiles of the values present.
pub fn deciles(values: &[Option<f64>]) -> Option<[f64; 9]> {
    let mut sorted: Vec<f64> = values.iter().flatten().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let mut out = [0.0; 9];
    for (i, d) in out.iter_mut().enumerate() {
        *d = quantile(&sorted, (i + 1) as f64 / 10.0)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_take_the_lowest_rank_and_missing_values_are_skipped() {
        let r = percent_rank(&[Some(0.2), None, Some(0.1), Some(0.2), Some(0.5)]);
        assert_eq!(
            r,
            vec![Some(1.0 / 3.0), None, Some(0.0), Some(1.0 / 3.0), Some(1.0)]
        );
        assert_eq!(percent_rank(&[Some(0.3)]), vec![Some(0.0)]);
    }

    // Reference: numpy 2.4.6, np.percentile(x, [10, 20, ..., 90]) (linear).
    #[test]
    fn deciles_match_numpy() {
        let x = [0.1, 0.4, 0.2, 0.35, 0.05, 0.3, 0.25].map(Some);
        let want = [0.08, 0.12, 0.18, 0.22, 0.25, 0.28, 0.31, 0.34, 0.37];
        let got = deciles(&x).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert_eq!(deciles(&[None]), None);
    }
}
