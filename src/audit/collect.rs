//! The streaming scan of clinical events and medications into the matched
//! history of cohort patients: scan only the needed columns, classify each
//! distinct code once, and fold the matching rows per patient.
//!
//! Each batch is split into chunks that rayon classifies in parallel, a few
//! batches at a time; each chunk keeps only rows that match a concept, fall
//! in the look-back horizon and belong to a cohort patient, and counts
//! every other row with its reason. Chunk results are gathered in any
//! order; the kept items are sorted by (patient, date, ...) and the
//! rejections by their place in the file at the end, so results never
//! depend on thread count, batch size or row order.
//!
//! A Parquet table is read with predicate pushdown instead: row groups in
//! parallel, each first through a prefilter that counts the rows of
//! unrelated codes from their code columns alone, then the rest of the
//! other rows; the counts are the same either way.

use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::dose::{StatedDaily, Thousandths};
use super::facts::{EventItem, MedItem};
use crate::classify::classifier::{ConceptMask, DrugKey, DrugSession, DrugTable, NO_DRUG};
use crate::classify::codelist::{is_bnf_item_code, parse_sctid};
use crate::classify::dose_text::daily_amount;
use crate::date::Date;
use crate::ingest::accounting::{IgnoreReason, RejectReason, Tally};
use crate::ingest::filtered_parquet::FilteredParquet;
use crate::ingest::memo::Memo;
use crate::ingest::population::{id_of, Population};
use crate::ingest::source::{Batch, ScanError, SourceError, TableSource, ValueKey};
use crate::ingest::table::TableKind;

/// The horizon of dates that can matter to any index date of the run.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Horizon {
    /// The latest index date: later rows are ignored.
    pub last: Date,
    /// The latest index date, by which a cohort code must be recorded
    /// (the same as `last` unless every row is checked).
    pub cohort_by: Date,
    /// Medications on or before this date are ignored.
    pub drugs_after: Date,
}

/// Which patients are in the cohort (by dense index).
pub(crate) type Cohort = Vec<bool>;

/// The date of a row (column 1), or `None` after counting the row as
/// rejected. Dates repeat within a chunk; each is parsed once.
fn date_of(
    b: &Batch,
    i: usize,
    fmt: &crate::date::DateFormat,
    table: TableKind,
    t: &mut Tally,
    dates: &mut Memo<ValueKey, Date>,
) -> Option<Date> {
    let key = b.value_key(1, i);
    if let Some(date) = dates.get(key) {
        return Some(date);
    }
    let raw = b.get(1, i);
    match raw.map(|r| b.date_format(1, fmt).parse(r)) {
        Some(Some(date)) => {
            dates.put(key, date);
            Some(date)
        }
        Some(None) => {
            t.rejected(table, b.location(i), "date", raw, RejectReason::InvalidDate);
            None
        }
        None => {
            t.rejected(
                table,
                b.location(i),
                "date",
                None,
                RejectReason::MissingValue,
            );
            None
        }
    }
}

/// What a worker remembers from row to row of one chunk. The last patient
/// looked up: extracts usually list a patient's rows together, so the next
/// row's id is often the same, and the next patient is found by searching
/// forward from the last one found. And the concepts of recent codes.
struct ChunkMemory {
    /// The [`Batch::value_key`] of the last id looked up.
    key: Option<ValueKey>,
    patient: Option<u32>,
    found: Option<u32>,
    /// (dm+d, BNF) value keys -> (drug id, concepts).
    drugs: Memo<(ValueKey, ValueKey), (u32, ConceptMask)>,
    /// SNOMED CT value keys -> concepts.
    events: Memo<ValueKey, ConceptMask>,
    /// Date value keys -> dates.
    dates: Memo<ValueKey, Date>,
}

impl Default for ChunkMemory {
    fn default() -> ChunkMemory {
        ChunkMemory {
            key: None,
            patient: None,
            found: None,
            drugs: Memo::new(12),
            events: Memo::new(12),
            // A chunk's rows span years of dates: room for all of them.
            dates: Memo::new(13),
        }
    }
}

