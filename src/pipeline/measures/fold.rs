//! The pass over prescribing rows: each row is checked, its BNF code
//! classified (each distinct code once, against every measure's filters),
//! and the rows that matter summed per month, practice and presentation,
//! which folds the rows EPD splits by pack size into one.

mod sieve;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use polars::prelude::{PlHashMap, PlHashSet};

use rayon::prelude::*;

use crate::classify::codelist::is_bnf_code;
use crate::date::Month;
use crate::ingest::accounting::{IgnoreReason, RejectReason, Tally};
use crate::ingest::csv_rows::CsvRows;
use crate::ingest::filtered_parquet::FilteredParquet;
use crate::ingest::list_sizes::ListSizes;
use crate::ingest::locality::{Level, Units, UNKNOWN};
use crate::ingest::practices::Practices;
use crate::ingest::prescribing::{is_practice_code, PrescribingFile};
use crate::ingest::source::{BatchRow, FileFormat, RowFields, ScanError, SourceError};
use crate::ingest::table::TableKind;
use crate::spec::format::MeasureValue;
use crate::spec::measures::Denominator;
use crate::spec::Measure;

/// The columns read, in this order.
const COLUMNS: [&str; 14] = [
    "period",
    "practice_code",
    "bnf_code",
    "items",
    "adq",
    "practice_name",
    "sub_icb_code",
    "sub_icb_name",
    "icb_code",
    "icb_name",
    "region_code",
    "region_name",
    "quantity",
    "bnf_name",
];

/// The first columns of [`COLUMNS`], read for every row: the others only
/// for rows that match a measure or start a practice.
const EVERY_ROW: usize = 3;

/// Each measure's `(numerator, denominator)` per month and practice.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Values {
    /// `(month, practice code)` -> one `(numerator, denominator)` per measure.
    pub units: BTreeMap<(Month, String), Vec<(f64, f64)>>,
}

/// Each practice's localities as the prescribing files give them.
pub(crate) type Hierarchy = HashMap<String, Units>;

/// Prescribing by one organisation that is not a GP practice.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outside {
    /// Rows.
    pub rows: u64,
    /// Items on them.
    pub items: f64,
}

/// What the pass saw, for the summary and the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FoldSummary {
    /// Months in the prescribing files.
    pub months: BTreeSet<Month>,
    /// Months read from a layout without ADQ values.
    pub months_without_adq: BTreeSet<Month>,
    /// Rows that matched a measure and were summed.
    pub rows_summed: u64,
    /// Distinct (month, practice, presentation) among them.
    pub presentations: u64,
    /// Summed rows with an empty ADQ value (counted as 0 ADQs).
    pub adq_missing: u64,
    /// Distinct BNF codes read, and how many matched a measure.
    pub bnf_codes: (u64, u64),
    /// Prescribers that are not GP practices, by code (`-` where empty
    /// codes were replaced by a dash in the data).
    pub not_practices: BTreeMap<String, Outside>,
    /// Practices with measure rows but no list size for the month.
    pub without_list_size: BTreeMap<(Month, String), Outside>,
    /// Presentations a measure in defined daily doses could not convert
    /// (no readable strength, or no DDD for the chemical): BNF code ->
    /// (name, quantity left out).
    pub ddd_unknown: BTreeMap<String, (String, f64)>,
}

/// What every part of the pass reads and none changes while parts run:
/// the measures, list sizes, and the codes and practices known so far.
struct Known<'a> {
    measures: &'a [Measure],
    lists: &'a ListSizes,
    other_settings: &'a HashSet<String>,
    /// Whether a measure needs quantities (defined daily doses).
    needs_quantity: bool,
    codes: PlHashMap<String, u32>,
    code_masks: Vec<u64>,
    practices: PlHashMap<String, u32>,
}

