//! A Parquet table read a row group at a time, decoding every column only
//! for the rows a filter keeps (predicate pushdown).
//!
//! Most rows of a real extract's medications are unrelated medicines: the
//! audit needs their codes (to count them) and nothing else. polars 0.55
//! decodes every column of every row before it filters, so this scan uses
//! arrow-rs: first the filter's columns of a row group, then the other
//! columns of the kept rows only, each with its file row so a rejection
//! still names its place. It stands in for the polars scan only where it
//! reads exactly the same text ([`FilteredParquet::open`]).

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arrow_array::{Array as _, BooleanArray, Date32Array, RecordBatch, StringViewArray};
use arrow_schema::{DataType as ArrowType, Field, Schema as ArrowSchema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelectionPolicy,
};
use parquet::arrow::ProjectionMask;
use parquet::basic::Compression;

use super::accounting::Tally;
use super::batch::{Batch, RowPlaces, TextColumn};
use super::source::{FileFormat, SourceError, TableSource};

/// A Parquet file open for filtered scans of some of its columns.
pub(crate) struct FilteredParquet {
    path: PathBuf,
    /// The file's metadata, its text columns read as string views.
    metadata: ArrowReaderMetadata,
    /// Per requested column: its top-level column in the file, if it has it.
    roots: Vec<Option<usize>>,
    /// Per requested column: stored as dates (read as ISO text).
    native_dates: Vec<bool>,
    /// The file row (0-based) of each row group's first row.
    first_rows: Vec<u64>,
    /// Rows the filter has answered so far, and how many it kept: once
    /// it keeps most, later row groups are read whole without asking it.
    answered: AtomicU64,
    kept: AtomicU64,
}

/// How a row group was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupRead {
    /// Only the rows the filter kept reached the consumer.
    Filtered,
    /// Every row was read and reached the consumer (the filter kept most
    /// rows of this group or of those before): whatever the filter
    /// counted for the group must be discarded.
    Whole,
}

/// Above this share of kept rows a row group is read whole: decoding many
/// short runs of selected rows costs more than decoding every row.
const MOST_ROWS_KEPT: f64 = 0.5;