/// The patient of a row (column 0), or `None` after counting the row as rejected.
fn patient_of(
    b: &Batch,
    i: usize,
    pop: &Population,
    table: TableKind,
    t: &mut Tally,
    last: &mut ChunkMemory,
) -> Option<u32> {
    let key = b.value_key(0, i);
    let same = last.key == Some(key) && key != ValueKey::NULL;
    if let (true, Some(p)) = (same, last.patient) {
        return Some(p);
    }
    let id = id_of(b, i, table, t)?;
    let patient = if same {
        last.patient
    } else {
        pop.ids.get_near(id, last.found)
    };
    last.key = Some(key);
    last.patient = patient;
    last.found = patient.or(last.found);
    if patient.is_none() {
        t.rejected(
            table,
            b.location(i),
            "patient_id",
            Some(id),
            RejectReason::UnknownPatient,
        );
    }
    patient
}

/// The code in column `col` parsed by `parse`, or `None` after counting the
/// row as rejected (missing or invalid).
fn code<'a, T>(
    b: &'a Batch,
    i: usize,
    col: usize,
    name: &'static str,
    table: TableKind,
    t: &mut Tally,
    parse: impl Fn(&'a str) -> Option<T>,
) -> Option<Option<T>> {
    let Some(raw) = b.get(col, i) else {
        return Some(None);
    };
    match parse(raw) {
        Some(v) => Some(Some(v)),
        None => {
            t.rejected(
                table,
                b.location(i),
                name,
                Some(raw),
                RejectReason::InvalidCode,
            );
            None
        }
    }
}

/// The concepts of a clinical event row's SNOMED CT code (column 2), or
/// `None` after counting the row as rejected (the code missing or invalid).
fn event_mask(b: &Batch, i: usize, classifier: &DrugSession, t: &mut Tally) -> Option<ConceptMask> {
    let table = TableKind::ClinicalEvents;
    let Some(code) = code(b, i, 2, "snomedct_code", table, t, parse_sctid)? else {
        t.rejected(
            table,
            b.location(i),
            "snomedct_code",
            None,
            RejectReason::MissingValue,
        );
        return None;
    };
    Some(classifier.event(code))
}

/// The drug of a medication row (dm+d in column 2, BNF in column 3) and
/// its concepts, or `None` after counting the row as rejected (a code
/// invalid, or both missing). A dm+d code that no list knows is looked up
/// by the name in column 5 (`drug_name`), when the extract has one, for
/// the classification report.
fn drug_of(
    b: &Batch,
    i: usize,
    classifier: &DrugSession,
    t: &mut Tally,
) -> Option<(u32, ConceptMask)> {
    let table = TableKind::Medications;
    let bnf = code(b, i, 3, "bnf_code", table, t, |s| {
        is_bnf_item_code(s).then_some(s)
    })?;
    // A mangled dm+d code (3.21612E+08 from a spreadsheet) beside a valid
    // BNF code: the row is used through the BNF code, the value cleared.
    let raw_dmd = b.get(2, i);
    let dmd = match (raw_dmd.map(parse_sctid), raw_dmd, bnf) {
        (Some(None), Some(raw), Some(_)) => {
            t.cleared(
                table,
                b.location(i),
                "dmd_code",
                raw,
                RejectReason::InvalidCode,
            );
            None
        }
        _ => code(b, i, 2, "dmd_code", table, t, parse_sctid)?,
    };
    if dmd.is_none() && bnf.is_none() {
        t.rejected(
            table,
            b.location(i),
            "dmd_code",
            None,
            RejectReason::MissingValue,
        );
        return None;
    }
    let found = classifier.drug(DrugKey::new(dmd, bnf));
    if let (NO_DRUG, Some(code), None) = (found.0, dmd, bnf) {
        if let Some(name) = b.get(5, i) {
            return Some((classifier.unlisted(code, name), 0));
        }
    }
    Some(found)
}

impl Horizon {
    /// Why a row with a related code is ignored for its date, if it is:
    /// after the last index date, or (`drug` rows) before the look-back.
    fn outside(&self, date: Date, drug: bool) -> Option<IgnoreReason> {
        if date > self.last {
            Some(IgnoreReason::AfterIndexDate)
        } else if drug && date <= self.drugs_after {
            Some(IgnoreReason::BeforeHorizon)
        } else {
            None
        }
    }
}

