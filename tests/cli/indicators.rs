//! Every default indicator on a hand-built extract, with expectations
//! computed by hand from the date rules (T = 2024-03-31):
//!   6-month window  (2023-09-30, 2024-03-31]
//!   12-month window (2023-03-31, 2024-03-31]
//!   months 12 to 6  (2023-03-31, 2023-09-30]
//!   3-month window  (2023-12-31, 2024-03-31]
//!   new start: first issue in (2023-03-31, 2024-01-07] (T - 84 days),
//!   none in the 24 months before it; review 21..=84 days after it.

use std::collections::BTreeMap;

use polars::prelude::SerReader;

use super::workdir::{counts, national, ok, parse_csv, Workdir, LD};

// SNOMED CT codes from the bundled codelists.
const AUTISM: &str = "408856003"; // Autistic disorder (AUTISM_COD)
const SMI: &str = "111484002"; // Undifferentiated schizophrenia (MH_COD)
const PALLIATIVE: &str = "1025611000000105"; // PALCARE_COD
const DEPRESSION: &str = "35489007"; // Depressive disorder (DEPR_COD)
const ANXIETY: &str = "191706008"; // Generalised anxiety disorder
const EPILEPSY: &str = "84757009"; // Epilepsy (EPIL_COD)
const MED_REVIEW: &str = "1127441000000107"; // Medication review done by clinical pharmacist
const WEIGHT: &str = "162763007";
const BP: &str = "251070002";
const HBA1C: &str = "1003671000000109";

// dm+d ids and BNF codes.
const RISPERIDONE: &str = "321589009"; // SGA list, BNF 040201030AAAAAA
const HALOPERIDOL: &str = "321451001"; // FGA list, BNF 0402010J0AAAIAI
const OLANZAPINE: &str = "321612002";
const ARIPIPRAZOLE: &str = "406787003";
const FLUPENTIXOL_LOW_DOSE: &str = "321935002"; // FGA list, but BNF 0403040F0: an antidepressant
const PROCHLORPERAZINE: &str = "322149009"; // BNF 0406000: an antiemetic
const SERTRALINE: &str = "321959007";
const DIAZEPAM: &str = "321196004"; // benzodiazepine list (no BNF column)
                                    // Real extracts carry dm+d codes only: these come from lists without a BNF
                                    // column (GM SDE chapter 4 products, EPILDRUG_COD) or with one (teratogenic).
const MELATONIN: &str = "8025411000001104"; // Melatonin 2mg modified-release tablets
const VALPROATE: &str = "3846411000001106"; // Depakote 250mg gastro-resistant tablets (0402030Q0)
const LEVETIRACETAM: &str = "19430511000001104"; // Levetiracetam 500mg tablets (Consilient) (AMP)
const ARIPIPRAZOLE_BNF: &str = "0402010ADAAAAAA";

