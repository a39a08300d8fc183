//! The outcome indicators a STOMP programme is judged by (issue 14): high
//! doses, stops and dose reductions since a year before T. dm+d codes only,
//! as real extracts carry them. Expectations counted by hand at
//! T = 2024-03-31:
//!   a year before: the 6 months to T − 12m, (2022-09-30, 2023-03-31]
//!   now:           the 6 months to T,       (2023-09-30, 2024-03-31]
//!   a dose at D:   issues in the 3 months to D; a single issue lasts 28 days

use super::workdir::{counts, ok, parse_csv, Workdir};

const T: &str = "2024-03-31";
const RISPERIDONE: &str = "321589009"; // Risperidone 1mg tablets
const SERTRALINE: &str = "321959007"; // Sertraline 50mg tablets
const OLANZAPINE_10: &str = "321614001"; // Olanzapine 10mg tablets; BNF max 20 mg
const RISPERIDONE_2: &str = "321590000"; // Risperidone 2mg tablets; BNF max 16 mg
const SMI: &str = "111484002"; // Undifferentiated schizophrenia (MH_COD)

fn national(w: &Workdir, id: &str) -> (u64, u64) {
    let c = counts(&w.read_out("indicators.csv"));
    c[&(id.to_string(), "national".to_string(), "ALL".to_string())]
}

/// Issues of one drug on each date.
fn issues(w: &mut Workdir, id: &str, dmd: &str, dates: &[&str]) {
    for d in dates {
        w.med(id, d, dmd, "");
    }
}

#[test]
fn stopped_counts_a_stop_not_a_continuation_or_a_restart() {
    let mut w = Workdir::new();
    // Stopped: last issue on the baseline window's last day.
    w.ld("stop");
    issues(&mut w, "stop", RISPERIDONE, &["2023-01-15", "2023-03-31"]);
    // Stopped: last issue exactly 6 months before T, just outside "now".
    w.ld("stop-edge");
    issues(
        &mut w,
        "stop-edge",
        RISPERIDONE,
        &["2022-10-01", "2023-09-30"],
    );
    // Continued.
    w.ld("continued");
    issues(
        &mut w,
        "continued",
        RISPERIDONE,
        &["2023-02-01", "2023-08-01", "2024-02-01"],
    );
    // Stopped for months, then restarted in the 6 months to T: not a stop.
    w.ld("restart");
    issues(
        &mut w,
        "restart",
        RISPERIDONE,
        &["2023-01-01", "2024-03-01"],
    );
    // Baseline issue one day too early: not in the denominator.
    w.ld("too-early");
    w.med("too-early", "2022-09-30", RISPERIDONE, "");
    // Not on the LD register.
    w.patient("no-ld");
    w.med("no-ld", "2023-03-01", RISPERIDONE, "");
    // Antidepressants: one stop, one continuation.
    w.ld("ad-stop");
    w.med("ad-stop", "2023-03-01", SERTRALINE, "");
    w.ld("ad-continued");
    issues(
        &mut w,
        "ad-continued",
        SERTRALINE,
        &["2023-03-01", "2024-01-01"],
    );
    ok(&w.audit(&["--index-date", T, "-q"]));
    assert_eq!(national(&w, "STOMP14"), (2, 4));
    assert_eq!(national(&w, "STOMP14B"), (1, 2));
}