/// The patient and date of a row with a related code: its date is checked
/// first, and a row dated outside the window is counted as ignored without
/// looking its patient up; otherwise the patient must be known. `None` once
/// the row is counted (rejected or ignored).
#[allow(clippy::too_many_arguments)]
fn dated_patient(
    b: &Batch,
    i: usize,
    pop: &Population,
    fmt: &crate::date::DateFormat,
    horizon: Horizon,
    drug: bool,
    table: TableKind,
    t: &mut Tally,
    last: &mut ChunkMemory,
) -> Option<(u32, Date)> {
    let date = date_of(b, i, fmt, table, t, &mut last.dates)?;
    if let Some(reason) = horizon.outside(date, drug) {
        t.saw(date);
        t.ignored(reason);
        return None;
    }
    Some((patient_of(b, i, pop, table, t, last)?, date))
}

/// Counts a valid row as ignored or used; returns the item when used.
fn settle<T>(t: &mut Tally, ignore: Option<IgnoreReason>, date: Date, item: T) -> Option<T> {
    t.saw(date);
    match ignore {
        Some(r) => {
            t.ignored(r);
            None
        }
        None => {
            t.used();
            Some(item)
        }
    }
}

/// A batch's place among those being folded: given back when dropped.
struct BatchSlot<'a>(&'a SyncSender<()>);

impl Drop for BatchSlot<'_> {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Rows of a batch folded by one task. Each task starts with an empty
/// [`ChunkMemory`], so long chunks reuse more; parallelism comes from the
/// batches in flight.
const FOLD_CHUNK_ROWS: usize = crate::ingest::DEFAULT_BATCH_ROWS;

/// Batches being folded at once, per worker thread: enough that a worker
/// never waits for the other to finish a batch, few enough to bound memory.
const BATCHES_IN_FLIGHT_PER_THREAD: usize = 2;

/// Streams one table through `row`, which returns the item to keep or
/// counts the row's fate. Each batch's chunks are handed to the workers
/// without waiting for the batch before to finish (a few batches in
/// flight), so neither core idles at the end of a batch. Results are
/// gathered in any order: the items are sorted by their whole value and
/// the rejections by their place in the file afterwards, and counts add.
fn scan<T: Send>(
    source: &TableSource,
    columns: &[&'static str],
    batch_rows: usize,
    tally: &mut Tally,
    prefilter: Option<&Prefilter>,
    row: impl Fn(&Batch, usize, &mut Tally, &mut ChunkMemory) -> Option<T> + Sync,
) -> Result<Vec<T>, SourceError> {
    if let Some(pre) = prefilter {
        if let Some(parquet) = FilteredParquet::open(source, columns)? {
            return scan_filtered(&parquet, pre, batch_rows, tally, row);
        }
    }
    let in_flight = rayon::current_num_threads().max(1) * BATCHES_IN_FLIGHT_PER_THREAD;
    let (free, wait_free) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = free.send(());
    }
    // Each chunk's items and tally are added in as it ends: a tally's
    // per-code counts span every code id, and thousands of chunks held
    // to the end took most of a national run's memory.
    let done: Mutex<(Vec<T>, Tally)> = Mutex::new((Vec::new(), Tally::default()));
    let (row, done_ref, free) = (&row, &done, &free);
    let structural = rayon::in_place_scope(|s| {
        source.for_each_batch(columns, batch_rows, |b| {
            // Wait until fewer than `in_flight` batches are being folded.
            let _ = wait_free.recv();
            // The slot is given back when the batch's last chunk is done
            // with it, even by unwinding: a failed chunk never stalls the scan.
            let b = Arc::new((b, BatchSlot(free)));
            for (lo, hi) in b.0.chunk_ranges(FOLD_CHUNK_ROWS) {
                let b = Arc::clone(&b);
                s.spawn(move |_| {
                    let b = &b.0;
                    let mut t = Tally::default();
                    let mut last = ChunkMemory::default();
                    let kept: Vec<T> = (lo..hi)
                        .filter_map(|i| row(b, i, &mut t, &mut last))
                        .collect();
                    let mut done = done_ref.lock().unwrap_or_else(|e| e.into_inner());
                    done.0.extend(kept);
                    done.1.merge(t);
                });
            }
            Ok::<(), std::convert::Infallible>(())
        })
    })
    .map_err(ScanError::into_source)?;
    let (items, chunks) = done.into_inner().unwrap_or_else(|e| e.into_inner());
    tally.merge(chunks);
    tally.merge(structural);
    Ok(items)
}