impl Known<'_> {
    /// Bit 2k: measure k's numerator; bit 2k+1: its prescribed denominator.
    fn mask(&self, bnf: &str) -> u64 {
        let mut mask = 0u64;
        for (k, m) in self.measures.iter().enumerate() {
            if m.numerator.filter.matches(bnf) {
                mask |= 1 << (2 * k);
            }
            if let Denominator::Prescribed(d) = &m.denominator {
                if d.filter.matches(bnf) {
                    mask |= 1 << (2 * k + 1);
                }
            }
        }
        mask
    }

    /// A code's measure mask: the one found when the fold met it, or
    /// worked out now.
    fn code_mask(&self, bnf: &str) -> u64 {
        match self.codes.get(bnf) {
            Some(&i) => self.code_masks[i as usize],
            None => self.mask(bnf),
        }
    }
}

/// Streams prescribing files into sums. Each file is read in parts (chunks
/// of a CSV file, slices of a Parquet batch) on all cores; the parts are
/// merged in file order, replaying the rows they summed, so every total
/// is added up in the order a single pass would, bit for bit.
pub struct Folder<'a> {
    known: Known<'a>,
    /// Each code and the name the data give it (for strengths).
    code_names: Vec<(String, Option<String>)>,
    practice_codes: Vec<String>,
    sums: PlHashMap<(Month, u32, u32), [f64; 3]>,
    seen: PlHashSet<(Month, u32)>,
    hierarchy: Hierarchy,
    summary: FoldSummary,
}

/// A practice or BNF code as a part names it: its index in the folder when
/// the folder knew it as the part began, else its index among the part's
/// new ones with [`NEW`] set.
type Ref = u32;

/// Marks a [`Ref`] to a code or practice first seen in the part.
const NEW: u32 = 1 << 31;

/// Rows per part of a Parquet batch.
const PART_ROWS: usize = 16_384;

/// What a part did that the folder must replay in order: the sums depend
/// on the order their rows are added in.
enum Event {
    /// A row summed for a practice, month and presentation.
    Sum {
        month: Month,
        practice: Ref,
        code: Ref,
        values: [f64; 3],
    },
    /// A row of a prescriber that is not a practice (index into the part's list).
    Outside { prescriber: u32, items: f64 },
    /// A measure row of a practice without a list size that month.
    NoListSize {
        month: Month,
        practice: Ref,
        items: f64,
    },
}

/// One part's pass over its rows, on its own core.
#[derive(Default)]
struct Part {
    new_codes: PlHashMap<String, Ref>,
    /// Codes new in the part: code, name, measure mask.
    code_list: Vec<(String, Option<String>, u64)>,
    new_practices: PlHashMap<String, Ref>,
    /// Practices new in the part, with their localities from their first row.
    practice_list: Vec<Units>,
    prescribers: PlHashMap<String, u32>,
    prescriber_list: Vec<String>,
    /// Each (month, practice) as first met in a run of rows.
    units: Vec<(Month, Ref)>,
    months: BTreeSet<Month>,
    months_without_adq: BTreeSet<Month>,
    adq_missing: u64,
    events: Vec<Event>,
    /// The last row's (month, practice code, practice, has a list size):
    /// EPD rows come grouped by practice, so most rows reuse it.
    last: Option<(Month, String, Ref, bool)>,
    tally: Tally,
}

