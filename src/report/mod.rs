//! Writes a run's outputs, one file per output, into one folder.
//!
//! Every file is written under a temporary name and renamed into place
//! when complete, so an interrupted run never leaves a file that looks
//! finished.

pub mod changes;
pub mod deciles;
pub mod html;
pub mod indicators;
pub mod rejected;
pub mod review_list;
pub mod summary;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::audit::AuditRun;
use crate::spec::AuditSpec;

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file could not be created or written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Options that shape the outputs.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The command line, recorded in the summary.
    pub command: String,
    /// Threads used.
    pub threads: usize,
}

/// Writes every output of a run into `out`; returns the files written.
pub fn write_all(
    run: &AuditRun,
    spec: &AuditSpec,
    out: &Path,
    info: &RunInfo,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out).map_err(|e| ReportError::Write {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut written = Vec::new();
    let mut table = indicators::frame(run).map_err(|e| polars_failure(out, e))?;
    written.push(write_csv(&mut table, &out.join(indicators::CSV))?);
    written.push(write_parquet(&mut table, &out.join(indicators::PARQUET))?);
    if run.dates.len() > 1 {
        let mut changes = changes::frame(&run.changes).map_err(|e| polars_failure(out, e))?;
        written.push(write_csv(&mut changes, &out.join(changes::FILE))?);
    }
    let mut deciles = deciles::frame(&run.deciles).map_err(|e| polars_failure(out, e))?;
    written.push(write_csv(&mut deciles, &out.join(deciles::FILE))?);
    let mut review = review_list::frame(run, spec).map_err(|e| polars_failure(out, e))?;
    written.push(write_csv(&mut review, &out.join(review_list::FILE))?);
    if let Some(mut rejected) = rejected::frame(run).map_err(|e| polars_failure(out, e))? {
        written.push(write_csv(&mut rejected, &out.join(rejected::FILE))?);
    }
    let page = html::render(run, spec).map_err(|message| ReportError::Write {
        path: out.join(html::FILE),
        message,
    })?;
    written.push(write_atomic(&out.join(html::FILE), |w| {
        w.write_all(page.as_bytes()).map_err(|e| e.to_string())
    })?);
    let summary = summary::build(run, spec, info, &written);
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| ReportError::Write {
        path: out.join(summary::FILE),
        message: e.to_string(),
    })?;
    written.push(write_atomic(&out.join(summary::FILE), |w| {
        w.write_all(&json).map_err(|e| e.to_string())
    })?);
    Ok(written)
}

/// A named column from a value per row.
pub fn column<R, T, F>(name: &str, rows: &[R], f: F) -> Column
where
    F: Fn(&R) -> T,
    Series: NamedFrom<Vec<T>, [T]>,
{
    Column::new(name.into(), rows.iter().map(f).collect::<Vec<T>>())
}

fn polars_failure(out: &Path, e: PolarsError) -> ReportError {
    ReportError::Write {
        path: out.to_path_buf(),
        message: e.to_string(),
    }
}

/// Writes through `f` to `path.tmp`, then renames to `path`.
pub fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> Result<(), String>,
) -> Result<PathBuf, ReportError> {
    let fail = |message: String| ReportError::Write {
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
pub fn write_csv(df: &mut DataFrame, path: &Path) -> Result<PathBuf, ReportError> {
    write_atomic(path, |w| {
        CsvWriter::new(w)
            .include_header(true)
            .finish(df)
            .map_err(|e| e.to_string())
    })
}

/// Writes a frame as Parquet (zstd).
pub fn write_parquet(df: &mut DataFrame, path: &Path) -> Result<PathBuf, ReportError> {
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(df)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}
