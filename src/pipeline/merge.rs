//! Adds partial audits up and computes every output from the sums: the
//! roll-up, changes and deciles. A normal run is one partial merged alone.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use super::audit::AuditRun;
use crate::aggregate::change::changes;
use crate::aggregate::deciles::deciles;
use crate::aggregate::{roll_up, AggregateOptions};
use crate::audit::coverage::DrugCoverage;
use crate::audit::evaluate::{Counts, STRATA};
use crate::audit::partial::{
    codelist_versions, file_error, sort_review, Partial, PartialError, PracticeEntry,
};
use crate::audit::AuditInput;
use crate::date::Date;
use crate::ingest::accounting::Tally;
use crate::ingest::locality::Units;
use crate::ingest::practices::Practices;
use crate::ingest::provenance::InputFile;
use crate::ingest::table::TableKind;
use crate::spec::AuditSpec;

/// Sums partials of one audit and computes every output from the sums.
/// `paths` name the partials in errors (the same length as `partials`).
pub fn merge(
    spec: &AuditSpec,
    partials: Vec<Partial>,
    paths: &[PathBuf],
    aggregate: AggregateOptions,
) -> Result<AuditRun, PartialError> {
    let first = partials.first().ok_or(PartialError::Empty)?;
    let versions = codelist_versions(spec);
    let name = |k: usize| {
        paths
            .get(k)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(format!("partial {}", k + 1)))
    };
    for (k, p) in partials.iter().enumerate() {
        let mismatch = |what, this, first| PartialError::Mismatch {
            path: name(k),
            what,
            this,
            first,
        };
        let m = &p.meta;
        if m.spec_sha256 != spec.sha256 {
            return Err(mismatch(
                "spec",
                format!(
                    "{} {} sha256 {}",
                    m.spec_name,
                    m.spec_version,
                    short(&m.spec_sha256)
                ),
                format!(
                    "{} {} sha256 {}",
                    spec.name,
                    spec.version,
                    short(&spec.sha256)
                ),
            ));
        }
        if m.codelists != versions {
            return Err(mismatch(
                "codelist versions",
                format!("{:?}", m.codelists),
                format!("{:?}", versions),
            ));
        }
        if m.index_dates != first.meta.index_dates {
            return Err(mismatch(
                "index dates",
                m.index_dates.join(", "),
                first.meta.index_dates.join(", "),
            ));
        }
    }
    let clock = Instant::now();
    let dates: Vec<Date> = first
        .meta
        .index_dates
        .iter()
        .map(|d| {
            d.parse()
                .map_err(|_| file_error(&name(0), format!("bad index date '{d}'")))
        })
        .collect::<Result<_, _>>()?;

    // Practices: the union by code; a listed entry wins over an unlisted one.
    let mut by_code: BTreeMap<String, PracticeEntry> = BTreeMap::new();
    for p in partials.iter().flat_map(|p| &p.meta.practices) {
        let code = p.units.first().map(|u| u.0.clone()).unwrap_or_default();
        match by_code.get(&code) {
            Some(e) if !e.unlisted || p.unlisted => {}
            _ => {
                by_code.insert(code, p.clone());
            }
        }
    }
    let mut practices = Practices::default();
    for e in by_code.values() {
        let units = Units::from_vec(e.units.clone())
            .ok_or_else(|| file_error(&name(0), "a practice entry does not have six levels"))?;
        practices.insert_entry(units, e.unlisted);
    }

    let indicators = spec.compiled.indicators.len();
    let mut counts = Counts::new(dates.len(), indicators, practices.list.len());
    let mut review = Vec::new();
    let mut inputs = Vec::new();
    let (mut patients, mut cohort_patients) = (0, 0);
    let mut cohort_sizes = vec![0; dates.len()];
    let mut timings: BTreeMap<String, f64> = BTreeMap::new();
    let mut drug_coverage = DrugCoverage::default();
    for (k, p) in partials.into_iter().enumerate() {
        drug_coverage.merge(&p.meta.drug_coverage);
        for c in &p.counts {
            let practice = practices.get(&c.practice).ok_or_else(|| {
                file_error(
                    &name(k),
                    format!(
                        "counts name the practice {} that the partial does not list",
                        c.practice
                    ),
                )
            })?;
            if c.date >= dates.len() || c.indicator >= indicators || c.stratum >= STRATA {
                return Err(file_error(&name(k), "a count cell is out of range"));
            }
            counts.add_cell(
                c.date,
                c.indicator,
                practice as usize,
                c.stratum,
                c.numerator,
                c.denominator,
            );
        }
        // An indicator out of range would break the review list: refuse it here.
        if p.review.iter().any(|r| r.indicator >= indicators) {
            return Err(file_error(
                &name(k),
                "a review line names an indicator out of range",
            ));
        }
        review.extend(p.review);
        patients += p.meta.patients;
        cohort_patients += p.meta.cohort_patients;
        for (total, n) in cohort_sizes.iter_mut().zip(&p.meta.cohort_sizes) {
            *total += n;
        }
        for (stage, secs) in &p.meta.timings {
            *timings.entry(stage.clone()).or_default() += secs;
        }
        let mut tallies: Vec<Tally> = p
            .meta
            .inputs
            .iter()
            .map(|e| Tally {
                account: e.account.clone(),
                rejections: Vec::new(),
                latest_date: e.latest_date.as_deref().and_then(|d| d.parse().ok()),
                code_rows: Vec::new(),
            })
            .collect();
        for (i, r) in p.rejections {
            if let Some(t) = tallies.get_mut(i) {
                t.rejections.push(r);
            }
        }
        for (e, tally) in p.meta.inputs.into_iter().zip(tallies) {
            let table = TableKind::from_stem(&e.table)
                .ok_or_else(|| file_error(&name(k), format!("unknown table '{}'", e.table)))?;
            inputs.push(AuditInput {
                file: InputFile {
                    table,
                    path: PathBuf::from(e.path),
                    sha256: e.sha256,
                    bytes: e.bytes,
                },
                tally,
            });
        }
    }
    sort_review(&mut review);
    practices.set_scope(aggregate.scope);
    let rows = roll_up(
        &counts,
        &practices,
        &spec.compiled.indicators,
        &dates,
        aggregate,
    );
    let changes = changes(&rows, &dates);
    let deciles = deciles(&rows);
    *timings.entry("aggregate".into()).or_default() += clock.elapsed().as_secs_f64();
    Ok(AuditRun {
        dates,
        practices,
        counts,
        rows,
        changes,
        deciles,
        aggregate,
        review,
        cohort_sizes,
        patients,
        cohort_patients,
        inputs,
        timings: timings.into_iter().collect(),
        drug_coverage,
    })
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
