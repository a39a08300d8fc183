//! Registered patients per practice by sex and age band: NHS Digital's
//! "Patients Registered at a GP Practice" (`gp-reg-pat-prac-quin-age`),
//! the denominators of practice-level measures.
//!
//! Columns (matched trimmed, case-insensitively): `EXTRACT_DATE`
//! (`01SEP2017`), `ORG_TYPE` (`GP`; other organisations are ignored),
//! `ORG_CODE`, `SEX` (`ALL`, `MALE`, `FEMALE`), `AGE_GROUP_5` (`ALL`,
//! `0_4`, ..., `90_94`, `95+`) and `NUMBER_OF_PATIENTS`. The list size of a
//! month is the extract published on its first day.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

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
    lists: HashMap<String, BTreeMap<Month, PracticeList>>,
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
        let mut seen: HashSet<(Month, String, u8, Option<u32>)> = HashSet::new();
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
                let sex = match b.get(3, i).map(str::to_ascii_uppercase).as_deref() {
                    Some("ALL") => 2u8,
                    Some("MALE") => 0,
                    Some("FEMALE") => 1,
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
                if !seen.insert((month, code.to_string(), sex, low)) {
                    reject(
                        tally,
                        "org_code",
                        Some(code),
                        RejectReason::DuplicateListSize,
                    );
                    continue;
                }
                let list = self
                    .lists
                    .entry(code.to_string())
                    .or_default()
                    .entry(month)
                    .or_default();
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
