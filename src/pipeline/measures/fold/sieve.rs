//! Which prescribing rows the fold must read whole, decided from three
//! columns (period, practice, BNF code) before the others are decoded:
//! most rows of a month are medicines no measure counts, and all the fold
//! does with such a row is count it as ignored.
//!
//! A row is needed unless dropping it changes nothing the fold reports.
//! Needed are every row the fold sums, rejects or counts for a prescriber
//! that is not a practice, and the first row of each (month, practice) and
//! of each BNF code in the row group: the practice's localities and the
//! code's name come from their first row in the file, and every practice
//! month with prescribing is a unit even if no row of it is summed. Every
//! other row is an unrelated code of a unit already met, counted here as
//! the fold would count it.

use polars::prelude::PlHashSet;

use super::Known;
use crate::classify::codelist::is_bnf_code;
use crate::date::Month;
use crate::ingest::accounting::{IgnoreReason, Tally};
use crate::ingest::batch::{Batch, ValueKey};
use crate::ingest::memo::Memo;
use crate::ingest::prescribing::is_practice_code;

/// The requested columns the sieve reads: period, practice code, BNF code.
pub(super) const SIEVE_COLUMNS: [usize; 3] = [0, 1, 2];

/// The sieve of one row group: what it has met so far.
pub(super) struct Sieve<'k, 'a> {
    known: &'k Known<'a>,
    /// The (month, practice) pairs and codes met in the row group.
    units: PlHashSet<(Month, String)>,
    codes: PlHashSet<String>,
}

impl<'k, 'a> Sieve<'k, 'a> {
    /// A sieve for one row group, knowing the codes the fold knows.
    pub(super) fn new(known: &'k Known<'a>) -> Self {
        Sieve {
            known,
            units: PlHashSet::default(),
            codes: PlHashSet::default(),
        }
    }

    /// For each row of `b` (the sieve's columns read), whether the fold
    /// needs it; rows it does not are counted in `dropped` as the fold
    /// would count them.
    pub(super) fn needed(&mut self, b: &Batch, dropped: &mut Tally) -> Vec<bool> {
        // Value keys are the batch's own: what they remember ends with it.
        // A national month has some 30,000 codes, each practice's rows
        // most of the thousands it prescribes once each, in code order: a
        // batch's practices share codes only if the memo holds thousands.
        let mut codes: Memo<ValueKey, Option<u64>> = Memo::new(14);
        // The last row's (period, practice) keys and whether its unit's
        // other rows may be dropped (a practice month already met).
        let mut last: Option<(ValueKey, ValueKey, bool)> = None;
        let mut needed = Vec::with_capacity(b.len());
        for i in 0..b.len() {
            let keys = (b.value_key(0, i), b.value_key(1, i));
            let unit_met = match last {
                Some((period, practice, met)) if (period, practice) == keys => met,
                _ => {
                    let (droppable, first) = self.unit(b, i);
                    last = Some((keys.0, keys.1, droppable));
                    droppable && !first
                }
            };
            if !unit_met {
                needed.push(true);
                continue;
            }
            let key = b.value_key(2, i);
            let mask = match codes.get(key) {
                Some(mask) => mask,
                None => {
                    let (mask, first) = self.code(b.get(2, i));
                    codes.put(key, mask);
                    if first {
                        needed.push(true);
                        continue;
                    }
                    mask
                }
            };
            let unrelated = mask == Some(0);
            if unrelated {
                dropped.ignored(IgnoreReason::UnrelatedCode);
            }
            needed.push(!unrelated);
        }
        needed
    }

    /// Whether rows of row `i`'s (month, practice) may be dropped (a GP
    /// practice with a readable period), and whether this is the first
    /// row of that unit in the row group.
    fn unit(&mut self, b: &Batch, i: usize) -> (bool, bool) {
        let Some(code) = b.get(1, i) else {
            return (false, false);
        };
        let known = self.known;
        if !is_practice_code(code)
            || (!known.other_settings.is_empty() && known.other_settings.contains(code))
        {
            return (false, false);
        }
        let Some(month) = b.get(0, i).and_then(Month::parse_period) else {
            return (false, false);
        };
        // Met at a run's start only: EPD rows come grouped by practice.
        (true, self.units.insert((month, code.to_string())))
    }

