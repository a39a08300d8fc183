//! Writes a run's outputs, one file per output, into one folder.
//!
//! Every file is written under a temporary name and renamed into place
//! when complete, so an interrupted run never leaves a file that looks
//! finished.

pub mod changes;
pub mod deciles;
pub mod focus;
pub mod html;
pub mod indicators;
pub mod measures;
pub mod rejected;
pub mod review_list;
pub mod summary;

use crate::aggregate::statistics::{P95, P998};
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

pub use crate::output::OutputError;
use crate::output::{
    column, file_names, polars_failure, with_sizes, write_atomic, write_batched, write_csv,
    write_folder, TableFormat,
};

use crate::aggregate::{Flag, UnitStats};
use crate::pipeline::audit::AuditRun;
use crate::spec::AuditSpec;

/// Options that shape the outputs.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The command line, recorded in the summary.
    pub command: String,
    /// Threads used.
    pub threads: usize,
    /// The run's data quality, for the summary and the report.
    pub quality: crate::pipeline::quality::DataQuality,
    /// Where the patient-level review list goes.
    pub review: ReviewPlacement,
    /// Also write a review pack per practice where the review list goes.
    pub review_packs: bool,
    /// The localities `report.html` is about (`--focus`); the tables
    /// stay complete.
    pub focus: Option<focus::Focus>,
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

    /// Where the review packs went, in words; `None` when withheld.
    pub fn describe_packs(&self) -> Option<String> {
        let folder = html::review_pack::FOLDER;
        match self {
            ReviewPlacement::Beside => Some(format!("{folder}/ in the output folder")),
            ReviewPlacement::Folder(d) => Some(d.join(folder).display().to_string()),
            ReviewPlacement::Withheld => None,
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
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = write_folder(out, |stage| write_files(run, spec, stage, info))?;
    if let ReviewPlacement::Folder(dir) = &info.review {
        written.extend(write_folder(dir, |stage| {
            let mut review = review_list::frame(run, spec).map_err(|e| polars_failure(stage, e))?;
            let path = write_csv(&mut review, &stage.join(review_list::FILE))?;
            let mut names = file_names(&[path]);
            if info.review_packs {
                names.extend(write_review_packs(run, spec, stage)?);
            }
            Ok(names)
        })?);
    }
    Ok(written)
}

/// Writes a review pack per practice with flagged patients, and their
/// index, into `dir/review_packs`; returns their names relative to `dir`.
fn write_review_packs(
    run: &AuditRun,
    spec: &AuditSpec,
    dir: &Path,
) -> Result<Vec<String>, OutputError> {
    use html::review_pack::{self, FOLDER, INDEX};
    let folder = dir.join(FOLDER);
    std::fs::create_dir_all(&folder).map_err(|e| OutputError::Write {
        path: folder.clone(),
        message: e.to_string(),
    })?;
    let packs = review_pack::render(run, spec);
    let mut names = Vec::with_capacity(packs.len() + 1);
    let mut put = |name: String, text: &str| {
        write_atomic(&folder.join(&name), |w| {
            w.write_all(text.as_bytes()).map_err(|e| e.to_string())
        })?;
        names.push(format!("{FOLDER}/{name}"));
        Ok::<(), OutputError>(())
    };
    put(INDEX.to_string(), &review_pack::index(run, &packs))?;
    for p in &packs {
        put(p.file.clone(), &p.html)?;
    }
    Ok(names)
}

/// Writes every file into `dir`; returns their names.
fn write_files(
    run: &AuditRun,
    spec: &AuditSpec,
    dir: &Path,
    info: &RunInfo,
) -> Result<Vec<String>, OutputError> {
    // The page is drawn while the tables are written.
    let beside = info.review == ReviewPlacement::Beside;
    let (page, tables) = rayon::join(
        || html::render(run, spec, &info.quality, info.focus.as_ref()),
        || write_tables(run, spec, dir, beside),
    );
    let mut written = tables?;
    let mut packs = Vec::new();
    if beside && info.review_packs {
        packs = write_review_packs(run, spec, dir)?;
    }
    let page = page.map_err(|message| OutputError::Write {
        path: dir.join(html::FILE),
        message,
    })?;
    written.push(write_atomic(&dir.join(html::FILE), |w| {
        w.write_all(page.as_bytes()).map_err(|e| e.to_string())
    })?);
    let mut names = file_names(&written);
    names.extend(packs);
    let summary = summary::build(run, spec, info, with_sizes(dir, &names));
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| OutputError::Write {
        path: dir.join(summary::FILE),
        message: e.to_string(),
    })?;
    write_atomic(&dir.join(summary::FILE), |w| {
        w.write_all(&json).map_err(|e| e.to_string())
    })?;
    names.push(summary::FILE.to_string());
    Ok(names)
}

/// Writes the tables: indicators (CSV and Parquet), changes, deciles, the
/// review list (when it goes `beside` them) and the rejected rows; returns
/// their paths in that order.
fn write_tables(
    run: &AuditRun,
    spec: &AuditSpec,
    dir: &Path,
    beside: bool,
) -> Result<Vec<PathBuf>, OutputError> {
    let mut written = Vec::new();
    for (format, name) in [
        (TableFormat::Csv, indicators::CSV),
        (TableFormat::Parquet, indicators::PARQUET),
    ] {
        written.push(write_batched(
            &run.rows,
            indicators::frame,
            format,
            &dir.join(name),
        )?);
    }
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

/// The statistics columns every aggregate table shares, from `rate` (named
/// `rate_name`) to `tau2`; rates and limits multiplied by `scale`.
pub(crate) fn stat_columns<R>(
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
        column("funnel_low_95", rows, limit(|s| s.funnel[P95], false)),
        column("funnel_high_95", rows, limit(|s| s.funnel[P95], true)),
        column("funnel_low_998", rows, limit(|s| s.funnel[P998], false)),
        column("funnel_high_998", rows, limit(|s| s.funnel[P998], true)),
        column(
            "adjusted_low_95",
            rows,
            limit(|s| s.funnel_adjusted[P95], false),
        ),
        column(
            "adjusted_high_95",
            rows,
            limit(|s| s.funnel_adjusted[P95], true),
        ),
        column(
            "adjusted_low_998",
            rows,
            limit(|s| s.funnel_adjusted[P998], false),
        ),
        column(
            "adjusted_high_998",
            rows,
            limit(|s| s.funnel_adjusted[P998], true),
        ),
        column("flag_95", rows, flag(|s| s.flag[P95])),
        column("flag_998", rows, flag(|s| s.flag[P998])),
        column("flag_adjusted_95", rows, flag(|s| s.flag_adjusted[P95])),
        column("flag_adjusted_998", rows, flag(|s| s.flag_adjusted[P998])),
        column("phi", rows, move |x| stats(x).phi),
        column("tau2", rows, move |x| stats(x).tau2),
    ]
}
