//! Writing files so that nothing half-written looks finished: each file
//! goes to a temporary name and is renamed when complete, and a folder of
//! outputs is staged beside its place and renamed in whole. Knows frames
//! and bytes, no domain type: the report and the partial format both use it.

use std::fs::File;
use std::io::BufWriter;

use serde::Serialize as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The file could not be created or written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// A file written, as a run's summary lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WrittenFile {
    /// Its name, relative to the output folder (`review_packs/A81001.html`).
    pub file: String,
    /// Its size.
    pub bytes: u64,
}

/// The files written into `dir` (names relative to it), with their sizes.
pub(crate) fn with_sizes(dir: &Path, names: &[String]) -> Vec<WrittenFile> {
    names
        .iter()
        .map(|n| WrittenFile {
            file: n.clone(),
            bytes: std::fs::metadata(dir.join(n)).map_or(0, |m| m.len()),
        })
        .collect()
}

/// Writes a folder of outputs through `write` (which fills the staging
/// folder it is given and returns the file names), then renames the
/// staging folder to `out`, replacing an existing one.
pub fn write_folder(
    out: &Path,
    write: impl FnOnce(&Path) -> Result<Vec<String>, OutputError>,
) -> Result<Vec<PathBuf>, OutputError> {
    let fail = |path: &Path, e: std::io::Error| OutputError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    std::fs::create_dir_all(&parent).map_err(|e| fail(&parent, e))?;
    let stage = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| fail(&stage, e))?;
    }
    std::fs::create_dir(&stage).map_err(|e| fail(&stage, e))?;
    let names = match write(&stage) {
        Ok(names) => names,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&stage);
            return Err(e);
        }
    };
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(out, &old).map_err(|e| fail(out, e))?;
    }
    std::fs::rename(&stage, out).map_err(|e| fail(out, e))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| fail(&old, e))?;
    }
    Ok(names.iter().map(|n| out.join(n)).collect())
}

/// A named column from a value per row.
pub fn column<R, T, F>(name: &str, rows: &[R], f: F) -> Column
where
    F: Fn(&R) -> T,
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<T>>())
}

/// A text column of `rows`, each value borrowed from its row.
pub fn text_column<R>(name: &str, rows: &[R], f: impl Fn(&R) -> &str) -> Column {
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<&str>>())
}

/// Writes a frame as a JSON array of objects, one per row (null for a
/// missing or non-finite value), each object's keys in name order. Rows
/// are written as they are read: a national table is tens of megabytes
/// of JSON, never held whole in memory.
pub(crate) fn write_json(df: &DataFrame, path: &Path) -> Result<PathBuf, OutputError> {
    write_atomic(path, |w| {
        let mut json = serde_json::Serializer::pretty(w);
        Records(df).serialize(&mut json).map_err(|e| e.to_string())
    })
}

/// A frame serialised as JSON records.
struct Records<'a>(&'a DataFrame);

impl serde::Serialize for Records<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let df = self.0;
        // A JSON object's keys in name order, as a sorted map writes them.
        let mut columns: Vec<(&str, &Column)> = df
            .columns()
            .iter()
            .map(|c| (c.name().as_str(), c))
            .collect();
        columns.sort_by_key(|&(name, _)| name);
        let mut values: Vec<_> = columns
            .iter()
            .map(|(_, c)| c.as_materialized_series().iter())
            .collect();
        let mut seq = serializer.serialize_seq(Some(df.height()))?;
        for _ in 0..df.height() {
            let mut row = Vec::with_capacity(columns.len());
            for ((name, _), value) in columns.iter().zip(&mut values) {
                let value = value
                    .next()
                    .ok_or_else(|| S::Error::custom(format!("column {name} ended early")))?;
                row.push((*name, JsonValue(value)));
            }
            seq.serialize_element(&Record(&row))?;
        }
        seq.end()
    }
}

/// One row's values by column name.
struct Record<'a, 'v>(&'a [(&'a str, JsonValue<'v>)]);

impl serde::Serialize for Record<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A frame's value as JSON: numbers, text and booleans as themselves, a
/// non-finite number as null, anything else as its text.
struct JsonValue<'v>(AnyValue<'v>);

