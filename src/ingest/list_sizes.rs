//! Registered patients per practice by sex and age band: NHS Digital's
//! "Patients Registered at a GP Practice" (`gp-reg-pat-prac-quin-age`),
//! the denominators of practice-level measures.
//!
//! Columns (matched trimmed, case-insensitively): `EXTRACT_DATE`
//! (`01SEP2017`), `ORG_TYPE` (`GP`; other organisations are ignored),
//! `ORG_CODE`, `SEX` (`ALL`, `MALE`, `FEMALE`), `AGE_GROUP_5` (`ALL`,
//! `0_4`, ..., `90_94`, `95+`) and `NUMBER_OF_PATIENTS`. The list size of a
//! month is the extract published on its first day.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use polars::prelude::PlHashMap;

use super::accounting::{IgnoreReason, RejectReason, Tally};
use super::mapping::TableMapping;
use super::source::{ScanError, SourceError, TableSource};
use super::table::TableKind;
use crate::date::Month;

/// One practice's registered patients in one month.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PracticeList {
    /// All patients (the `ALL`/`ALL` row, else the sum of the bands).
    pub total: f64,
    /// `[male, female]` patients per STAR-PU age band (0-4, 5-14, 15-24, ..., 75+).
    pub bands: [[f64; 2]; 9],
    /// True when sex-by-age rows were given (a STAR-PU can be formed).
    pub has_bands: bool,
    has_total: bool,
    /// The (sex, lower age) rows read so far, in any file: a second such
    /// row is a duplicate (a file given twice would otherwise double the
    /// bands). One bit per pair of the published bands ([`Given`]).
    given: Given,
}

/// A set of (sex, lower age) pairs: the published ones (all ages, or a
/// band starting at a multiple of 5 below 100; three sexes) one bit
/// each, any other in a list.
#[derive(Clone, Debug, Default, PartialEq)]
struct Given {
    bits: u64,
    others: Vec<(u8, Option<u32>)>,
}

impl Given {
    /// Adds a pair; false when it was there already.
    fn insert(&mut self, sex: u8, low: Option<u32>) -> bool {
        let slot = match low {
            None => Some(0),
            Some(l) if l < 100 && l % 5 == 0 => Some(1 + l / 5),
            Some(_) => None,
        };
        match slot {
            Some(slot) => {
                let bit = 1u64 << (u32::from(sex) * 21 + slot);
                let new = self.bits & bit == 0;
                self.bits |= bit;
                new
            }
            None if self.others.contains(&(sex, low)) => false,
            None => {
                self.others.push((sex, low));
                true
            }
        }
    }
}

impl PracticeList {
    /// Σ weight × patients over bands and sexes; `None` without band rows.
    pub(crate) fn weighted(&self, weights: &[[f64; 2]; 9]) -> Option<f64> {
        self.has_bands.then(|| {
            self.bands
                .iter()
                .zip(weights)
                .map(|(n, w)| n[0] * w[0] + n[1] * w[1])
                .sum()
        })
    }
}

/// List sizes by practice code and month.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListSizes {
    lists: PlHashMap<String, BTreeMap<Month, PracticeList>>,
}

impl ListSizes {
    /// A practice's list in a month (looked up without allocating).
    pub fn get(&self, month: Month, practice: &str) -> Option<&PracticeList> {
        self.lists.get(practice)?.get(&month)
    }

    /// The months with any list size, in order.
    pub fn months(&self) -> Vec<Month> {
        let months: BTreeSet<Month> = self
            .lists
            .values()
            .flat_map(|m| m.keys().copied())
            .collect();
        months.into_iter().collect()
    }

