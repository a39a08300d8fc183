//! The outputs of `stomp-audit measures`: `measures.csv`, `.parquet` and
//! `.json` (one row per month x measure x level x unit, values on the
//! measure's display scale), `measure_deciles.csv`, `measure_changes.csv`
//! (with more than one month), `rejected_rows.csv`, `summary.json` and
//! `report.html`. Public prescribing data has no patients, so nothing here
//! is patient-level.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use super::{stat_columns, RunInfo};
use crate::output::{
    column, file_names, polars_failure, with_sizes, write_atomic, write_csv, write_folder,
    write_json, write_parquet, OutputError,
};
use crate::pipeline::measures::roll_up::{model, MeasureChange, MeasureDeciles, MeasureRow};
use crate::pipeline::measures::MeasuresRun;
use crate::spec::Measure;

/// The measures table (CSV).
pub const CSV: &str = "measures.csv";
/// The measures table (Parquet).
pub(crate) const PARQUET: &str = "measures.parquet";
/// The measures table (JSON).
pub(crate) const JSON: &str = "measures.json";
/// National deciles of practice values.
pub(crate) const DECILES: &str = "measure_deciles.csv";
/// Change from the first month to the last.
pub(crate) const CHANGES: &str = "measure_changes.csv";
/// The run summary.
pub(crate) const SUMMARY: &str = "summary.json";

fn measure<'a>(run: &'a MeasuresRun, id: &str) -> Option<&'a Measure> {
    run.measures.iter().find(|m| m.id == id)
}

/// The measures table as a frame; rates and limits on the display scale.
pub(crate) fn frame(run: &MeasuresRun) -> PolarsResult<DataFrame> {
    let r = &run.rows;
    let per = |x: &MeasureRow| measure(run, &x.measure_id).map_or(1.0, |m| m.per);
    let mut columns = vec![
        column("month", r, |x| x.month.to_string()),
        column("measure_id", r, |x| x.measure_id.clone()),
        column("measure_title", r, |x| {
            measure(run, &x.measure_id).map_or(String::new(), |m| m.title.clone())
        }),
        column("level", r, |x| x.level.as_str()),
        column("unit_code", r, |x| x.unit_code.clone()),
        column("unit_name", r, |x| x.unit_name.clone()),
        column("numerator", r, |x| x.numerator),
        column("denominator", r, |x| x.denominator),
        column("per", r, per),
    ];
    columns.extend(stat_columns(r, "value", |x: &MeasureRow| &x.stats, per));
    columns.push(column("model", r, |x| {
        measure(run, &x.measure_id).map_or("", |m| model(m).as_str())
    }));
    DataFrame::new_infer_height(columns)
}

/// The deciles in long form, on the display scale.
pub(crate) fn deciles_frame(run: &MeasuresRun, rows: &[MeasureDeciles]) -> PolarsResult<DataFrame> {
    let long: Vec<(&MeasureDeciles, usize, f64)> = rows
        .iter()
        .flat_map(|r| {
            let per = measure(run, &r.measure_id).map_or(1.0, |m| m.per);
            (0..9).map(move |k| (r, k, per))
        })
        .collect();
    DataFrame::new_infer_height(vec![
        column("month", &long, |(r, _, _)| r.month.to_string()),
        column("measure_id", &long, |(r, _, _)| r.measure_id.clone()),
        column("percentile", &long, |(_, k, _)| (10 * (k + 1)) as u32),
        column("practice_value", &long, |(r, k, per)| r.deciles[*k] * per),
    ])
}

