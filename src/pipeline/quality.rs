//! The data quality of a run, judged before anything is written: a table
//! where most rows were rejected is an error (a wrong date format, say,
//! would otherwise give a rate of 0 and exit 0); an index date after the
//! latest dated row is a warning (an error under `--strict`); and every
//! table's rejected rows by reason, with their shares, go into
//! `summary.json` and the report so a reader sees what they read.

use std::collections::BTreeMap;

use serde::Serialize;

use super::audit::AuditRun;
use crate::ingest::accounting::{RejectReason, RowAccount};
use crate::ingest::table::TableKind;

/// The share of a table's rows that may be rejected before the run fails.
pub const DEFAULT_MAX_REJECTED_SHARE: f64 = 0.5;

/// One table's rejected rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TableQuality {
    /// The table.
    pub table: String,
    /// Rows read.
    pub rows_read: u64,
    /// Rows rejected.
    pub rows_rejected: u64,
    /// Rejected rows / rows read.
    pub rejected_share: f64,
    /// Rejected rows by reason: (rows, share of rows read).
    pub rejected_by_reason: BTreeMap<String, (u64, f64)>,
}

/// Whether a run's data can be trusted as read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Nothing to warn about.
    #[default]
    Ok,
    /// Outputs written, with warnings a reader should see.
    Warnings,
}

/// The data-quality section of a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DataQuality {
    /// `ok` or `warnings`.
    pub status: Status,
    /// What a reader should know (an index date beyond the data, rejections).
    pub warnings: Vec<String>,
    /// Per table.
    pub tables: Vec<TableQuality>,
}

/// Why a run's outputs must not be written.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct QualityError(pub String);

/// What the check applies.
#[derive(Clone, Debug)]
pub struct QualityRules {
    /// A table with a larger share of rejected rows fails the run.
    pub max_rejected_share: f64,
    /// Fail on any rejected row, and on an index date after the data.
    pub strict: bool,
}

impl Default for QualityRules {
    fn default() -> QualityRules {
        QualityRules {
            max_rejected_share: DEFAULT_MAX_REJECTED_SHARE,
            strict: false,
        }
    }
}

/// Judges a run; `date_format` names each table's expected date format for
/// the messages. An error means nothing should be written.
pub fn assess(
    run: &AuditRun,
    rules: &QualityRules,
    date_format: impl Fn(TableKind) -> String,
) -> Result<DataQuality, QualityError> {
    // Per table, over all its files (a merged run has one per part). Every
    // part holds the whole practices table: it counts once.
    let mut accounts: BTreeMap<TableKind, RowAccount> = BTreeMap::new();
    for input in &run.inputs {
        let a = accounts.entry(input.file.table).or_default();
        if input.file.table != TableKind::Practices {
            a.merge(&input.tally.account);
        } else if input.tally.account.read > a.read {
            *a = input.tally.account.clone();
        }
    }
    let mut tables = Vec::new();
    let mut warnings = Vec::new();
    for (table, a) in &accounts {
        let rejected = a.rejected_total();
        let share = |n: u64| {
            if a.read > 0 {
                n as f64 / a.read as f64
            } else {
                0.0
            }
        };
        if a.read > 0 && share(rejected) > rules.max_rejected_share {
            return Err(QualityError(too_many_rejected(
                run,
                *table,
                a,
                rules,
                &date_format,
            )));
        }
        if rejected > 0 {
            warnings.push(format!(
                "{table}: {rejected} of {} rows rejected ({:.1}%); see rejected_rows.csv",
                a.read,
                100.0 * share(rejected)
            ));
        }
        tables.push(TableQuality {
            table: table.to_string(),
            rows_read: a.read,
            rows_rejected: rejected,
            rejected_share: share(rejected),
            rejected_by_reason: a
                .rejected
                .iter()
                .map(|(r, n)| (r.as_str().to_string(), (*n, share(*n))))
                .collect(),
        });
    }
    let rejected: u64 = tables.iter().map(|t| t.rows_rejected).sum();
    if rules.strict && rejected > 0 {
        return Err(QualityError(strict_rejections(run, rejected)));
    }
    if let (Some(&last), Some(data_to)) = (run.dates.last(), run.data_to()) {
        if last > data_to {
            let message = format!(
                "the index date {last} is after the latest dated medication or event ({data_to}): issues and codes after {data_to} are missing from the extract, so rates at {last} are too low"
            );
            if rules.strict {
                return Err(QualityError(format!("--strict: {message}")));
            }
            warnings.push(message);
        }
    }
    Ok(DataQuality {
        status: if warnings.is_empty() {
            Status::Ok
        } else {
            Status::Warnings
        },
        warnings,
        tables,
    })
}

/// The error for a table where most rows were rejected: the table, the
/// commonest reason, and for dates the expected format and a value seen.
fn too_many_rejected(
    run: &AuditRun,
    table: TableKind,
    a: &RowAccount,
    rules: &QualityRules,
    date_format: &impl Fn(TableKind) -> String,
) -> String {
    let (reason, n) = a
        .rejected
        .iter()
        .max_by_key(|(r, n)| (**n, std::cmp::Reverse(**r)))
        .map(|(r, n)| (*r, *n))
        .unwrap_or((RejectReason::MissingValue, 0));
    let example = run
        .inputs
        .iter()
        .filter(|i| i.file.table == table)
        .find_map(|i| {
            let r = i.tally.rejections.iter().find(|r| r.reason == reason)?;
            Some((i, r))
        });
    let files: Vec<String> = run
        .inputs
        .iter()
        .filter(|i| i.file.table == table)
        .map(|i| i.file.path.display().to_string())
        .collect();
    let mut message = format!(
        "{table} ({}): {} of {} rows rejected ({:.0}%, more than the {:.0}% allowed); the commonest reason is {} ({n} rows)",
        files.join(", "),
        a.rejected_total(),
        a.read,
        100.0 * a.rejected_total() as f64 / a.read as f64,
        100.0 * rules.max_rejected_share,
        reason.as_str(),
    );
    if let Some((_, e)) = example {
        message.push_str(&format!(
            ", e.g. {} column {} value '{}'",
            e.location, e.column, e.value
        ));
    }
    if reason == RejectReason::InvalidDate {
        message.push_str(&format!(
            ". Dates are read as {}: if the export writes them otherwise, set date_format for this table in a mapping file (--mapping)",
            date_format(table)
        ));
    }
    message.push_str(". Nothing was written; --max-rejected-share changes the limit");
    message
}

/// The error for `--strict` with rejected rows, naming the first few.
fn strict_rejections(run: &AuditRun, rejected: u64) -> String {
    let mut message = format!(
        "--strict: {rejected} input rows were rejected, so nothing was written; the first:"
    );
    for input in &run.inputs {
        for r in input
            .tally
            .rejections
            .iter()
            .filter(|r| !r.row_kept)
            .take(3)
        {
            message.push_str(&format!(
                "\n  {} {}, column {}, value '{}': {}",
                input.file.path.display(),
                r.location,
                r.column,
                r.value,
                r.reason.as_str()
            ));
        }
    }
    message.push_str("\nstomp-audit validate lists them all");
    message
}