impl FilteredParquet {
    /// Opens `source` for filtered scans of `columns` (canonical names), or
    /// `None` when this reader would not read exactly what the polars scan
    /// reads: a CSV file, a requested column stored as anything but text
    /// or dates (polars casts it), or a compression this build does not
    /// decode.
    pub(crate) fn open(
        source: &TableSource,
        columns: &[&'static str],
    ) -> Result<Option<FilteredParquet>, SourceError> {
        if source.format != FileFormat::Parquet {
            return Ok(None);
        }
        // The same refusals as every scan: a required column missing.
        source.check_columns()?;
        let unreadable = |e: &dyn std::fmt::Display| unreadable(&source.path, e);
        let file = File::open(&source.path).map_err(|e| unreadable(&e))?;
        let plain = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
        let found = ArrowReaderMetadata::load(&file, plain.clone()).map_err(|e| unreadable(&e))?;
        let schema = found.schema();
        let mut roots = Vec::with_capacity(columns.len());
        let mut native_dates = Vec::with_capacity(columns.len());
        for &name in columns {
            let root = schema.index_of(source.mapping.source_name(name)).ok();
            let kind = root.map(|r| schema.field(r).data_type());
            match kind {
                None | Some(ArrowType::Utf8 | ArrowType::LargeUtf8 | ArrowType::Utf8View) => {
                    native_dates.push(false)
                }
                Some(ArrowType::Date32) => native_dates.push(true),
                Some(_) => return Ok(None),
            }
            roots.push(root);
        }
        let decodable = found.metadata().row_groups().iter().all(|g| {
            g.columns().iter().all(|c| {
                matches!(
                    c.compression(),
                    Compression::UNCOMPRESSED
                        | Compression::SNAPPY
                        | Compression::ZSTD(_)
                        | Compression::LZ4
                        | Compression::LZ4_RAW
                        | Compression::GZIP(_)
                )
            })
        });
        if !decodable {
            return Ok(None);
        }
        // Text is read as string views, the layout the row passes key on.
        let views = ArrowSchema::new(
            schema
                .fields()
                .iter()
                .map(|f| match f.data_type() {
                    ArrowType::Utf8 | ArrowType::LargeUtf8 => {
                        Arc::new(Field::new(f.name(), ArrowType::Utf8View, f.is_nullable()))
                    }
                    _ => f.clone(),
                })
                .collect::<Vec<_>>(),
        );
        let metadata = ArrowReaderMetadata::try_new(
            found.metadata().clone(),
            plain.with_schema(Arc::new(views)),
        )
        .map_err(|e| unreadable(&e))?;
        let mut first_rows = Vec::new();
        let mut next = 0u64;
        for g in metadata.metadata().row_groups() {
            first_rows.push(next);
            next += g.num_rows().max(0) as u64;
        }
        Ok(Some(FilteredParquet {
            path: source.path.clone(),
            metadata,
            roots,
            native_dates,
            first_rows,
            answered: AtomicU64::new(0),
            kept: AtomicU64::new(0),
        }))
    }

    /// The number of row groups: the units [`FilteredParquet::read_group`]
    /// reads, independently of one another.
    pub(crate) fn row_groups(&self) -> usize {
        self.first_rows.len()
    }

    /// Reads row group `group`: first the `filter` columns (indices into
    /// the requested columns) of every row, in batches of about
    /// `batch_rows`, each of which `keep` answers row by row (true: the
    /// row is needed), counting the rows it drops in the tally it is
    /// given; then every requested column of the kept rows, in batches
    /// handed to `each` with each row's file row. A column the batch does
    /// not carry reads as null. Once the filter has kept most of the rows
    /// it answered (a file of mostly related rows), groups are read whole
    /// without it: the results are the same, and the filter's columns are
    /// not decoded twice. Returns how the group was read and the filter's
    /// counts of the rows `each` did not get: none when it got them all.
    pub(crate) fn read_group(
        &self,
        group: usize,
        filter: &[usize],
        batch_rows: usize,
        mut keep: impl FnMut(&Batch, &mut Tally) -> Vec<bool>,
        mut each: impl FnMut(Batch),
    ) -> Result<(GroupRead, Tally), SourceError> {
        let mut dropped = Tally::default();
        let first_row = self.first_rows[group];
        let wanted: Vec<Option<usize>> = (0..self.roots.len())
            .map(|c| self.roots[c].filter(|_| filter.contains(&c)))
            .collect();
        let mut masks = Vec::new();
        let mut kept = 0usize;
        let mut next = first_row;
        // Read whole: nothing to decide on (no filter column in the file),
        // or the filter has kept most rows so far.
        let answered = self.answered.load(Ordering::Relaxed);
        let kept_before = self.kept.load(Ordering::Relaxed);
        let whole = wanted.iter().all(Option::is_none)
            || (answered > 0 && kept_before as f64 > MOST_ROWS_KEPT * answered as f64);
        for batch in self
            .reader(group, &wanted, batch_rows, None)?
            .take_while(|_| !whole)
        {
            let batch = batch.map_err(|e| self.unreadable(e))?;
            let n = batch.num_rows();
            let b = self.to_batch(&batch, &wanted, RowPlaces::From(next))?;
            let mask = keep(&b, &mut dropped);
            if mask.len() != n {
                return Err(self.unreadable(format!(
                    "row group {group}: the filter answered {} of {n} rows",
                    mask.len()
                )));
            }
            kept += mask.iter().filter(|&&k| k).count();
            masks.push(BooleanArray::from(mask));
            next += n as u64;
        }
        let rows = (next - first_row) as usize;
        self.answered.fetch_add(rows as u64, Ordering::Relaxed);
        self.kept.fetch_add(kept as u64, Ordering::Relaxed);
        if whole || kept as f64 > MOST_ROWS_KEPT * rows as f64 {
            let mut next = first_row;
            for batch in self.reader(group, &self.roots, batch_rows, None)? {
                let batch = batch.map_err(|e| self.unreadable(e))?;
                let n = batch.num_rows() as u64;
                each(self.to_batch(&batch, &self.roots, RowPlaces::From(next))?);
                next += n;
            }
            // Every row reached `each`: what the filter counted would count twice.
            return Ok((GroupRead::Whole, Tally::default()));
        }
        if kept == 0 {
            return Ok((GroupRead::Filtered, dropped));
        }
        let kept_rows: Vec<u64> = masks
            .iter()
            .flat_map(|m| m.values().iter())
            .zip(first_row..)
            .filter_map(|(k, row)| k.then_some(row))
            .collect();
        let selection = RowSelection::from_filters(&masks);
        let mut from = 0usize;
        for batch in self.reader(group, &self.roots, batch_rows, Some(selection))? {
            let batch = batch.map_err(|e| self.unreadable(e))?;
            let to = from + batch.num_rows();
            let rows = kept_rows.get(from..to).ok_or_else(|| {
                self.unreadable(format!(
                    "row group {group} gave more rows than were selected"
                ))
            })?;
            each(self.to_batch(&batch, &self.roots, RowPlaces::Rows(rows.to_vec()))?);
            from = to;
        }
        // Every selected row must arrive: none may be lost unseen.
        if from != kept_rows.len() {
            return Err(self.unreadable(format!(
                "row group {group} gave {from} of the {} rows selected",
                kept_rows.len()
            )));
        }
        Ok((GroupRead::Filtered, dropped))
    }

    /// A reader of row group `group`'s `columns` (those given), optionally
    /// of the selected rows only.
    fn reader(
        &self,
        group: usize,
        columns: &[Option<usize>],
        batch_rows: usize,
        selection: Option<RowSelection>,
    ) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, SourceError> {
        let file = File::open(&self.path).map_err(|e| self.unreadable(e))?;
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone());
        let projection =
            ProjectionMask::roots(builder.parquet_schema(), columns.iter().flatten().copied());
        let mut builder = builder
            .with_row_groups(vec![group])
            .with_projection(projection)
            .with_batch_size(batch_rows.max(1));
        if let Some(selection) = selection {
            // Runs of selected rows, not a mask: measured faster here.
            builder = builder
                .with_row_selection(selection)
                .with_row_selection_policy(RowSelectionPolicy::Selectors);
        }
        builder.build().map_err(|e| self.unreadable(e))
    }