impl Part {
    /// The code's [`Ref`] and measure mask; `name` gives its name the first time.
    fn classify<'r>(
        &mut self,
        known: &Known,
        bnf: &str,
        name: impl FnOnce() -> Option<&'r str>,
    ) -> (Ref, u64) {
        if let Some(&i) = known.codes.get(bnf) {
            return (i, known.code_masks[i as usize]);
        }
        if let Some(&r) = self.new_codes.get(bnf) {
            return (r, self.code_list[(r & !NEW) as usize].2);
        }
        let mask = known.mask(bnf);
        let r = NEW | self.code_list.len() as u32;
        self.new_codes.insert(bnf.to_string(), r);
        self.code_list
            .push((bnf.to_string(), name().map(str::to_string), mask));
        (r, mask)
    }

    fn practice(&mut self, known: &Known, code: &str, row: &impl RowFields) -> Ref {
        if let Some(&p) = known.practices.get(code) {
            return p;
        }
        if let Some(&p) = self.new_practices.get(code) {
            return p;
        }
        let p = NEW | self.practice_list.len() as u32;
        self.new_practices.insert(code.to_string(), p);
        let mut units = Units::new(code, row.get(5).unwrap_or(code));
        // Columns 6 to 11: code and name of the sub-ICB, ICB and region.
        for (column, level) in [(6, Level::SubIcb), (8, Level::Icb), (10, Level::Region)] {
            if let Some(c) = row.get(column) {
                units[level] = (c.to_string(), row.get(column + 1).unwrap_or(c).to_string());
            }
        }
        self.practice_list.push(units);
        p
    }

    /// The practice of a row's (month, practice) and whether the practice
    /// has a list size that month; each new pair is noted once per run.
    fn unit(
        &mut self,
        known: &Known,
        month: Month,
        code: &str,
        has_adq: bool,
        row: &impl RowFields,
    ) -> (Ref, bool) {
        if let Some((m, c, p, listed)) = &self.last {
            if *m == month && c == code {
                return (*p, *listed);
            }
        }
        self.months.insert(month);
        if !has_adq {
            self.months_without_adq.insert(month);
        }
        let p = self.practice(known, code, row);
        self.units.push((month, p));
        let listed = known.lists.get(month, code).is_some();
        self.last = Some((month, code.to_string(), p, listed));
        (p, listed)
    }

    fn row(&mut self, known: &Known, r: &impl RowFields, has_adq: bool) {
        let reject = |tally: &mut Tally, column, value: Option<&str>, reason| {
            tally.rejected(TableKind::Prescribing, r.location(), column, value, reason)
        };
        let Some(code) = r.get(1) else {
            reject(
                &mut self.tally,
                "practice_code",
                None,
                RejectReason::MissingValue,
            );
            return;
        };
        let other = !known.other_settings.is_empty() && known.other_settings.contains(code);
        if other || !is_practice_code(code) {
            let items = r.get(3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let prescriber = match self.prescribers.get(code) {
                Some(&o) => o,
                None => {
                    let o = self.prescriber_list.len() as u32;
                    self.prescribers.insert(code.to_string(), o);
                    self.prescriber_list.push(code.to_string());
                    o
                }
            };
            self.events.push(Event::Outside { prescriber, items });
            self.tally.ignored(IgnoreReason::NotAPractice);
            return;
        }
        let Some(raw) = r.get(0) else {
            reject(&mut self.tally, "period", None, RejectReason::MissingValue);
            return;
        };
        let Some(month) = Month::parse_period(raw) else {
            reject(
                &mut self.tally,
                "period",
                Some(raw),
                RejectReason::InvalidDate,
            );
            return;
        };
        let Some(bnf) = r.get(2) else {
            reject(
                &mut self.tally,
                "bnf_code",
                None,
                RejectReason::MissingValue,
            );
            return;
        };
        if !is_bnf_code(bnf) {
            reject(
                &mut self.tally,
                "bnf_code",
                Some(bnf),
                RejectReason::InvalidCode,
            );
            return;
        }
        let (practice, listed) = self.unit(known, month, code, has_adq, r);
        let (c, mask) = self.classify(known, bnf, || r.get(13));
        if mask == 0 {
            self.tally.ignored(IgnoreReason::UnrelatedCode);
            return;
        }
        let tally = &mut self.tally;
        let Some(items) = amount(r.get(3), "items", r, tally) else {
            return;
        };
        let adq = if has_adq {
            match r.get(4) {
                None => {
                    self.adq_missing += 1;
                    0.0
                }
                v => match amount(v, "adq", r, tally) {
                    Some(a) => a,
                    None => return,
                },
            }
        } else {
            0.0
        };
        let quantity = if known.needs_quantity {
            match amount(r.get(12), "quantity", r, tally) {
                Some(q) => q,
                None => return,
            }
        } else {
            0.0
        };
        if !listed {
            self.events.push(Event::NoListSize {
                month,
                practice,
                items,
            });
            self.tally.ignored(IgnoreReason::NoListSize);
            return;
        }
        self.events.push(Event::Sum {
            month,
            practice,
            code: c,
            values: [items, adq, quantity],
        });
        self.tally.used();
    }
}

