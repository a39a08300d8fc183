//! The streaming scan of clinical events and medications into the matched
//! history of cohort patients (DESIGN.md section 7, steps 2-4).
//!
//! Each batch is split into chunks that rayon classifies in parallel; each
//! chunk keeps only rows that match a concept, fall in the look-back
//! horizon and belong to a cohort patient, and counts every other row with
//! its reason. Chunk results are merged in file order; the kept items are
//! sorted by (patient, date, ...) at the end, so results never depend on
//! thread count, batch size or row order.

use rayon::prelude::*;

use super::facts::{EventItem, MedItem};
use crate::classify::classifier::{Classifier, DrugKey, DrugTable};
use crate::classify::codelist::{is_bnf_code, parse_sctid};
use crate::date::Date;
use crate::ingest::accounting::{IgnoreReason, RejectReason, Tally};
use crate::ingest::population::Population;
use crate::ingest::source::{Batch, ScanError, SourceError, TableSource};
use crate::ingest::table::TableKind;

const CHUNK_ROWS: usize = 16_384;

/// The horizon of dates that can matter to any index date of the run.
#[derive(Clone, Copy, Debug)]
pub struct Horizon {
    /// The latest index date: later rows are ignored.
    pub last: Date,
    /// Medications on or before this date are ignored.
    pub drugs_after: Date,
}

/// Which patients are in the cohort (by dense index).
pub type Cohort = Vec<bool>;