    /// A record batch as a [`Batch`] of the requested columns: each one
    /// read (those given in `columns`) in place, the others absent.
    fn to_batch(
        &self,
        batch: &RecordBatch,
        columns: &[Option<usize>],
        places: RowPlaces,
    ) -> Result<Batch, SourceError> {
        // The reader gives the projected columns in file order.
        let mut read: Vec<usize> = columns.iter().flatten().copied().collect();
        read.sort_unstable();
        read.dedup();
        let mut text = Vec::with_capacity(columns.len());
        for root in columns {
            let Some(at) = root.and_then(|r| read.binary_search(&r).ok()) else {
                text.push(TextColumn::Absent);
                continue;
            };
            let column = batch.column(at);
            if let Some(dates) = column.as_any().downcast_ref::<Date32Array>() {
                text.push(TextColumn::Arrow(iso_dates(dates)));
                continue;
            }
            let views = column
                .as_any()
                .downcast_ref::<StringViewArray>()
                .ok_or_else(|| {
                    self.unreadable(format!(
                        "column {} came as {} where text was asked for",
                        at,
                        column.data_type()
                    ))
                })?;
            text.push(TextColumn::Arrow(views.clone()));
        }
        let dates = self.native_dates.clone();
        Ok(Batch::from_arrow(text, batch.num_rows(), places, dates))
    }

    fn unreadable(&self, e: impl std::fmt::Display) -> SourceError {
        unreadable(&self.path, &e)
    }
}