#[test]
fn high_dose_is_above_100_percent_of_the_bnf_maximum_not_at_it() {
    let mut w = Workdir::new();
    // 56 x 10 mg over 28 days: 20 mg, exactly 100%: not high dose.
    w.ld("at-100");
    w.med_dose("at-100", "2024-03-01", OLANZAPINE_10, "56", "");
    // "1 twice a day" of 10 mg: 20 mg, 100%; with risperidone 2 mg a day
    // (12.5%) the total is 112.5%: high dose.
    w.ld("two-drugs");
    w.med_dose(
        "two-drugs",
        "2024-03-01",
        OLANZAPINE_10,
        "28",
        "1 twice a day",
    )
    .med_dose("two-drugs", "2024-03-01", RISPERIDONE_2, "28", "1 daily");
    // 59 x 10 mg over 28 days: 21.07 mg, 105%: high dose.
    w.ld("just-above");
    w.med_dose("just-above", "2024-03-01", OLANZAPINE_10, "59", "");
    // No quantity: on an antipsychotic, dose unknown, outside the denominator.
    w.ld("unknown");
    w.med_dose("unknown", "2024-03-01", OLANZAPINE_10, "", "");
    // Last issued 4 months before T: on an antipsychotic (6 months), no
    // drug held for a dose (3 months): outside the denominator.
    w.ld("not-held");
    w.med_dose("not-held", "2023-11-30", OLANZAPINE_10, "112", "");
    // High dose with every other criterion met (an SMI diagnosis, a recent
    // review): on the review list for STOMP10 all the same.
    w.ld("smi").event("smi", "2020-01-01", SMI);
    w.med_dose("smi", "2023-03-01", OLANZAPINE_10, "28", "1 daily")
        .med_dose("smi", "2024-03-01", OLANZAPINE_10, "84", "");
    ok(&w.audit(&["--index-date", T, "-q"]));
    assert_eq!(national(&w, "STOMP02"), (6, 6));
    assert_eq!(national(&w, "STOMP10"), (3, 4));
    let review = parse_csv(&w.read_out("review_list.csv"));
    let row = |id: &str, ind: &str| {
        review
            .iter()
            .find(|r| r["patient_id"] == id && r["indicator_id"] == ind)
            .unwrap_or_else(|| panic!("{id} {ind} not on the review list"))
    };
    let r = row("two-drugs", "STOMP10");
    assert_eq!(
        r["doses"],
        "olanzapine (oral): 20.0 mg/day, 100.0% of BNF max, 600.6 mg chlorpromazine; \
         risperidone (oral): 2.0 mg/day, 12.5% of BNF max, 119.8 mg chlorpromazine"
    );
    assert_eq!(r["total_percent_bnf_max"], "112.5");
    // 20 / 3.33 x 100 + 2 / 1.67 x 100 = 600.60 + 119.76.
    assert_eq!(r["total_chlorpromazine_mg"], "720.4");
    assert_eq!(r["total_percent_bnf_max_12m_before"], "");
    // 84 x 10 mg over 28 days: 30 mg, 150%; a year before 10 mg, 50%.
    let r = row("smi", "STOMP10");
    assert_eq!(r["total_percent_bnf_max"], "150.0");
    assert_eq!(r["total_percent_bnf_max_12m_before"], "50.0");
    assert_eq!(r["total_chlorpromazine_mg_12m_before"], "300.3");
    assert!(!review
        .iter()
        .any(|r| r["patient_id"] == "smi" && r["indicator_id"] == "STOMP03"));
    // Every review row carries the doses, whatever flagged it.
    assert_eq!(
        row("unknown", "STOMP03")["doses"],
        "olanzapine (oral): dose unknown (no quantity or clear daily dose)"
    );
}

