//! Wilson score interval for a proportion, the method NHS Digital uses for
//! indicator rates.
//!
//! Wilson, E. B. (1927) "Probable inference, the law of succession, and
//! statistical inference", JASA 22:209-212. With p = x/n and z the normal
//! quantile (1.959964 for 95%):
//!
//! ```text
//! centre    = (p + z²/2n) / (1 + z²/n)
//! halfwidth = z/(1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)
//! ```

/// The two-sided 95% normal quantile, Φ⁻¹(0.975).
pub(crate) const Z95: f64 = 1.959_963_984_540_054;

/// A rate with its interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Interval {
    /// x / n.
    pub rate: f64,
    /// Lower limit.
    pub low: f64,
    /// Upper limit.
    pub high: f64,
}

/// The Wilson score interval of `x` events in `n` at quantile `z`; `None` when `n` is 0.
pub(crate) fn wilson(x: u64, n: u64, z: f64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(Interval {
        rate: p,
        low: (centre - half).max(0.0),
        high: (centre + half).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-7
    }

    // Reference values: statsmodels.stats.proportion.proportion_confint(x, n,
    // alpha=0.05, method="wilson"), statsmodels 0.15.0.
    #[test]
    fn matches_statsmodels() {
        let i = wilson(15, 100, Z95).unwrap();
        assert!(close(i.low, 0.0930599), "{i:?}");
        assert!(close(i.high, 0.2328356), "{i:?}");
        let i = wilson(1, 10, Z95).unwrap();
        assert!(close(i.low, 0.0178762), "{i:?}");
        assert!(close(i.high, 0.4041500), "{i:?}");
    }

    #[test]
    fn edges() {
        let zero = wilson(0, 20, Z95).unwrap();
        assert_eq!(zero.low, 0.0);
        assert!(close(zero.high, 0.1611252), "{zero:?}");
        let all = wilson(20, 20, Z95).unwrap();
        assert_eq!(all.high, 1.0);
        assert!(close(all.low, 0.8388748), "{all:?}");
        assert_eq!(wilson(0, 0, Z95), None);
    }
}
