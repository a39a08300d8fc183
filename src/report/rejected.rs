//! `rejected_rows.csv`: every rejected row (or value set to missing) with
//! the file, line or row, column, value and reason.

use std::path::Path;

use polars::prelude::*;

use crate::classify::codelist::is_bnf_item_code;
use crate::ingest::accounting::{RejectReason, Rejection, Tally};
use crate::pipeline::audit::AuditRun;

/// File name.
pub const FILE: &str = "rejected_rows.csv";

/// The rejected rows as a frame; `None` when nothing was rejected.
pub(crate) fn frame(run: &AuditRun) -> PolarsResult<Option<DataFrame>> {
    frame_of(run.inputs.iter().map(|i| (i.file.path.as_path(), &i.tally)))
}

/// The rejections of each input file's tally as one frame; `None` when none.
pub(crate) fn frame_of<'a>(
    inputs: impl Iterator<Item = (&'a Path, &'a Tally)>,
) -> PolarsResult<Option<DataFrame>> {
    let mut file = Vec::new();
    let mut location = Vec::new();
    let mut column = Vec::new();
    let mut value = Vec::new();
    let mut reason = Vec::new();
    let mut action = Vec::new();
    let mut hint = Vec::new();
    for (path, t) in inputs {
        for r in &t.rejections {
            file.push(path.display().to_string());
            location.push(r.location.to_string());
            column.push(r.column);
            value.push(r.value.as_str());
            reason.push(r.reason.as_str());
            action.push(if r.row_kept {
                "value_set_to_missing"
            } else {
                "row_rejected"
            });
            hint.push(self::hint(r).unwrap_or(""));
        }
    }
    if file.is_empty() {
        return Ok(None);
    }
    df!(
        "file" => file,
        "location" => location,
        "column" => column,
        "value" => value,
        "reason" => reason,
        "action" => action,
        "hint" => hint,
    )
    .map(Some)
}

/// Advice for values a spreadsheet damaged: a code shown in scientific
/// notation (`3.21612E+08`), a BNF code that lost its leading zero, or a
/// date written day/month/year where the table's format is not set.
pub fn hint(r: &Rejection) -> Option<&'static str> {
    let v = r.value.trim();
    if r.reason == RejectReason::InvalidDate && v.contains('/') {
        return Some("a date written with slashes: if this table's dates are all written so, say how in the config (date_format = \"%d/%m/%Y\"); dates are read as YYYY-MM-DD otherwise");
    }
    if r.reason != RejectReason::InvalidCode {
        return None;
    }
    let scientific = v.starts_with(|c: char| c.is_ascii_digit())
        && v.contains(['E', 'e'])
        && v.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'E' | 'e'));
    if scientific {
        Some("a spreadsheet (Excel) saved this code as a number in scientific notation, losing digits: re-export the column as text")
    } else if r.column == "bnf_code" && v.len() == 14 && is_bnf_item_code(&format!("0{v}")) {
        Some("this BNF code lost its leading zero (a spreadsheet such as Excel stored it as a number): format the column as text before saving")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::accounting::Location;
    use crate::ingest::table::TableKind;

    fn rejection(column: &'static str, value: &str) -> Rejection {
        Rejection {
            table: TableKind::Medications,
            location: Location::Line(2),
            column,
            value: value.into(),
            reason: RejectReason::InvalidCode,
            row_kept: false,
        }
    }

    #[test]
    fn spreadsheet_damage_gets_a_hint_that_names_excel() {
        assert!(hint(&rejection("dmd_code", "3.21612E+08"))
            .unwrap()
            .contains("Excel"));
        assert!(hint(&rejection("bnf_code", "4.0201E+14"))
            .unwrap()
            .contains("Excel"));
        assert!(hint(&rejection("bnf_code", "402010ADAAAAAA"))
            .unwrap()
            .contains("leading zero"));
        assert_eq!(hint(&rejection("dmd_code", "32158X009")), None);
    }

    #[test]
    fn a_day_month_year_date_points_to_date_format() {
        let date = |value: &str| Rejection {
            column: "date",
            reason: RejectReason::InvalidDate,
            ..rejection("date", value)
        };
        assert!(hint(&date("01/02/2024")).unwrap().contains("date_format"));
        assert_eq!(hint(&date("2023-02-30")), None);
    }
}
