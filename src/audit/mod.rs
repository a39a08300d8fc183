//! The audit stage: read the population, find the cohort, stream the
//! events and medications into per-patient histories, and evaluate every
//! indicator at every index date into counts per practice and stratum and
//! the review lines: a mergeable [`partial::Partial`]. The roll-up and the
//! outputs come after (`pipeline`).

pub mod collect;
pub mod coverage;
pub mod dose;
pub mod dose_coverage;
pub mod evaluate;
pub mod facts;
pub mod partial;

use std::path::PathBuf;
use std::time::Instant;

use crate::date::Date;
use crate::ingest::accounting::Tally;
use crate::ingest::mapping::ColumnMapping;
use crate::ingest::population::{age_band, Identities, Population};
use crate::ingest::practices::Practices;
use crate::ingest::provenance::{checksum, ChecksumError, InputFile};
use crate::ingest::source::{Extract, FileFormat, SourceError};
use crate::ingest::table::TableKind;
use crate::spec::AuditSpec;
use collect::Horizon;
use dose::DoseProfiles;
use evaluate::Inputs;

/// Why an audit could not run.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// An input table could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// No index date was given.
    #[error("no index date: give at least one --index-date")]
    NoIndexDate,
    /// A partial could not be written, read or merged.
    #[error(transparent)]
    Partial(#[from] partial::PartialError),
    /// An input file could not be checksummed.
    #[error(transparent)]
    Checksum(#[from] ChecksumError),
}

/// What to audit and how.
#[derive(Clone, Debug)]
pub struct AuditConfig {
    /// The extract folder.
    pub extract: PathBuf,
    /// Column renames and date formats.
    pub mapping: ColumnMapping,
    /// The index dates (sorted and de-duplicated by [`run_partial`]).
    pub index_dates: Vec<Date>,
    /// Rows per streamed batch.
    pub batch_rows: usize,
    /// Read a Parquet table's other columns only for the rows whose codes
    /// need them (predicate pushdown); off, every row is decoded. The
    /// results are the same either way: off exists to compare the two.
    pub pushdown: bool,
    /// Check every row fully, whatever its date (for `validate`): rows with
    /// a related code are never set aside for their date before their
    /// patient is checked.
    pub check_every_row: bool,
}

/// Told what the run is doing, for a progress display.
pub trait Progress: Sync {
    /// A stage starts.
    fn stage(&self, _name: &'static str) {}
    /// The stage ends, having read `rows` input rows (0 if none).
    fn done(&self, _rows: u64) {}
    /// Much of the run's memory has just been freed (the patients'
    /// histories and registrations, after evaluation): the moment for an
    /// allocator that keeps freed pages for reuse to hand them back before
    /// the next allocations, so they do not add to the peak.
    fn freed(&self) {}
}

/// A progress display that shows nothing.
pub struct Silent;

impl Progress for Silent {}

/// One input file and the fate of its rows.
#[derive(Clone, Debug)]
pub struct AuditInput {
    /// The file.
    pub file: InputFile,
    /// Its rows' fates.
    pub tally: Tally,
}

/// One part's results, before they become a [`partial::Partial`].
pub(crate) struct Parts {
    dates: Vec<Date>,
    practices: Practices,
    counts: evaluate::Counts,
    review: Vec<partial::ReviewLine>,
    cohort_sizes: Vec<u64>,
    patients: u64,
    cohort_patients: u64,
    inputs: Vec<AuditInput>,
    timings: Vec<(&'static str, f64)>,
    drug_coverage: coverage::DrugCoverage,
    dose_coverage: Vec<dose_coverage::DoseCoverage>,
}

/// Reads an extract and evaluates every indicator: the mergeable part of
/// an audit, before any statistic.
pub fn run_partial(
    spec: &AuditSpec,
    config: &AuditConfig,
    progress: &dyn Progress,
) -> Result<partial::Partial, AuditError> {
    let (dates, horizon) = dates_and_horizon(spec, config)?;
    let compiled = &spec.compiled;
    let batch = config.batch_rows.max(1);
    let extract = Extract::open(&config.extract, &config.mapping)?;
    for t in &extract.tables {
        t.check_columns()?;
    }
    // Parquet inputs are hashed on a thread of their own while the scans
    // run; a CSV file is hashed by its one read.
    std::thread::scope(|s| {
        let sums = s.spawn(|| {
            TABLE_ORDER.map(|k| {
                let t = extract.table(k);
                (t.format == FileFormat::Parquet).then(|| checksum(&t.path))
            })
        });
        let mut timings = Vec::new();

        let clock = Instant::now();
        progress.stage("reading patients and registrations");
        let (practices, pop, [t_pr, t_pat, t_reg]) = read_population(&extract, config)?;
        timings.push(("population", clock.elapsed().as_secs_f64()));
        progress.done(t_pr.account.read + t_pat.account.read + t_reg.account.read);

        let clock = Instant::now();
        progress.stage("reading clinical events and finding the cohort");
        let mut t_ev = Tally::default();
        // This run's drug table: a spec reused for another run starts afresh.
        let drug_session = spec.classifier.session();
        let (events, cohort) = collect::collect_events(
            extract.table(TableKind::ClinicalEvents),
            &pop,
            &drug_session,
            compiled.cohort_events,
            horizon,
            (batch, config.pushdown),
            &mut t_ev,
        )?;
        timings.push(("clinical_events", clock.elapsed().as_secs_f64()));
        progress.done(t_ev.account.read);

        let clock = Instant::now();
        progress.stage("reading medications");
        let mut t_med = Tally::default();
        let (meds, drugs, drug_rows) = collect::collect_medications(
            extract.table(TableKind::Medications),
            &pop,
            &drug_session,
            &cohort,
            horizon,
            (batch, config.pushdown),
            &mut t_med,
        )?;
        timings.push(("medications", clock.elapsed().as_secs_f64()));
        let drug_coverage = coverage::DrugCoverage::new(compiled, &drugs, &drug_rows);
        progress.done(t_med.account.read);

        let clock = Instant::now();
        progress.stage("evaluating indicators");
        let evaluation = evaluate::evaluate(&Inputs {
            spec: compiled,
            pop: &pop,
            practices: practices.list.len(),
            cohort: &cohort,
            events: &events,
            meds: &meds,
            drugs: &drugs,
            doses: &DoseProfiles::new(&drugs, &spec.doses),
            dates: &dates,
        });
        timings.push(("evaluate", clock.elapsed().as_secs_f64()));
        progress.done(0);
        // The histories and registrations have served: they are freed
        // before the review lines are made, which take the review rows'
        // texts rather than copy them.
        drop((events, meds));
        let patients = pop.len() as u64;
        let identities = pop.into_identities();
        progress.freed();
        let review = review_lines(evaluation.review, &dates, &identities, &practices);
        let sums = sums.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        let mut sums = sums.into_iter();
        let sums = TABLE_ORDER.map(|k| {
            sums.next()
                .flatten()
                .unwrap_or_else(|| extract.table(k).checksum())
        });
        let inputs = with_checksums(&extract, [t_pr, t_pat, t_reg, t_ev, t_med], sums)?;
        Ok(partial::build::from_parts(
            spec,
            Parts {
                dates,
                practices,
                counts: evaluation.counts,
                review,
                cohort_sizes: evaluation.cohort_sizes,
                patients,
                cohort_patients: cohort.iter().filter(|c| **c).count() as u64,
                inputs,
                timings,
                drug_coverage,
                dose_coverage: evaluation.dose_coverage,
            },
        ))
    })
}

/// The tables in the order they are read, and listed in the outputs.
const TABLE_ORDER: [TableKind; 5] = [
    TableKind::Practices,
    TableKind::Patients,
    TableKind::Registrations,
    TableKind::ClinicalEvents,
    TableKind::Medications,
];

/// The index dates, earliest first and each once, and the span of rows
/// they need: nothing after the latest, no medication before the earliest
/// date's look-back (unless every row is to be checked).
fn dates_and_horizon(
    spec: &AuditSpec,
    config: &AuditConfig,
) -> Result<(Vec<Date>, Horizon), AuditError> {
    let mut dates = config.index_dates.clone();
    dates.sort_unstable();
    dates.dedup();
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return Err(AuditError::NoIndexDate);
    };
    let horizon = if config.check_every_row {
        Horizon {
            last: Date(i32::MAX),
            cohort_by: last,
            drugs_after: Date(i32::MIN),
        }
    } else {
        Horizon {
            last,
            cohort_by: last,
            drugs_after: first.add_months(-(spec.compiled.drug_lookback_months as i32)),
        }
    };
    Ok((dates, horizon))
}

/// The practices, the patients and their registrations, with the three
/// tables' tallies.
fn read_population(
    extract: &Extract,
    config: &AuditConfig,
) -> Result<(Practices, Population, [Tally; 3]), AuditError> {
    let mut t_pr = Tally::default();
    let mut practices = Practices::load(extract.table(TableKind::Practices), &mut t_pr)?;
    let mut t_pat = Tally::default();
    let mut pop = Population::load_patients(
        extract.table(TableKind::Patients),
        config.batch_rows,
        &mut t_pat,
    )?;
    let mut t_reg = Tally::default();
    pop.load_registrations(
        extract.table(TableKind::Registrations),
        &mut practices,
        config.batch_rows,
        &mut t_reg,
    )?;
    Ok((practices, pop, [t_pr, t_pat, t_reg]))
}

/// The review list's lines: each flagged patient with their pseudonymised
/// id, practice, age band and sex at the index date.
fn review_lines(
    rows: Vec<evaluate::ReviewRow>,
    dates: &[Date],
    pop: &Identities,
    practices: &Practices,
) -> Vec<partial::ReviewLine> {
    rows.into_iter()
        .map(|r| {
            let date = dates[r.date];
            partial::ReviewLine {
                date,
                indicator: r.indicator,
                patient_id: pop.ids.id(r.patient).into_owned(),
                practice_code: practices.list[r.practice as usize].code().to_string(),
                age_band: age_band(pop.date_of_birth[r.patient as usize].get(), date).to_string(),
                sex: pop.sex[r.patient as usize].as_str().to_string(),
                drugs: r.drugs,
                last_review: r.last_review,
                dose: r.dose,
            }
        })
        .collect()
}

/// Each input file with its checksum and the fate of its rows (rejections
/// in file order), in [`TABLE_ORDER`].
fn with_checksums(
    extract: &Extract,
    tallies: [Tally; 5],
    sums: [Result<(String, u64), ChecksumError>; 5],
) -> Result<Vec<AuditInput>, AuditError> {
    TABLE_ORDER
        .into_iter()
        .zip(tallies)
        .zip(sums)
        .map(|((table, mut tally), sum)| {
            tally.rejections.sort();
            let (sha256, bytes) = sum?;
            Ok(AuditInput {
                file: InputFile {
                    table,
                    path: extract.table(table).path.clone(),
                    sha256,
                    bytes,
                },
                tally,
            })
        })
        .collect()
}
