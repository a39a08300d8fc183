//! The pass over prescribing rows: each row is checked, its BNF code
//! classified (each distinct code once, against every measure's filters),
//! and the rows that matter summed per month, practice and presentation,
//! which folds the rows EPD splits by pack size into one.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::classify::codelist::is_bnf_code;
use crate::date::Month;
use crate::ingest::accounting::{IgnoreReason, RejectReason, Tally};
use crate::ingest::list_sizes::ListSizes;
use crate::ingest::locality::{Level, Units, UNKNOWN};
use crate::ingest::practices::Practices;
use crate::ingest::prescribing::{is_practice_code, PrescribingFile};
use crate::ingest::source::{Batch, ScanError, SourceError};
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

/// Streams prescribing files into sums.
pub struct Folder<'a> {
    measures: &'a [Measure],
    lists: &'a ListSizes,
    other_settings: &'a HashSet<String>,
    codes: HashMap<String, u32>,
    code_masks: Vec<u64>,
    /// Each code and the name the data give it (for strengths).
    code_names: Vec<(String, Option<String>)>,
    /// Whether a measure needs quantities (defined daily doses).
    needs_quantity: bool,
    practices: HashMap<String, u32>,
    practice_codes: Vec<String>,
    sums: HashMap<(Month, u32, u32), [f64; 3]>,
    seen: HashSet<(Month, u32)>,
    /// The last row's (month, practice code, practice index, has a list
    /// size): EPD rows come grouped by practice, so most rows reuse it.
    last: Option<(Month, String, u32, bool)>,
    hierarchy: Hierarchy,
    summary: FoldSummary,
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
            measures,
            lists,
            other_settings,
            codes: HashMap::new(),
            code_masks: Vec::new(),
            code_names: Vec::new(),
            needs_quantity: measures
                .iter()
                .any(|m| m.numerator.value == MeasureValue::Ddd),
            practices: HashMap::new(),
            practice_codes: Vec::new(),
            sums: HashMap::new(),
            seen: HashSet::new(),
            last: None,
            hierarchy: HashMap::new(),
            summary: FoldSummary::default(),
        }
    }

    /// Bit 2k: measure k's numerator; bit 2k+1: its prescribed denominator.
    fn classify(&mut self, bnf: &str, name: Option<&str>) -> (u32, u64) {
        if let Some(&i) = self.codes.get(bnf) {
            return (i, self.code_masks[i as usize]);
        }
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
        let i = self.code_masks.len() as u32;
        self.codes.insert(bnf.to_string(), i);
        self.code_masks.push(mask);
        self.code_names
            .push((bnf.to_string(), name.map(str::to_string)));
        self.summary.bnf_codes.0 += 1;
        self.summary.bnf_codes.1 += u64::from(mask != 0);
        (i, mask)
    }

    fn practice(&mut self, code: &str, b: &Batch, i: usize) -> u32 {
        if let Some(&p) = self.practices.get(code) {
            return p;
        }
        let p = self.practice_codes.len() as u32;
        self.practices.insert(code.to_string(), p);
        self.practice_codes.push(code.to_string());
        let mut units = Units::new(code, b.get(5, i).unwrap_or(code));
        // Columns 6 to 11: code and name of the sub-ICB, ICB and region.
        for (column, level) in [(6, Level::SubIcb), (8, Level::Icb), (10, Level::Region)] {
            if let Some(c) = b.get(column, i) {
                units[level] = (c.to_string(), b.get(column + 1, i).unwrap_or(c).to_string());
            }
        }
        self.hierarchy.insert(code.to_string(), units);
        p
    }

    /// The practice index of a row's (month, practice) and whether the
    /// practice has a list size that month; each new pair is noted once.
    fn unit(
        &mut self,
        month: Month,
        code: &str,
        has_adq: bool,
        b: &Batch,
        i: usize,
    ) -> (u32, bool) {
        if let Some((m, c, p, listed)) = &self.last {
            if *m == month && c == code {
                return (*p, *listed);
            }
        }
        self.summary.months.insert(month);
        if !has_adq {
            self.summary.months_without_adq.insert(month);
        }
        let p = self.practice(code, b, i);
        self.seen.insert((month, p));
        let listed = self.lists.get(month, code).is_some();
        self.last = Some((month, code.to_string(), p, listed));
        (p, listed)
    }

    /// Reads one prescribing file; returns its rows' fates.
    pub fn read(
        &mut self,
        file: &PrescribingFile,
        batch_rows: usize,
    ) -> Result<Tally, SourceError> {
        let has_adq = file.layout.has_adq();
        self.last = None;
        let mut tally = Tally::default();
        let result = file.source.for_each_batch(&COLUMNS, batch_rows, |b| {
            for i in 0..b.len() {
                self.row(&b, i, has_adq, &mut tally);
            }
            Ok::<(), std::convert::Infallible>(())
        });
        tally.merge(result.map_err(ScanError::into_source)?);
        tally.rejections.sort();
        Ok(tally)
    }

    fn row(&mut self, b: &Batch, i: usize, has_adq: bool, tally: &mut Tally) {
        let reject = |tally: &mut Tally, column, value: Option<&str>, reason| {
            tally.rejected(TableKind::Prescribing, b.location(i), column, value, reason)
        };
        let Some(code) = b.get(1, i) else {
            reject(tally, "practice_code", None, RejectReason::MissingValue);
            return;
        };
        if !is_practice_code(code) || self.other_settings.contains(code) {
            let items = b
                .get(3, i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0);
            // Allocate the code only the first time it is seen.
            match self.summary.not_practices.get_mut(code) {
                Some(o) => {
                    o.rows += 1;
                    o.items += items;
                }
                None => {
                    let o = Outside { rows: 1, items };
                    self.summary.not_practices.insert(code.to_string(), o);
                }
            }
            tally.ignored(IgnoreReason::NotAPractice);
            return;
        }
        let Some(raw) = b.get(0, i) else {
            reject(tally, "period", None, RejectReason::MissingValue);
            return;
        };
        let Some(month) = Month::parse_period(raw) else {
            reject(tally, "period", Some(raw), RejectReason::InvalidDate);
            return;
        };
        let Some(bnf) = b.get(2, i) else {
            reject(tally, "bnf_code", None, RejectReason::MissingValue);
            return;
        };
        if !is_bnf_code(bnf) {
            reject(tally, "bnf_code", Some(bnf), RejectReason::InvalidCode);
            return;
        }
        let (p, listed) = self.unit(month, code, has_adq, b, i);
        let (c, mask) = self.classify(bnf, b.get(13, i));
        if mask == 0 {
            tally.ignored(IgnoreReason::UnrelatedCode);
            return;
        }
        let Some(items) = amount(b.get(3, i), "items", b, i, tally) else {
            return;
        };
        let adq = if has_adq {
            match b.get(4, i) {
                None => {
                    self.summary.adq_missing += 1;
                    0.0
                }
                v => match amount(v, "adq", b, i, tally) {
                    Some(a) => a,
                    None => return,
                },
            }
        } else {
            0.0
        };
        let quantity = if self.needs_quantity {
            match amount(b.get(12, i), "quantity", b, i, tally) {
                Some(q) => q,
                None => return,
            }
        } else {
            0.0
        };
        if !listed {
            let o = self
                .summary
                .without_list_size
                .entry((month, code.to_string()))
                .or_default();
            o.rows += 1;
            o.items += items;
            tally.ignored(IgnoreReason::NoListSize);
            return;
        }
        let s = self.sums.entry((month, p, c)).or_insert([0.0; 3]);
        s[0] += items;
        s[1] += adq;
        s[2] += quantity;
        self.summary.rows_summed += 1;
        tally.used();
    }

    /// The sums per unit and measure, what the pass saw, and each
    /// practice's localities as the prescribing files give them.
    pub fn finish(mut self) -> (Values, FoldSummary, Hierarchy) {
        let mut values = Values::default();
        for &(month, p) in &self.seen {
            let code = &self.practice_codes[p as usize];
            let Some(list) = self.lists.get(month, code) else {
                continue;
            };
            let init = self
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
            let mask = self.code_masks[c as usize];
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
            for (k, m) in self.measures.iter().enumerate() {
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
    b: &Batch,
    i: usize,
    tally: &mut Tally,
) -> Option<f64> {
    let reject = |tally: &mut Tally, reason| {
        tally.rejected(TableKind::Prescribing, b.location(i), column, raw, reason)
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