/// What a scan can decide from a few columns alone: for each row of a
/// batch that carries only `columns` (indices into the scan's columns),
/// whether the rest of the row is needed. `needed` answers the batch and
/// counts each row it answers false for exactly as the scan's row
/// function would have counted it; it never rejects a row (a row whose
/// fate needs its place in the file is needed).
struct Prefilter<'a> {
    columns: &'a [usize],
    needed: &'a (dyn Fn(&Batch, &mut Tally) -> Vec<bool> + Sync),
}

/// [`scan`] of a Parquet file whose rows a [`Prefilter`] thins: row groups
/// are read in parallel, each decoding the other columns of the rows the
/// prefilter needs and folding them with `row`. A row group the filter
/// kept most of is read whole and folded by `row` alone (the read
/// returns no prefilter counts for it), so every row is counted once.
fn scan_filtered<T: Send>(
    parquet: &FilteredParquet,
    pre: &Prefilter,
    batch_rows: usize,
    tally: &mut Tally,
    row: impl Fn(&Batch, usize, &mut Tally, &mut ChunkMemory) -> Option<T> + Sync,
) -> Result<Vec<T>, SourceError> {
    let done: Mutex<(Vec<T>, Tally)> = Mutex::new((Vec::new(), Tally::default()));
    (0..parquet.row_groups())
        .into_par_iter()
        .try_for_each(|group| {
            let mut t = Tally::default();
            let mut kept = Vec::new();
            let (_, dropped) =
                parquet.read_group(group, pre.columns, batch_rows, pre.needed, |b| {
                    // Value keys are the batch's own: a memory per batch.
                    let mut last = ChunkMemory::default();
                    kept.extend((0..b.len()).filter_map(|i| row(&b, i, &mut t, &mut last)));
                })?;
            let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
            done.0.extend(kept);
            done.1.merge(t);
            done.1.merge(dropped);
            Ok::<(), SourceError>(())
        })?;
    let (items, counted) = done.into_inner().unwrap_or_else(|e| e.into_inner());
    tally.merge(counted);
    Ok(items)
}

/// Scans clinical events in one pass: the cohort (every patient with a
/// code of `cohort_events` recorded by the last index date) and the
/// matched events of cohort patients, sorted. Matched events of other
/// patients are counted as ignored once the pass has found the cohort.
pub(crate) fn collect_events(
    source: &TableSource,
    pop: &Population,
    classifier: &DrugSession,
    cohort_events: ConceptMask,
    horizon: Horizon,
    (batch_rows, pushdown): (usize, bool),
    tally: &mut Tally,
) -> Result<(Vec<EventItem>, Cohort), SourceError> {
    let table = TableKind::ClinicalEvents;
    let fmt = source.mapping.date_format.clone();
    let needed = |b: &Batch, t: &mut Tally| {
        let mut memo: Memo<ValueKey, bool> = Memo::new(12);
        (0..b.len())
            .map(|i| {
                let unrelated = memo
                    .get_or_try(b.value_key(2, i), || {
                        let mut scratch = Tally::default();
                        let mask = event_mask(b, i, classifier, &mut scratch);
                        Some(mask == Some(0) && scratch.rejections.is_empty())
                    })
                    .unwrap_or(false);
                if unrelated {
                    t.ignored(IgnoreReason::UnrelatedCode);
                }
                !unrelated
            })
            .collect()
    };
    let prefilter = Prefilter {
        columns: &[2],
        needed: &needed,
    };
    let mut items = scan(
        source,
        &["patient_id", "date", "snomedct_code"],
        batch_rows,
        tally,
        pushdown.then_some(&prefilter),
        |b, i, t, last| {
            // The code first: a row with an unrelated code is ignored
            // without further checks (most rows, on a national extract).
            let mask = last
                .events
                .get_or_try(b.value_key(2, i), || event_mask(b, i, classifier, t))?;
            if mask == 0 {
                t.ignored(IgnoreReason::UnrelatedCode);
                return None;
            }
            let (patient, date) = dated_patient(b, i, pop, &fmt, horizon, false, table, t, last)?;
            t.saw(date);
            Some(EventItem {
                patient,
                date,
                mask,
            })
        },
    )?;
    let mut cohort = vec![false; pop.len()];
    for e in &items {
        if e.mask & cohort_events != 0 && e.date <= horizon.cohort_by {
            cohort[e.patient as usize] = true;
        }
    }
    let matched = items.len() as u64;
    items.retain(|e| cohort[e.patient as usize]);
    tally.used_rows(items.len() as u64);
    tally.ignored_rows(IgnoreReason::OutsideCohort, matched - items.len() as u64);
    items.par_sort_unstable();
    Ok((items, cohort))
}

