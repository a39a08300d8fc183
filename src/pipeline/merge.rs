//! Adds partial audits up and computes every output from the sums: the
//! roll-up, changes and deciles. A normal run is one partial merged alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::audit::AuditRun;
use crate::aggregate::change::changes;
use crate::aggregate::deciles::deciles;
use crate::aggregate::{roll_up, AggregateOptions};
use crate::audit::coverage::DrugCoverage;
use crate::audit::dose_coverage::DoseCoverage;
use crate::audit::evaluate::Counts;
use crate::audit::partial::{
    codelist_versions, file_error, sort_review, InputEntry, Partial, PartialError, PracticeEntry,
    ReviewLine,
};
use crate::audit::AuditInput;
use crate::date::Date;
use crate::ingest::accounting::{Rejection, Tally};
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
    let name = |k: usize| {
        paths
            .get(k)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(format!("partial {}", k + 1)))
    };
    let first = partials.first().ok_or(PartialError::Empty)?;
    check_alike(spec, first, &partials, &name)?;
    let clock = Instant::now();
    let dates = index_dates(first, &name(0))?;
    let mut practices = practice_union(&partials, &name(0))?;
    let mut sums = Sums::new(dates.len(), spec.compiled.indicators.len(), &practices);
    for (k, p) in partials.into_iter().enumerate() {
        sums.add(p, &practices, &name(k))?;
    }
    let Sums {
        counts,
        partials: _,
        mut review,
        inputs,
        patients,
        cohort_patients,
        cohort_sizes,
        mut timings,
        drug_coverage,
        mut dose_coverage,
    } = sums;
    if spec.compiled.dose_review_concept.is_none() {
        dose_coverage.clear();
    }
    sort_review(&mut review);
    practices.set_scope(aggregate.scope);
    // Standardised once; the stratified array is freed before the
    // aggregate rows, the run's largest part, are made.
    let totals = counts.practice_totals();
    drop(counts);
    let rows = roll_up(
        &totals,
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
        counts: totals,
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
        dose_coverage,
    })
}

/// Refuses partials that are not of one audit: each must carry this spec,
/// these codelist versions and the first partial's index dates.
fn check_alike(
    spec: &AuditSpec,
    first: &Partial,
    partials: &[Partial],
    name: &dyn Fn(usize) -> PathBuf,
) -> Result<(), PartialError> {
    let versions = codelist_versions(spec);
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
    Ok(())
}

/// The index dates the partials share.
fn index_dates(first: &Partial, path: &Path) -> Result<Vec<Date>, PartialError> {
    first
        .meta
        .index_dates
        .iter()
        .map(|d| {
            d.parse()
                .map_err(|_| file_error(path, format!("bad index date '{d}'")))
        })
        .collect()
}

/// Every partial's practices, once each by code; a listed entry wins over
/// an unlisted one (a bucket may meet a practice only through a
/// registration).
fn practice_union(partials: &[Partial], path: &Path) -> Result<Practices, PartialError> {
    let mut by_code: BTreeMap<String, PracticeEntry> = BTreeMap::new();
    for p in partials.iter().flat_map(|p| &p.meta.practices) {
        let code = p.code().unwrap_or_default().to_string();
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
            .ok_or_else(|| file_error(path, "a practice entry does not have six levels"))?;
        practices.insert_entry(units, e.unlisted);
    }
    Ok(practices)
}

/// What the partials add up to, before the roll-up.
struct Sums {
    counts: Counts,
    /// Partials added so far.
    partials: usize,
    review: Vec<ReviewLine>,
    inputs: Vec<AuditInput>,
    patients: u64,
    cohort_patients: u64,
    cohort_sizes: Vec<u64>,
    timings: BTreeMap<String, f64>,
    drug_coverage: DrugCoverage,
    dose_coverage: Vec<DoseCoverage>,
}

impl Sums {
    fn new(dates: usize, indicators: usize, practices: &Practices) -> Sums {
        Sums {
            counts: Counts::new(dates, indicators, practices.list.len()),
            partials: 0,
            review: Vec::new(),
            inputs: Vec::new(),
            patients: 0,
            cohort_patients: 0,
            cohort_sizes: vec![0; dates],
            timings: BTreeMap::new(),
            drug_coverage: DrugCoverage::default(),
            dose_coverage: vec![DoseCoverage::default(); dates],
        }
    }

