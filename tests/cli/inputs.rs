//! Defined behaviour for bad and unusual input: rejections with file, line,
//! column and value; clear errors with exit codes; column mapping.

use super::workdir::{national_counts, ok, parse_csv, run, Workdir, LD};

const RISPERIDONE: &str = "321589009";

fn base() -> Workdir {
    let mut w = Workdir::new();
    w.patient("p1")
        .event("p1", "2015-01-01", LD)
        .med("p1", "2024-01-01", RISPERIDONE, "");
    w
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_rows_are_rejected_with_their_line_column_and_value() {
    let mut w = base();
    w.med("p1", "2023-02-30", RISPERIDONE, ""); // medications line 3
    w.med("", "2024-01-01", RISPERIDONE, ""); // line 4
    w.med("nobody", "2024-01-01", RISPERIDONE, ""); // line 5
    w.med("p1", "2024-01-01", "", ""); // line 6
    w.med("p1", "2024-01-01", "32158X009", ""); // line 7
    w.event("p1", "2020-01-01", "not-a-code"); // clinical_events line 3
    w.patient_full("p1", "1980-01-01", "F", ""); // duplicate: patients line 3
    w.patient_full("p2", "1980-13-01", "X", ""); // bad DOB and sex kept as missing
    w.reg("p2", "A00001", "2020-01-01", "2019-01-01"); // ends before it starts
                                                       // Most medication rows are bad here: allow it, to see each one.
    let out = w.audit(&[
        "--index-date",
        "2024-03-31",
        "-q",
        "--max-rejected-share",
        "1",
    ]);
    ok(&out);
    let rows = parse_csv(&w.read_out("rejected_rows.csv"));
    let has = |file: &str, loc: &str, col: &str, val: &str, reason: &str, action: &str| {
        rows.iter().any(|r| {
            r["file"].ends_with(file)
                && r["location"] == loc
                && r["column"] == col
                && r["value"] == val
                && r["reason"] == reason
                && r["action"] == action
        })
    };
    assert!(
        has(
            "medications.csv",
            "line 3",
            "date",
            "2023-02-30",
            "invalid_date",
            "row_rejected"
        ),
        "{rows:?}"
    );
    assert!(has(
        "medications.csv",
        "line 4",
        "patient_id",
        "",
        "empty_patient_id",
        "row_rejected"
    ));
    assert!(has(
        "medications.csv",
        "line 5",
        "patient_id",
        "nobody",
        "unknown_patient",
        "row_rejected"
    ));
    assert!(has(
        "medications.csv",
        "line 6",
        "dmd_code",
        "",
        "missing_value",
        "row_rejected"
    ));
    assert!(has(
        "medications.csv",
        "line 7",
        "dmd_code",
        "32158X009",
        "invalid_code",
        "row_rejected"
    ));
    assert!(has(
        "clinical_events.csv",
        "line 3",
        "snomedct_code",
        "not-a-code",
        "invalid_code",
        "row_rejected"
    ));
    assert!(has(
        "patients.csv",
        "line 3",
        "patient_id",
        "p1",
        "duplicate_patient",
        "row_rejected"
    ));
    assert!(has(
        "patients.csv",
        "line 4",
        "date_of_birth",
        "1980-13-01",
        "invalid_date",
        "value_set_to_missing"
    ));
    assert!(has(
        "patients.csv",
        "line 4",
        "sex",
        "X",
        "invalid_code",
        "value_set_to_missing"
    ));
    assert!(has(
        "registrations.csv",
        "line 3",
        "end_date",
        "2019-01-01",
        "end_before_start",
        "row_rejected"
    ));
    assert_eq!(rows.len(), 10);
    // The good row still counts.
    assert_eq!(
        national_counts(&w.read_out("indicators.csv"), "STOMP02"),
        (1, 1)
    );
}

#[test]
fn strict_turns_rejections_into_a_failure_that_writes_nothing() {
    let mut w = base();
    w.med("p1", "2023-02-30", RISPERIDONE, "")
        .med("p1", "2024-03-01", RISPERIDONE, "");
    let out = w.audit(&["--index-date", "2024-03-31", "-q", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--strict: 1 input rows were rejected, so nothing was written")
            && err
                .contains("medications.csv line 3, column date, value '2023-02-30': invalid_date"),
        "{err}"
    );
    assert!(!w.out().exists(), "exit 1 leaves no output folder");
}

#[test]
fn an_index_date_beyond_the_data_is_a_warning_and_an_error_under_strict() {
    let w = base(); // data to 2024-01-01
    let out = w.audit(&["--index-date", "2024-03-31"]);
    let stdout = ok(&out);
    assert!(stdout.contains("warning: the index date 2024-03-31 is after the latest dated medication or event (2024-01-01)"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&w.read_out("summary.json")).unwrap();
    assert_eq!(summary["status"], "warnings");
    assert!(summary["data_quality"]["warnings"][0]
        .as_str()
        .unwrap()
        .contains("after the latest dated"));
    std::fs::remove_dir_all(w.out()).unwrap();
    let out = w.audit(&["--index-date", "2024-03-31", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--strict: the index date 2024-03-31 is after"));
    assert!(!w.out().exists());
}

#[test]
fn a_table_where_most_rows_are_rejected_fails_the_run_and_names_the_date_format() {
    // A mapping's %d/%m/%Y over ISO dates: every medication date rejected.
    let mut w = base();
    w.med("p1", "2024-02-01", RISPERIDONE, "")
        .med("p1", "2024-03-01", RISPERIDONE, "");
    w.write();
    let mapping = w.path().join("mapping.toml");
    std::fs::write(&mapping, "[medications]\ndate_format = \"%d/%m/%Y\"\n").unwrap();
    let out = w.audit(&[
        "--index-date",
        "2024-03-31",
        "--mapping",
        mapping.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for part in [
        "medications (",
        "3 of 3 rows rejected (100%, more than the 50% allowed)",
        "the commonest reason is invalid_date (3 rows)",
        "e.g. line 2 column date value '2024-01-01'",
        "Dates are read as '%d/%m/%Y'",
        "Nothing was written",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(!w.out().exists());
    // The limit is a setting.
    ok(&w.audit(&[
        "--index-date",
        "2024-03-31",
        "--mapping",
        mapping.to_str().unwrap(),
        "--max-rejected-share",
        "1",
        "-q",
    ]));
}

#[test]
fn a_missing_column_names_the_file_and_lists_the_columns() {
    let w = base();
    w.write();
    let path = w.extract().join("clinical_events.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("snomedct_code", "code");
    std::fs::write(&path, text).unwrap();
    let mut cmd = std::process::Command::new(super::workdir::BIN);
    let out = cmd
        .args([
            "audit",
            w.extract().to_str().unwrap(),
            "--index-date",
            "2024-03-31",
            "--out",
        ])
        .arg(w.out())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("clinical_events.csv: the required column 'snomedct_code' of clinical_events is missing"), "{err}");
    assert!(
        err.contains("the columns are: patient_id, date, code, numeric_value"),
        "{err}"
    );
}

#[test]
fn a_missing_table_is_a_data_error() {
    let w = base();
    w.write();
    std::fs::remove_file(w.extract().join("practices.csv")).unwrap();
    let out = run(&[
        "audit",
        w.extract().to_str().unwrap(),
        "--index-date",
        "2024-03-31",
        "--out",
        w.out().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(
        "has no practices table: looked for practices.csv, practices.csv.gz, practices.parquet"
    ));
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["audit", "x", "--index-date", "2024-02-30", "--out", "y"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'2024-02-30' is not a date"),
        "{}",
        stderr(&out)
    );
    let w = base();
    std::fs::write(
        w.path().join("bad.toml"),
        "[patients.columns]\nnhs_number = \"x\"\n",
    )
    .unwrap();
    let out = w.audit(&[
        "--index-date",
        "2024-03-31",
        "--mapping",
        w.path().join("bad.toml").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("'nhs_number', which is not a column of patients"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_mapping_file_loads_an_export_with_other_names_and_dates() {
    let mut w = Workdir::new();
    w.patient_full("p1", "01/05/1980", "F", "")
        .reg("p1", "A00001", "01/01/2010", "");
    w.event("p1", "01/01/2015", LD)
        .med("p1", "31/03/2024", RISPERIDONE, "");
    w.write();
    let path = w.extract().join("medications.csv");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "patient_id,date,dmd_code",
        "PatientID,IssueDate,DMD",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let mapping = w.path().join("emis.toml");
    std::fs::write(
        &mapping,
        "date_format = \"%d/%m/%Y\"\n[medications.columns]\npatient_id = \"PatientID\"\ndate = \"IssueDate\"\ndmd_code = \"DMD\"\n",
    )
    .unwrap();
    ok(&run(&[
        "audit",
        w.extract().to_str().unwrap(),
        "--index-date",
        "2024-03-31",
        "--out",
        w.out().to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(
        national_counts(&w.read_out("indicators.csv"), "STOMP02"),
        (1, 1)
    );
}

#[test]
fn validate_reports_rejections_and_exits_1() {
    let mut w = base();
    w.med("p1", "2023-02-30", RISPERIDONE, "")
        .med("p1", "2023-03-30", RISPERIDONE, "")
        .med("p1", "2023-02-31", RISPERIDONE, "")
        .med("p1", "2024-01-01", "", "402010ADAAAAAA");
    w.write();
    let out = run(&["validate", w.extract().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Every kind of problem gets examples, with a hint where one helps.
    for part in [
        "invalid_date in column date: 2 row(s)",
        "e.g. line 3, value '2023-02-30'",
        "e.g. line 5, value '2023-02-31'",
        "invalid_code in column bnf_code: 1 row(s)",
        "e.g. line 6, value '402010ADAAAAAA'",
        "hint: this BNF code lost its leading zero (a spreadsheet such as Excel",
    ] {
        assert!(stdout.contains(part), "{part}: {stdout}");
    }
    let clean = base();
    clean.write();
    ok(&run(&["validate", clean.extract().to_str().unwrap()]));
    // Every related row is checked in full, even one years before any index date.
    let mut old = base();
    old.med("ghost", "2015-06-01", RISPERIDONE, "");
    old.write();
    let out = run(&["validate", old.extract().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("unknown_patient in column patient_id: 1 row(s)")
            && stdout.contains("e.g. line 3, value 'ghost'"),
        "{stdout}"
    );
}

#[test]
fn an_earlier_run_is_replaced_only_with_force() {
    let w = base();
    ok(&w.audit(&["--index-date", "2024-03-31", "-q"]));
    let before = w.read_out("summary.json");
    let again = w.audit(&["--index-date", "2024-03-31", "-q"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("is not empty (an earlier run?); give --force to replace it"),
        "{}",
        stderr(&again)
    );
    assert_eq!(w.read_out("summary.json"), before);
    ok(&w.audit(&["--index-date", "2023-12-31", "-q", "--force"]));
    assert!(w.read_out("summary.json").contains("2023-12-31"));
    // Nothing of the staging is left beside the output.
    let leftovers: Vec<_> = std::fs::read_dir(w.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// A full disk (a 256 KiB tmpfs; the report alone is larger) or, where
/// mounting is not allowed, a read-only folder: the error names the file,
/// and no output folder is left that could look finished.
#[test]
fn a_full_disk_leaves_no_output_that_looks_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let place = tmp.path().join("small");
    std::fs::create_dir_all(&place).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&place)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        let mut perms = std::fs::metadata(&place).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&place, perms).unwrap();
    }
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/extract");
    let out = place.join("out");
    let o = run(&[
        "audit",
        sample.to_str().unwrap(),
        "--quarters",
        "2023Q1..2024Q1",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let listing: Vec<String> = std::fs::read_dir(&place)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if mounted {
        let _ = std::process::Command::new("umount").arg(&place).status();
    }
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("cannot write")
            && (err.contains("No space left") || err.contains("ermission denied")),
        "{err}"
    );
    assert!(listing.is_empty(), "left behind: {listing:?}");
}

#[test]
fn a_mangled_dmd_code_beside_a_valid_bnf_code_is_used_through_the_bnf_code() {
    let mut w = Workdir::new();
    w.ld("p1");
    // Risperidone 1mg tablets: the dm+d id spoiled by a spreadsheet.
    w.med("p1", "2024-03-01", "3.21589E+08", "040201030AAAAAA");
    ok(&w.audit(&["--index-date", "2024-03-31", "-q"]));
    assert_eq!(
        national_counts(&w.read_out("indicators.csv"), "STOMP02"),
        (1, 1)
    );
    let rows = parse_csv(&w.read_out("rejected_rows.csv"));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (
            r["column"].as_str(),
            r["value"].as_str(),
            r["action"].as_str()
        ),
        ("dmd_code", "3.21589E+08", "value_set_to_missing")
    );
    assert!(r["hint"].contains("Excel"), "{r:?}");
}

#[test]
fn headers_are_trimmed_and_table_names_match_whatever_their_case() {
    let w = base();
    w.write();
    let dir = w.extract();
    std::fs::rename(dir.join("practices.csv"), dir.join("Practices.CSV")).unwrap();
    let meds = dir.join("medications.csv");
    let text = std::fs::read_to_string(&meds).unwrap().replacen(
        "patient_id,date,",
        " patient_id , date,",
        1,
    );
    std::fs::write(&meds, text).unwrap();
    ok(&run(&[
        "audit",
        dir.to_str().unwrap(),
        "--index-date",
        "2024-01-31",
        "--out",
        w.out().to_str().unwrap(),
        "-q",
    ]));
    assert_eq!(
        national_counts(&w.read_out("indicators.csv"), "STOMP02"),
        (1, 1)
    );
}

#[test]
fn output_folders_are_checked_before_anything_is_written() {
    let w = base();
    w.write();
    // --out naming a file gets a plain message, not a temporary name.
    let file = w.path().join("afile");
    std::fs::write(&file, "x").unwrap();
    let out = run(&[
        "audit",
        w.extract().to_str().unwrap(),
        "--index-date",
        "2024-03-31",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is a file, not a folder"),
        "{}",
        stderr(&out)
    );
    // synth refuses a folder that holds files, unless --force.
    let extract = w.extract();
    let synth = |extra: &[&str]| {
        let mut args = vec![
            "synth",
            "--patients",
            "10",
            "--out",
            extract.to_str().unwrap(),
        ];
        args.extend(extra);
        run(&args)
    };
    assert_eq!(synth(&[]).status.code(), Some(2));
    ok(&synth(&["--force"]));
}