    /// A code's measure mask (`None`: missing or not a BNF code, so the
    /// fold rejects the row), and whether the row group meets it first here.
    fn code(&mut self, bnf: Option<&str>) -> (Option<u64>, bool) {
        let Some(bnf) = bnf.filter(|c| is_bnf_code(c)) else {
            return (None, false);
        };
        // Met once per code and batch: the memo answers its other rows.
        let first = self.codes.insert(bnf.to_string());
        (Some(self.known.code_mask(bnf)), first)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use polars::prelude::*;
    use proptest::prelude::*;

    use super::super::tests::sample;
    use super::super::{FoldSummary, Folder, Hierarchy, Values, COLUMNS};
    use crate::ingest::accounting::Tally;
    use crate::ingest::filtered_parquet::FilteredParquet;
    use crate::ingest::prescribing;

    /// The EPD column of each of the fold's columns.
    const EPD: [&str; 14] = [
        "YEAR_MONTH",
        "PRACTICE_CODE",
        "BNF_CODE",
        "ITEMS",
        "ADQUSAGE",
        "PRACTICE_NAME",
        "PCO_CODE",
        "PCO_NAME",
        "AREA_TEAM_CODE",
        "AREA_TEAM_NAME",
        "REGIONAL_OFFICE_CODE",
        "REGIONAL_OFFICE_NAME",
        "TOTAL_QUANTITY",
        "BNF_DESCRIPTION",
    ];

    /// Writes the sample's rows (its bad ones among them) as EPD Parquet
    /// in row groups of `group_rows`, in `order`, with each row's own
    /// practice name (so a practice's localities tell which of its rows
    /// was read first). Every `moved`th row and every unrelated row of
    /// one practice are dated a month later, so that practice has a
    /// month of unrelated rows only; each practice opens with a row of a
    /// code met before; two rows lose their practice code and BNF code.
    fn epd_parquet(
        dir: &Path,
        group_rows: usize,
        order: &[usize],
        moved: usize,
    ) -> std::path::PathBuf {
        let rows = &sample().0;
        let mut values: Vec<Vec<Option<String>>> =
            order.iter().map(|&i| rows[i].values.clone()).collect();
        assert!(rows[0].values[2]
            .as_deref()
            .is_some_and(|c| c.starts_with("01")));
        let last = rows.last().and_then(|r| r.values[1].clone());
        for (i, row) in values.iter_mut().enumerate() {
            let unrelated = row[2].as_deref().is_some_and(|c| !c.starts_with("04"));
            if i % moved == moved - 1 || (unrelated && row[1] == last) {
                row[0] = Some("201710".into());
            }
            row[5] = Some(format!("{} {i}", row[5].as_deref().unwrap_or("")));
        }
        // Each practice opens with a row of the file's first (unrelated)
        // code, which the row group has met before unless the practice
        // opens it: the sieve must keep such a row for its practice.
        let common = rows[0].values[2].clone();
        let mut met = HashSet::new();
        let mut opened = Vec::with_capacity(values.len() + 8);
        for row in values {
            if row[1].as_ref().is_some_and(|p| met.insert(p.clone())) {
                let mut first = row.clone();
                first[2] = common.clone();
                first[5] = Some(format!("{} first", row[5].as_deref().unwrap_or("")));
                opened.push(first);
            }
            opened.push(row);
        }
        let mut values = opened;
        let n = values.len();
        values[n / 3][1] = None;
        values[n / 2][2] = None;
        let columns: Vec<Column> = EPD
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let column: Vec<Option<&str>> = values.iter().map(|r| r[c].as_deref()).collect();
                Column::new((*name).into(), column)
            })
            .collect();
        let mut df = DataFrame::new_infer_height(columns).unwrap();
        let path = dir.join("epd.parquet");
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(group_rows))
            .finish(&mut df)
            .unwrap();
        path
    }

    fn fold(
        path: &Path,
        others: &HashSet<String>,
        batch_rows: usize,
        pushdown: bool,
    ) -> (Values, FoldSummary, Hierarchy, Tally) {
        let (_, lists, measures) = sample();
        // List sizes for the later month too: its practices are units.
        let dir = path.parent().unwrap();
        let sizes =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/epd/list_size_201709.csv");
        let later = std::fs::read_to_string(sizes)
            .unwrap()
            .replace("01SEP2017", "01OCT2017");
        std::fs::write(dir.join("list_size_201710.csv"), later).unwrap();
        let mut lists = lists.clone();
        lists
            .load(&dir.join("list_size_201710.csv"), &mut Tally::default())
            .unwrap();
        let file = prescribing::open(path).unwrap();
        let mut folder = Folder::new(measures, &lists, others);
        let (tally, _) = folder.read(&file, batch_rows, pushdown).unwrap();
        let (values, summary, hierarchy) = folder.finish();
        (values, summary, hierarchy, tally)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// Reading only the rows the sieve finds needed changes nothing:
        /// the same sums to the bit, the same practices' localities and
        /// codes' names, the same rows' fates with every rejection at its
        /// row, in row groups and batches of any size, in file order or
        /// shuffled, with a practice counted as another setting or not.
        #[test]
        fn the_sieve_changes_nothing(
            group_rows in 200usize..4000,
            batch_rows in 50usize..3000,
            shuffle in any::<bool>(),
            seed in any::<u64>(),
            moved in 2usize..200,
            other in any::<bool>(),
        ) {
            let n = sample().0.len();
            let mut order: Vec<usize> = (0..n).collect();
            if shuffle {
                use rand::{seq::SliceRandom, SeedableRng};
                order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
            }
            let dir = tempfile::tempdir().unwrap();
            let path = epd_parquet(dir.path(), group_rows, &order, moved);
            let file = prescribing::open(&path).unwrap();
            prop_assert!(FilteredParquet::open(&file.source, &COLUMNS).unwrap().is_some());
            let others: HashSet<String> = match other {
                true => sample().0.iter().filter_map(|r| r.values[1].clone()).take(1).collect(),
                false => HashSet::new(),
            };
            let (values, summary, hierarchy, tally) = fold(&path, &others, batch_rows, true);
            let whole = fold(&path, &others, batch_rows, false);
            let bits = |v: &Values| -> Vec<u64> {
                v.units.values().flatten().flat_map(|&(a, b)| [a.to_bits(), b.to_bits()]).collect()
            };
            prop_assert_eq!(bits(&values), bits(&whole.0));
            prop_assert_eq!(values, whole.0);
            prop_assert_eq!(summary, whole.1);
            prop_assert_eq!(hierarchy, whole.2);
            prop_assert_eq!(&tally.account, &whole.3.account);
            prop_assert!(tally.rejections.iter().any(|r| r.column == "practice_code"));
            prop_assert_eq!(tally.rejections, whole.3.rejections);
        }
    }
}
