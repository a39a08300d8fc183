//! Finding an extract's tables on disk and streaming them in batches.
//!
//! Each table is scanned lazily by polars with projection pushdown (only
//! the columns asked for), every column read as text (a BNF code's leading
//! zero must survive), and delivered in batches through `sink_batches` on
//! the streaming engine, so memory does not grow with the table. (A
//! Parquet table whose rows a filter thins is read by
//! `ingest::filtered_parquet` instead.)

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, OnceLock};

use polars::prelude::*;

use super::accounting::Tally;
use super::csv_rows::{self, CsvRows, TextColumns};
use super::csv_structure::{self, CsvStructure};
use super::mapping::{ColumnMapping, TableMapping};
use super::provenance::{checksum, ChecksumError};
use super::table::TableKind;

/// A file format, chosen by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// `.csv` or `.csv.gz`.
    Csv,
    /// `.parquet`.
    Parquet,
}

/// Why a table could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The extract folder does not exist or is not a folder.
    #[error("the extract folder {0} does not exist or is not a folder")]
    NoFolder(PathBuf),
    /// A table is not in the extract.
    #[error("the extract {dir} has no {table} table: looked for {looked_for}\n  hint: every extract needs patients, registrations, medications, clinical_events and practices (.csv, .csv.gz or .parquet); a mapping file can name another file")]
    MissingTable {
        /// The extract folder.
        dir: PathBuf,
        /// The table.
        table: TableKind,
        /// The file names tried.
        looked_for: String,
    },
    /// A table has two candidate files.
    #[error("the extract {dir} has more than one {table} table: {files}; keep one")]
    AmbiguousTable {
        /// The extract folder.
        dir: PathBuf,
        /// The table.
        table: TableKind,
        /// The candidate files.
        files: String,
    },
    /// A required column is missing.
    #[error("{path}: the required column '{column}' of {table} is missing{renamed}; the columns are: {available}\n  hint: rename it in the export or map it in a --mapping file")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The table.
        table: TableKind,
        /// The canonical column name.
        column: &'static str,
        /// " (mapped to 'X')" when the mapping renames it.
        renamed: String,
        /// The columns the file has.
        available: String,
    },
    /// A column appears twice in the header.
    #[error("{path}: the column '{column}' appears more than once in the header")]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// The duplicated name.
        column: String,
    },
    /// The file's structure is broken (encoding, quoting, header).
    #[error("{path}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong, where, and a hint.
        message: String,
    },
    /// The file could not be parsed as its format.
    #[error("{path}: cannot read as {format}: {message}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// "CSV" or "Parquet".
        format: &'static str,
        /// The reader's message.
        message: String,
    },
}

/// One table of an extract: where it is and how to read it.
#[derive(Clone, Debug)]
pub struct TableSource {
    /// Which table.
    pub kind: TableKind,
    /// The file.
    pub path: PathBuf,
    /// Its format.
    pub format: FileFormat,
    /// Column renames and date format.
    pub mapping: TableMapping,
    /// The CSV structure, scanned once on first use.
    structure: OnceLock<Arc<CsvStructure>>,
    /// The SHA-256 and size of a CSV file, taken as it was read.
    read_sum: OnceLock<(String, u64)>,
}

/// The tables of one extract folder.
#[derive(Clone, Debug)]
pub struct Extract {
    /// The folder.
    pub dir: PathBuf,
    /// One source per table, in [`TableKind::ALL`] order.
    pub tables: Vec<TableSource>,
}