impl<'a> Folder<'a> {
    /// A pass for these measures, with these list sizes; codes in
    /// `other_settings` (from an ODS file) are not GP practices.
    pub fn new(
        measures: &'a [Measure],
        lists: &'a ListSizes,
        other_settings: &'a HashSet<String>,
    ) -> Self {
        Folder {
            known: Known {
                measures,
                lists,
                other_settings,
                needs_quantity: measures
                    .iter()
                    .any(|m| m.numerator.value == MeasureValue::Ddd),
                codes: PlHashMap::default(),
                code_masks: Vec::new(),
                practices: PlHashMap::default(),
            },
            code_names: Vec::new(),
            practice_codes: Vec::new(),
            sums: PlHashMap::default(),
            seen: PlHashSet::default(),
            hierarchy: HashMap::new(),
            summary: FoldSummary::default(),
        }
    }

    /// Reads one prescribing file; returns its rows' fates, and its
    /// SHA-256 and size when the read took them (a CSV file's single pass).
    /// With `pushdown`, a Parquet file's rows that only count as unrelated
    /// are counted from their codes, without decoding their other columns.
    pub fn read(
        &mut self,
        file: &PrescribingFile,
        batch_rows: usize,
        pushdown: bool,
    ) -> Result<(Tally, Option<(String, u64)>), SourceError> {
        let has_adq = file.layout.has_adq();
        let mut tally = Tally::default();
        if file.source.format == FileFormat::Csv {
            let mut rows = CsvRows::open(&file.source, &COLUMNS, EVERY_ROW)?;
            loop {
                let known = &self.known;
                let parts =
                    rows.next_window(Part::default, |part, r| part.row(known, r, has_adq))?;
                let Some(parts) = parts else { break };
                for (part, structural) in parts {
                    tally.merge(structural);
                    self.merge(part, &mut tally);
                }
            }
            let checksum = rows.finish()?;
            tally.rejections.sort();
            return Ok((tally, Some(checksum)));
        }
        let filtered = match pushdown {
            true => FilteredParquet::open(&file.source, &COLUMNS)?,
            false => None,
        };
        if let Some(parquet) = filtered {
            self.read_filtered(&parquet, batch_rows, has_adq, &mut tally)?;
            tally.rejections.sort();
            return Ok((tally, None));
        }
        let result = file.source.for_each_batch(&COLUMNS, batch_rows, |b| {
            let known = &self.known;
            let parts: Vec<Part> = b
                .chunk_ranges(PART_ROWS)
                .into_par_iter()
                .map(|(lo, hi)| {
                    let mut part = Part::default();
                    for i in lo..hi {
                        part.row(known, &BatchRow(&b, i), has_adq);
                    }
                    part
                })
                .collect();
            for part in parts {
                self.merge(part, &mut tally);
            }
            Ok::<(), std::convert::Infallible>(())
        });
        tally.merge(result.map_err(ScanError::into_source)?);
        tally.rejections.sort();
        Ok((tally, None))
    }

    /// Reads a Parquet file a row group per part, a few row groups at a
    /// time on all cores, decoding every column only for the rows the
    /// [`sieve::Sieve`] finds needed; the parts are merged in file order.
    fn read_filtered(
        &mut self,
        parquet: &FilteredParquet,
        batch_rows: usize,
        has_adq: bool,
        tally: &mut Tally,
    ) -> Result<(), SourceError> {
        let groups = parquet.row_groups();
        // Enough row groups to keep every core busy, few enough that the
        // parts waiting to be merged stay small.
        let window = 2 * rayon::current_num_threads().max(1);
        for start in (0..groups).step_by(window) {
            let known = &self.known;
            let parts: Vec<Result<(Part, Tally), SourceError>> = (start
                ..groups.min(start + window))
                .into_par_iter()
                .map(|group| {
                    let mut sieve = sieve::Sieve::new(known);
                    let mut part = Part::default();
                    let (_, dropped) = parquet.read_group(
                        group,
                        &sieve::SIEVE_COLUMNS,
                        batch_rows,
                        |b, dropped| sieve.needed(b, dropped),
                        |b| {
                            for i in 0..b.len() {
                                part.row(known, &BatchRow(&b, i), has_adq);
                            }
                        },
                    )?;
                    Ok((part, dropped))
                })
                .collect();
            for result in parts {
                let (part, dropped) = result?;
                tally.merge(dropped);
                self.merge(part, tally);
            }
        }
        Ok(())
    }