    /// Reads one list-size file into these list sizes.
    pub fn load(&mut self, path: &Path, tally: &mut Tally) -> Result<(), SourceError> {
        const COLUMNS: [(&str, &str); 6] = [
            ("extract_date", "EXTRACT_DATE"),
            ("org_type", "ORG_TYPE"),
            ("org_code", "ORG_CODE"),
            ("sex", "SEX"),
            ("age_group", "AGE_GROUP_5"),
            ("patients", "NUMBER_OF_PATIENTS"),
        ];
        let mut source = TableSource::file(TableKind::ListSizes, path, TableMapping::default());
        let names = source.column_names()?;
        let mut mapping = TableMapping::default();
        for (canonical, published) in COLUMNS {
            if let Some(n) = names
                .iter()
                .find(|n| n.trim().eq_ignore_ascii_case(published))
            {
                mapping.rename.insert(canonical.to_string(), n.clone());
            }
        }
        // The same source keeps the CSV structure it scanned.
        source.mapping = mapping;
        let cols: Vec<&'static str> = COLUMNS.iter().map(|c| c.0).collect();
        let result = source.for_each_batch(&cols, super::DEFAULT_BATCH_ROWS, |b| {
            for i in 0..b.len() {
                let reject = |tally: &mut Tally, column, value: Option<&str>, reason| {
                    tally.rejected(TableKind::ListSizes, b.location(i), column, value, reason)
                };
                if b.get(1, i).is_some_and(|t| !t.eq_ignore_ascii_case("GP")) {
                    tally.ignored(IgnoreReason::NotAPractice);
                    continue;
                }
                let Some(raw) = b.get(0, i) else {
                    reject(tally, "extract_date", None, RejectReason::MissingValue);
                    continue;
                };
                let Some(month) = Month::parse_extract_date(raw) else {
                    reject(tally, "extract_date", Some(raw), RejectReason::InvalidDate);
                    continue;
                };
                let Some(code) = b.get(2, i) else {
                    reject(tally, "org_code", None, RejectReason::MissingValue);
                    continue;
                };
                let is = |v: &str, name: &str| v.eq_ignore_ascii_case(name);
                let sex = match b.get(3, i) {
                    Some(v) if is(v, "ALL") => 2u8,
                    Some(v) if is(v, "MALE") => 0,
                    Some(v) if is(v, "FEMALE") => 1,
                    other => {
                        let reason = if other.is_some() {
                            RejectReason::InvalidCode
                        } else {
                            RejectReason::MissingValue
                        };
                        reject(tally, "sex", b.get(3, i), reason);
                        continue;
                    }
                };
                let Some(age) = b.get(4, i) else {
                    reject(tally, "age_group", None, RejectReason::MissingValue);
                    continue;
                };
                // The band's lower age; `None` for all ages.
                let low = if age.eq_ignore_ascii_case("ALL") {
                    None
                } else {
                    match band_low(age) {
                        Some(low) => Some(low),
                        None => {
                            reject(tally, "age_group", Some(age), RejectReason::InvalidCode);
                            continue;
                        }
                    }
                };
                let band = low.map(star_pu_band);
                let patients = match b.get(5, i).map(|v| v.parse::<f64>()) {
                    Some(Ok(n)) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 => n,
                    _ => {
                        reject(tally, "patients", b.get(5, i), RejectReason::InvalidNumber);
                        continue;
                    }
                };
                // Rows come grouped by practice: most find it without a new key.
                let months = match self.lists.get_mut(code) {
                    Some(months) => months,
                    None => self.lists.entry(code.to_string()).or_default(),
                };
                let list = months.entry(month).or_default();
                if !list.given.insert(sex, low) {
                    reject(
                        tally,
                        "org_code",
                        Some(code),
                        RejectReason::DuplicateListSize,
                    );
                    continue;
                }
                match (sex, band) {
                    (2, None) => {
                        list.total = patients;
                        list.has_total = true;
                    }
                    (s @ 0..=1, Some(k)) => {
                        list.bands[k][s as usize] += patients;
                        list.has_bands = true;
                    }
                    // Sex totals over all ages, or all sexes by age: not needed.
                    _ => {}
                }
                tally.used();
            }
            Ok::<(), std::convert::Infallible>(())
        });
        tally.merge(result.map_err(ScanError::into_source)?);
        for list in self.lists.values_mut().flat_map(|m| m.values_mut()) {
            if !list.has_total {
                list.total = list.bands.iter().map(|b| b[0] + b[1]).sum();
            }
        }
        Ok(())
    }
}

/// The lower age of a 5-year band such as `15_19`, or of an open band such as `95+`.
fn band_low(age: &str) -> Option<u32> {
    match age.strip_suffix('+') {
        Some(low) => low.parse().ok(),
        None => {
            let (lo, hi) = age.split_once('_')?;
            let (lo, hi): (u32, u32) = (lo.parse().ok()?, hi.parse().ok()?);
            (hi == lo + 4 && lo % 5 == 0).then_some(lo)
        }
    }
}

