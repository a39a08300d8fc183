//! Statistical disclosure control for published counts, the OpenSAFELY
//! rule: counts of 7 or less become 0; larger counts are rounded to the
//! nearest 5 (midpoints cannot occur for whole numbers).

/// The count as it may be published.
pub fn round_count(n: u64) -> u64 {
    if n <= 7 {
        0
    } else {
        (n + 2) / 5 * 5
    }
}

#[cfg(test)]
mod tests {
    use super::round_count;

    #[test]
    fn small_counts_are_hidden_and_the_rest_rounded() {
        let got: Vec<u64> = [0, 1, 7, 8, 10, 12, 13, 17, 18, 1234]
            .map(round_count)
            .to_vec();
        assert_eq!(got, [0, 0, 0, 10, 10, 10, 15, 15, 20, 1235]);
    }
}