    /// Takes in a part, in file order: its new codes and practices first,
    /// then its rows' sums in the order it read them.
    fn merge(&mut self, part: Part, tally: &mut Tally) {
        let codes: Vec<u32> = part
            .code_list
            .into_iter()
            .map(|(code, name, mask)| {
                if let Some(&i) = self.known.codes.get(&code) {
                    return i;
                }
                let i = self.known.code_masks.len() as u32;
                self.known.codes.insert(code.clone(), i);
                self.known.code_masks.push(mask);
                self.code_names.push((code, name));
                self.summary.bnf_codes.0 += 1;
                self.summary.bnf_codes.1 += u64::from(mask != 0);
                i
            })
            .collect();
        let practices: Vec<u32> = part
            .practice_list
            .into_iter()
            .map(|units| {
                let code = units[Level::Practice].0.clone();
                if let Some(&p) = self.known.practices.get(&code) {
                    return p;
                }
                let p = self.practice_codes.len() as u32;
                self.known.practices.insert(code.clone(), p);
                self.practice_codes.push(code.clone());
                self.hierarchy.insert(code, units);
                p
            })
            .collect();
        let global = |r: Ref, new: &[u32]| {
            if r & NEW != 0 {
                new[(r & !NEW) as usize]
            } else {
                r
            }
        };
        for (month, p) in part.units {
            self.seen.insert((month, global(p, &practices)));
        }
        self.summary.months.extend(part.months);
        self.summary
            .months_without_adq
            .extend(part.months_without_adq);
        self.summary.adq_missing += part.adq_missing;
        for event in part.events {
            match event {
                Event::Sum {
                    month,
                    practice,
                    code,
                    values,
                } => {
                    let key = (month, global(practice, &practices), global(code, &codes));
                    let s = self.sums.entry(key).or_insert([0.0; 3]);
                    for (s, v) in s.iter_mut().zip(values) {
                        *s += v;
                    }
                    self.summary.rows_summed += 1;
                }
                Event::Outside { prescriber, items } => {
                    let code = &part.prescriber_list[prescriber as usize];
                    match self.summary.not_practices.get_mut(code) {
                        Some(o) => {
                            o.rows += 1;
                            o.items += items;
                        }
                        None => {
                            let o = Outside { rows: 1, items };
                            self.summary.not_practices.insert(code.clone(), o);
                        }
                    }
                }
                Event::NoListSize {
                    month,
                    practice,
                    items,
                } => {
                    let p = global(practice, &practices);
                    let code = self.practice_codes[p as usize].clone();
                    let o = self
                        .summary
                        .without_list_size
                        .entry((month, code))
                        .or_default();
                    o.rows += 1;
                    o.items += items;
                }
            }
        }
        tally.merge(part.tally);
    }