impl serde::Serialize for JsonValue<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            AnyValue::Null => serializer.serialize_unit(),
            AnyValue::Boolean(b) => serializer.serialize_bool(*b),
            AnyValue::String(s) => serializer.serialize_str(s),
            AnyValue::StringOwned(s) => serializer.serialize_str(s),
            AnyValue::UInt32(n) => serializer.serialize_u32(*n),
            AnyValue::UInt64(n) => serializer.serialize_u64(*n),
            AnyValue::Int32(n) => serializer.serialize_i32(*n),
            AnyValue::Int64(n) => serializer.serialize_i64(*n),
            AnyValue::Float64(f) if f.is_finite() => serializer.serialize_f64(*f),
            AnyValue::Float64(_) => serializer.serialize_unit(),
            other => serializer.collect_str(other),
        }
    }
}

/// The file names of written paths.
pub(crate) fn file_names(written: &[PathBuf]) -> Vec<String> {
    written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

/// A polars failure while writing `out`.
pub(crate) fn polars_failure(out: &Path, e: PolarsError) -> OutputError {
    OutputError::Write {
        path: out.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes through `f` to `path.tmp`, then renames to `path`.
pub(crate) fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> Result<(), String>,
) -> Result<PathBuf, OutputError> {
    let fail = |message: String| OutputError::Write {
        path: path.to_path_buf(),
        message,
    };
    let tmp = path.with_extension(format!(
        "{}.partial",
        path.extension().and_then(|e| e.to_str()).unwrap_or("out")
    ));
    let result = (|| {
        let file = File::create(&tmp).map_err(|e| e.to_string())?;
        let mut w = BufWriter::new(file);
        f(&mut w)?;
        let file = w.into_inner().map_err(|e| e.to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| e.to_string())
    })();
    if let Err(message) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(message));
    }
    Ok(path.to_path_buf())
}

/// Writes a frame as CSV (header, ISO dates, full float precision).
pub(crate) fn write_csv(df: &mut DataFrame, path: &Path) -> Result<PathBuf, OutputError> {
    write_atomic(path, |w| {
        CsvWriter::new(w)
            .include_header(true)
            .finish(df)
            .map_err(|e| e.to_string())
    })
}

/// polars' Parquet row-group size.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// The batches a long table is written in: the row groups polars' Parquet
/// writer cuts a whole frame of `rows` rows into (`rows / ROW_GROUP_ROWS`
/// groups of equal size, the last taking the remainder; one group when
/// fewer), so that the file is the same as one written from the frame.
fn batches(rows: usize) -> Vec<std::ops::Range<usize>> {
    let n = (rows / ROW_GROUP_ROWS).max(1);
    let size = rows / n;
    (0..n)
        .map(|k| k * size..if k + 1 == n { rows } else { (k + 1) * size })
        .collect()
}

/// A long table's file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TableFormat {
    /// As [`write_csv`] writes it.
    Csv,
    /// As [`write_parquet`] writes it.
    Parquet,
}

/// Writes `rows` to `path` a batch at a time, each batch's frame made by
/// `frame`: a table of millions of rows is never held whole as a frame
/// beside its rows. The file is the one [`write_csv`] or [`write_parquet`]
/// would write from the whole frame.
pub(crate) fn write_batched<R>(
    rows: &[R],
    frame: impl Fn(&[R]) -> PolarsResult<DataFrame>,
    format: TableFormat,
    path: &Path,
) -> Result<PathBuf, OutputError> {
    write_atomic(path, |w| {
        let text = |e: PolarsError| e.to_string();
        // An empty table is one empty batch: its header or schema.
        let mut batches = batches(rows.len()).into_iter().map(|r| &rows[r]);
        let first = frame(batches.next().unwrap_or(&[])).map_err(text)?;
        // The first frame, then each later batch's, one alive at a time.
        let mut each = |first: DataFrame, write: &mut dyn FnMut(&DataFrame) -> PolarsResult<()>| {
            write(&first)?;
            drop(first);
            batches.try_for_each(|batch| write(&frame(batch)?))
        };
        match format {
            TableFormat::Csv => {
                let mut out = CsvWriter::new(w)
                    .include_header(true)
                    .batched(first.schema())
                    .map_err(text)?;
                each(first, &mut |df| out.write_batch(df)).map_err(text)?;
                out.finish().map_err(text)
            }
            TableFormat::Parquet => {
                let mut out = ParquetWriter::new(w)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(first.schema())
                    .map_err(text)?;
                each(first, &mut |df| out.write_batch(df)).map_err(text)?;
                out.finish().map(|_| ()).map_err(text)
            }
        }
    })
}

