//! Nothing silently lost: every input row is used, ignored for a stated
//! reason, or rejected with the file, line, column and value that caused it.
//!
//! The three add up to the rows read, for every table; the run summary and
//! `rejected_rows.csv` are written from these records.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::table::TableKind;

/// Why a row was rejected: its content is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The patient id is empty.
    EmptyPatientId,
    /// The patient id is not in the patients table.
    UnknownPatient,
    /// The patient id appears twice in the patients table (the later row is rejected).
    DuplicatePatient,
    /// A date that does not parse or does not exist (2023-02-30), or is before 1900.
    InvalidDate,
    /// A required value is empty.
    MissingValue,
    /// A code that is not a valid SNOMED CT / dm+d id or BNF code.
    InvalidCode,
    /// A registration that ends before it starts.
    EndBeforeStart,
    /// A practice code appears twice in the practices table (the later row is rejected).
    DuplicatePractice,
    /// A CSV row with more or fewer fields than the header.
    WrongFieldCount,
    /// A medication issue with a negative quantity (a reversal, not an issue).
    NegativeQuantity,
    /// A number that does not parse (items, ADQ, list size).
    InvalidNumber,
    /// The same practice, month, sex and age band twice in the list sizes.
    DuplicateListSize,
}

impl RejectReason {
    /// Every reason, for reading one back by name.
    pub const ALL: [RejectReason; 12] = [
        RejectReason::EmptyPatientId,
        RejectReason::UnknownPatient,
        RejectReason::DuplicatePatient,
        RejectReason::InvalidDate,
        RejectReason::MissingValue,
        RejectReason::InvalidCode,
        RejectReason::EndBeforeStart,
        RejectReason::DuplicatePractice,
        RejectReason::WrongFieldCount,
        RejectReason::NegativeQuantity,
        RejectReason::InvalidNumber,
        RejectReason::DuplicateListSize,
    ];

    /// The reason as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::EmptyPatientId => "empty_patient_id",
            RejectReason::UnknownPatient => "unknown_patient",
            RejectReason::DuplicatePatient => "duplicate_patient",
            RejectReason::InvalidDate => "invalid_date",
            RejectReason::MissingValue => "missing_value",
            RejectReason::InvalidCode => "invalid_code",
            RejectReason::EndBeforeStart => "end_before_start",
            RejectReason::DuplicatePractice => "duplicate_practice",
            RejectReason::WrongFieldCount => "wrong_field_count",
            RejectReason::NegativeQuantity => "negative_quantity",
            RejectReason::InvalidNumber => "invalid_number",
            RejectReason::DuplicateListSize => "duplicate_list_size",
        }
    }
}

/// Why a valid row played no part in the audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IgnoreReason {
    /// The code belongs to no concept of the audit.
    UnrelatedCode,
    /// Dated after the latest index date.
    AfterIndexDate,
    /// Dated before the earliest look-back window.
    BeforeHorizon,
    /// The patient is in no cohort the indicators look at.
    OutsideCohort,
    /// Prescribing by an organisation that is not a GP practice (public
    /// prescribing data), or a list-size row for another kind of organisation.
    NotAPractice,
    /// Prescribing by a practice with no list size for that month: no rate
    /// can be formed.
    NoListSize,
}

impl IgnoreReason {
    /// Every reason, in output order.
    pub const ALL: [IgnoreReason; 6] = [
        IgnoreReason::UnrelatedCode,
        IgnoreReason::AfterIndexDate,
        IgnoreReason::BeforeHorizon,
        IgnoreReason::OutsideCohort,
        IgnoreReason::NotAPractice,
        IgnoreReason::NoListSize,
    ];

    /// The reason as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::UnrelatedCode => "unrelated_code",
            IgnoreReason::AfterIndexDate => "after_index_date",
            IgnoreReason::BeforeHorizon => "before_horizon",
            IgnoreReason::OutsideCohort => "outside_cohort",
            IgnoreReason::NotAPractice => "not_a_practice",
            IgnoreReason::NoListSize => "no_list_size",
        }
    }
}

/// Where a row is in its file: a 1-based line for CSV, a 1-based row for Parquet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// Line in a CSV file (the header is line 1).
    Line(u64),
    /// Row in a Parquet file (the first data row is row 1).
    Row(u64),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// One rejected row, with enough to find and fix it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    /// The table.
    pub table: TableKind,
    /// Where in the file.
    pub location: Location,
    /// The column (canonical name) holding the bad value.
    pub column: &'static str,
    /// The bad value as read.
    pub value: String,
    /// Why it was rejected.
    pub reason: RejectReason,
    /// True when only the value was set to missing and the row was kept
    /// (a bad date of birth keeps the patient, with an unknown age).
    pub row_kept: bool,
}

/// Ignored rows by reason. Most rows of an extract are ignored, each
/// counted on the hot path, so the counts are a fixed array (one add per
/// row); they read and write as a map of the reasons that occurred.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoredCounts([u64; IgnoreReason::ALL.len()]);

impl IgnoredCounts {
    /// Adds `n` rows ignored for `reason`.
    pub fn add(&mut self, reason: IgnoreReason, n: u64) {
        self.0[reason as usize] += n;
    }

    /// Rows ignored for `reason`.
    pub fn get(&self, reason: IgnoreReason) -> u64 {
        self.0[reason as usize]
    }