    /// The sums per unit and measure, what the pass saw, and each
    /// practice's localities as the prescribing files give them.
    pub fn finish(mut self) -> (Values, FoldSummary, Hierarchy) {
        let mut values = Values::default();
        for &(month, p) in &self.seen {
            let code = &self.practice_codes[p as usize];
            let Some(list) = self.known.lists.get(month, code) else {
                continue;
            };
            let init = self
                .known
                .measures
                .iter()
                .map(|m| {
                    let den = match &m.denominator {
                        Denominator::ListSize => list.total,
                        Denominator::StarPu(s) => list.weighted(&s.weights).unwrap_or(0.0),
                        Denominator::Prescribed(_) => 0.0,
                    };
                    (0.0, den)
                })
                .collect();
            values.units.insert((month, code.clone()), init);
        }
        // Sum in a fixed order, so the floating-point totals never depend on hashing.
        let mut sums: Vec<((Month, u32, u32), [f64; 3])> = self.sums.drain().collect();
        sums.sort_unstable_by_key(|(k, _)| *k);
        self.summary.presentations = sums.len() as u64;
        for ((month, p, c), [items, adq, quantity]) in sums {
            let mask = self.known.code_masks[c as usize];
            let (code, name) = &self.code_names[c as usize];
            let Some(unit) = values
                .units
                .get_mut(&(month, self.practice_codes[p as usize].clone()))
            else {
                continue;
            };
            let pick = |v: MeasureValue| match v {
                MeasureValue::Items => items,
                MeasureValue::Adq => adq,
                // Only numerators are in DDDs (the spec refuses DDD shares).
                MeasureValue::Ddd => 0.0,
            };
            for (k, m) in self.known.measures.iter().enumerate() {
                if mask & (1 << (2 * k)) != 0 {
                    unit[k].0 += match &m.numerator.ddd {
                        Some(ddd) => match ddd.ddds(code, name.as_deref(), quantity) {
                            Some(v) => v,
                            None => {
                                let e = self
                                    .summary
                                    .ddd_unknown
                                    .entry(code.clone())
                                    .or_insert_with(|| (name.clone().unwrap_or_default(), 0.0));
                                e.1 += quantity;
                                0.0
                            }
                        },
                        None => pick(m.numerator.value),
                    };
                }
                if let Denominator::Prescribed(d) = &m.denominator {
                    if mask & (1 << (2 * k + 1)) != 0 {
                        unit[k].1 += pick(d.value);
                    }
                }
            }
        }
        (values, self.summary, self.hierarchy)
    }
}

/// A non-negative number from an items or ADQ column; rejects the row otherwise.
fn amount(
    raw: Option<&str>,
    column: &'static str,
    r: &impl RowFields,
    tally: &mut Tally,
) -> Option<f64> {
    let reject = |tally: &mut Tally, reason| {
        tally.rejected(TableKind::Prescribing, r.location(), column, raw, reason)
    };
    match raw.map(str::parse::<f64>) {
        Some(Ok(v)) if v.is_finite() && v >= 0.0 => Some(v),
        Some(Ok(v)) if v < 0.0 => {
            reject(tally, RejectReason::NegativeQuantity);
            None
        }
        None => {
            reject(tally, RejectReason::MissingValue);
            None
        }
        _ => {
            reject(tally, RejectReason::InvalidNumber);
            None
        }
    }
}

/// The practices that are units, in code order, each placed by the
/// practices file when one was given (those it lacks go under UNKNOWN),
/// else by the prescribing files' own columns.
pub(crate) fn practices_of(
    values: &Values,
    listed: Option<&Practices>,
    hierarchy: &Hierarchy,
) -> Practices {
    let codes: BTreeSet<&str> = values.units.keys().map(|(_, c)| c.as_str()).collect();
    let mut out = Practices::default();
    for code in codes {
        match listed {
            Some(l) => match l.get(code) {
                Some(i) => {
                    out.insert(l.list[i as usize].units.clone());
                }
                None => {
                    out.index_or_add(code);
                }
            },
            None => {
                let units = hierarchy
                    .get(code)
                    .cloned()
                    .unwrap_or_else(|| Units::new(code, code));
                out.insert(units);
            }
        }
    }
    out
}

