//! Builds a partial from one part's evaluated counts and row accounts.

use super::{codelist_versions, InputEntry, Partial, PartialMeta, PracticeEntry, FORMAT};
use crate::audit::Parts;
use crate::spec::AuditSpec;

/// Makes a partial from one part's results.
pub(crate) fn from_parts(spec: &AuditSpec, parts: Parts) -> Partial {
    let Parts {
        dates,
        practices,
        counts,
        review,
        cohort_sizes,
        patients,
        cohort_patients,
        inputs,
        timings,
        drug_coverage,
        dose_coverage,
    } = parts;
    let mut rejections = Vec::new();
    let mut entries = Vec::new();
    for (k, input) in inputs.into_iter().enumerate() {
        rejections.extend(input.tally.rejections.into_iter().map(|r| (k, r)));
        entries.push(InputEntry {
            table: input.file.table.to_string(),
            path: input.file.path.display().to_string(),
            sha256: input.file.sha256,
            bytes: input.file.bytes,
            account: input.tally.account,
            latest_date: input.tally.latest_date.map(|d| d.to_string()),
        });
    }
    Partial {
        meta: PartialMeta {
            format: FORMAT.into(),
            engine: format!("{} {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION")),
            spec_name: spec.name.clone(),
            spec_version: spec.version.clone(),
            spec_sha256: spec.sha256.clone(),
            codelists: codelist_versions(spec),
            index_dates: dates.iter().map(|d| d.to_string()).collect(),
            patients,
            cohort_patients,
            cohort_sizes,
            practices: practices
                .list
                .iter()
                .map(|p| PracticeEntry {
                    units: p.units.as_slice().to_vec(),
                    unlisted: p.unlisted,
                })
                .collect(),
            inputs: entries,
            timings: timings.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            drug_coverage,
            dose_coverage,
        },
        counts,
        review,
        rejections,
    }
}
