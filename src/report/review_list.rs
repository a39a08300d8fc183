//! The patient review list for the practice pharmacist: one row per
//! flagged patient and indicator, with pseudonymised ids.
//!
//! This is patient-level data. It is the only output that holds patient
//! ids and is never for publication; its name says "review" so no one
//! mistakes it for an aggregate table.

use polars::prelude::*;

use crate::pipeline::audit::AuditRun;
use crate::spec::AuditSpec;

/// File name.
pub const FILE: &str = "review_list.csv";

/// The review list as a frame.
pub(crate) fn frame(run: &AuditRun, spec: &AuditSpec) -> PolarsResult<DataFrame> {
    let rows = &run.review;
    let inds = &spec.compiled.indicators;
    df!(
        "index_date" => rows.iter().map(|r| r.date.to_string()).collect::<Vec<_>>(),
        "indicator_id" => rows.iter().map(|r| inds[r.indicator].id.as_str()).collect::<Vec<_>>(),
        "patient_id" => rows.iter().map(|r| r.patient_id.as_str()).collect::<Vec<_>>(),
        "practice_code" => rows.iter().map(|r| r.practice_code.as_str()).collect::<Vec<_>>(),
        "age_band" => rows.iter().map(|r| r.age_band.as_str()).collect::<Vec<_>>(),
        "sex" => rows.iter().map(|r| r.sex.as_str()).collect::<Vec<_>>(),
        "drugs" => rows.iter().map(|r| r.drugs.as_str()).collect::<Vec<_>>(),
        "reason" => rows.iter().map(|r| inds[r.indicator].reason.as_deref().unwrap_or("")).collect::<Vec<_>>(),
        "last_medication_review" => rows.iter().map(|r| r.last_review.map(|d| d.to_string())).collect::<Vec<_>>(),
        "doses" => rows.iter().map(|r| r.dose.doses.as_str()).collect::<Vec<_>>(),
        "total_percent_bnf_max" => rows.iter().map(|r| r.dose.percent_max.as_str()).collect::<Vec<_>>(),
        "total_chlorpromazine_mg" => rows.iter().map(|r| r.dose.cpz_mg.as_str()).collect::<Vec<_>>(),
        "total_percent_bnf_max_12m_before" => rows.iter().map(|r| r.dose.percent_max_before.as_str()).collect::<Vec<_>>(),
        "total_chlorpromazine_mg_12m_before" => rows.iter().map(|r| r.dose.cpz_mg_before.as_str()).collect::<Vec<_>>(),
    )
}
