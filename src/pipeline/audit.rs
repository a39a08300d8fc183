//! The audit pipeline put together: an extract is read and evaluated into
//! a partial (`audit`), which is merged alone (`merge`) into a run that the
//! report writes.

use crate::aggregate::change::ChangeRow;
use crate::aggregate::deciles::DecileRow;
use crate::aggregate::{AggregateOptions, IndicatorRow};
use crate::audit::coverage::DrugCoverage;
use crate::audit::dose_coverage::DoseCoverage;
use crate::audit::evaluate::PracticeTotals;
use crate::audit::partial::ReviewLine;
use crate::audit::{run_partial, AuditConfig, AuditError, AuditInput, Progress};
use crate::date::Date;
use crate::ingest::practices::Practices;
use crate::ingest::table::TableKind;
use crate::spec::AuditSpec;

/// Everything one audit run produced, ready for the report writers: made
/// only by [`merge`](super::merge::merge), from one partial (a normal run) or many.
pub struct AuditRun {
    /// The index dates, ascending.
    pub dates: Vec<Date>,
    /// The practices (including unlisted ones referenced by registrations), in code order.
    pub practices: Practices,
    /// Counts per (date, indicator, practice); the strata are in `rows`'
    /// expected counts.
    pub counts: PracticeTotals,
    /// The aggregate rows.
    pub rows: Vec<IndicatorRow>,
    /// Change since the baseline per unit (empty with one date).
    pub changes: Vec<ChangeRow>,
    /// National deciles of practice rates.
    pub deciles: Vec<DecileRow>,
    /// The options the aggregate rows were made with.
    pub aggregate: AggregateOptions,
    /// The review list, in its order.
    pub review: Vec<ReviewLine>,
    /// Cohort patients evaluated at each date (registered and alive).
    pub cohort_sizes: Vec<u64>,
    /// Patients in the patients tables.
    pub patients: u64,
    /// Patients in the cohort (any index date).
    pub cohort_patients: u64,
    /// The input files with their rows' fates, in the order read.
    pub inputs: Vec<AuditInput>,
    /// Seconds per stage.
    pub timings: Vec<(String, f64)>,
    /// How the medications were classified.
    pub drug_coverage: DrugCoverage,
    /// The dose concept's known and unknown doses per index date (empty
    /// without a dose concept).
    pub dose_coverage: Vec<DoseCoverage>,
}

impl AuditRun {
    /// The latest date of any valid medication or clinical event row: how
    /// far the data reaches.
    pub(crate) fn data_to(&self) -> Option<Date> {
        self.inputs
            .iter()
            .filter(|i| {
                matches!(
                    i.file.table,
                    TableKind::Medications | TableKind::ClinicalEvents
                )
            })
            .filter_map(|i| i.tally.latest_date)
            .max()
    }
}

/// Runs the audit: one partial, merged alone, its aggregate rows made
/// with `options`.
pub fn run(
    spec: &AuditSpec,
    config: &AuditConfig,
    options: AggregateOptions,
    progress: &dyn Progress,
) -> Result<AuditRun, AuditError> {
    let part = run_partial(spec, config, progress)?;
    Ok(super::merge::merge(spec, vec![part], &[], options)?)
}