/// The changes, on the display scale.
pub(crate) fn changes_frame(run: &MeasuresRun, rows: &[MeasureChange]) -> PolarsResult<DataFrame> {
    let per = |c: &MeasureChange| measure(run, &c.measure_id).map_or(1.0, |m| m.per);
    let value = |(n, d): (f64, f64)| (d > 0.0).then(|| n / d);
    DataFrame::new_infer_height(vec![
        column("measure_id", rows, |c| c.measure_id.clone()),
        column("level", rows, |c| c.level.as_str()),
        column("unit_code", rows, |c| c.unit_code.clone()),
        column("unit_name", rows, |c| c.unit_name.clone()),
        column("baseline_month", rows, |c| c.baseline.0.to_string()),
        column("baseline_numerator", rows, |c| c.baseline.1),
        column("baseline_denominator", rows, |c| c.baseline.2),
        column("baseline_value", rows, |c| {
            value((c.baseline.1, c.baseline.2)).map(|v| v * per(c))
        }),
        column("current_month", rows, |c| c.current.0.to_string()),
        column("current_numerator", rows, |c| c.current.1),
        column("current_denominator", rows, |c| c.current.2),
        column("current_value", rows, |c| {
            value((c.current.1, c.current.2)).map(|v| v * per(c))
        }),
        column("difference", rows, |c| c.difference.map(|d| d.0 * per(c))),
        column("difference_low", rows, |c| {
            c.difference.map(|d| d.1 * per(c))
        }),
        column("difference_high", rows, |c| {
            c.difference.map(|d| d.2 * per(c))
        }),
        column("significant", rows, |c| c.significant),
    ])
}

/// `summary.json`: what was read, what became of every row, what was
/// computed and written.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Engine name and version.
    pub engine: String,
    /// The command line.
    pub command: String,
    /// Threads used.
    pub threads: usize,
    /// The spec's name, version, origin and checksum.
    pub spec: super::summary::SpecInfo,
    /// Months with units.
    pub months: Vec<String>,
    /// The measures and their definitions.
    pub measures: Vec<MeasureInfo>,
    /// Measures left out for some months, and why.
    pub skipped: Vec<SkippedInfo>,
    /// Where the localities came from.
    pub hierarchy_source: String,
    /// Practices that are units (any month).
    pub practices: usize,
    /// Practices not in the given practices file (placed under UNKNOWN).
    pub practices_not_listed: usize,
    /// Every input with its layout and row account.
    pub inputs: Vec<super::summary::InputSummary>,
    /// Rows that matched a measure and were summed.
    pub rows_summed: u64,
    /// Distinct (month, practice, presentation) they folded into.
    pub presentations: u64,
    /// Summed rows with an empty ADQ value (counted as 0).
    pub adq_missing: u64,
    /// Distinct BNF codes read, and how many matched a measure.
    pub bnf_codes: (u64, u64),
    /// Prescribing outside GP practices, left out: code, rows, items.
    pub not_practices: Vec<(String, u64, f64)>,
    /// Practices with measure rows but no list size: month, code, rows, items.
    pub without_list_size: Vec<(String, String, u64, f64)>,
    /// Presentations a measure in defined daily doses could not convert:
    /// BNF code, name, quantity left out.
    pub ddd_unknown: Vec<(String, String, f64)>,
    /// The files written.
    pub outputs: Vec<crate::output::WrittenFile>,
    /// Seconds per stage: inputs, prescribing, statistics, and outputs
    /// (every file but this summary).
    pub timings_seconds: BTreeMap<String, f64>,
}

/// One measure in the summary.
#[derive(Debug, Serialize)]
pub struct MeasureInfo {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Numerator in words.
    pub numerator: String,
    /// Denominator in words.
    pub denominator: String,
    /// Display scale.
    pub per: f64,
    /// `poisson` or `binomial`.
    pub model: &'static str,
    /// The spec's note.
    pub note: Option<String>,
}

/// A skipped measure in the summary.
#[derive(Debug, Serialize)]
pub struct SkippedInfo {
    /// Measure id.
    pub measure_id: String,
    /// Months left out.
    pub months: Vec<String>,
    /// Why.
    pub reason: String,
}