pub fn scenario() -> Workdir {
    let mut w = Workdir::new();
    // Antipsychotic window edges.
    w.ld("pid-01");
    w.med("pid-01", "2023-10-01", RISPERIDONE, ""); // first day: in
    w.ld("pid-02");
    w.med("pid-02", "2024-03-31", RISPERIDONE, "")
        .event("pid-02", "2020-01-01", SMI); // last day: in
    w.ld("pid-03");
    w.med("pid-03", "2023-09-30", RISPERIDONE, ""); // one day outside
    w.ld("pid-04");
    w.med("pid-04", "2024-01-01", RISPERIDONE, "")
        .event("pid-04", "2024-04-01", SMI); // SMI after T
                                             // Left the practice on T; died before T.
    w.patient_full("pid-05", "1980-01-01", "M", "").reg(
        "pid-05",
        "A00001",
        "2010-01-01",
        "2024-03-31",
    );
    w.event("pid-05", "2015-01-01", LD)
        .med("pid-05", "2024-01-01", RISPERIDONE, "");
    w.patient_full("pid-06", "1980-01-01", "M", "2024-02-01")
        .reg("pid-06", "A00001", "2010-01-01", "");
    w.event("pid-06", "2015-01-01", LD)
        .med("pid-06", "2024-01-01", RISPERIDONE, "");
    // Prochlorperazine alone; a dm+d code unknown to every list with a BNF code.
    w.ld("pid-07");
    w.med("pid-07", "2024-01-01", PROCHLORPERAZINE, "");
    w.ld("pid-08");
    w.med("pid-08", "2024-02-01", "999999999", ARIPIPRAZOLE_BNF);
    // Autism without and with LD.
    w.patient("pid-09")
        .event("pid-09", "2012-01-01", AUTISM)
        .med("pid-09", "2024-02-01", ARIPIPRAZOLE, "");
    w.ld("pid-10");
    w.event("pid-10", "2012-01-01", AUTISM)
        .med("pid-10", "2024-02-01", OLANZAPINE, "");
    // Antidepressants and their indications.
    w.ld("pid-11");
    w.med("pid-11", "2024-01-15", SERTRALINE, "");
    w.ld("pid-12");
    w.med("pid-12", "2024-01-15", SERTRALINE, "")
        .event("pid-12", "2019-01-01", ANXIETY);
    w.ld("pid-13");
    w.med("pid-13", "2024-01-15", FLUPENTIXOL_LOW_DOSE, "")
        .event("pid-13", "2018-01-01", DEPRESSION);
    // Hypnotics and melatonin.
    w.ld("pid-14");
    w.med("pid-14", "2024-02-01", DIAZEPAM, "")
        .med("pid-14", "2024-02-01", MELATONIN, "");
    // Antiepileptics.
    w.ld("pid-15");
    w.med("pid-15", "2024-02-01", VALPROATE, "")
        .event("pid-15", "2019-01-01", SMI);
    w.ld("pid-16");
    w.med("pid-16", "2024-02-01", LEVETIRACETAM, "")
        .event("pid-16", "2019-01-01", SMI);
    w.ld("pid-17");
    w.med("pid-17", "2024-02-01", VALPROATE, "")
        .event("pid-17", "2019-01-01", EPILEPSY);
    // Polypharmacy: two drugs each held (issued in the last 3 months and
    // the 3 before); then one held and one only recent.
    w.ld("pid-18");
    w.med("pid-18", "2023-11-05", RISPERIDONE, "")
        .med("pid-18", "2024-02-05", RISPERIDONE, "");
    w.med("pid-18", "2023-12-10", HALOPERIDOL, "")
        .med("pid-18", "2024-03-10", HALOPERIDOL, "");
    w.ld("pid-19");
    w.med("pid-19", "2024-01-05", RISPERIDONE, "")
        .med("pid-19", "2024-02-05", RISPERIDONE, "");
    w.med("pid-19", "2024-02-10", HALOPERIDOL, "")
        .med("pid-19", "2023-12-20", HALOPERIDOL, "");
    // Three psychotropic classes.
    w.ld("pid-20");
    w.med("pid-20", "2024-02-01", DIAZEPAM, "")
        .med("pid-20", "2024-02-01", SERTRALINE, "");
    w.med("pid-20", "2024-02-01", LEVETIRACETAM, "");
    // Long-term antipsychotics, reviews and monitoring.
    w.ld("pid-21");
    w.med("pid-21", "2023-06-01", RISPERIDONE, "")
        .med("pid-21", "2024-01-01", RISPERIDONE, "");
    w.event("pid-21", "2023-06-01", WEIGHT)
        .event("pid-21", "2023-06-01", BP)
        .event("pid-21", "2023-06-01", HBA1C);
    w.ld("pid-22");
    w.med("pid-22", "2023-04-01", RISPERIDONE, "")
        .med("pid-22", "2024-03-01", RISPERIDONE, "");
    w.event("pid-22", "2023-04-01", MED_REVIEW);
    w.ld("pid-23");
    w.med("pid-23", "2023-03-31", RISPERIDONE, "")
        .med("pid-23", "2024-03-01", RISPERIDONE, "");
    // New starts and early reviews.
    for id in ["pid-24", "pid-25", "pid-26", "pid-27"] {
        w.ld(id);
        for d in [
            "2023-10-01",
            "2023-11-01",
            "2023-12-01",
            "2024-01-01",
            "2024-02-01",
            "2024-03-01",
        ] {
            w.med(id, d, RISPERIDONE, "");
        }
    }
    w.event("pid-24", "2023-10-22", MED_REVIEW); // start + 21 days: counts
    w.event("pid-25", "2023-10-21", MED_REVIEW); // start + 20 days: too early
    w.med("pid-26", "2021-10-15", RISPERIDONE, ""); // within 24 months before: not new
    w.med("pid-27", "2021-09-30", RISPERIDONE, ""); // just before the washout: new
    w.event("pid-27", "2023-12-24", MED_REVIEW); // start + 84 days: counts
                                                 // Outside the cohort; LD recorded after T; palliative care.
    w.patient("pid-28")
        .med("pid-28", "2024-01-01", RISPERIDONE, "");
    w.patient("pid-29").event("pid-29", "2024-04-01", LD);
    w.ld("pid-30");
    w.med("pid-30", "2024-02-15", RISPERIDONE, "")
        .event("pid-30", "2022-01-01", PALLIATIVE);
    // A practice missing from the practices table.
    w.patient_full("pid-31", "1990-01-01", "M", "")
        .reg("pid-31", "Z99999", "2015-01-01", "");
    w.event("pid-31", "2015-01-01", LD);
    w
}

