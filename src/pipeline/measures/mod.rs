//! Practice-level measures from public prescribing data (the NHSBSA
//! English Prescribing Dataset and its HSCIC predecessor): read the list
//! sizes, stream each prescribing file, classify every distinct BNF code
//! once, add up the rows split by pack size per practice, month and
//! presentation, then form each measure's numerator and denominator per
//! practice and month and roll them up the hierarchy.

mod fold;
pub mod roll_up;

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::date::Month;
use crate::ingest::accounting::Tally;
use crate::ingest::list_sizes::ListSizes;
use crate::ingest::locality::Scope;
use crate::ingest::mapping::TableMapping;
use crate::ingest::ods;
use crate::ingest::practices::Practices;
use crate::ingest::prescribing::{self, LayoutError};
use crate::ingest::provenance::{checksum, ChecksumError, InputFile};
use crate::ingest::source::{SourceError, TableSource};
use crate::ingest::table::TableKind;
use crate::spec::Measure;
pub(crate) use fold::level_unknown;
pub use fold::{FoldSummary, Outside, Values};
use roll_up::{changes, deciles, roll_up, MeasureChange, MeasureDeciles, MeasureRow};

/// Why the measures could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum MeasuresError {
    /// An input file could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A prescribing file is in no known layout.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A file could not be checksummed.
    #[error(transparent)]
    Checksum(#[from] ChecksumError),
    /// The spec has no measures.
    #[error("the spec defines no [[measures]]")]
    NoMeasures,
    /// No practice had both prescribing and a list size.
    #[error("no practice has both prescribing rows and a list size for the same month (prescribing months: {prescribing}; list-size months: {list_sizes})\n  hint: give the list-size file published at the start of each prescribing month")]
    NoUnits {
        /// Months found in the prescribing files.
        prescribing: String,
        /// Months found in the list-size files.
        list_sizes: String,
    },
}

/// What to compute.
#[derive(Clone, Debug)]
pub struct MeasuresConfig {
    /// Prescribing files (CSV, CSV.gz or Parquet), any published layout.
    pub prescribing: Vec<PathBuf>,
    /// List-size files.
    pub list_sizes: Vec<PathBuf>,
    /// A practices table (the extract's layout) or an ODS epraccur file.
    pub practices: Option<PathBuf>,
    /// An ODS eccg file naming the sub-ICB locations of an epraccur file.
    pub ccgs: Option<PathBuf>,
    /// Rows per streamed batch.
    pub batch_rows: usize,
    /// Decode only the rows a measure may need of Parquet prescribing
    /// files (the same results, faster); off for comparison.
    pub pushdown: bool,
    /// What the top level stands for: England, or all practices in the files.
    pub scope: Scope,
}

/// One input file as read, with the fate of its rows.
#[derive(Clone, Debug)]
pub struct MeasureInput {
    /// The file, its checksum and size.
    pub file: InputFile,
    /// The prescribing layout found (prescribing files only).
    pub layout: Option<&'static str>,
    /// Its rows' fates.
    pub tally: Tally,
}

/// A measure left out for some months, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// Measure id.
    pub measure_id: String,
    /// The months left out.
    pub months: Vec<Month>,
    /// Why.
    pub reason: String,
}