    /// The reasons that occurred with their counts, in output order.
    pub fn iter(&self) -> impl Iterator<Item = (IgnoreReason, u64)> + '_ {
        IgnoreReason::ALL
            .into_iter()
            .map(|r| (r, self.get(r)))
            .filter(|&(_, n)| n > 0)
    }

    /// Rows ignored for any reason.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl Serialize for IgnoredCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for IgnoredCounts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<IgnoreReason, u64>::deserialize(d)?;
        let mut counts = IgnoredCounts::default();
        for (reason, n) in map {
            counts.add(reason, n);
        }
        Ok(counts)
    }
}

/// Counts for one table: read = used + ignored + rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowAccount {
    /// Data rows read.
    pub read: u64,
    /// Rows that contributed to the audit.
    pub used: u64,
    /// Valid rows that played no part, by reason.
    pub ignored: IgnoredCounts,
    /// Rejected rows, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Bad values in optional columns set to missing, the row kept, by reason.
    pub cleared: BTreeMap<RejectReason, u64>,
}

impl RowAccount {
    /// Adds another account's counts into this one.
    pub fn merge(&mut self, other: &RowAccount) {
        self.read += other.read;
        self.used += other.used;
        for (k, v) in other.ignored.iter() {
            self.ignored.add(k, v);
        }
        for (k, v) in &other.rejected {
            *self.rejected.entry(*k).or_default() += v;
        }
        for (k, v) in &other.cleared {
            *self.cleared.entry(*k).or_default() += v;
        }
    }

    /// Total rows rejected.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// True when every row read is used, ignored or rejected.
    pub fn balances(&self) -> bool {
        self.read == self.used + self.ignored.total() + self.rejected_total()
    }
}

/// Row fates gathered while reading one batch (or one whole table).
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// The counts.
    pub account: RowAccount,
    /// The rejected rows, each with its location.
    pub rejections: Vec<Rejection>,
    /// The latest date among valid rows: how far the data reaches.
    pub latest_date: Option<crate::date::Date>,
    /// Rows per related code, by the classifier's id for the code (the
    /// raw counts of the classification report).
    pub code_rows: Vec<u64>,
}

impl Tally {
    /// Counts a row as used.
    pub fn used(&mut self) {
        self.account.read += 1;
        self.account.used += 1;
    }

    /// Counts `n` rows as used.
    pub(crate) fn used_rows(&mut self, n: u64) {
        self.account.read += n;
        self.account.used += n;
    }

    /// Counts `n` rows as ignored for `reason`.
    pub fn ignored_rows(&mut self, reason: IgnoreReason, n: u64) {
        self.account.read += n;
        self.account.ignored.add(reason, n);
    }

    /// Counts a row as ignored.
    pub fn ignored(&mut self, reason: IgnoreReason) {
        self.account.read += 1;
        self.account.ignored.add(reason, 1);
    }

    /// Counts a row as rejected and records where and why.
    pub fn rejected(
        &mut self,
        table: TableKind,
        location: Location,
        column: &'static str,
        value: Option<&str>,
        reason: RejectReason,
    ) {
        self.account.read += 1;
        *self.account.rejected.entry(reason).or_default() += 1;
        self.rejections.push(Rejection {
            table,
            location,
            column,
            value: value.unwrap_or("").to_string(),
            reason,
            row_kept: false,
        });
    }

    /// Counts a CSV row with the wrong number of fields as rejected, by
    /// the line it starts on.
    pub(crate) fn ragged(&mut self, table: TableKind, line: u64, fields: usize, header: usize) {
        let value = format!("{fields} fields; the header has {header}");
        self.rejected(
            table,
            Location::Line(line),
            "(row)",
            Some(&value),
            RejectReason::WrongFieldCount,
        );
    }

    /// Records a bad value in an optional column that was set to missing;
    /// the row itself is still counted by the caller (usually as used).
    pub fn cleared(
        &mut self,
        table: TableKind,
        location: Location,
        column: &'static str,
        value: &str,
        reason: RejectReason,
    ) {
        *self.account.cleared.entry(reason).or_default() += 1;
        self.rejections.push(Rejection {
            table,
            location,
            column,
            value: value.to_string(),
            reason,
            row_kept: true,
        });
    }

    /// Counts a row with the related code numbered `id`.
    pub(crate) fn code_row(&mut self, id: u32) {
        let i = id as usize;
        if i >= self.code_rows.len() {
            self.code_rows.resize(i + 1, 0);
        }
        self.code_rows[i] += 1;
    }

    /// Notes the date of a valid row.
    pub(crate) fn saw(&mut self, date: crate::date::Date) {
        self.latest_date = self.latest_date.max(Some(date));
    }

    /// Appends another tally (from a later batch or chunk).
    pub fn merge(&mut self, other: Tally) {
        self.account.merge(&other.account);
        self.rejections.extend(other.rejections);
        self.latest_date = self.latest_date.max(other.latest_date);
        if self.code_rows.len() < other.code_rows.len() {
            self.code_rows.resize(other.code_rows.len(), 0);
        }
        for (a, b) in self.code_rows.iter_mut().zip(other.code_rows) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_balances() {
        let mut t = Tally::default();
        t.used();
        t.ignored(IgnoreReason::UnrelatedCode);
        t.rejected(
            TableKind::Medications,
            Location::Line(3),
            "date",
            Some("2023-02-30"),
            RejectReason::InvalidDate,
        );
        assert_eq!(t.account.read, 3);
        assert!(t.account.balances());
        assert_eq!(t.rejections[0].location.to_string(), "line 3");
        let mut u = Tally::default();
        u.merge(t.clone());
        u.merge(t);
        assert_eq!(u.account.read, 6);
        assert_eq!(u.account.rejected[&RejectReason::InvalidDate], 2);
    }
}