#[test]
fn every_indicator_matches_hand_computed_counts() {
    let w = scenario();
    ok(&w.audit(&["--index-date", "2024-03-31", "-q"]));
    let c = counts(&w.read_out("indicators.csv"));
    let national = |id: &str| c[&(id.to_string(), "national".to_string(), "ALL".to_string())];
    let expected: BTreeMap<&str, (u64, u64)> = [
        ("STOMP01", (26, 29)),
        ("STOMP02", (15, 26)),
        ("STOMP03", (13, 26)),
        ("STOMP03B", (13, 15)),
        ("STOMP04", (1, 1)),
        ("STOMP04B", (1, 1)),
        ("STOMP05", (2, 4)),
        ("STOMP05B", (2, 26)),
        ("STOMP05C", (0, 4)),
        ("STOMP06", (2, 26)),
        ("STOMP06B", (1, 26)),
        ("STOMP07", (2, 4)),
        ("STOMP07B", (0, 26)),
        ("STOMP08", (1, 15)),
        ("STOMP09", (1, 26)),
        ("STOMP11", (1, 2)),
        // No review in 6 months: neither long-term user (pid-22's was 2023-04-01).
        ("STOMP11B", (2, 2)),
        // New starts: pid-01, 03, 04, 18, 19, 21, 22, 24, 25, 27 (first
        // issue by 2024-01-07, none in the 24 months before); reviewed 21-84
        // days after: pid-24 and pid-27.
        ("STOMP12", (8, 10)),
        ("STOMP13", (2, 2)),
        ("STOMP13A", (1, 2)),
        ("STOMP13B", (1, 2)),
        ("STOMP13C", (1, 2)),
        ("STOMP13D", (2, 2)),
        ("STOMP13E", (1, 2)),
        ("STOMP13F", (0, 2)),
    ]
    .into_iter()
    .collect();
    for (id, want) in &expected {
        assert_eq!(national(id), *want, "{id}");
    }
    // The unlisted practice is kept, under unknown localities, never dropped.
    let key =
        |id: &str, level: &str, unit: &str| (id.to_string(), level.to_string(), unit.to_string());
    assert_eq!(c[&key("STOMP01", "practice", "Z99999")], (1, 1));
    assert_eq!(c[&key("STOMP01", "practice", "A00001")], (25, 28));
    assert_eq!(c[&key("STOMP01", "pcn", "UNKNOWN")], (1, 1));
    assert_eq!(c[&key("STOMP01", "pcn", "PCN001")], (25, 28));
}

