//! Writes a run's outputs, one file per output, into one folder.
//!
//! Every file is written under a temporary name and renamed into place
//! when complete, so an interrupted run never leaves a file that looks
//! finished.

pub mod changes;
pub mod deciles;
pub mod html;
pub mod indicators;
pub mod measures;
pub mod rejected;
pub mod review_list;
pub mod summary;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::aggregate::{Flag, UnitStats};
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
    /// The run's data quality, for the summary and the report.
    pub quality: crate::audit::quality::DataQuality,
    /// Where the patient-level review list goes.
    pub review: ReviewPlacement,
}

/// Where the patient-level review list is written. Under disclosure
/// control the output folder is for publication, so the list goes only to
/// a folder the user names, or nowhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ReviewPlacement {
    /// In the output folder, beside the aggregate tables.
    #[default]
    Beside,
    /// In a folder of its own.
    Folder(PathBuf),
    /// Not written (disclosure control without a review folder).
    Withheld,
}

impl ReviewPlacement {
    /// Where the review list went, in words, for the summary and the run.
    pub fn describe(&self) -> String {
        match self {
            ReviewPlacement::Beside => format!("{} in the output folder", review_list::FILE),
            ReviewPlacement::Folder(d) => d.join(review_list::FILE).display().to_string(),
            ReviewPlacement::Withheld => "not written: disclosure control is on, so patient-level data go only to a folder named with --review-out".to_string(),
        }
    }
}

/// Writes every output of a run into `out`; returns the files written.
///
/// The files are written into a staging folder beside `out` and the folder
/// is renamed into place only when every file is complete, so a crash or a
/// full disk never leaves a folder that looks finished. An existing `out`
/// is replaced (the caller decides whether that is allowed).
pub fn write_all(
    run: &AuditRun,
    spec: &AuditSpec,
    out: &Path,
    info: &RunInfo,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = write_folder(out, |stage| write_files(run, spec, stage, info))?;
    if let ReviewPlacement::Folder(dir) = &info.review {
        written.extend(write_folder(dir, |stage| {
            let mut review = review_list::frame(run, spec).map_err(|e| polars_failure(stage, e))?;
            let path = write_csv(&mut review, &stage.join(review_list::FILE))?;
            Ok(file_names(&[path]))
        })?);
    }
    Ok(written)
}

