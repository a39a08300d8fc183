//! The difference of two proportions with Newcombe's hybrid score interval.
//!
//! Newcombe R. G. (1998) "Interval estimation for the difference between
//! independent proportions: comparison of eleven methods", Statistics in
//! Medicine 17:873–890, method 10. With p1 ± its Wilson limits (l1, u1) and
//! p2 ± (l2, u2), δ = p1 − p2:
//! L = δ − √((p1 − l1)² + (u2 − p2)²), U = δ + √((u1 − p1)² + (p2 − l2)²).

use super::wilson::{wilson, Z95};

/// A difference with its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// p1 − p2.
    pub diff: f64,
    /// Lower limit.
    pub low: f64,
    /// Upper limit.
    pub high: f64,
}

impl Difference {
    /// True when the interval excludes zero.
    pub fn significant(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// The difference `x1/n1 − x2/n2`; `None` if either denominator is 0.
pub fn difference(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<Difference> {
    let a = wilson(x1, n1, Z95)?;
    let b = wilson(x2, n2, Z95)?;
    let diff = a.rate - b.rate;
    Some(Difference {
        diff,
        low: diff - ((a.rate - a.low).powi(2) + (b.high - b.rate).powi(2)).sqrt(),
        high: diff + ((a.high - a.rate).powi(2) + (b.rate - b.low).powi(2)).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: statsmodels 0.15.0,
    // confint_proportions_2indep(30, 100, 20, 100, method="newcomb", compare="diff").
    #[test]
    fn matches_statsmodels() {
        let d = difference(30, 100, 20, 100).unwrap();
        assert!((d.diff - 0.1).abs() < 1e-12);
        assert!((d.low - -0.020249362153013428).abs() < 1e-9, "{d:?}");
        assert!((d.high - 0.21673435401778593).abs() < 1e-9, "{d:?}");
        assert!(!d.significant());
        assert!(difference(60, 100, 20, 100).unwrap().significant());
        assert_eq!(difference(1, 0, 1, 1), None);
    }
}