#[test]
fn unknown_doses_are_counted_by_reason_in_the_summary() {
    const HALOPERIDOL: &str = "10756001"; // "Haloperidol product": no strength
    const HALOPERIDOL_DEPOT: &str = "36053611000001108"; // decanoate 100mg/1ml
    const MAINTENA: &str = "12172901000001100"; // aripiprazole 400mg depot: no Leucht entry
    const ARIPIPRAZOLE_VIAL: &str = "429779005"; // 7.5mg/ml injection: no BNF maximum
    let mut w = Workdir::new();
    w.ld("known");
    w.med_dose("known", "2024-03-01", RISPERIDONE_2, "28", "");
    w.ld("no-strength");
    w.med_dose("no-strength", "2024-03-01", HALOPERIDOL, "28", "");
    w.ld("no-quantity");
    w.med_dose("no-quantity", "2024-03-01", OLANZAPINE_10, "", "");
    // 28 ampoules of 100 mg over 28 days: 933% of the maximum.
    w.ld("implausible");
    w.med_dose("implausible", "2024-03-01", HALOPERIDOL_DEPOT, "28", "");
    // 400 mg over 28 days: 100% of the BNF maximum, no chlorpromazine scale.
    w.ld("maintena");
    w.med_dose("maintena", "2024-03-01", MAINTENA, "1", "");
    // Two drugs: the vial has a chlorpromazine equivalent, no BNF maximum.
    w.ld("vial");
    w.med_dose("vial", "2024-03-01", ARIPIPRAZOLE_VIAL, "1", "")
        .med_dose("vial", "2024-03-01", RISPERIDONE_2, "28", "");
    // Issued 4 months before T: holds nothing at T.
    w.ld("not-held");
    w.med_dose("not-held", "2023-11-30", OLANZAPINE_10, "", "");
    // Outside the cohort: not counted.
    w.patient("no-ld");
    w.med_dose("no-ld", "2024-03-01", OLANZAPINE_10, "", "");
    ok(&w.audit(&["--index-date", T, "-q"]));
    let summary: serde_json::Value = serde_json::from_str(&w.read_out("summary.json")).unwrap();
    let doses = &summary["doses"];
    assert_eq!(doses["concept"], "antipsychotic");
    let at = &doses["by_index_date"][T];
    let n = |k: &str| at[k].as_u64().unwrap_or_else(|| panic!("{k} missing"));
    assert_eq!(n("patients_holding"), 6);
    assert_eq!(n("patients_known_bnf_maximum"), 2); // known, maintena
    assert_eq!(n("patients_known_chlorpromazine"), 2); // known, vial
    assert_eq!(n("drugs_held"), 7);
    let unknown = &at["drugs_unknown"];
    for reason in [
        "no_strength",
        "no_quantity",
        "implausible",
        "not_in_bnf_maximum_table",
        "not_in_chlorpromazine_table",
    ] {
        assert_eq!(unknown[reason], 1, "{reason}");
    }
    let report = w.read_out("report.html");
    assert!(
        report.contains(
            "of 6 cohort patients holding one, the total is known for 2 as % of the BNF maximum"
        ),
        "the report counts known doses"
    );
    assert!(report.contains("1 with no strength in the product name, 1 with no quantity"));
    // STOMP10's denominator is the LD patients with a known % of maximum.
    assert_eq!(national(&w, "STOMP10"), (0, 2));
    let review = parse_csv(&w.read_out("review_list.csv"));
    let doses_of = |id: &str| {
        review
            .iter()
            .find(|r| r["patient_id"] == id)
            .map(|r| r["doses"].clone())
            .unwrap_or_else(|| panic!("{id} not on the review list"))
    };
    assert_eq!(
        doses_of("no-strength"),
        "haloperidol (oral): dose unknown (no strength in the product name)"
    );
    assert!(doses_of("implausible").contains("dose implausible"));
    assert_eq!(
        doses_of("maintena"),
        "aripiprazole (depot): 14.3 mg/day, 100.0% of BNF max, unknown mg chlorpromazine"
    );
}

#[test]
fn reduced_is_a_fall_of_at_least_25_percent_in_chlorpromazine_equivalents() {
    let mut w = Workdir::new();
    // 20 mg a year before (T - 12m = 2023-03-31), 15 mg now: exactly 25%.
    w.ld("by-25");
    w.med_dose("by-25", "2023-03-01", OLANZAPINE_10, "28", "2 daily")
        .med_dose("by-25", "2024-03-01", OLANZAPINE_10, "28", "1.5 daily");
    // 20 mg, then 43 x 10 mg over 28 days (15.36 mg): 23.2%, not reduced.
    w.ld("by-23");
    w.med_dose("by-23", "2023-03-01", OLANZAPINE_10, "28", "2 daily")
        .med_dose("by-23", "2024-03-01", OLANZAPINE_10, "43", "");
    // Olanzapine 20 mg (600.6 mg chlorpromazine) switched to risperidone
    // 2 mg (119.8 mg): reduced across drugs.
    w.ld("switched");
    w.med_dose("switched", "2023-03-01", OLANZAPINE_10, "28", "2 daily")
        .med_dose("switched", "2024-03-01", RISPERIDONE_2, "28", "1 daily");
    // Up, not down.
    w.ld("raised");
    w.med_dose("raised", "2023-03-01", OLANZAPINE_10, "28", "1 daily")
        .med_dose("raised", "2024-03-01", OLANZAPINE_10, "28", "2 daily");
    // Stopped: not on an antipsychotic at T, so not in this denominator
    // (STOMP14 counts it).
    w.ld("stopped");
    w.med_dose("stopped", "2023-03-01", OLANZAPINE_10, "28", "2 daily");
    ok(&w.audit(&["--index-date", T, "-q"]));
    assert_eq!(national(&w, "STOMP15"), (2, 4));
    assert_eq!(national(&w, "STOMP14"), (1, 5));
}

