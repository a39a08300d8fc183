//! Partial audits: the format (this file), how one is built from a part's
//! counts (`build`) and read back (`read`); merging them is the pipeline's
//! (`pipeline::merge`).
//!
//! The audit is per patient and its outputs are counts, so when every row
//! of a patient is in the same part (a bucket of patients), the parts'
//! counts per (index date, indicator, practice, age band x sex) add up to
//! the whole. A [`Partial`] is one part's counts, review lines, population
//! figures and row accounts, with the spec, codelist versions and index
//! dates it was made with; the merge refuses partials that differ in any
//! of them, adds the rest up and computes the statistics once, on the sums.
//! A normal run is one partial merged alone, so the two paths cannot drift.
//!
//! On disk a partial is a folder: `partial.json` (identity, practices,
//! population, inputs with their row accounts), `counts.parquet` (the
//! non-zero cells), `review.parquet` (patient-level review lines) and
//! `rejected.parquet` (rejected rows with their input).

pub mod build;
mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::coverage::DrugCoverage;
use super::dose::DoseSummary;
use super::dose_coverage::DoseCoverage;
use super::evaluate::Counts;
use crate::date::Date;
use crate::ingest::accounting::{Rejection, RowAccount};
use crate::spec::AuditSpec;

/// The format tag of partials this engine writes and reads.
pub const FORMAT: &str = "stomp-audit-partial/3";

/// One flagged patient for one indicator, resolved to ids and names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewLine {
    /// Index date.
    pub date: Date,
    /// Indicator position in the spec.
    pub indicator: usize,
    /// Pseudonymised patient id.
    pub patient_id: String,
    /// Practice code at the index date.
    pub practice_code: String,
    /// Age band at the index date.
    pub age_band: String,
    /// Recorded sex.
    pub sex: String,
    /// Drugs of the indicator issued in the current window.
    pub drugs: String,
    /// Last medication review on or before the index date.
    pub last_review: Option<Date>,
    /// The doses of the spec's dose review concept, now and a year before.
    pub dose: DoseSummary,
}

impl ReviewLine {
    /// The review list's order: date, indicator, practice, then patient id
    /// (shorter ids first, so numeric ids sort as numbers).
    fn key(&self) -> (Date, usize, &str, usize, &str) {
        (
            self.date,
            self.indicator,
            &self.practice_code,
            self.patient_id.len(),
            &self.patient_id,
        )
    }
}

/// Sorts review lines into the review list's order.
pub(crate) fn sort_review(lines: &mut [ReviewLine]) {
    lines.sort_by(|a, b| a.key().cmp(&b.key()));
}

/// One practice as a partial records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PracticeEntry {
    /// `(code, name)` per level.
    pub units: Vec<(String, String)>,
    /// Referenced by a registration but not in the practices table.
    pub unlisted: bool,
}

impl PracticeEntry {
    /// The practice's code: its first level's (none in an entry without
    /// levels).
    pub fn code(&self) -> Option<&str> {
        self.units.first().map(|u| u.0.as_str())
    }
}

/// One input file with its row account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputEntry {
    /// Table name.
    pub table: String,
    /// File path as read.
    pub path: String,
    /// SHA-256.
    pub sha256: String,
    /// Size.
    pub bytes: u64,
    /// Rows read, used, ignored and rejected.
    pub account: RowAccount,
    /// The latest valid date in it.
    pub latest_date: Option<String>,
}

/// A partial's identity and small parts (`partial.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartialMeta {
    /// [`FORMAT`].
    pub format: String,
    /// The engine that wrote it.
    pub engine: String,
    /// Spec name.
    pub spec_name: String,
    /// Spec version.
    pub spec_version: String,
    /// SHA-256 of the spec text.
    pub spec_sha256: String,
    /// Codelist name -> (version, SHA-256).
    pub codelists: BTreeMap<String, (String, String)>,
    /// Index dates, ISO, ascending.
    pub index_dates: Vec<String>,
    /// Patients in the patients table.
    pub patients: u64,
    /// Patients in the cohort.
    pub cohort_patients: u64,
    /// Cohort patients evaluated at each date.
    pub cohort_sizes: Vec<u64>,
    /// The practices.
    pub practices: Vec<PracticeEntry>,
    /// The inputs.
    pub inputs: Vec<InputEntry>,
    /// Seconds per stage.
    pub timings: Vec<(String, f64)>,
    /// How the medications were classified (rows by concept and source).
    #[serde(default)]
    pub drug_coverage: DrugCoverage,
    /// The dose concept's known and unknown doses per index date (empty
    /// without a dose concept).
    pub dose_coverage: Vec<DoseCoverage>,
}

/// One part of an audit, mergeable with the other parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Partial {
    /// Identity and small parts.
    pub meta: PartialMeta,
    /// The counts, by the partial's own practices (`meta.practices`, in
    /// order); `counts.parquet` holds their non-zero cells. Kept as the
    /// evaluation's array, not as cells: at national scale the cells
    /// outnumber the array's bytes.
    pub counts: Counts,
    /// Review lines.
    pub review: Vec<ReviewLine>,
    /// Rejected rows by input position.
    pub rejections: Vec<(usize, Rejection)>,
}

