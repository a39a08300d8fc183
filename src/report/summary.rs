//! `summary.json`: the machine-readable record of a run for batch jobs:
//! engine and spec versions, index dates, every input with its checksum and
//! row fates, codelist versions, outputs and timings.

use std::collections::BTreeMap;

use serde::Serialize;

use super::RunInfo;
use crate::audit::coverage::DrugCoverage;
use crate::audit::dose_coverage::DoseCoverage;
use crate::classify::dictionary::ListCoverage;
use crate::ingest::accounting::{IgnoredCounts, RejectReason, RowAccount};
use crate::ingest::provenance::InputFile;
use crate::pipeline::audit::AuditRun;
use crate::spec::AuditSpec;

/// File name.
pub const FILE: &str = "summary.json";

/// What the review list is, said wherever it is listed.
pub const REVIEW_LIST_NOTICE: &str =
    "review_list.csv holds pseudonymised patient-level data for the practice pharmacist; it is never for publication. Every other output is aggregate and holds no patient id.";

/// The summary document.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `stomp-audit`.
    pub engine: &'static str,
    /// The engine's version.
    pub engine_version: &'static str,
    /// The command line.
    pub command: String,
    /// Threads used.
    pub threads: usize,
    /// The spec.
    pub spec: SpecInfo,
    /// Index dates, ISO, ascending; the earliest is the baseline of `changes.csv`.
    pub index_dates: Vec<String>,
    /// The latest date of any valid medication or event row.
    pub data_to: Option<String>,
    /// Whether counts in aggregate outputs were rounded for publication
    /// (7 or less -> 0, others to the nearest 5, rates from the rounded counts).
    pub disclosure_control: bool,
    /// One entry per input table.
    pub inputs: Vec<InputSummary>,
    /// Population figures.
    pub population: PopulationSummary,
    /// Codelists used.
    pub codelists: Vec<CodelistInfo>,
    /// How the dm+d ids of each drug dictionary list were given BNF codes.
    pub drug_dictionary: Vec<ListCoverage>,
    /// How the medications rows were classified: per drug concept, rows
    /// through dm+d and through BNF; dm+d codes in no list whose name in
    /// the extract is a spec drug's.
    pub drug_coverage: DrugCoverage,
    /// How many doses of the spec's dose concept were known at each index
    /// date, and why the others were not (absent without a dose concept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doses: Option<DoseSummaryJson>,
    /// `ok`, or `warnings` when `data_quality` has any.
    pub status: crate::pipeline::quality::Status,
    /// Rejected rows per table and reason, with shares, and warnings.
    pub data_quality: crate::pipeline::quality::DataQuality,
    /// Files written (besides this one), with their sizes.
    pub outputs: Vec<crate::output::WrittenFile>,
    /// Where the patient-level review list went.
    pub review_list: String,
    /// Where the patient-level review packs went, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review_packs: Option<String>,
    /// The privacy notice.
    pub privacy: &'static str,
    /// Seconds per stage.
    pub timings_seconds: BTreeMap<String, f64>,
}

/// The dose concept's known and unknown doses, per index date.
#[derive(Debug, Serialize)]
pub struct DoseSummaryJson {
    /// The concept (the spec's `[doses] review_concept`).
    pub concept: String,
    /// Over whom the doses are counted.
    pub population: &'static str,
    /// Per index date, ISO.
    pub by_index_date: BTreeMap<String, DoseCoverage>,
}

/// The spec's identity.
#[derive(Debug, Serialize)]
pub struct SpecInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Where it came from.
    pub origin: String,
    /// SHA-256 of its text.
    pub sha256: String,
}

/// One input table and what happened to its rows.
#[derive(Debug, Serialize)]
pub struct InputSummary {
    /// Table name.
    pub table: String,
    /// File path.
    pub file: String,
    /// File size.
    pub bytes: u64,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows used.
    pub rows_used: u64,
    /// Rows ignored, by reason.
    pub rows_ignored: IgnoredCounts,
    /// Rows rejected, by reason.
    pub rows_rejected: BTreeMap<RejectReason, u64>,
    /// Bad optional values set to missing (row kept), by reason.
    pub values_set_to_missing: BTreeMap<RejectReason, u64>,
    /// The published layout found (public prescribing files only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<&'static str>,
}