    /// Adds one partial, refusing cells and review lines out of range.
    fn add(
        &mut self,
        mut p: Partial,
        practices: &Practices,
        path: &Path,
    ) -> Result<(), PartialError> {
        self.drug_coverage.merge(&p.meta.drug_coverage);
        self.add_counts(&mut p, practices, path)?;
        // An indicator out of range would break the review list: refuse it here.
        if p.review
            .iter()
            .any(|r| r.indicator >= self.counts.indicators)
        {
            return Err(file_error(
                path,
                "a review line names an indicator out of range",
            ));
        }
        self.review.extend(p.review);
        self.patients += p.meta.patients;
        self.cohort_patients += p.meta.cohort_patients;
        for (total, n) in self.cohort_sizes.iter_mut().zip(&p.meta.cohort_sizes) {
            *total += n;
        }
        if !p.meta.dose_coverage.is_empty()
            && p.meta.dose_coverage.len() != self.dose_coverage.len()
        {
            return Err(file_error(
                path,
                "the dose counts are not one per index date",
            ));
        }
        for (total, c) in self.dose_coverage.iter_mut().zip(&p.meta.dose_coverage) {
            total.merge(c);
        }
        for (stage, secs) in &p.meta.timings {
            *self.timings.entry(stage.clone()).or_default() += secs;
        }
        self.inputs
            .extend(inputs_of(p.meta.inputs, p.rejections, path)?);
        Ok(())
    }

    /// Adds a partial's counts, its practices placed among the union's.
    /// The first partial's array is taken whole, its practices reordered in
    /// place, when they are the union's (a run of one part): a national
    /// array is never held twice.
    fn add_counts(
        &mut self,
        p: &mut Partial,
        practices: &Practices,
        path: &Path,
    ) -> Result<(), PartialError> {
        let c = &p.counts;
        if c.dates != self.counts.dates || c.indicators > self.counts.indicators {
            return Err(file_error(path, "a count cell is out of range"));
        }
        let practice_of: Vec<usize> = p
            .meta
            .practices
            .iter()
            .map(|e| {
                let code = e.code().unwrap_or_default();
                practices.get(code).map(|k| k as usize).ok_or_else(|| {
                    file_error(
                        path,
                        format!("the practice {code} is not among the partials'"),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        // Codes are unique, so as many practices as the union's are all of them.
        let same_shape =
            c.indicators == self.counts.indicators && c.practices == self.counts.practices;
        if same_shape && self.partials == 0 {
            self.counts = std::mem::replace(&mut p.counts, Counts::new(0, 0, 0));
            self.counts.permute_practices(&practice_of);
        } else {
            self.counts.add_counts(c, &practice_of);
        }
        self.partials += 1;
        Ok(())
    }
}

/// A partial's input files with their row accounts and rejections.
fn inputs_of(
    entries: Vec<InputEntry>,
    rejections: Vec<(usize, Rejection)>,
    path: &Path,
) -> Result<Vec<AuditInput>, PartialError> {
    let mut tallies: Vec<Tally> = entries
        .iter()
        .map(|e| Tally {
            account: e.account.clone(),
            rejections: Vec::new(),
            latest_date: e.latest_date.as_deref().and_then(|d| d.parse().ok()),
            code_rows: Vec::new(),
        })
        .collect();
    for (i, r) in rejections {
        if let Some(t) = tallies.get_mut(i) {
            t.rejections.push(r);
        }
    }
    entries
        .into_iter()
        .zip(tallies)
        .map(|(e, tally)| {
            let table = TableKind::from_stem(&e.table)
                .ok_or_else(|| file_error(path, format!("unknown table '{}'", e.table)))?;
            Ok(AuditInput {
                file: InputFile {
                    table,
                    path: PathBuf::from(e.path),
                    sha256: e.sha256,
                    bytes: e.bytes,
                },
                tally,
            })
        })
        .collect()
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