/// The STAR-PU band (0-4, 5-14, 15-24, ..., 75+) of a band's lower age.
fn star_pu_band(low: u32) -> usize {
    match low {
        0..=4 => 0,
        5..=14 => 1,
        15..=74 => 2 + (low as usize - 15) / 10,
        _ => 8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_year_bands_fold_into_star_pu_bands() {
        let cases = [
            ("0_4", 0),
            ("5_9", 1),
            ("10_14", 1),
            ("15_19", 2),
            ("20_24", 2),
            ("25_29", 3),
            ("65_69", 7),
            ("70_74", 7),
            ("75_79", 8),
            ("95+", 8),
        ];
        for (age, band) in cases {
            assert_eq!(band_low(age).map(star_pu_band), Some(band), "{age}");
        }
        for bad in ["5_10", "ALL", "x", "3_7"] {
            assert_eq!(band_low(bad), None, "{bad}");
        }
    }

    /// A second row of the same practice, month, sex and age band is
    /// rejected as a duplicate with its line, in the same file or in
    /// another (a file given twice must not double the bands).
    #[test]
    fn a_repeated_row_is_a_duplicate_in_any_file() {
        let dir = tempfile::tempdir().unwrap();
        let head = "EXTRACT_DATE,ORG_TYPE,ORG_CODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\n";
        let first = dir.path().join("a.csv");
        std::fs::write(
            &first,
            format!(
                "{head}01MAR2024,GP,A1,ALL,ALL,100\n01MAR2024,GP,A1,male,15_19,10\n\
                 01MAR2024,GP,A1,MALE,15_19,11\n01MAR2024,GP,A1,FEMALE,15_19,12\n\
                 01MAR2024,GP,A1,MALE,100+,1\n01MAR2024,GP,A1,MALE,100+,1\n\
                 01MAR2024,GP,B2,ALL,ALL,50\n01APR2024,GP,A1,ALL,ALL,101\n"
            ),
        )
        .unwrap();
        let second = dir.path().join("b.csv");
        std::fs::write(
            &second,
            format!("{head}01MAR2024,GP,A1,MALE,15_19,10\n01MAR2024,GP,C3,MALE,15_19,5\n"),
        )
        .unwrap();
        let mut lists = ListSizes::default();
        let mut tally = Tally::default();
        lists.load(&first, &mut tally).unwrap();
        let lines: Vec<String> = tally
            .rejections
            .iter()
            .map(|r| format!("{} {} {}", r.location, r.value, r.reason.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                "line 4 A1 duplicate_list_size",
                "line 7 A1 duplicate_list_size"
            ]
        );
        assert_eq!(tally.account.used, 6);
        let mut again = Tally::default();
        lists.load(&second, &mut again).unwrap();
        assert_eq!(again.rejections.len(), 1);
        assert_eq!(again.rejections[0].location.to_string(), "line 2");
        assert_eq!(again.account.used, 1);
        let march = Month::parse_extract_date("01MAR2024").unwrap();
        let a1 = lists.get(march, "A1").unwrap();
        // 15-19 is the 15-24 STAR-PU band: the first row's 10 only.
        assert_eq!(a1.bands[2], [10.0, 12.0]);
        assert_eq!(a1.total, 100.0);
        assert_eq!(lists.get(march, "C3").unwrap().bands[2], [5.0, 0.0]);
    }

    #[test]
    fn given_pairs_are_told_apart() {
        let mut g = Given::default();
        let pairs = [
            (0, None),
            (1, None),
            (2, None),
            (0, Some(0)),
            (1, Some(95)),
            (2, Some(95)),
            (0, Some(100)),
            (0, Some(7)),
            (1, Some(7)),
        ];
        for &(sex, low) in &pairs {
            assert!(g.insert(sex, low), "{sex} {low:?}");
        }
        for &(sex, low) in &pairs {
            assert!(!g.insert(sex, low), "{sex} {low:?}");
        }
        assert_eq!(g.others.len(), 3);
    }

    #[test]
    fn a_weighted_list_needs_bands() {
        let mut l = PracticeList::default();
        let w = [[1.0, 2.0]; 9];
        assert_eq!(l.weighted(&w), None);
        l.bands[0] = [10.0, 5.0];
        l.has_bands = true;
        assert_eq!(l.weighted(&w), Some(20.0));
    }
}