impl Extract {
    /// Finds every table of the extract in `dir`.
    pub fn open(dir: &Path, mapping: &ColumnMapping) -> Result<Extract, SourceError> {
        if !dir.is_dir() {
            return Err(SourceError::NoFolder(dir.to_path_buf()));
        }
        // File names match whatever their case (`Practices.csv`).
        let mut by_lower: std::collections::BTreeMap<String, Vec<PathBuf>> = Default::default();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let path = e.path();
                if path.is_file() {
                    let name = e.file_name().to_string_lossy().to_lowercase();
                    by_lower.entry(name).or_default().push(path);
                }
            }
        }
        let mut tables = Vec::new();
        for kind in TableKind::ALL {
            let table_mapping = mapping.table(kind);
            let names: Vec<String> = match &table_mapping.file {
                Some(f) => vec![f.clone()],
                None => ["csv", "csv.gz", "parquet"]
                    .iter()
                    .map(|ext| format!("{}.{ext}", kind.file_stem()))
                    .collect(),
            };
            let mut found: Vec<PathBuf> = names
                .iter()
                .flat_map(|n| by_lower.get(&n.to_lowercase()).cloned().unwrap_or_default())
                .collect();
            found.sort();
            let path = match found.as_slice() {
                [one] => one.clone(),
                [] => {
                    return Err(SourceError::MissingTable {
                        dir: dir.to_path_buf(),
                        table: kind,
                        looked_for: names.join(", "),
                    })
                }
                many => {
                    return Err(SourceError::AmbiguousTable {
                        dir: dir.to_path_buf(),
                        table: kind,
                        files: many
                            .iter()
                            .map(|p| p.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
                }
            };
            let format = format_of(&path);
            tables.push(TableSource {
                kind,
                path,
                format,
                mapping: table_mapping,
                structure: OnceLock::new(),
                read_sum: OnceLock::new(),
            });
        }
        // Header names are trimmed like values: ` patient_id ` is patient_id.
        for t in &mut tables {
            t.match_padded_headers()?;
        }
        Ok(Extract {
            dir: dir.to_path_buf(),
            tables,
        })
    }

    /// The source of one table.
    pub fn table(&self, kind: TableKind) -> &TableSource {
        // `open` fills every kind, in ALL order.
        &self.tables[TableKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or_default()]
    }
}

fn format_of(path: &Path) -> FileFormat {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".parquet") || name.ends_with(".pq") {
        FileFormat::Parquet
    } else {
        FileFormat::Csv
    }
}

pub(crate) use super::batch::{Batch, BatchRow, RowFields, ValueKey};

impl TableSource {
    /// One file read as table `kind` through `mapping`, outside an extract
    /// folder (public prescribing data, list sizes).
    pub fn file(kind: TableKind, path: &Path, mapping: TableMapping) -> TableSource {
        TableSource {
            kind,
            path: path.to_path_buf(),
            format: format_of(path),
            mapping,
            structure: OnceLock::new(),
            read_sum: OnceLock::new(),
        }
    }

    /// Maps each canonical column the file names with spaces around it
    /// (` patient_id `) to that header, as values are trimmed.
    fn match_padded_headers(&mut self) -> Result<(), SourceError> {
        let names = self.column_names()?;
        for spec in self.kind.columns() {
            let want = self.mapping.source_name(spec.name).to_string();
            if names.contains(&want) {
                continue;
            }
            if let Some(actual) = names.iter().find(|n| n.trim() == want) {
                self.mapping
                    .rename
                    .insert(spec.name.to_string(), actual.clone());
            }
        }
        Ok(())
    }

    /// The file's column names as written (a CSV file's header only; its
    /// rows are checked as they are read).
    pub(crate) fn column_names(&self) -> Result<Vec<String>, SourceError> {
        if self.format == FileFormat::Csv {
            return csv_rows::header(&self.path);
        }
        let schema = self
            .scan()?
            .collect_schema()
            .map_err(|e| self.unreadable(e))?;
        Ok(schema.iter_names().map(|n| n.to_string()).collect())
    }

    fn scan(&self) -> Result<LazyFrame, SourceError> {
        let path = PlRefPath::new(self.path.to_string_lossy().as_ref());
        let lf = match self.format {
            // A row with too many fields is found by the structure pass and
            // rejected by its line; polars only has to deliver it (else it
            // fails the whole file when the last column is read).
            FileFormat::Csv => LazyCsvReader::new(path)
                .with_has_header(true)
                .with_infer_schema_length(Some(0))
                .with_truncate_ragged_lines(true)
                .finish(),
            FileFormat::Parquet => LazyFrame::scan_parquet(path, ScanArgsParquet::default()),
        };
        lf.map_err(|e| self.unreadable(e))
    }

    fn unreadable(&self, e: PolarsError) -> SourceError {
        SourceError::Unreadable {
            path: self.path.clone(),
            format: match self.format {
                FileFormat::Csv => "CSV",
                FileFormat::Parquet => "Parquet",
            },
            message: match (self.format, e.to_string()) {
                (FileFormat::Csv, m) if m.contains("CSV malformed") => format!(
                    "{m}\n  hint: a value holding a double quote that is not quoted as a whole \
                     (5\" tablet) cannot be read; write it quoted, the quote doubled (\"5\"\" tablet\")"
                ),
                (_, m) => m,
            },
        }
    }