#[test]
fn antidepressant_reduced_is_a_fall_of_at_least_25_percent_in_fluoxetine_equivalents() {
    const MIRTAZAPINE_15: &str = "375193003"; // 50.9 mg = 40 mg fluoxetine
    const FLUOXETINE_20: &str = "321949006"; // the reference
    const CITALOPRAM_20: &str = "321987003"; // not in Hayasaka's table
    let mut w = Workdir::new();
    // Sertraline (50 mg tablets; 98.5 mg = 40 mg fluoxetine) 100 mg, then
    // 75 mg: exactly 25%.
    w.ld("by-25");
    w.med_dose("by-25", "2023-03-01", SERTRALINE, "56", "2 daily")
        .med_dose("by-25", "2024-03-01", SERTRALINE, "42", "1.5 daily");
    // Sertraline 100 mg (40.6 mg fluoxetine) to mirtazapine 15 mg (11.8 mg).
    w.ld("switched");
    w.med_dose("switched", "2023-03-01", SERTRALINE, "56", "2 daily")
        .med_dose("switched", "2024-03-01", MIRTAZAPINE_15, "28", "1 at night");
    // Sertraline 50 mg (20.3 mg fluoxetine) to mirtazapine 30 mg (23.6
    // mg): fewer milligrams, a higher dose.
    w.ld("switched-up");
    w.med_dose("switched-up", "2023-03-01", SERTRALINE, "28", "1 daily")
        .med_dose(
            "switched-up",
            "2024-03-01",
            MIRTAZAPINE_15,
            "56",
            "2 at night",
        );
    // Fluoxetine 40 mg, then 20 mg.
    w.ld("fluoxetine");
    w.med_dose("fluoxetine", "2023-03-01", FLUOXETINE_20, "56", "2 daily")
        .med_dose("fluoxetine", "2024-03-01", FLUOXETINE_20, "28", "1 daily");
    // Citalopram 40 mg, then 20 mg: no equivalent, outside the denominator.
    w.ld("citalopram");
    w.med_dose("citalopram", "2023-03-01", CITALOPRAM_20, "56", "2 daily")
        .med_dose("citalopram", "2024-03-01", CITALOPRAM_20, "28", "1 daily");
    ok(&w.audit(&["--index-date", T, "-q"]));
    assert_eq!(national(&w, "STOMP15B"), (3, 4));
    assert_eq!(national(&w, "STOMP15"), (0, 0));
}

/// `synth` writes doses where real ones sit: a few percent of LD patients
/// on antipsychotics above 100% of the BNF maximum (a minority in the
/// POMH-UK audits), and some stops and reductions in a year.
#[test]
fn synthetic_doses_stops_and_reductions_are_plausible() {
    let tmp = tempfile::tempdir().unwrap();
    let extract = tmp.path().join("x");
    let out = tmp.path().join("out");
    let path = |p: &std::path::Path| p.to_str().unwrap().to_string();
    ok(&super::workdir::run(&[
        "synth",
        "--patients",
        "8000",
        "--seed",
        "11",
        "--ld-prevalence",
        "0.1",
        "--out",
        &path(&extract),
    ]));
    ok(&super::workdir::run(&[
        "audit",
        &path(&extract),
        "--index-date",
        T,
        "--out",
        &path(&out),
        "-q",
    ]));
    let c = counts(&std::fs::read_to_string(out.join("indicators.csv")).unwrap());
    let national = |id: &str| c[&(id.to_string(), "national".to_string(), "ALL".to_string())];
    let rate = |id: &str| {
        let (n, d) = national(id);
        assert!(d >= 30, "{id}: only {d} in the denominator");
        n as f64 / d as f64
    };
    let (high, stopped, reduced) = (rate("STOMP10"), rate("STOMP14"), rate("STOMP15"));
    assert!((0.01..=0.12).contains(&high), "STOMP10 {high}");
    assert!((0.03..=0.40).contains(&stopped), "STOMP14 {stopped}");
    assert!((0.03..=0.40).contains(&reduced), "STOMP15 {reduced}");
    let reduced = rate("STOMP15B");
    assert!((0.03..=0.40).contains(&reduced), "STOMP15B {reduced}");
    // Most antipsychotic doses are known: STOMP10's denominator is most of
    // STOMP02's numerator.
    let (on, known) = (national("STOMP02").0, national("STOMP10").1);
    assert!(
        known as f64 >= 0.6 * on as f64,
        "{known} of {on} doses known"
    );
}