/// Builds the summary.
pub fn summary(
    run: &MeasuresRun,
    spec: &crate::spec::AuditSpec,
    info: &RunInfo,
    written: Vec<crate::output::WrittenFile>,
    outputs_seconds: f64,
) -> Summary {
    Summary {
        engine: format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
        command: info.command.clone(),
        threads: info.threads,
        spec: super::summary::spec_info(spec),
        months: run.months.iter().map(|m| m.to_string()).collect(),
        measures: run
            .measures
            .iter()
            .map(|m| MeasureInfo {
                id: m.id.clone(),
                title: m.title.clone(),
                numerator: m.numerator_text(),
                denominator: m.denominator_text(),
                per: m.per,
                model: model(m).as_str(),
                note: m.note.clone(),
            })
            .collect(),
        skipped: run
            .skipped
            .iter()
            .map(|s| SkippedInfo {
                measure_id: s.measure_id.clone(),
                months: s.months.iter().map(|m| m.to_string()).collect(),
                reason: s.reason.clone(),
            })
            .collect(),
        hierarchy_source: run.hierarchy_source.clone(),
        practices: run.practices.list.len(),
        practices_not_listed: run.practices.unlisted_count(),
        inputs: run
            .inputs
            .iter()
            .map(|i| super::summary::InputSummary::of(&i.file, &i.tally.account, i.layout))
            .collect(),
        rows_summed: run.fold.rows_summed,
        presentations: run.fold.presentations,
        adq_missing: run.fold.adq_missing,
        bnf_codes: run.fold.bnf_codes,
        not_practices: run
            .fold
            .not_practices
            .iter()
            .map(|(c, o)| (c.clone(), o.rows, o.items))
            .collect(),
        without_list_size: run
            .fold
            .without_list_size
            .iter()
            .map(|((m, c), o)| (m.to_string(), c.clone(), o.rows, o.items))
            .collect(),
        ddd_unknown: run
            .fold
            .ddd_unknown
            .iter()
            .map(|(c, (n, q))| (c.clone(), n.clone(), *q))
            .collect(),
        outputs: written,
        timings_seconds: run
            .timings
            .iter()
            .map(|&(stage, secs)| (stage.to_string(), secs))
            .chain([("outputs".to_string(), outputs_seconds)])
            .collect(),
    }
}

/// Writes every output into `out` (staged, then renamed into place).
pub fn write_all(
    run: &MeasuresRun,
    spec: &crate::spec::AuditSpec,
    out: &Path,
    info: &RunInfo,
) -> Result<Vec<PathBuf>, OutputError> {
    let clock = std::time::Instant::now();
    write_folder(out, |dir| {
        let fail = |e| polars_failure(dir, e);
        let mut written = Vec::new();
        let mut table = frame(run).map_err(fail)?;
        written.push(write_csv(&mut table, &dir.join(CSV))?);
        written.push(write_parquet(&mut table, &dir.join(PARQUET))?);
        written.push(write_json(&table, &dir.join(JSON))?);
        let mut dec = deciles_frame(run, &run.deciles).map_err(fail)?;
        written.push(write_csv(&mut dec, &dir.join(DECILES))?);
        if run.months.len() > 1 {
            let mut ch = changes_frame(run, &run.changes).map_err(fail)?;
            written.push(write_csv(&mut ch, &dir.join(CHANGES))?);
        }
        let rejected =
            super::rejected::frame_of(run.inputs.iter().map(|i| (i.file.path.as_path(), &i.tally)))
                .map_err(fail)?;
        if let Some(mut rejected) = rejected {
            written.push(write_csv(&mut rejected, &dir.join(super::rejected::FILE))?);
        }
        let page =
            super::html::measures::render(run, spec, info.focus.as_ref()).map_err(|message| {
                OutputError::Write {
                    path: dir.join(super::html::FILE),
                    message,
                }
            })?;
        written.push(write_atomic(&dir.join(super::html::FILE), |w| {
            w.write_all(page.as_bytes()).map_err(|e| e.to_string())
        })?);
        let seconds = clock.elapsed().as_secs_f64();
        let s = summary(
            run,
            spec,
            info,
            with_sizes(dir, &file_names(&written)),
            seconds,
        );
        let json = serde_json::to_vec_pretty(&s).map_err(|e| OutputError::Write {
            path: dir.join(SUMMARY),
            message: e.to_string(),
        })?;
        written.push(write_atomic(&dir.join(SUMMARY), |w| {
            w.write_all(&json).map_err(|e| e.to_string())
        })?);
        Ok(file_names(&written))
    })
}