    /// The structure of a CSV file (scanned once); `None` for Parquet.
    pub fn structure(&self) -> Result<Option<Arc<CsvStructure>>, SourceError> {
        if self.format == FileFormat::Parquet {
            return Ok(None);
        }
        if let Some(s) = self.structure.get() {
            return Ok(Some(s.clone()));
        }
        let s = csv_structure::scan(&self.path).map_err(|e| SourceError::Malformed {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(Some(self.structure.get_or_init(|| Arc::new(s)).clone()))
    }

    /// The number of data rows, from the CSV structure or the Parquet
    /// metadata (0 when unknown): a size hint for the tables kept in memory.
    pub(crate) fn row_count_hint(&self) -> usize {
        match self.format {
            // Unknown before the one pass over the rows.
            FileFormat::Csv => 0,
            FileFormat::Parquet => self
                .scan()
                .ok()
                .and_then(|lf| lf.select([len()]).collect().ok())
                .and_then(|df| {
                    df.columns()
                        .first()
                        .and_then(|c| c.get(0).ok())
                        .and_then(|v| v.extract::<usize>())
                })
                .unwrap_or(0),
        }
    }

    /// Checks the file: its structure (CSV), every required column present
    /// (after mapping), no duplicate names. Returns the file's schema.
    pub(crate) fn check_columns(&self) -> Result<SchemaRef, SourceError> {
        if self.format == FileFormat::Csv {
            // The header only: the rows are checked as they are read.
            let names = self.column_names()?;
            self.check_names(&names)?;
            let fields = names
                .iter()
                .map(|n| Field::new(n.as_str().into(), DataType::String));
            return Ok(Arc::new(Schema::from_iter(fields)));
        }
        let mut lf = self.scan()?;
        let schema = lf.collect_schema().map_err(|e| self.unreadable(e))?;
        let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
        self.check_names(&names)?;
        Ok(schema)
    }

    /// Checks that the file's column names (as written) hold every
    /// required column, after mapping.
    pub(crate) fn check_names(&self, names: &[String]) -> Result<(), SourceError> {
        for spec in self.kind.columns().iter().filter(|c| c.required) {
            let source = self.mapping.source_name(spec.name);
            if !names.iter().any(|n| n == source) {
                let renamed = if source != spec.name {
                    format!(" (mapped to '{source}')")
                } else {
                    String::new()
                };
                return Err(SourceError::MissingColumn {
                    path: self.path.clone(),
                    table: self.kind,
                    column: spec.name,
                    renamed,
                    available: names.join(", "),
                });
            }
        }
        Ok(())
    }

    /// Streams the table in batches of about `batch_rows` rows (a CSV file:
    /// one batch per chunk of its one parallel read), handing each to `f`
    /// in file order. `columns` are canonical names; an optional column the
    /// file lacks reads as empty. Rows with the wrong number of fields never
    /// reach `f`: they are returned as rejections. Stops at the first error
    /// `f` returns.
    pub(crate) fn for_each_batch<E>(
        &self,
        columns: &[&'static str],
        batch_rows: usize,
        mut f: impl FnMut(Batch) -> Result<(), E>,
    ) -> Result<Tally, ScanError<E>> {
        if self.format == FileFormat::Csv {
            return self.for_each_csv_batch(columns, f);
        }
        // Parquet from here: no rows are dropped for their structure.
        let schema = self.check_columns().map_err(ScanError::Source)?;
        let native_dates: Vec<bool> = columns
            .iter()
            .map(|&name| {
                matches!(
                    schema.get(self.mapping.source_name(name)),
                    Some(DataType::Date | DataType::Datetime(..))
                )
            })
            .collect();
        self.stream(&schema, columns, batch_rows, |df, first_row| {
            let batch = self
                .to_batch(df, columns, &native_dates, first_row)
                .map_err(ScanError::Source)?;
            f(batch).map_err(ScanError::Consumer)
        })
    }

    /// A CSV file read in one parallel pass ([`CsvRows`]): one batch per
    /// chunk of the file, handed to `f` in file order; rows with the wrong
    /// number of fields are returned as rejections.
    fn for_each_csv_batch<E>(
        &self,
        columns: &[&'static str],
        mut f: impl FnMut(Batch) -> Result<(), E>,
    ) -> Result<Tally, ScanError<E>> {
        let mut rows = CsvRows::open(self, columns, columns.len()).map_err(ScanError::Source)?;
        let mut structural = Tally::default();
        let new = || TextColumns::new(columns.len());
        while let Some(parts) = rows
            .next_window(new, TextColumns::push)
            .map_err(ScanError::Source)?
        {
            for (chunk, tally) in parts {
                structural.merge(tally);
                let (arrays, lines) = chunk.finish();
                let batch = Batch::from_lines(arrays, lines);
                if batch.len() > 0 {
                    f(batch).map_err(ScanError::Consumer)?;
                }
            }
        }
        let sum = rows.finish().map_err(ScanError::Source)?;
        let _ = self.read_sum.set(sum);
        Ok(structural)
    }

    /// The file's SHA-256 and size: as its read took them (a CSV file
    /// read whole), else read again for them.
    pub(crate) fn checksum(&self) -> Result<(String, u64), ChecksumError> {
        match self.read_sum.get() {
            Some(sum) => Ok(sum.clone()),
            None => checksum(&self.path),
        }
    }

    /// Streams the table as frames of text columns named by their canonical
    /// names (rows with the wrong number of fields removed and returned as
    /// rejections), in file order.
    pub(crate) fn for_each_frame<E>(
        &self,
        columns: &[&'static str],
        batch_rows: usize,
        mut f: impl FnMut(DataFrame) -> Result<(), E>,
    ) -> Result<Tally, ScanError<E>> {
        let schema = self.check_columns().map_err(ScanError::Source)?;
        self.stream(&schema, columns, batch_rows, |df, _| {
            f(df).map_err(ScanError::Consumer)
        })
    }

    /// A column read as the text the audit parses. A timestamp is read as
    /// its calendar date, since the audit needs no time of day: as written
    /// when it has no time zone, in UTC when its zone is UTC. A timestamp in
    /// any other zone is refused: its local date needs that zone's rules,
    /// and its UTC date would move an issue at midnight in summer to the
    /// day before.
    fn as_text(&self, column: &str, dtype: &DataType) -> Result<Expr, SourceError> {
        const UTC: [&str; 7] = ["UTC", "utc", "Etc/UTC", "Z", "+00:00", "GMT", "Etc/GMT"];
        let date = DataType::Date;
        Ok(match dtype {
            DataType::Datetime(_, None) => col(column).cast(date),
            DataType::Datetime(unit, Some(zone)) if UTC.contains(&zone.as_str()) => col(column)
                .cast(DataType::Int64)
                .cast(DataType::Datetime(*unit, None))
                .cast(date),
            DataType::Datetime(_, Some(zone)) => {
                return Err(SourceError::Malformed {
                    path: self.path.clone(),
                    message: format!(
                        "the column '{column}' holds timestamps in the time zone {zone}, whose local dates this engine does not work out\n  hint: write it as dates, or as timestamps in UTC or without a time zone"
                    ),
                });
            }
            _ => col(column),
        }
        .cast(DataType::String))
    }

    /// The streaming engine behind both: each frame with its first file
    /// row (a CSV file's ragged rows removed). `schema` is the file's, from
    /// [`TableSource::check_columns`].
    fn stream<E>(
        &self,
        schema: &Schema,
        columns: &[&'static str],
        batch_rows: usize,
        mut f: impl FnMut(DataFrame, u64) -> Result<(), ScanError<E>>,
    ) -> Result<Tally, ScanError<E>> {
        let structure = self.structure().map_err(ScanError::Source)?;
        let mut structural = Tally::default();
        let mut exprs = Vec::with_capacity(columns.len());
        for &name in columns {
            let source = self.mapping.source_name(name);
            exprs.push(
                match schema.get(source) {
                    Some(dtype) => self.as_text(source, dtype).map_err(ScanError::Source)?,
                    None => lit(NULL).cast(DataType::String),
                }
                .alias(name),
            );
        }
        let lf = self.scan().map_err(ScanError::Source)?.select(exprs);

        let (tx, rx) = sync_channel::<DataFrame>(2);
        let chunk = NonZeroUsize::new(batch_rows.max(1));
        let lf = lf
            .sink_batches(
                PlanCallback::new(move |df: DataFrame| Ok(tx.send(df).is_err())),
                true,
                chunk,
            )
            .map_err(|e| ScanError::Source(self.unreadable(e)))?;

        std::thread::scope(|s| {
            let runner = s.spawn(move || lf.collect_with_engine(Engine::Streaming).map(|_| ()));
            let mut failure = None;
            // Batches arrive in file order, so rows are numbered by counting.
            let mut next_row = 0u64;
            for df in rx.iter() {
                let first_row = next_row;
                next_row += df.height() as u64;
                let df = match &structure {
                    Some(st) if !st.ragged.is_empty() => {
                        self.drop_ragged(df, first_row, st, &mut structural)
                    }
                    _ => Ok(df),
                };
                let result = df
                    .map_err(ScanError::Source)
                    .and_then(|df| f(df, first_row));
                if let Err(e) = result {
                    failure = Some(e);
                    break;
                }
            }
            drop(rx);
            let ran = runner.join();
            if let Some(e) = failure {
                return Err(e);
            }
            match ran {
                Ok(Ok(())) => {
                    self.rows_agree(structure.as_deref(), next_row)?;
                    Ok(structural)
                }
                Ok(Err(e)) => Err(ScanError::Source(self.unreadable(e))),
                Err(_) => Err(ScanError::Source(SourceError::Unreadable {
                    path: self.path.clone(),
                    format: "file",
                    message: "the reader stopped unexpectedly".into(),
                })),
            }
        })
    }

    /// Refuses a CSV file whose rows the parser and the structure pass
    /// count differently: every line number given for a row of it would
    /// be wrong, so the disagreement is an error, never a shifted line.
    fn rows_agree<E>(
        &self,
        structure: Option<&CsvStructure>,
        delivered: u64,
    ) -> Result<(), ScanError<E>> {
        match structure {
            Some(st) if st.rows != delivered => Err(ScanError::Source(SourceError::Malformed {
                path: self.path.clone(),
                message: format!(
                    "the CSV parser read {delivered} rows where the structure pass found {}; \
                     rows and line numbers cannot be trusted\n  hint: look for stray quotes or \
                     line ends inside values, or export the file again",
                    st.rows
                ),
            })),
            _ => Ok(()),
        }
    }

    /// Removes rows with the wrong number of fields, counting each as
    /// rejected.
    fn drop_ragged(
        &self,
        df: DataFrame,
        first_row: u64,
        st: &CsvStructure,
        tally: &mut Tally,
    ) -> Result<DataFrame, SourceError> {
        let rows = first_row..first_row + df.height() as u64;
        if st.ragged.range(rows.clone()).next().is_none() {
            return Ok(df);
        }
        let keep: BooleanChunked = rows
            .map(|r| match st.ragged.get(&r) {
                Some(&(line, fields)) => {
                    tally.ragged(self.kind, line, fields, st.header_fields);
                    false
                }
                None => true,
            })
            .collect();
        df.filter(&keep).map_err(|e| self.unreadable(e))
    }

    fn to_batch(
        &self,
        df: DataFrame,
        columns: &[&'static str],
        native_dates: &[bool],
        first_row: u64,
    ) -> Result<Batch, SourceError> {
        let get = |name: &str| df.column(name).map_err(|e| self.unreadable(e));
        let mut cols = Vec::with_capacity(columns.len());
        for &name in columns {
            // One chunk after rechunk: keep its array for direct access.
            let ca = get(name)?.str().map_err(|e| self.unreadable(e))?.rechunk();
            cols.push(ca.downcast_as_array().clone());
        }
        Ok(Batch::from_frame(
            cols,
            df.height(),
            first_row,
            native_dates.to_vec(),
        ))
    }
}

/// An error while streaming: from the file, or from the consumer of batches.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScanError<E> {
    /// The file could not be read.
    #[error(transparent)]
    Source(SourceError),
    /// The consumer of the batches failed.
    #[error(transparent)]
    Consumer(E),
}

impl ScanError<std::convert::Infallible> {
    /// The file error of a scan whose consumer cannot fail.
    pub(crate) fn into_source(self) -> SourceError {
        match self {
            ScanError::Source(e) => e,
            ScanError::Consumer(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timestamp column is read as its date: as written without a time
    /// zone, in UTC with one; half past eleven at night stays on its day.
    /// Another zone is refused, naming the file and the column.
    #[test]
    fn timestamps_are_read_as_their_dates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("patients.parquet");
        // 2024-03-31 23:30 and 1950-01-01 00:00, in microseconds.
        let late = (19_813 * 86_400 + 23 * 3_600 + 1_800) * 1_000_000_i64;
        let early = -7_305 * 86_400 * 1_000_000_i64;
        let stamps = |zone: Option<&str>| {
            Int64Chunked::from_slice_options("t".into(), &[Some(late), Some(early), None])
                .into_datetime(TimeUnit::Microseconds, TimeZone::opt_try_new(zone).unwrap())
                .into_series()
        };
        let read = |zone: Option<&str>| {
            let mut df = df!("patient_id" => ["1", "2", "3"], "sex" => ["f", "m", "f"]).unwrap();
            df.with_column(stamps(zone).with_name("date_of_birth".into()).into())
                .unwrap();
            ParquetWriter::new(std::fs::File::create(&path).unwrap())
                .finish(&mut df)
                .unwrap();
            let source = TableSource::file(TableKind::Patients, &path, TableMapping::default());
            let mut dates = Vec::new();
            source
                .for_each_batch(&["date_of_birth"], 1024, |b| {
                    dates.extend((0..b.len()).map(|i| b.get(0, i).map(str::to_string)));
                    Ok::<(), std::convert::Infallible>(())
                })
                .map_err(ScanError::into_source)
                .map(|_| dates)
        };
        let want = vec![
            Some("2024-03-31".to_string()),
            Some("1950-01-01".to_string()),
            None,
        ];
        assert_eq!(read(None).unwrap(), want);
        assert_eq!(read(Some("UTC")).unwrap(), want);
        let refused = read(Some("Europe/London")).unwrap_err().to_string();
        assert!(refused.contains("patients.parquet"), "{refused}");
        assert!(refused.contains("'date_of_birth'"), "{refused}");
        assert!(refused.contains("Europe/London"), "{refused}");
    }

    /// Equal keys mean equal values, whatever the file repeats: short
    /// values, long ones (kept in buffers), nulls, blanks and empty text;
    /// and the first byte read from the view is the text's.
    #[test]
    fn equal_value_keys_mean_equal_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("medications.parquet");
        let values = [
            Some(""),
            Some(" -2"),
            Some("-28.5 tablets"),
            Some("0402010ADAAAAAA"),
            Some("7"),
            None,
            Some("0402010ADAAAAAA"),
            Some("0403030E0AAAAAA"),
            Some(" "),
            Some("7"),
            Some("321589009"),
            None,
            Some("0403030E0AAAAAA"),
        ];
        let rows: Vec<Option<&str>> = values.iter().cycle().take(5000).copied().collect();
        let n = rows.len();
        let mut df = df!(
            "patient_id" => vec!["1"; n],
            "date" => vec!["2024-01-01"; n],
            "dmd_code" => vec![None::<&str>; n],
            "bnf_code" => rows,
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let source = TableSource::file(TableKind::Medications, &path, TableMapping::default());
        let mut seen = 0;
        source
            .for_each_batch(&["bnf_code"], 1024, |b| {
                for i in 0..b.len() {
                    for j in (0..b.len()).step_by(7) {
                        if b.value_key(0, i) == b.value_key(0, j) {
                            assert_eq!(b.get(0, i), b.get(0, j), "rows {i} and {j}");
                        }
                    }
                    // The first byte as stored, from the view alone.
                    let raw = b.raw(0, i);
                    assert_eq!(b.first_byte(0, i), raw.and_then(|s| s.bytes().next()));
                    // The same short value is always the same key.
                    let later = i + 5;
                    if later < b.len() && b.get(0, i) == Some("7") && b.get(0, later) == Some("7") {
                        assert_eq!(b.value_key(0, i), b.value_key(0, later));
                    }
                }
                seen += b.len();
                Ok::<(), std::convert::Infallible>(())
            })
            .map_err(ScanError::into_source)
            .unwrap();
        assert_eq!(seen, 5000);
    }
}