/// The file cannot be read as Parquet, and why.
fn unreadable(path: &std::path::Path, e: &dyn std::fmt::Display) -> SourceError {
    SourceError::Unreadable {
        path: path.to_path_buf(),
        format: "Parquet",
        message: e.to_string(),
    }
}

/// Dates as the text polars casts them to (`2024-01-10`; a year outside
/// 0-9999 signed, `+10000-01-01`), so the row passes read them as they
/// read a polars scan's: ten bytes, kept in the views themselves.
fn iso_dates(dates: &Date32Array) -> StringViewArray {
    dates
        .iter()
        .map(|d| {
            d.map(|days| {
                let (y, m, d) = crate::date::Date(days).ymd();
                if (0..=9999).contains(&y) {
                    format!("{y:04}-{m:02}-{d:02}")
                } else {
                    format!("{y:+05}-{m:02}-{d:02}")
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::accounting::{IgnoreReason, Location};
    use crate::ingest::mapping::TableMapping;
    use crate::ingest::table::TableKind;
    use polars::prelude::{df, ParquetWriter};

    const COLUMNS: [&str; 4] = ["patient_id", "date", "dmd_code", "bnf_code"];

    /// A medications file of 35 rows in row groups of 10 (written by
    /// arrow-rs, which cuts groups exactly): row r has patient "p{r}", and
    /// dm+d code "keep" where `kept(r)`.
    fn file(dir: &std::path::Path, kept: impl Fn(usize) -> bool) -> TableSource {
        use arrow_array::{ArrayRef, StringArray};
        use parquet::arrow::ArrowWriter;
        use parquet::file::properties::WriterProperties;
        let path = dir.join("medications.parquet");
        let n = 35;
        let text = |values: Vec<String>| Arc::new(StringArray::from(values)) as ArrayRef;
        let batch = RecordBatch::try_from_iter([
            (
                "patient_id",
                text((0..n).map(|r| format!("p{r}")).collect()),
            ),
            ("date", text(vec!["2024-01-01".to_string(); n])),
            (
                "dmd_code",
                text(
                    (0..n)
                        .map(|r| if kept(r) { "keep" } else { "drop" }.to_string())
                        .collect(),
                ),
            ),
        ])
        .unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(10))
            .build();
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        TableSource::file(TableKind::Medications, &path, TableMapping::default())
    }

    /// A row handed on: its place, patient and BNF code.
    type ReadRow = (Location, String, Option<String>);

    /// Each row group read with the filter "dm+d code is keep", which
    /// counts each row it drops as ignored: how each was read, the drops
    /// the read returned, and every row handed on as (file row, patient,
    /// bnf_code).
    fn read(source: &TableSource) -> (Vec<GroupRead>, Vec<u64>, Vec<ReadRow>) {
        let parquet = FilteredParquet::open(source, &COLUMNS).unwrap().unwrap();
        let mut reads = Vec::new();
        let mut dropped = Vec::new();
        let mut rows = Vec::new();
        let mut asked = 0;
        for g in 0..parquet.row_groups() {
            let (read, counted) = parquet
                .read_group(
                    g,
                    &[2],
                    4,
                    |b, t| {
                        asked += b.len();
                        // Only the filter's column is there.
                        assert!((0..b.len()).all(|i| b.get(0, i).is_none()));
                        let keep: Vec<bool> =
                            (0..b.len()).map(|i| b.get(2, i) == Some("keep")).collect();
                        for _ in keep.iter().filter(|k| !**k) {
                            t.ignored(IgnoreReason::UnrelatedCode);
                        }
                        keep
                    },
                    |b| {
                        for i in 0..b.len() {
                            let patient = b.get(0, i).unwrap().to_string();
                            rows.push((b.location(i), patient, b.get(3, i).map(str::to_string)));
                        }
                    },
                )
                .unwrap();
            reads.push(read);
            dropped.push(counted.account.ignored.get(IgnoreReason::UnrelatedCode));
        }
        // The filter answered each row of the groups it was asked about.
        let whole_unasked = reads.iter().skip(1).take_while(|r| **r == GroupRead::Whole);
        if reads[0] == GroupRead::Whole {
            assert_eq!(asked, 10, "asked again after a group read whole");
            assert_eq!(whole_unasked.count(), reads.len() - 1);
        }
        (reads, dropped, rows)
    }

    /// The kept rows arrive with their own file rows and values; a row
    /// group the filter keeps most of arrives whole; a column the file
    /// lacks reads as null.
    #[test]
    fn kept_rows_keep_their_place() {
        let dir = tempfile::tempdir().unwrap();
        // Rows 0-9: every third kept; 10-19: none; 20-29: all but one;
        // 30-34: row 31 only (13 of the 30 rows before kept: filtered).
        let kept = |r: usize| match r {
            0..=9 => r.is_multiple_of(3),
            10..=19 => false,
            20..=29 => r != 25,
            _ => r == 31,
        };
        let (reads, dropped, rows) = read(&file(dir.path(), kept));
        use GroupRead::{Filtered, Whole};
        assert_eq!(reads, [Filtered, Filtered, Whole, Filtered]);
        // The filter's counts come back for the rows left unread only: a
        // group read whole hands every row on, so none of its counts.
        assert_eq!(dropped, [6, 10, 0, 4]);
        let expected: Vec<ReadRow> = (0..35)
            .filter(|&r| kept(r) || (20..30).contains(&r))
            .map(|r| (Location::Row(r as u64 + 1), format!("p{r}"), None))
            .collect();
        assert_eq!(rows, expected);
    }

    /// Once the filter has kept most rows, later groups are read whole
    /// without asking it.
    #[test]
    fn a_filter_that_keeps_most_rows_is_no_longer_asked() {
        let dir = tempfile::tempdir().unwrap();
        let (reads, dropped, rows) = read(&file(dir.path(), |r| r != 3));
        assert_eq!(reads, [GroupRead::Whole; 4]);
        assert_eq!(dropped, [0; 4]);
        assert_eq!(rows.len(), 35);
        assert_eq!(rows[34].0, Location::Row(35));
    }

    /// Dates read as polars casts them to text, a year beyond 9999 too.
    #[test]
    fn dates_read_as_polars_writes_them() {
        let days = |y, m, d| crate::date::Date::from_ymd(y, m, d).unwrap().0;
        let dates = Date32Array::from(vec![
            Some(days(2024, 1, 10)),
            None,
            Some(days(1900, 2, 28)),
            Some(days(10000, 1, 1)),
        ]);
        let read = iso_dates(&dates);
        let text: Vec<Option<&str>> = read.iter().collect();
        assert_eq!(
            text,
            [
                Some("2024-01-10"),
                None,
                Some("1900-02-28"),
                Some("+10000-01-01")
            ]
        );
        // polars itself, for the year it writes beyond 9999.
        use polars::prelude::{DataType, IntoSeries, NewChunkedArray};
        let far = polars::prelude::Int32Chunked::from_slice("d".into(), &[days(10000, 1, 1)])
            .into_date()
            .into_series()
            .cast(&DataType::String)
            .unwrap();
        assert_eq!(far.str().unwrap().get(0), Some("+10000-01-01"));
    }

    /// A column stored as anything but text
    /// which reads it as text.
    #[test]
    fn non_text_columns_are_not_read_here() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("medications.parquet");
        let mut frame = df!(
            "patient_id" => ["p1"],
            "date" => ["2024-01-01"],
            "dmd_code" => [321589009i64],
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        let source = TableSource::file(TableKind::Medications, &path, TableMapping::default());
        assert!(FilteredParquet::open(&source, &COLUMNS).unwrap().is_none());
        // Text there, it is read here.
        let text = file(dir.path(), |_| true);
        assert!(FilteredParquet::open(&text, &COLUMNS).unwrap().is_some());
    }
}