/// Writes a folder of outputs through `write` (which fills the staging
/// folder it is given and returns the file names), then renames the
/// staging folder to `out`, replacing an existing one.
pub fn write_folder(
    out: &Path,
    write: impl FnOnce(&Path) -> Result<Vec<String>, ReportError>,
) -> Result<Vec<PathBuf>, ReportError> {
    let fail = |path: &Path, e: std::io::Error| ReportError::Write {
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

/// Writes every file into `dir`; returns their names.
fn write_files(
    run: &AuditRun,
    spec: &AuditSpec,
    dir: &Path,
    info: &RunInfo,
) -> Result<Vec<String>, ReportError> {
    // The page is drawn while the tables are written.
    let beside = info.review == ReviewPlacement::Beside;
    let (page, tables) = rayon::join(
        || html::render(run, spec, &info.quality),
        || write_tables(run, spec, dir, beside),
    );
    let mut written = tables?;
    let page = page.map_err(|message| ReportError::Write {
        path: dir.join(html::FILE),
        message,
    })?;
    written.push(write_atomic(&dir.join(html::FILE), |w| {
        w.write_all(page.as_bytes()).map_err(|e| e.to_string())
    })?);
    let summary = summary::build(run, spec, info, &written);
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| ReportError::Write {
        path: dir.join(summary::FILE),
        message: e.to_string(),
    })?;
    written.push(write_atomic(&dir.join(summary::FILE), |w| {
        w.write_all(&json).map_err(|e| e.to_string())
    })?);
    Ok(file_names(&written))
}

/// Writes the tables: indicators (CSV and Parquet), changes, deciles, the
/// review list (when it goes `beside` them) and the rejected rows; returns
/// their paths in that order.
fn write_tables(
    run: &AuditRun,
    spec: &AuditSpec,
    dir: &Path,
    beside: bool,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    let mut table = indicators::frame(run).map_err(|e| polars_failure(dir, e))?;
    written.push(write_csv(&mut table, &dir.join(indicators::CSV))?);
    written.push(write_parquet(&mut table, &dir.join(indicators::PARQUET))?);
    if run.dates.len() > 1 {
        let mut changes = changes::frame(&run.changes).map_err(|e| polars_failure(dir, e))?;
        written.push(write_csv(&mut changes, &dir.join(changes::FILE))?);
    }
    let mut deciles = deciles::frame(&run.deciles).map_err(|e| polars_failure(dir, e))?;
    written.push(write_csv(&mut deciles, &dir.join(deciles::FILE))?);
    if beside {
        let mut review = review_list::frame(run, spec).map_err(|e| polars_failure(dir, e))?;
        written.push(write_csv(&mut review, &dir.join(review_list::FILE))?);
    }
    if let Some(mut rejected) = rejected::frame(run).map_err(|e| polars_failure(dir, e))? {
        written.push(write_csv(&mut rejected, &dir.join(rejected::FILE))?);
    }
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

/// Writes a frame as a JSON array of objects, one per row (null for a
/// missing or non-finite value).
pub fn write_json(df: &DataFrame, path: &Path) -> Result<PathBuf, ReportError> {
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
    let bytes = serde_json::to_vec_pretty(&records).map_err(|e| ReportError::Write {
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

/// The statistics columns every aggregate table shares, from `rate` (named
/// `rate_name`) to `tau2`; rates and limits multiplied by `scale`.
pub fn stat_columns<R>(
    rows: &[R],
    rate_name: &str,
    stats: impl Fn(&R) -> &UnitStats + Copy,
    scale: impl Fn(&R) -> f64 + Copy,
) -> Vec<Column> {
    let scaled = |f: fn(&UnitStats) -> Option<f64>| move |x: &R| f(stats(x)).map(|v| v * scale(x));
    let limit = |f: fn(&UnitStats) -> Option<(f64, f64)>, hi: bool| {
        move |x: &R| f(stats(x)).map(|(l, h)| scale(x) * if hi { h } else { l })
    };
    let flag = |f: fn(&UnitStats) -> Option<Flag>| move |x: &R| f(stats(x)).map(|v| v.as_str());
    vec![
        column(rate_name, rows, scaled(|s| s.rate)),
        column("ci_low", rows, scaled(|s| s.ci_low)),
        column("ci_high", rows, scaled(|s| s.ci_high)),
        column("percentile_rank", rows, move |x| stats(x).percentile_rank),
        column("z_score", rows, move |x| stats(x).z_score),
        column("funnel_low_95", rows, limit(|s| s.funnel[0], false)),
        column("funnel_high_95", rows, limit(|s| s.funnel[0], true)),
        column("funnel_low_998", rows, limit(|s| s.funnel[1], false)),
        column("funnel_high_998", rows, limit(|s| s.funnel[1], true)),
        column(
            "adjusted_low_95",
            rows,
            limit(|s| s.funnel_adjusted[0], false),
        ),
        column(
            "adjusted_high_95",
            rows,
            limit(|s| s.funnel_adjusted[0], true),
        ),
        column(
            "adjusted_low_998",
            rows,
            limit(|s| s.funnel_adjusted[1], false),
        ),
        column(
            "adjusted_high_998",
            rows,
            limit(|s| s.funnel_adjusted[1], true),
        ),
        column("flag_95", rows, flag(|s| s.flag[0])),
        column("flag_998", rows, flag(|s| s.flag[1])),
        column("flag_adjusted_95", rows, flag(|s| s.flag_adjusted[0])),
        column("flag_adjusted_998", rows, flag(|s| s.flag_adjusted[1])),
        column("phi", rows, move |x| stats(x).phi),
        column("tau2", rows, move |x| stats(x).tau2),
    ]
}

/// The file names of written paths.
pub fn file_names(written: &[PathBuf]) -> Vec<String> {
    written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
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
