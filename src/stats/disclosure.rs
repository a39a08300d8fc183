//! Statistical disclosure control for published counts, the OpenSAFELY
//! rule: a count of 1 to 7 is suppressed (withheld: missing, not zero);
//! 0 and larger counts are published, the larger rounded to the nearest 5
//! (midpoints cannot occur for whole numbers).

/// The count as it may be published; `None` when it is suppressed.
pub(crate) fn round_count(n: u64) -> Option<u64> {
    match n {
        0 => Some(0),
        1..=7 => None,
        _ => Some((n + 2) / 5 * 5),
    }
}

#[cfg(test)]
mod tests {
    use super::round_count;

    #[test]
    fn small_counts_are_withheld_and_the_rest_rounded() {
        let got: Vec<Option<u64>> = [0, 1, 7, 8, 10, 12, 13, 17, 18, 1234]
            .map(round_count)
            .to_vec();
        assert_eq!(
            got,
            [
                Some(0),
                None,
                None,
                Some(10),
                Some(10),
                Some(10),
                Some(15),
                Some(15),
                Some(20),
                Some(1235)
            ]
        );
    }
}