/// Everything one measures run produced.
pub struct MeasuresRun {
    /// The months with at least one practice, ascending.
    pub months: Vec<Month>,
    /// The measures, in spec order.
    pub measures: Vec<Measure>,
    /// Measures left out for some months (ADQ measures on layouts without ADQ).
    pub skipped: Vec<Skipped>,
    /// The practices that are units, with their localities.
    pub practices: Practices,
    /// Where the localities came from.
    pub hierarchy_source: String,
    /// The aggregate rows.
    pub rows: Vec<MeasureRow>,
    /// Change from the first month to the last, per unit.
    pub changes: Vec<MeasureChange>,
    /// National deciles of practice values per month and measure.
    pub deciles: Vec<MeasureDeciles>,
    /// The inputs in the order read.
    pub inputs: Vec<MeasureInput>,
    /// What the fold saw: rows, presentations, prescribers outside practices.
    pub fold: FoldSummary,
    /// Seconds per stage: the reference inputs, the prescribing files,
    /// the statistics (for operators to see where a run's time goes).
    pub timings: Vec<(&'static str, f64)>,
}

/// Reads the inputs and computes every measure.
pub fn run(measures: &[Measure], config: &MeasuresConfig) -> Result<MeasuresRun, MeasuresError> {
    if measures.is_empty() {
        return Err(MeasuresError::NoMeasures);
    }
    let mut timings = Vec::new();
    let clock = std::time::Instant::now();
    let mut inputs = Vec::new();
    let record = |path: &PathBuf,
                  table,
                  layout,
                  tally,
                  sum: Option<(String, u64)>|
     -> Result<MeasureInput, MeasuresError> {
        let (sha256, bytes) = match sum {
            Some(sum) => sum,
            None => checksum(path)?,
        };
        Ok(MeasureInput {
            file: InputFile {
                table,
                path: path.clone(),
                sha256,
                bytes,
            },
            layout,
            tally,
        })
    };

    let mut lists = ListSizes::default();
    for path in &config.list_sizes {
        let mut tally = Tally::default();
        lists.load(path, &mut tally)?;
        inputs.push(record(path, TableKind::ListSizes, None, tally, None)?);
    }

    let (listed, other_settings, hierarchy_source) = match &config.practices {
        Some(path) => {
            let mut tally = Tally::default();
            let (practices, other) = if ods::is_ods_file(path) {
                let o = ods::load(path, config.ccgs.as_deref(), &mut tally)?;
                (o.practices, o.other_settings)
            } else {
                let source = TableSource::file(TableKind::Practices, path, TableMapping::default());
                (Practices::load(&source, &mut tally)?, Default::default())
            };
            inputs.push(record(path, TableKind::Practices, None, tally, None)?);
            (Some(practices), other, format!("{}", path.display()))
        }
        None => (
            None,
            Default::default(),
            "the prescribing files' own columns".to_string(),
        ),
    };

    timings.push(("inputs", clock.elapsed().as_secs_f64()));
    let clock = std::time::Instant::now();
    let mut folder = fold::Folder::new(measures, &lists, &other_settings);
    for path in &config.prescribing {
        let file = prescribing::open(path)?;
        let (tally, sum) = folder.read(&file, config.batch_rows.max(1), config.pushdown)?;
        inputs.push(record(
            path,
            TableKind::Prescribing,
            Some(file.layout.as_str()),
            tally,
            sum,
        )?);
    }
    let (values, summary, hierarchy) = folder.finish();
    timings.push(("prescribing", clock.elapsed().as_secs_f64()));
    let clock = std::time::Instant::now();
    if values.units.is_empty() {
        let join = |m: Vec<Month>| {
            m.iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(MeasuresError::NoUnits {
            prescribing: join(summary.months.iter().copied().collect()),
            list_sizes: join(lists.months()),
        });
    }

    let mut practices = fold::practices_of(&values, listed.as_ref(), &hierarchy);
    practices.set_scope(config.scope);
    let months: Vec<Month> = values
        .units
        .keys()
        .map(|(m, _)| *m)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let skipped: Vec<Skipped> = measures
        .iter()
        .filter(|m| m.needs_adq() && !summary.months_without_adq.is_empty())
        .map(|m| Skipped {
            measure_id: m.id.clone(),
            months: summary.months_without_adq.iter().copied().collect(),
            reason: "the prescribing file for these months has no ADQ column (HSCIC layout)".into(),
        })
        .collect();
    let rows = roll_up(
        &values,
        &practices,
        measures,
        &months,
        &summary.months_without_adq,
    );
    let changes = changes(&rows, measures, &months);
    let deciles = deciles(&rows);
    timings.push(("statistics", clock.elapsed().as_secs_f64()));
    Ok(MeasuresRun {
        months,
        measures: measures.to_vec(),
        skipped,
        practices,
        hierarchy_source,
        rows,
        changes,
        deciles,
        inputs,
        fold: summary,
        timings,
    })
}