/// Scans medications: the matched issues of cohort patients, sorted, with
/// the table of distinct drugs they refer to (in canonical order) and the
/// rows of each drug (any patient, any date).
#[allow(clippy::too_many_arguments)]
pub(crate) fn collect_medications(
    source: &TableSource,
    pop: &Population,
    classifier: &DrugSession,
    cohort: &Cohort,
    horizon: Horizon,
    (batch_rows, pushdown): (usize, bool),
    tally: &mut Tally,
) -> Result<(Vec<MedItem>, DrugTable, Vec<u64>), SourceError> {
    let table = TableKind::Medications;
    let fmt = source.mapping.date_format.clone();
    // Rows of unrelated medicines (most of a real extract) are counted
    // from their codes (and name) alone; their other columns are not read.
    let needed = |b: &Batch, t: &mut Tally| {
        let mut memo: Memo<(ValueKey, ValueKey), (u32, bool)> = Memo::new(12);
        (0..b.len())
            .map(|i| {
                let codes = (b.value_key(2, i), b.value_key(3, i));
                let (drug, unrelated) = memo
                    .get_or_try(codes, || {
                        let mut scratch = Tally::default();
                        Some(match drug_of(b, i, classifier, &mut scratch) {
                            Some((drug, 0)) if scratch.rejections.is_empty() => (drug, true),
                            _ => (NO_DRUG, false),
                        })
                    })
                    .unwrap_or((NO_DRUG, false));
                if unrelated {
                    if drug != NO_DRUG {
                        t.code_row(drug);
                    }
                    t.ignored(IgnoreReason::UnrelatedCode);
                }
                !unrelated
            })
            .collect()
    };
    let prefilter = Prefilter {
        columns: &[2, 3, 5],
        needed: &needed,
    };
    let mut items = scan(
        source,
        &[
            "patient_id",
            "date",
            "dmd_code",
            "bnf_code",
            "quantity",
            "drug_name",
            "dose_text",
        ],
        batch_rows,
        tally,
        pushdown.then_some(&prefilter),
        |b, i, t, last| {
            // Rows repeating a recent code pair reuse its drug unparsed.
            let codes = (b.value_key(2, i), b.value_key(3, i));
            let (drug, mask) = last
                .drugs
                .get_or_try(codes, || drug_of(b, i, classifier, t))?;
            if drug != NO_DRUG {
                t.code_row(drug);
            }
            if mask == 0 {
                t.ignored(IgnoreReason::UnrelatedCode);
                return None;
            }
            let (patient, date) = dated_patient(b, i, pop, &fmt, horizon, true, table, t, last)?;
            // A negative quantity is a reversed or cancelled issue, not an
            // issue. One that starts with a digit is not (most rows).
            let maybe_negative = b.first_byte(4, i).is_some_and(|c| !c.is_ascii_digit());
            if let Some(q) = maybe_negative
                .then(|| b.get(4, i))
                .flatten()
                .filter(|q| q.starts_with('-') && q.parse::<f64>().is_ok_and(|v| v < 0.0))
            {
                t.rejected(
                    table,
                    b.location(i),
                    "quantity",
                    Some(q),
                    RejectReason::NegativeQuantity,
                );
                return None;
            }
            let ignore = (!cohort[patient as usize]).then_some(IgnoreReason::OutsideCohort);
            settle(
                t,
                ignore,
                date,
                MedItem {
                    patient,
                    date,
                    drug,
                    quantity: Thousandths::quantity(b.get(4, i)),
                    stated: StatedDaily::new(b.get(6, i).and_then(daily_amount)),
                },
            )
        },
    )?;
    let (drugs, remap) = classifier.take_drugs();
    items
        .par_iter_mut()
        .for_each(|m| m.drug = remap[m.drug as usize]);
    items.par_sort_unstable();
    let mut rows = vec![0u64; drugs.drugs.len()];
    for (old, n) in std::mem::take(&mut tally.code_rows).into_iter().enumerate() {
        if let Some(&new) = remap.get(old) {
            rows[new as usize] += n;
        }
    }
    Ok((items, drugs, rows))
}