#[test]
fn the_review_list_explains_each_flag() {
    let w = scenario();
    ok(&w.audit(&["--index-date", "2024-03-31", "-q"]));
    let rows = parse_csv(&w.read_out("review_list.csv"));
    let find = |id: &str, ind: &str| {
        rows.iter()
            .find(|r| r["patient_id"] == id && r["indicator_id"] == ind)
            .unwrap_or_else(|| panic!("{id} {ind} not on the review list"))
    };
    let r = find("pid-01", "STOMP03");
    assert_eq!(
        r["drugs"],
        "Risperidone 1mg tablets (last issued 2023-10-01)"
    );
    assert_eq!(r["practice_code"], "A00001");
    assert_eq!(r["age_band"], "35-44");
    assert_eq!(r["sex"], "female");
    assert!(r["reason"].contains("no SMI diagnosis"));
    // A BNF-only drug is named from the BNF lookup.
    assert_eq!(
        find("pid-08", "STOMP03")["drugs"],
        "Aripiprazole 10mg tablets (last issued 2024-02-01)"
    );
    // Polypharmacy names both drugs; the last review is shown.
    assert!(find("pid-18", "STOMP08")["drugs"]
        .contains("Haloperidol 500microgram tablets (last issued 2024-03-10)"));
    assert_eq!(
        find("pid-22", "STOMP13")["last_medication_review"],
        "2023-04-01"
    );
    // Not flagged: SMI recorded; outside the cohort; prochlorperazine only.
    for (id, ind) in [
        ("pid-02", "STOMP03"),
        ("pid-28", "STOMP02"),
        ("pid-07", "STOMP02"),
    ] {
        assert!(
            !rows
                .iter()
                .any(|r| r["patient_id"] == id && r["indicator_id"] == ind),
            "{id} {ind}"
        );
    }
}

#[test]
fn aggregate_outputs_hold_no_patient_id() {
    let w = scenario();
    ok(&w.audit(&[
        "--index-date",
        "2023-12-31",
        "--index-date",
        "2024-03-31",
        "-q",
    ]));
    let ids: Vec<String> = w
        .patients
        .iter()
        .map(|p| p.split(',').next().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 31);
    let files: Vec<String> = std::fs::read_dir(w.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for file in &files {
        let text = if file.ends_with(".parquet") {
            // Compressed: decode it and look at every value.
            let f = std::fs::File::open(w.out().join(file)).unwrap();
            let df = polars::prelude::ParquetReader::new(f).finish().unwrap();
            format!(
                "{:?}",
                df.columns()
                    .iter()
                    .map(|c| format!(
                        "{:?}",
                        c.as_materialized_series().iter().collect::<Vec<_>>()
                    ))
                    .collect::<Vec<_>>()
            )
        } else {
            String::from_utf8_lossy(&std::fs::read(w.out().join(file)).unwrap()).into_owned()
        };
        let holds = ids.iter().any(|id| text.contains(id.as_str()));
        // Only the review list, named as such, holds patient ids.
        assert_eq!(holds, file.contains("review"), "{file}");
    }
    for f in [
        "indicators.csv",
        "indicators.parquet",
        "changes.csv",
        "deciles.csv",
        "report.html",
        "summary.json",
    ] {
        assert!(files.iter().any(|x| x == f), "{f} not written");
    }
    assert!(w.read_out("summary.json").contains("never for publication"));
}

#[test]
fn two_index_dates_are_evaluated_in_one_run() {
    let w = scenario();
    ok(&w.audit(&[
        "--index-date",
        "2024-03-31",
        "--index-date",
        "2023-12-31",
        "-q",
    ]));
    let rows = parse_csv(&w.read_out("indicators.csv"));
    let get = |date: &str, id: &str| {
        let r = national(&rows, date, id);
        (r["numerator"].clone(), r["denominator"].clone())
    };
    assert_eq!(get("2024-03-31", "STOMP02"), ("15".into(), "26".into()));
    // At 2023-12-31 the 6-month window is (2023-06-30, 2023-12-31]: pid-01,
    // pid-03 (2023-09-30), pid-18 (2023-11-05), pid-19 (haloperidol
    // 2023-12-20) and the four new starters; pid-05 is still registered and
    // pid-06 still alive, so the register is 26 + 2.
    assert_eq!(get("2023-12-31", "STOMP02"), ("8".into(), "28".into()));
}
