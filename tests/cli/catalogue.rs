//! The catalogue of bad inputs in `tests/invalid/`: each case is the small
//! valid extract in `base/` with one or two files replaced (and a
//! `.remove-<table>` marker to delete a table). Every case pins its exact
//! outcome: the exit code and the error text, or the rejected rows and the
//! counts that result.

use std::path::{Path, PathBuf};

use super::workdir::{counts, parse_csv, run};

fn invalid() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid")
}

/// Builds a case's extract in `dir`.
fn build(case: &str, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for e in std::fs::read_dir(invalid().join("base")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    for e in std::fs::read_dir(invalid().join(case)).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(table) = name.strip_prefix(".remove-") {
            std::fs::remove_file(dir.join(format!("{table}.csv"))).unwrap();
        } else {
            std::fs::copy(e.path(), dir.join(&name)).unwrap();
        }
    }
}

struct Outcome {
    code: i32,
    stderr: String,
    rejected: Vec<String>,
    out: PathBuf,
}

fn audit(case: &str, tmp: &Path) -> Outcome {
    let dir = tmp.join(case);
    build(case, &dir);
    audit_dir(&dir, tmp)
}

fn audit_dir(dir: &Path, tmp: &Path) -> Outcome {
    let out = tmp.join(format!(
        "out-{}",
        dir.file_name().unwrap().to_string_lossy()
    ));
    let o = run(&[
        "audit",
        dir.to_str().unwrap(),
        "--index-date",
        "2024-03-31",
        "--out",
        out.to_str().unwrap(),
        "-q",
        // The cases are tiny: see every row's fate even where most are bad.
        "--max-rejected-share",
        "1",
    ]);
    let rejected = std::fs::read_to_string(out.join("rejected_rows.csv"))
        .map(|t| {
            parse_csv(&t)
                .iter()
                .map(|r| {
                    let file = Path::new(&r["file"])
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    format!(
                        "{file} {} {} '{}' {} {}",
                        r["location"], r["column"], r["value"], r["reason"], r["action"]
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Outcome {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        rejected,
        out,
    }
}

fn national(o: &Outcome, id: &str) -> (u64, u64) {
    let c = counts(&std::fs::read_to_string(o.out.join("indicators.csv")).unwrap());
    c[&(id.to_string(), "national".to_string(), "ALL".to_string())]
}

/// Cases that are errors: exit 1 and the message (file, line, column, hint).
#[test]
fn errors_name_the_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "latin1_name",
            "latin1_name/practices.csv: line 2, column 11: byte 0xE9 is not UTF-8\n  hint: the export is probably Latin-1 or Windows-1252",
        ),
        ("empty_file", "empty_file/medications.csv: the file is empty (no header line)"),
        (
            "missing_column",
            "missing_column/clinical_events.csv: the required column 'snomedct_code' of clinical_events is missing; the columns are: patient_id, date, code, numeric_value\n  hint:",
        ),
        (
            "duplicated_column",
            "duplicated_column/medications.csv: the column 'date' appears more than once in the header",
        ),
        ("missing_table", "has no practices table: looked for practices.csv, practices.csv.gz, practices.parquet"),
        ("not_parquet", "not_parquet/practices.parquet: cannot read as Parquet"),
        (
            "unclosed_quote",
            "unclosed_quote/medications.csv: line 3: a quoted field is never closed\n  hint: a value contains a stray double quote",
        ),
        (
            "xlsx_as_csv",
            "xlsx_as_csv/practices.csv: this is a spreadsheet (an Excel .xlsx or .xls file), not CSV text, though its name ends in .csv\n  hint: open it and save it as \"CSV UTF-8 (Comma delimited)\"",
        ),
        (
            "utf16",
            "utf16/practices.csv: the file is UTF-16 text (as Excel's \"Unicode Text\" saves it), not UTF-8\n  hint:",
        ),
        (
            "tab_separated",
            "tab_separated/practices.csv: the header has tabs and no comma: the file is tab-separated, not comma-separated\n  hint:",
        ),
    ];
    for (case, message) in cases {
        let o = audit(case, tmp.path());
        assert_eq!(o.code, 1, "{case}: {}", o.stderr);
        assert!(o.stderr.contains(message), "{case}: {}", o.stderr);
        assert!(
            !o.stderr.contains("panicked") && !o.stderr.contains("backtrace"),
            "{case}"
        );
        assert!(
            !o.out.join("indicators.csv").exists(),
            "{case} wrote outputs"
        );
    }
}

/// A case that loads: its name, the rejected rows, and an indicator's
/// national (numerator, denominator).
type Loads = (&'static str, Vec<&'static str>, &'static str, (u64, u64));

/// Cases that load: the exact rejected rows and the counts that result.
#[test]
fn bad_rows_are_rejected_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<Loads> = vec![
        ("base", vec![], "STOMP02", (1, 2)),
        (
            "ragged_rows",
            vec![
                "medications.csv line 3 (row) '3 fields; the header has 6' wrong_field_count row_rejected",
                "medications.csv line 4 (row) '7 fields; the header has 6' wrong_field_count row_rejected",
            ],
            "STOMP02",
            (1, 2),
        ),
        (
            // A blank line is a row to the CSV parser: one empty field, so
            // rejected on its own line; the end of the last line is not one.
            "blank_lines",
            vec![
                "medications.csv line 3 (row) '1 fields; the header has 6' wrong_field_count row_rejected",
                "medications.csv line 5 (row) '1 fields; the header has 6' wrong_field_count row_rejected",
            ],
            "STOMP02",
            (1, 2),
        ),
        (
            // The first row spans lines 2-3; the bad date is on line 4.
            "quoted_newline",
            vec!["medications.csv line 4 date '2023-02-30' invalid_date row_rejected"],
            "STOMP02",
            (1, 2),
        ),
        // A quote inside an unquoted value is a character, as in csv-core:
        // the row reads as written (`apply 2" ribbon`).
        ("stray_quote", vec![], "STOMP02", (1, 2)),
        ("utf8_bom", vec![], "STOMP01", (2, 2)),
        ("crlf", vec![], "STOMP01", (2, 2)),
        ("header_only", vec![], "STOMP02", (0, 2)),
        ("very_long_field", vec![], "STOMP02", (1, 2)),
        (
            // 1850 is before 1900: rejected; p1's SMI code dated 2999 is after
            // T: ignored, so p1 still has no indication; an end date of
            // 9999-12-31 means still registered.
            "dates_out_of_range",
            vec!["clinical_events.csv line 2 date '1850-01-01' invalid_date row_rejected"],
            "STOMP03",
            (1, 2),
        ),
        (
            "bnf_lost_zero",
            vec![
                "medications.csv line 2 bnf_code '402010ADAAAAAA' invalid_code row_rejected",
                "medications.csv line 3 bnf_code '4.0201E+14' invalid_code row_rejected",
            ],
            "STOMP02",
            (1, 2),
        ),
        (
            // Spaces around a code are trimmed; inside it they make it invalid.
            "codes_with_spaces",
            vec!["medications.csv line 3 dmd_code '3215 89009' invalid_code row_rejected"],
            "STOMP02",
            (1, 2),
        ),
        (
            "negative_quantity",
            vec!["medications.csv line 3 quantity '-28' negative_quantity row_rejected"],
            "STOMP02",
            (1, 2),
        ),
        (
            "empty_patient_id",
            vec!["clinical_events.csv line 3 patient_id '' empty_patient_id row_rejected"],
            "STOMP01",
            (1, 2),
        ),
        (
            "duplicated_patient",
            vec!["patients.csv line 4 patient_id 'p1' duplicate_patient row_rejected"],
            "STOMP01",
            (2, 2),
        ),
        (
            "registration_ends_before_start",
            vec!["registrations.csv line 3 end_date '2011-01-01' end_before_start row_rejected"],
            "STOMP01",
            (1, 1),
        ),
        ("overlapping_registrations", vec![], "STOMP01", (2, 2)),
        ("unknown_practice", vec![], "STOMP01", (2, 2)),
        (
            "duplicate_practice",
            vec!["practices.csv line 3 practice_code 'A00001' duplicate_practice row_rejected"],
            "STOMP01",
            (2, 2),
        ),
        (
            // Day/month/year where ISO is expected: the row goes, p1 keeps
            // the other issue.
            "unparseable_date",
            vec!["medications.csv line 3 date '01/02/2024' invalid_date row_rejected"],
            "STOMP02",
            (1, 2),
        ),
        (
            // A date of death that does not exist: the patient stays, alive.
            "bad_date_of_death",
            vec!["patients.csv line 3 date_of_death '2024-13-01' invalid_date value_set_to_missing"],
            "STOMP01",
            (2, 2),
        ),
        (
            "unknown_patient_events",
            vec!["clinical_events.csv line 4 patient_id 'p9' unknown_patient row_rejected"],
            "STOMP01",
            (2, 2),
        ),
    ];
    for (case, rejected, id, want) in cases {
        let o = audit(case, tmp.path());
        assert_eq!(o.code, 0, "{case}: {}", o.stderr);
        assert_eq!(o.rejected, rejected, "{case}");
        assert_eq!(national(&o, id), want, "{case} {id}");
    }
}

#[test]
fn overlapping_registrations_take_the_latest_start_and_unknown_practices_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let o = audit("overlapping_registrations", tmp.path());
    let c = counts(&std::fs::read_to_string(o.out.join("indicators.csv")).unwrap());
    let key =
        |level: &str, unit: &str| ("STOMP01".to_string(), level.to_string(), unit.to_string());
    assert_eq!(c[&key("practice", "B00002")], (1, 1));
    assert_eq!(c[&key("practice", "A00001")], (1, 1));
    let o = audit("unknown_practice", tmp.path());
    let c = counts(&std::fs::read_to_string(o.out.join("indicators.csv")).unwrap());
    assert_eq!(c[&key("pcn", "UNKNOWN")], (1, 1));
    let summary = std::fs::read_to_string(o.out.join("summary.json")).unwrap();
    assert!(summary.contains("\"unlisted_practices\": 1"), "{summary}");
}

#[test]
fn parquet_faults() {
    let tmp = tempfile::tempdir().unwrap();
    let pq = tmp.path().join("pq");
    let synth = run(&[
        "synth",
        "--patients",
        "200",
        "--seed",
        "3",
        "--format",
        "parquet",
        "--out",
        pq.to_str().unwrap(),
    ]);
    assert!(synth.status.success());
    // A truncated file.
    let truncated = tmp.path().join("truncated");
    std::fs::create_dir_all(&truncated).unwrap();
    for e in std::fs::read_dir(&pq).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), truncated.join(e.file_name())).unwrap();
    }
    let meds = truncated.join("medications.parquet");
    let bytes = std::fs::read(&meds).unwrap();
    std::fs::write(&meds, &bytes[..bytes.len() / 2]).unwrap();
    let o = audit_dir(&truncated, tmp.path());
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("truncated/medications.parquet: cannot read as Parquet"),
        "{}",
        o.stderr
    );
    // A date column of the wrong type (integers): every value is rejected
    // as an invalid date, with its row.
    let wrong = tmp.path().join("wrong_type");
    build("base", &wrong);
    std::fs::remove_file(wrong.join("clinical_events.csv")).unwrap();
    let mut df = polars::df!(
        "patient_id" => ["p1", "p2"],
        "date" => [20150101i64, 20160101],
        "snomedct_code" => ["416075005", "416075005"],
    )
    .unwrap();
    let file = std::fs::File::create(wrong.join("clinical_events.parquet")).unwrap();
    polars::prelude::ParquetWriter::new(file)
        .finish(&mut df)
        .unwrap();
    let o = audit_dir(&wrong, tmp.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.rejected,
        [
            "clinical_events.parquet row 1 date '20150101' invalid_date row_rejected",
            "clinical_events.parquet row 2 date '20160101' invalid_date row_rejected",
        ]
    );
}

/// Valid rows that play no part are counted by reason, each exactly once:
/// a code in no codelist, an event after the index date, an issue before
/// the look-back window, and an issue for a patient outside the cohort.
#[test]
fn ignored_rows_are_counted_by_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let o = audit("ignored_rows", tmp.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.rejected.is_empty(), "{:?}", o.rejected);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(o.out.join("summary.json")).unwrap())
            .unwrap();
    let table = |name: &str| {
        summary["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == name)
            .unwrap()
            .clone()
    };
    let events = table("clinical_events");
    assert_eq!(events["rows_read"], 4);
    assert_eq!(events["rows_used"], 2);
    assert_eq!(events["rows_ignored"]["unrelated_code"], 1);
    assert_eq!(events["rows_ignored"]["after_index_date"], 1);
    let meds = table("medications");
    assert_eq!(meds["rows_read"], 4);
    assert_eq!(meds["rows_used"], 2);
    assert_eq!(meds["rows_ignored"]["before_horizon"], 1);
    assert_eq!(meds["rows_ignored"]["outside_cohort"], 1);
    // p1's SMI code after the index date does not count: p1, on an
    // antipsychotic, still has no recorded indication.
    assert_eq!(national(&o, "STOMP03"), (1, 2));
}