/// Writes a frame as Parquet (zstd).
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<PathBuf, OutputError> {
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rows: &[(u32, String)]) -> PolarsResult<DataFrame> {
        DataFrame::new_infer_height(vec![
            column("n", rows, |r| r.0),
            text_column("text", rows, |r| &r.1),
            column("half", rows, |r| (r.0 % 2 == 0).then_some(r.0 as f64 / 3.0)),
        ])
    }

    /// The JSON written row by row is byte for byte what serde_json
    /// writes for the records built whole as values (a sorted map each):
    /// keys in name order, null for missing and non-finite numbers, text
    /// escaped.
    #[test]
    fn json_written_row_by_row_is_the_records_as_values() {
        let df = DataFrame::new_infer_height(vec![
            Column::new(
                "z_rate".into(),
                [
                    Some(0.1 + 0.2),
                    None,
                    Some(f64::NAN),
                    Some(f64::INFINITY),
                    Some(1e300),
                ],
            ),
            Column::new(
                "a_code".into(),
                [
                    Some("A81001"),
                    Some("quote \" and \\ and\nline"),
                    None,
                    Some(""),
                    Some("é"),
                ],
            ),
            Column::new(
                "m_count".into(),
                [Some(0u64), Some(u64::MAX), None, Some(7), Some(1)],
            ),
            Column::new(
                "b_ok".into(),
                [Some(true), Some(false), None, Some(true), Some(false)],
            ),
            Column::new(
                "n_int".into(),
                [Some(-3i64), Some(i64::MIN), None, Some(0), Some(5)],
            ),
        ])
        .unwrap();
        let mut records = Vec::new();
        for i in 0..df.height() {
            let mut record = serde_json::Map::new();
            for col in df.columns() {
                let v = match col.get(i).unwrap() {
                    AnyValue::Null => serde_json::Value::Null,
                    AnyValue::Boolean(b) => b.into(),
                    AnyValue::String(s) => s.into(),
                    AnyValue::UInt64(n) => n.into(),
                    AnyValue::Int64(n) => n.into(),
                    AnyValue::Float64(f) => serde_json::Number::from_f64(f)
                        .map_or(serde_json::Value::Null, serde_json::Value::Number),
                    other => panic!("{other:?}"),
                };
                record.insert(col.name().to_string(), v);
            }
            records.push(serde_json::Value::Object(record));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        write_json(&df, &path).unwrap();
        let written = std::fs::read(&path).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(serde_json::to_vec_pretty(&records).unwrap()).unwrap()
        );
    }

    #[test]
    fn batches_cover_every_row_once_in_order() {
        for rows in [
            0,
            1,
            5,
            ROW_GROUP_ROWS - 1,
            ROW_GROUP_ROWS,
            3 * ROW_GROUP_ROWS + 7,
        ] {
            let b = batches(rows);
            assert_eq!(b.len(), (rows / ROW_GROUP_ROWS).max(1));
            assert_eq!(b.first().map(|r| r.start), Some(0));
            assert_eq!(b.last().map(|r| r.end), Some(rows));
            assert!(b.windows(2).all(|w| w[0].end == w[1].start));
        }
    }

    /// Written a batch at a time, each file is byte for byte the one
    /// written from the whole frame, on both sides of the row-group size.
    #[test]
    fn batched_files_equal_whole_frame_files() {
        let dir = tempfile::tempdir().unwrap();
        for n in [0, 3, ROW_GROUP_ROWS, 2 * ROW_GROUP_ROWS + 1001] {
            let rows: Vec<(u32, String)> = (0..n as u32)
                .map(|i| (i.wrapping_mul(2654435761) % 1000, format!("u{}", i % 97)))
                .collect();
            let mut whole = frame(&rows).unwrap();
            for (format, name) in [
                (TableFormat::Csv, "t.csv"),
                (TableFormat::Parquet, "t.parquet"),
            ] {
                let (one, parts) = (
                    dir.path().join(format!("one-{name}")),
                    dir.path().join(name),
                );
                match format {
                    TableFormat::Csv => write_csv(&mut whole, &one),
                    TableFormat::Parquet => write_parquet(&mut whole, &one),
                }
                .unwrap();
                write_batched(&rows, frame, format, &parts).unwrap();
                let (a, b) = (std::fs::read(one).unwrap(), std::fs::read(parts).unwrap());
                assert!(a == b, "{name} differs at {n} rows");
            }
        }
    }
}