/// Why partials could not be written, read or merged.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Partials from different audits.
    #[error("{path}: not the same {what} as the first partial ({this} against {first}); partials of different audits cannot be merged")]
    Mismatch {
        /// The partial.
        path: PathBuf,
        /// What differs.
        what: &'static str,
        /// Its value.
        this: String,
        /// The first partial's value.
        first: String,
    },
    /// No partial was given.
    #[error("nothing to merge: give at least one partial folder")]
    Empty,
}

/// A partial that cannot be read or merged, with the file and what is wrong.
pub(crate) fn file_error(path: &Path, e: impl std::fmt::Display) -> PartialError {
    PartialError::File {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl Partial {
    /// Writes the partial into folder `dir` (created).
    pub fn write(&self, dir: &Path) -> Result<(), PartialError> {
        std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
        let meta = serde_json::to_vec_pretty(&self.meta).map_err(|e| file_error(dir, e))?;
        std::fs::write(dir.join("partial.json"), meta).map_err(|e| file_error(dir, e))?;
        let c: Vec<_> = self.counts.non_zero().collect();
        let code = |p: usize| self.meta.practices[p].code().unwrap_or_default();
        let mut counts = df!(
            "date" => c.iter().map(|x| x.0 as u32).collect::<Vec<_>>(),
            "indicator" => c.iter().map(|x| x.1 as u32).collect::<Vec<_>>(),
            "practice" => c.iter().map(|x| code(x.2)).collect::<Vec<_>>(),
            "stratum" => c.iter().map(|x| x.3 as u32).collect::<Vec<_>>(),
            "numerator" => c.iter().map(|x| x.4).collect::<Vec<_>>(),
            "denominator" => c.iter().map(|x| x.5).collect::<Vec<_>>(),
        )
        .map_err(|e| file_error(dir, e))?;
        let r = &self.review;
        let mut review = df!(
            "date" => r.iter().map(|x| x.date.to_string()).collect::<Vec<_>>(),
            "indicator" => r.iter().map(|x| x.indicator as u32).collect::<Vec<_>>(),
            "patient_id" => r.iter().map(|x| x.patient_id.as_str()).collect::<Vec<_>>(),
            "practice_code" => r.iter().map(|x| x.practice_code.as_str()).collect::<Vec<_>>(),
            "age_band" => r.iter().map(|x| x.age_band.as_str()).collect::<Vec<_>>(),
            "sex" => r.iter().map(|x| x.sex.as_str()).collect::<Vec<_>>(),
            "drugs" => r.iter().map(|x| x.drugs.as_str()).collect::<Vec<_>>(),
            "last_review" => r.iter().map(|x| x.last_review.map(|d| d.to_string())).collect::<Vec<_>>(),
            "doses" => r.iter().map(|x| x.dose.doses.as_str()).collect::<Vec<_>>(),
            "percent_max" => r.iter().map(|x| x.dose.percent_max.as_str()).collect::<Vec<_>>(),
            "cpz_mg" => r.iter().map(|x| x.dose.cpz_mg.as_str()).collect::<Vec<_>>(),
            "percent_max_before" => r.iter().map(|x| x.dose.percent_max_before.as_str()).collect::<Vec<_>>(),
            "cpz_mg_before" => r.iter().map(|x| x.dose.cpz_mg_before.as_str()).collect::<Vec<_>>(),
        )
        .map_err(|e| file_error(dir, e))?;
        let j = &self.rejections;
        let mut rejected = df!(
            "input" => j.iter().map(|(i, _)| *i as u32).collect::<Vec<_>>(),
            "location" => j.iter().map(|(_, x)| x.location.to_string()).collect::<Vec<_>>(),
            "column" => j.iter().map(|(_, x)| x.column).collect::<Vec<_>>(),
            "value" => j.iter().map(|(_, x)| x.value.as_str()).collect::<Vec<_>>(),
            "reason" => j.iter().map(|(_, x)| x.reason.as_str()).collect::<Vec<_>>(),
            "row_kept" => j.iter().map(|(_, x)| x.row_kept).collect::<Vec<_>>(),
        )
        .map_err(|e| file_error(dir, e))?;
        for (name, df) in [
            ("counts.parquet", &mut counts),
            ("review.parquet", &mut review),
            ("rejected.parquet", &mut rejected),
        ] {
            crate::output::write_parquet(df, &dir.join(name)).map_err(|e| file_error(dir, e))?;
        }
        Ok(())
    }
}

/// The column name a rejection of a whole row carries.
const WHOLE_ROW: &str = "(row)";

/// Codelist name -> (version, SHA-256), as a partial records them.
pub(crate) fn codelist_versions(spec: &AuditSpec) -> BTreeMap<String, (String, String)> {
    spec.codelists
        .values()
        .map(|c| (c.name.clone(), (c.version.clone(), c.sha256.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::evaluate::STRATA;
    use crate::ingest::accounting::{Location, RejectReason};
    use crate::ingest::table::TableKind;

    fn partial() -> Partial {
        Partial {
            meta: PartialMeta {
                format: FORMAT.into(),
                engine: "test".into(),
                spec_name: "s".into(),
                spec_version: "1".into(),
                spec_sha256: "0".into(),
                codelists: BTreeMap::new(),
                index_dates: vec!["2024-03-31".into()],
                patients: 1,
                cohort_patients: 1,
                cohort_sizes: vec![1],
                practices: vec![PracticeEntry {
                    units: (0..6).map(|k| (format!("A0000{k}"), "x".into())).collect(),
                    unlisted: false,
                }],
                inputs: vec![InputEntry {
                    table: "medications".into(),
                    path: "medications.csv".into(),
                    sha256: "0".into(),
                    bytes: 1,
                    account: RowAccount::default(),
                    latest_date: None,
                }],
                timings: vec![],
                drug_coverage: DrugCoverage::default(),
                dose_coverage: vec![],
            },
            counts: {
                let mut c = Counts::new(1, 2, 1);
                c.add_cell(0, 1, 0, 3, 1, 2);
                c
            },
            review: vec![],
            rejections: vec![(
                0,
                Rejection {
                    table: TableKind::Medications,
                    location: Location::Line(7),
                    column: "date",
                    value: "2024-13-01".into(),
                    reason: RejectReason::InvalidDate,
                    row_kept: false,
                },
            )],
        }
    }

    fn replace(dir: &Path, name: &str, mut df: DataFrame) {
        crate::output::write_parquet(&mut df, &dir.join(name)).unwrap();
    }

    fn error(dir: &Path) -> String {
        match Partial::read(dir, 2) {
            Ok(_) => panic!("read a damaged partial"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_partial_reads_back_as_written() {
        let tmp = tempfile::tempdir().unwrap();
        let p = partial();
        p.write(tmp.path()).unwrap();
        let back = Partial::read(tmp.path(), 2).unwrap();
        assert_eq!(back.counts, p.counts);
        assert_eq!(back.counts.get_stratum(0, 1, 0, 3), (1, 2));
        assert_eq!(back.rejections, p.rejections);
    }

    /// Nulls where the engine writes none, and a column or location it
    /// never writes, are refused with the file and what is wrong, never
    /// read as a placeholder.
    #[test]
    fn a_damaged_partial_is_refused_by_name() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        partial().write(dir).unwrap();
        replace(
            dir,
            "counts.parquet",
            df!(
                "date" => [0u32], "indicator" => [0u32], "practice" => [None::<&str>],
                "stratum" => [3u32], "numerator" => [1u64], "denominator" => [2u64],
            )
            .unwrap(),
        );
        let e = error(dir);
        assert!(
            e.contains("counts.parquet") && e.contains("column 'practice' has 1 empty value(s)"),
            "{e}"
        );
        let cell = |practice: &str, date: u32, indicator: u32, stratum: u32| {
            df!(
                "date" => [date], "indicator" => [indicator], "practice" => [practice],
                "stratum" => [stratum], "numerator" => [1u64], "denominator" => [2u64],
            )
            .unwrap()
        };
        replace(dir, "counts.parquet", cell("B99999", 0, 0, 3));
        let e = error(dir);
        assert!(
            e.contains("row 1 names the practice B99999 that the partial does not list"),
            "{e}"
        );
        // A date, indicator (the spec has 2) or stratum out of range.
        for (date, indicator, stratum) in [(1, 0, 3), (0, 2, 3), (0, 0, STRATA as u32)] {
            replace(
                dir,
                "counts.parquet",
                cell("A00000", date, indicator, stratum),
            );
            let e = error(dir);
            assert!(e.contains("row 1: a count cell is out of range"), "{e}");
        }
        replace(dir, "counts.parquet", cell("A00000", 0, 1, 3));
        assert!(Partial::read(dir, 2).is_ok());

        partial().write(dir).unwrap();
        let rejected = |column: &str, location: &str| {
            df!(
                "input" => [0u32], "location" => [location], "column" => [column],
                "value" => ["x"], "reason" => ["invalid_date"], "row_kept" => [false],
            )
            .unwrap()
        };
        replace(dir, "rejected.parquet", rejected("dose", "line 7"));
        let e = error(dir);
        assert!(
            e.contains("rejected.parquet") && e.contains("row 1: unknown column 'dose'"),
            "{e}"
        );
        replace(dir, "rejected.parquet", rejected("date", "page 7"));
        let e = error(dir);
        assert!(e.contains("row 1: bad location 'page 7'"), "{e}");
        replace(dir, "rejected.parquet", rejected("(row)", "row 7"));
        assert!(Partial::read(dir, 2).is_ok());
    }
}