/// True when no practice has a known unit at `level` (then the level is not reported).
pub(crate) fn level_unknown(practices: &Practices, level: Level) -> bool {
    practices.list.iter().all(|p| p.units[level].0 == UNKNOWN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::accounting::Location;
    use crate::ingest::prescribing;
    use crate::spec::AuditSpec;
    use proptest::prelude::*;
    use std::path::Path;
    use std::sync::OnceLock;

    /// A prescribing row held as text.
    pub(super) struct Row {
        pub(super) values: Vec<Option<String>>,
        line: u64,
    }

    impl RowFields for Row {
        fn get(&self, col: usize) -> Option<&str> {
            self.values[col].as_deref()
        }

        fn location(&self) -> Location {
            Location::Line(self.line)
        }
    }

    /// The real four-practice sample's rows, with a few bad ones among them.
    pub(super) fn sample() -> &'static (Vec<Row>, ListSizes, Vec<Measure>) {
        static SAMPLE: OnceLock<(Vec<Row>, ListSizes, Vec<Measure>)> = OnceLock::new();
        SAMPLE.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/epd");
            let mut lists = ListSizes::default();
            lists
                .load(&dir.join("list_size_201709.csv"), &mut Tally::default())
                .unwrap();
            let file = prescribing::open(&dir.join("epd_201709_4practices.csv")).unwrap();
            let mut csv = CsvRows::open(&file.source, &COLUMNS, EVERY_ROW).unwrap();
            let mut rows = Vec::new();
            let take = |v: &mut Vec<Row>, r: &crate::ingest::csv_rows::Record| {
                let values = (0..COLUMNS.len()).map(|c| r.get(c).map(str::to_string));
                let Location::Line(line) = r.location() else {
                    unreachable!()
                };
                v.push(Row {
                    values: values.collect(),
                    line,
                });
            };
            while let Some(parts) = csv.next_window(Vec::new, take).unwrap() {
                rows.extend(parts.into_iter().flat_map(|(p, _)| p));
            }
            // Bad rows: a negative item count, a code that is no BNF code,
            // a prescriber that is not a practice, an unreadable period.
            for (k, (col, value)) in [(3, "-1"), (2, "0402-010"), (1, "Y0A123"), (0, "2017-13")]
                .into_iter()
                .enumerate()
            {
                // The negative count on an antipsychotic's row (others are not summed).
                let at = match k {
                    0 => rows
                        .iter()
                        .position(|r| {
                            r.values[2]
                                .as_deref()
                                .is_some_and(|c| c.starts_with("0402"))
                        })
                        .unwrap(),
                    _ => 1000 * k,
                };
                let mut values = rows[at].values.clone();
                values[col] = Some(value.to_string());
                rows.insert(at, Row { values, line: 0 });
            }
            (rows, lists, AuditSpec::bundled().unwrap().measures)
        })
    }

    /// The sample folded in parts cut at `cuts`, merged in order.
    fn fold(cuts: &[usize]) -> (Values, FoldSummary, Tally) {
        let (rows, lists, measures) = sample();
        let others = HashSet::new();
        let mut folder = Folder::new(measures, lists, &others);
        let mut tally = Tally::default();
        let mut start = 0;
        for &end in cuts.iter().chain([&rows.len()]) {
            let mut part = Part::default();
            for r in &rows[start..end] {
                part.row(&folder.known, r, true);
            }
            folder.merge(part, &mut tally);
            start = end;
        }
        let (values, summary, _) = folder.finish();
        (values, summary, tally)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// However the rows are cut into parts, the sums are those of one
        /// pass, bit for bit (ADQs are fractions: their totals depend on
        /// the order they are added in), and so are the rows' fates.
        #[test]
        fn parts_merge_to_one_pass(cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12)) {
            let n = sample().0.len();
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(n + 1)).collect();
            cuts.sort_unstable();
            let (values, summary, tally) = fold(&cuts);
            let (one_values, one_summary, one_tally) = fold(&[]);
            let bits = |v: &Values| -> Vec<u64> {
                v.units.values().flatten().flat_map(|&(a, b)| [a.to_bits(), b.to_bits()]).collect()
            };
            prop_assert_eq!(bits(&values), bits(&one_values));
            prop_assert_eq!(values, one_values);
            prop_assert_eq!(summary, one_summary);
            prop_assert_eq!(tally.account, one_tally.account);
            prop_assert_eq!(tally.rejections, one_tally.rejections);
        }
    }

    #[test]
    fn the_sample_folds_with_its_bad_rows_counted() {
        let (values, summary, tally) = fold(&[]);
        assert_eq!(values.units.len(), 4);
        assert_eq!(tally.account.read, sample().0.len() as u64);
        assert!(tally.account.balances());
        assert_eq!(tally.rejections.len(), 3, "{:?}", tally.rejections);
        assert_eq!(summary.not_practices["Y0A123"].rows, 1);
    }
}