/// Marks every patient with a cohort code recorded by the last index date.
/// Bad rows are skipped here and counted by [`collect_events`].
pub fn find_cohort(
    source: &TableSource,
    pop: &Population,
    classifier: &Classifier,
    cohort_events: u64,
    last: Date,
    batch_rows: usize,
) -> Result<Cohort, SourceError> {
    let mut cohort = vec![false; pop.len()];
    let fmt = &source.mapping.date_format;
    source
        .for_each_batch(&["patient_id", "date", "snomedct_code"], batch_rows, |b| {
            let hits: Vec<u32> = chunks(b.len())
                .into_par_iter()
                .flat_map_iter(|(lo, hi)| {
                    let b = &b;
                    (lo..hi).filter_map(move |i| {
                        let code = parse_sctid(b.get(2, i)?)?;
                        if classifier.event(code) & cohort_events == 0 {
                            return None;
                        }
                        let date = b.date_format(1, fmt).parse(b.get(1, i)?)?;
                        (date <= last).then_some(())?;
                        pop.index_of(b.get(0, i)?)
                    })
                })
                .collect();
            for p in hits {
                cohort[p as usize] = true;
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .map_err(ScanError::into_source)?;
    Ok(cohort)
}

fn chunks(len: usize) -> Vec<(usize, usize)> {
    (0..len)
        .step_by(CHUNK_ROWS)
        .map(|lo| (lo, (lo + CHUNK_ROWS).min(len)))
        .collect()
}

/// The patient of a row, or the reason it is rejected.
fn patient_of(
    b: &Batch,
    i: usize,
    pop: &Population,
) -> Result<u32, (Option<String>, RejectReason)> {
    let id = b.get(0, i).ok_or((None, RejectReason::EmptyPatientId))?;
    pop.index_of(id)
        .ok_or_else(|| (Some(id.to_string()), RejectReason::UnknownPatient))
}

/// Parses the date in column 1, or says why it is rejected.
fn date_of(b: &Batch, i: usize, fmt: &crate::date::DateFormat) -> Result<Date, RejectReason> {
    let raw = b.get(1, i).ok_or(RejectReason::MissingValue)?;
    b.date_format(1, fmt)
        .parse(raw)
        .ok_or(RejectReason::InvalidDate)
}

/// Streams one table through `row`, which returns the item to keep or
/// counts the row's fate; chunk results are merged in file order.
fn scan<T: Send>(
    source: &TableSource,
    columns: &[&'static str],
    batch_rows: usize,
    tally: &mut Tally,
    row: impl Fn(&Batch, usize, &mut Tally) -> Option<T> + Sync,
) -> Result<Vec<T>, SourceError> {
    let mut items = Vec::new();
    source
        .for_each_batch(columns, batch_rows, |b| {
            let parts: Vec<(Vec<T>, Tally)> = chunks(b.len())
                .into_par_iter()
                .map(|(lo, hi)| {
                    let mut t = Tally::default();
                    let kept = (lo..hi).filter_map(|i| row(&b, i, &mut t)).collect();
                    (kept, t)
                })
                .collect();
            for (kept, t) in parts {
                items.extend(kept);
                tally.merge(t);
            }
            Ok::<(), std::convert::Infallible>(())
        })
        .map_err(ScanError::into_source)?;
    Ok(items)
}

/// Scans clinical events: the matched events of cohort patients, sorted.
pub fn collect_events(
    source: &TableSource,
    pop: &Population,
    classifier: &Classifier,
    cohort: &Cohort,
    horizon: Horizon,
    batch_rows: usize,
    tally: &mut Tally,
) -> Result<Vec<EventItem>, SourceError> {
    let table = TableKind::ClinicalEvents;
    let fmt = source.mapping.date_format.clone();
    let mut items = scan(
        source,
        &["patient_id", "date", "snomedct_code"],
        batch_rows,
        tally,
        |b, i, t| {
            let loc = b.location(i);
            let patient = match patient_of(b, i, pop) {
                Ok(p) => p,
                Err((v, r)) => return reject(t, table, b, i, "patient_id", v, r),
            };
            let date = match date_of(b, i, &fmt) {
                Ok(d) => d,
                Err(r) => {
                    return reject(t, table, b, i, "date", b.get(1, i).map(str::to_string), r)
                }
            };
            let Some(raw) = b.get(2, i) else {
                t.rejected(
                    table,
                    loc,
                    "snomedct_code",
                    None,
                    RejectReason::MissingValue,
                );
                return None;
            };
            let Some(code) = parse_sctid(raw) else {
                t.rejected(
                    table,
                    loc,
                    "snomedct_code",
                    Some(raw),
                    RejectReason::InvalidCode,
                );
                return None;
            };
            let mask = classifier.event(code);
            let fate = if mask == 0 {
                Some(IgnoreReason::UnrelatedCode)
            } else if date > horizon.last {
                Some(IgnoreReason::AfterIndexDate)
            } else if !cohort[patient as usize] {
                Some(IgnoreReason::OutsideCohort)
            } else {
                None
            };
            match fate {
                Some(r) => {
                    t.ignored(r);
                    None
                }
                None => {
                    t.used();
                    Some(EventItem {
                        patient,
                        date,
                        mask,
                    })
                }
            }
        },
    )?;
    items.par_sort_unstable();
    Ok(items)
}

fn reject<T>(
    t: &mut Tally,
    table: TableKind,
    b: &Batch,
    i: usize,
    column: &'static str,
    value: Option<String>,
    reason: RejectReason,
) -> Option<T> {
    t.rejected(table, b.location(i), column, value.as_deref(), reason);
    None
}

/// Scans medications: the matched issues of cohort patients, sorted, with
/// the table of distinct drugs they refer to (in canonical order).
#[allow(clippy::too_many_arguments)]
pub fn collect_medications(
    source: &TableSource,
    pop: &Population,
    classifier: &Classifier,
    cohort: &Cohort,
    horizon: Horizon,
    batch_rows: usize,
    tally: &mut Tally,
) -> Result<(Vec<MedItem>, DrugTable), SourceError> {
    let table = TableKind::Medications;
    let fmt = source.mapping.date_format.clone();
    let mut items = scan(
        source,
        &["patient_id", "date", "dmd_code", "bnf_code"],
        batch_rows,
        tally,
        |b, i, t| {
            let loc = b.location(i);
            let patient = match patient_of(b, i, pop) {
                Ok(p) => p,
                Err((v, r)) => return reject(t, table, b, i, "patient_id", v, r),
            };
            let date = match date_of(b, i, &fmt) {
                Ok(d) => d,
                Err(r) => {
                    return reject(t, table, b, i, "date", b.get(1, i).map(str::to_string), r)
                }
            };
            let (dmd_raw, bnf_raw) = (b.get(2, i), b.get(3, i));
            if dmd_raw.is_none() && bnf_raw.is_none() {
                t.rejected(table, loc, "dmd_code", None, RejectReason::MissingValue);
                return None;
            }
            let dmd = match dmd_raw.map(|s| (s, parse_sctid(s))) {
                Some((s, None)) => {
                    t.rejected(table, loc, "dmd_code", Some(s), RejectReason::InvalidCode);
                    return None;
                }
                Some((_, id)) => id,
                None => None,
            };
            if let Some(s) = bnf_raw.filter(|s| !is_bnf_code(s)) {
                t.rejected(table, loc, "bnf_code", Some(s), RejectReason::InvalidCode);
                return None;
            }
            let (drug, mask) = classifier.drug(DrugKey::new(dmd, bnf_raw));
            let fate = if mask == 0 {
                Some(IgnoreReason::UnrelatedCode)
            } else if date > horizon.last {
                Some(IgnoreReason::AfterIndexDate)
            } else if date <= horizon.drugs_after {
                Some(IgnoreReason::BeforeHorizon)
            } else if !cohort[patient as usize] {
                Some(IgnoreReason::OutsideCohort)
            } else {
                None
            };
            match fate {
                Some(r) => {
                    t.ignored(r);
                    None
                }
                None => {
                    t.used();
                    Some(MedItem {
                        patient,
                        date,
                        drug,
                    })
                }
            }
        },
    )?;
    let (drugs, remap) = classifier.take_drugs();
    items
        .par_iter_mut()
        .for_each(|m| m.drug = remap[m.drug as usize]);
    items.par_sort_unstable();
    Ok((items, drugs))
}