impl InputSummary {
    /// An input file and the fate of its rows.
    pub fn of(
        file: &InputFile,
        account: &RowAccount,
        layout: Option<&'static str>,
    ) -> InputSummary {
        InputSummary {
            table: file.table.to_string(),
            file: file.path.display().to_string(),
            bytes: file.bytes,
            sha256: file.sha256.clone(),
            rows_read: account.read,
            rows_used: account.used,
            rows_ignored: account.ignored.clone(),
            rows_rejected: account.rejected.clone(),
            values_set_to_missing: account.cleared.clone(),
            layout,
        }
    }
}

/// The spec's identity, for a summary.
pub(crate) fn spec_info(spec: &AuditSpec) -> SpecInfo {
    SpecInfo {
        name: spec.name.clone(),
        version: spec.version.clone(),
        origin: spec.origin.clone(),
        sha256: spec.sha256.clone(),
    }
}

/// Population figures.
#[derive(Debug, Serialize)]
pub struct PopulationSummary {
    /// Patients in the patients table.
    pub patients: u64,
    /// Practices, including unlisted ones.
    pub practices: usize,
    /// Practices referenced by registrations but absent from the practices table.
    pub unlisted_practices: usize,
    /// Patients with a cohort code by the last index date.
    pub cohort_patients: u64,
    /// Cohort patients registered and alive at each index date.
    pub cohort_evaluated: BTreeMap<String, u64>,
}

/// A codelist's identity.
#[derive(Debug, Serialize)]
pub struct CodelistInfo {
    /// Name in the spec.
    pub name: String,
    /// Stated version.
    pub version: String,
    /// Where it was read from.
    pub source: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Codes it holds.
    pub codes: usize,
}

/// Builds the summary of a run.
pub fn build(
    run: &AuditRun,
    spec: &AuditSpec,
    info: &RunInfo,
    written: Vec<crate::output::WrittenFile>,
) -> Summary {
    let inputs = run
        .inputs
        .iter()
        .map(|i| InputSummary::of(&i.file, &i.tally.account, None))
        .collect();
    Summary {
        engine: env!("CARGO_PKG_NAME"),
        engine_version: env!("CARGO_PKG_VERSION"),
        command: info.command.clone(),
        threads: info.threads,
        spec: spec_info(spec),
        index_dates: run.dates.iter().map(|d| d.to_string()).collect(),
        data_to: run.data_to().map(|d| d.to_string()),
        disclosure_control: run.aggregate.disclosure_control,
        inputs,
        population: PopulationSummary {
            patients: run.patients,
            practices: run.practices.list.len(),
            unlisted_practices: run.practices.unlisted_count(),
            cohort_patients: run.cohort_patients,
            cohort_evaluated: run
                .dates
                .iter()
                .zip(&run.cohort_sizes)
                .map(|(d, n)| (d.to_string(), *n))
                .collect(),
        },
        codelists: spec
            .codelists
            .values()
            .map(|c| CodelistInfo {
                name: c.name.clone(),
                version: c.version.clone(),
                source: c.source_name.clone(),
                sha256: c.sha256.clone(),
                codes: c.entries.len(),
            })
            .collect(),
        drug_dictionary: spec.compiled.dictionary.clone(),
        drug_coverage: run.drug_coverage.clone(),
        doses: dose_summary(spec, run),
        status: info.quality.status,
        data_quality: info.quality.clone(),
        outputs: written,
        review_list: info.review.describe(),
        review_packs: info
            .review_packs
            .then(|| info.review.describe_packs())
            .flatten(),
        privacy: REVIEW_LIST_NOTICE,
        timings_seconds: run.timings.iter().cloned().collect(),
    }
}

/// The dose counts of a run whose spec has a dose concept.
fn dose_summary(spec: &AuditSpec, run: &AuditRun) -> Option<DoseSummaryJson> {
    let c = spec.compiled.dose_review_concept?;
    Some(DoseSummaryJson {
        concept: spec.compiled.concepts[c as usize].name.clone(),
        population: "cohort patients registered at the index date who hold a drug of the concept (issued in the 3 months to it)",
        by_index_date: run
            .dates
            .iter()
            .zip(&run.dose_coverage)
            .map(|(d, c)| (d.to_string(), c.clone()))
            .collect(),
    })
}
