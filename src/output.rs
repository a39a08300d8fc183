//! Writing files so that nothing half-written looks finished: each file
//! goes to a temporary name and is renamed when complete, and a folder of
//! outputs is staged beside its place and renamed in whole. Knows frames
//! and bytes, no domain type: the report and the partial format both use it.

use std::fs::File;
use std::io::{BufWriter, Write};
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

/// Writes a frame as a JSON array of objects, one per row (null for a
/// missing or non-finite value).
pub(crate) fn write_json(df: &DataFrame, path: &Path) -> Result<PathBuf, OutputError> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut records = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut record = serde_json::Map::new();
        for (name, col) in names.iter().zip(df.columns()) {
            let v = col.get(i).map_err(|e| polars_failure(path, e))?;
            record.insert(name.clone(), json_value(v));
        }
        records.push(serde_json::Value::Object(record));
    }
    let bytes = serde_json::to_vec_pretty(&records).map_err(|e| OutputError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_atomic(path, |w| w.write_all(&bytes).map_err(|e| e.to_string()))
}

fn json_value(v: AnyValue) -> serde_json::Value {
    use serde_json::Value;
    match v {
        AnyValue::Null => Value::Null,
        AnyValue::Boolean(b) => Value::Bool(b),
        AnyValue::String(s) => Value::String(s.to_string()),
        AnyValue::StringOwned(s) => Value::String(s.to_string()),
        AnyValue::UInt32(n) => n.into(),
        AnyValue::UInt64(n) => n.into(),
        AnyValue::Int32(n) => n.into(),
        AnyValue::Int64(n) => n.into(),
        AnyValue::Float64(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        other => Value::String(other.to_string()),
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
