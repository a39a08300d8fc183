//! Each definition of docs/indicators.md on a small extract coded as real
//! extracts are: dm+d codes only, no BNF code. Every expectation is
//! counted by hand from the date rules at T = 2024-03-31:
//!   6-month window  (2023-09-30, 2024-03-31]
//!   12-month window (2023-03-31, 2024-03-31]
//!   months 12 to 6  (2023-03-31, 2023-09-30]
//!   polypharmacy: the last 3 months (2023-12-31, 2024-03-31] and the 3
//!   before (2023-09-30, 2023-12-31]; for depots the last 6 months and the
//!   6 before (2023-03-31, 2023-09-30]
//!   new start: first issue in (2023-03-31, 2024-01-07], none in the 24
//!   months before, registered since 24 months before it.

use super::workdir::{counts, ok, parse_csv, Workdir, LD};

const T: &str = "2024-03-31";

// SNOMED CT codes from the bundled codelists.
const SMI: &str = "111484002"; // Undifferentiated schizophrenia (MH_COD)
const DEPRESSION: &str = "35489007"; // Depressive disorder (DEPR_COD)
const EPILEPSY: &str = "84757009"; // Epilepsy (EPIL_COD)
const NEURALGIA: &str = "16269008"; // Neuralgia (GM SDE neuropathic pain)
const INSOMNIA: &str = "105491000119107"; // Primary hyposomnia (insomnia list)
const REPEAT_CHECK: &str = "185381007"; // Repeat medication check: not a review
const STOMP_REVIEW: &str = "1106111000000108"; // STOMP medication review
const SMR: &str = "1239511000000100"; // Structured medication review (MEDRVW_COD)
const WEIGHT: &str = "162763007";
const BP: &str = "251070002";
const BP_DECLINED: &str = "413123006"; // BPDEC_COD
const HBA1C: &str = "1003671000000109";
const HDL: &str = "1005681000000107"; // Serum HDL cholesterol level (GM SDE)
const TRIGLYCERIDES: &str = "850991000000104"; // GM SDE

// dm+d ids, as real extracts carry them.
const AMITRIPTYLINE: &str = "321745007"; // 10mg tablets
const MIRTAZAPINE: &str = "375193003"; // 15mg tablets
const SERTRALINE: &str = "321959007"; // 50mg tablets
const BUCCOLAM: &str = "32518811000001108"; // buccal midazolam
const DIAZEPAM_RECTAL: &str = "39709411000001106"; // 5mg/2.5ml rectal tube
const LORAZEPAM_INJ: &str = "36040511000001101"; // 4mg/1ml injection
const DIAZEPAM_TABS: &str = "321196004"; // 2mg tablets
const ZOPICLONE: &str = "321175006"; // 7.5mg tablets
const GABAPENTIN: &str = "323014008"; // 300mg capsules
const DEPAKOTE: &str = "3846411000001106"; // valproate semisodium (0402030Q0)
const LEVETIRACETAM: &str = "19430511000001104"; // EPILDRUG_COD AMP
const LAMOTRIGINE_NEW_ID: &str = "42130911000001102"; // VMP id re-issued in 2023
const ACETAZOLAMIDE: &str = "13584211000001105"; // EPILDRUG_COD, BNF 11.6
const ARIPIPRAZOLE: &str = "406787003"; // 10mg tablets
const ABILIFY_MAINTENA: &str = "23636811000001103"; // aripiprazole depot
const RISPERIDONE: &str = "321590000"; // 2mg tablets
const OLANZAPINE: &str = "321614001"; // 10mg tablets
const TREVICTA: &str = "32866911000001100"; // 3-monthly paliperidone depot
const SYCREST: &str = "19496611000001105"; // asenapine (GM SDE antipsychotics)
const HALOPERIDOL_INJ: &str = "3245411000001107"; // 5mg/1ml, end of life
const HALOPERIDOL_DEPOT: &str = "36053711000001104"; // decanoate 50mg/1ml
const QUETIAPINE_NEW_ID: &str = "42684111000001102"; // VMP id re-issued in 2024

/// National (numerator, denominator) of each indicator.
fn national(w: &Workdir) -> impl Fn(&str) -> (u64, u64) {
    ok(&w.audit(&["--index-date", T, "-q"]));
    let c = counts(&w.read_out("indicators.csv"));
    move |id: &str| c[&(id.to_string(), "national".to_string(), "ALL".to_string())]
}

#[test]
fn titles_say_what_is_measured() {
    let mut w = Workdir::new();
    w.ld("p1");
    ok(&w.audit(&["--index-date", T, "-q"]));
    let rows = parse_csv(&w.read_out("indicators.csv"));
    let title = |id: &str| {
        rows.iter()
            .find(|r| r["indicator_id"] == id)
            .map(|r| r["indicator_title"].clone())
            .unwrap()
    };
    assert!(title("STOMP03").contains("without a recorded SMI diagnosis"));
    assert!(title("STOMP05").contains("without a recorded depression or anxiety diagnosis"));
    for id in ["STOMP03", "STOMP05"] {
        assert!(!title(id).contains("indication"), "{id}");
    }
}

#[test]
fn an_antidepressant_for_pain_or_sleep_is_explained_by_its_code() {
    let mut w = Workdir::new();
    // Amitriptyline with a neuropathic pain code: explained (STOMP05C).
    w.ld("a1");
    w.med("a1", "2024-02-01", AMITRIPTYLINE, "")
        .event("a1", "2020-01-01", NEURALGIA);
    // Amitriptyline, no code: unexplained.
    w.ld("a2");
    w.med("a2", "2024-02-01", AMITRIPTYLINE, "");
    // Amitriptyline and sertraline with a pain code: sertraline unexplained.
    w.ld("a3");
    w.med("a3", "2024-02-01", AMITRIPTYLINE, "")
        .med("a3", "2024-02-01", SERTRALINE, "")
        .event("a3", "2020-01-01", NEURALGIA);
    // Mirtazapine with an insomnia code: explained (STOMP05C).
    w.ld("a4");
    w.med("a4", "2024-02-01", MIRTAZAPINE, "")
        .event("a4", "2021-01-01", INSOMNIA);
    // Sertraline with depression: explained, and not for pain or sleep.
    w.ld("a5");
    w.med("a5", "2024-02-01", SERTRALINE, "")
        .event("a5", "2019-01-01", DEPRESSION);
    let n = national(&w);
    assert_eq!(n("STOMP05"), (2, 5)); // a2, a3
    assert_eq!(n("STOMP05B"), (2, 5));
    assert_eq!(n("STOMP05C"), (2, 5)); // a1, a4
}

#[test]
fn seizure_rescue_is_not_anxiolytic_use() {
    let mut w = Workdir::new();
    for (id, drug) in [
        ("b1", BUCCOLAM),
        ("b2", DIAZEPAM_RECTAL),
        ("b3", LORAZEPAM_INJ),
        ("b4", DIAZEPAM_TABS),
        ("b5", ZOPICLONE),
    ] {
        w.ld(id);
        w.med(id, "2024-02-01", drug, "")
            .event(id, "2010-01-01", EPILEPSY);
    }
    let n = national(&w);
    assert_eq!(n("STOMP06"), (2, 5)); // b4, b5
                                      // Buccal midazolam (BNF 4.8.2) is not an antiepileptic of 4.8.1 either.
    assert_eq!(n("STOMP07"), (0, 0));
}

#[test]
fn antiepileptics_are_bnf_4_8_1_from_dmd_with_gabapentinoids_apart() {
    let mut w = Workdir::new();
    w.ld("c1");
    w.med("c1", "2024-02-01", GABAPENTIN, "");
    w.ld("c2"); // valproate semisodium, explained by SMI
    w.med("c2", "2024-02-01", DEPAKOTE, "")
        .event("c2", "2019-01-01", SMI);
    w.ld("c3"); // levetiracetam, no epilepsy: flagged
    w.med("c3", "2024-02-01", LEVETIRACETAM, "");
    w.ld("c4"); // lamotrigine under its 2023 id, with epilepsy
    w.med("c4", "2024-02-01", LAMOTRIGINE_NEW_ID, "")
        .event("c4", "2019-01-01", EPILEPSY);
    w.ld("c5"); // acetazolamide: EPILDRUG_COD, but BNF 11.6
    w.med("c5", "2024-02-01", ACETAZOLAMIDE, "");
    w.ld("c6"); // gabapentin and levetiracetam, with epilepsy
    w.med("c6", "2024-02-01", GABAPENTIN, "")
        .med("c6", "2024-02-01", LEVETIRACETAM, "")
        .event("c6", "2019-01-01", EPILEPSY);
    let n = national(&w);
    assert_eq!(n("STOMP07"), (1, 4)); // c3 of c2, c3, c4, c6
    assert_eq!(n("STOMP07B"), (2, 6)); // c1, c6
                                       // Three classes: none here (antiepileptic only).
    assert_eq!(n("STOMP09"), (0, 6));
}

#[test]
fn polypharmacy_counts_drugs_held_not_forms_or_switches() {
    let mut w = Workdir::new();
    // Aripiprazole tablets with the aripiprazole depot: one drug.
    w.ld("d1");
    for m in [
        "2023-10-01",
        "2023-11-01",
        "2023-12-01",
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
    ] {
        w.med("d1", m, ARIPIPRAZOLE, "");
    }
    w.med("d1", "2023-10-15", ABILIFY_MAINTENA, "")
        .med("d1", "2024-01-15", ABILIFY_MAINTENA, "");
    // Risperidone issued every 56 days and olanzapine monthly: both held.
    w.ld("d2");
    for d in ["2023-10-20", "2023-12-15", "2024-02-09"] {
        w.med("d2", d, RISPERIDONE, "");
    }
    for d in ["2023-11-01", "2024-01-05", "2024-03-01"] {
        w.med("d2", d, OLANZAPINE, "");
    }
    // A switch: olanzapine stopped in December, risperidone from January.
    w.ld("d3");
    for d in ["2023-10-01", "2023-11-01", "2023-12-01"] {
        w.med("d3", d, OLANZAPINE, "");
    }
    for d in ["2024-01-10", "2024-02-10", "2024-03-10"] {
        w.med("d3", d, RISPERIDONE, "");
    }
    // A 3-monthly paliperidone depot (held on 6-month periods: 2023-07-01
    // before, 2023-10-01 and 2024-01-01 in the last) and oral risperidone
    // (a different drug) held too.
    w.ld("d4");
    for d in ["2023-07-01", "2023-10-01", "2024-01-01"] {
        w.med("d4", d, TREVICTA, "");
    }
    for d in ["2023-10-05", "2023-12-05", "2024-02-05"] {
        w.med("d4", d, RISPERIDONE, "");
    }
    let n = national(&w);
    assert_eq!(n("STOMP08"), (2, 4)); // d2, d4
    let review = parse_csv(&w.read_out("review_list.csv"));
    let d2 = review
        .iter()
        .find(|r| r["patient_id"] == "d2" && r["indicator_id"] == "STOMP08")
        .unwrap();
    assert!(d2["drugs"].contains("Olanzapine 10mg tablets (last issued 2024-03-01)"));
    assert!(d2["drugs"].contains("Risperidone 2mg tablets (last issued 2024-02-09)"));
}

#[test]
fn the_antipsychotic_list_has_asenapine_and_new_ids_but_not_end_of_life_injections() {
    let mut w = Workdir::new();
    for (id, drug) in [
        ("e1", SYCREST),
        ("e2", HALOPERIDOL_INJ),
        ("e3", HALOPERIDOL_DEPOT),
        ("e4", QUETIAPINE_NEW_ID),
    ] {
        w.ld(id);
        w.med(id, "2024-02-01", drug, "");
    }
    let n = national(&w);
    assert_eq!(n("STOMP02"), (3, 4)); // e1, e3, e4
    assert_eq!(n("STOMP03"), (3, 4));
}

#[test]
fn only_medication_reviews_count_and_a_six_month_review_is_reported() {
    let mut w = Workdir::new();
    for id in ["f1", "f2", "f3"] {
        w.ld(id);
        w.med(id, "2023-06-01", RISPERIDONE, "")
            .med(id, "2024-01-01", RISPERIDONE, "");
    }
    w.event("f1", "2024-01-01", REPEAT_CHECK); // not a review
    w.event("f2", "2023-08-01", STOMP_REVIEW); // in 12 months, not in 6
    w.event("f3", "2024-02-01", SMR); // in 6 months
    let n = national(&w);
    assert_eq!(n("STOMP11"), (1, 3)); // f1
    assert_eq!(n("STOMP11B"), (2, 3)); // f1, f2
}

/// STOMP12's two boundary days, each with a patient on it and one beside it:
/// - the washout is the 24 months up to the first issue, both ends counted:
///   an issue on 2021-10-01, exactly 24 months before a first issue on
///   2023-10-01, makes it a repeat (h1); one on 2021-09-30 does not (h2);
/// - the first issue must be at least 84 days before T: 2024-01-07 is
///   exactly 84 days before 2024-03-31 and counts (h3); 2024-01-08 is too
///   recent to judge (h4).
#[test]
fn new_starts_on_the_washout_and_settle_boundaries() {
    let mut w = Workdir::new();
    for (id, before, first) in [
        ("h1", Some("2021-10-01"), "2023-10-01"),
        ("h2", Some("2021-09-30"), "2023-10-01"),
        ("h3", None, "2024-01-07"),
        ("h4", None, "2024-01-08"),
    ] {
        w.ld(id);
        if let Some(d) = before {
            w.med(id, d, RISPERIDONE, "");
        }
        w.med(id, first, RISPERIDONE, "");
        w.med(id, "2024-03-01", RISPERIDONE, "");
    }
    let n = national(&w);
    assert_eq!(n("STOMP12"), (2, 2)); // h2 and h3, neither reviewed
    let review = parse_csv(&w.read_out("review_list.csv"));
    let mut flagged: Vec<&str> = review
        .iter()
        .filter(|r| r["indicator_id"] == "STOMP12")
        .map(|r| r["patient_id"].as_str())
        .collect();
    flagged.sort_unstable();
    assert_eq!(flagged, ["h2", "h3"]);
}

#[test]
fn a_patient_who_transferred_in_on_the_drug_is_not_a_new_starter() {
    let mut w = Workdir::new();
    let monthly = |w: &mut Workdir, id: &str, from: &str| {
        for d in [
            from,
            "2023-11-01",
            "2023-12-01",
            "2024-01-01",
            "2024-02-01",
            "2024-03-01",
        ] {
            w.med(id, d, RISPERIDONE, "");
        }
    };
    // Registered since 2010, first issue 2023-10-01: a new starter.
    w.ld("g1");
    monthly(&mut w, "g1", "2023-10-01");
    // Registered 2023-06-01, first issue 2023-07-01: may have come in on it.
    w.patient_full("g2", "1980-01-01", "M", "")
        .reg("g2", "A00001", "2023-06-01", "")
        .event("g2", "2015-01-01", LD);
    monthly(&mut w, "g2", "2023-07-01");
    // Registered exactly 24 months before the first issue: new starter.
    w.patient_full("g3", "1980-01-01", "M", "")
        .reg("g3", "A00001", "2021-10-01", "")
        .event("g3", "2015-01-01", LD);
    monthly(&mut w, "g3", "2023-10-01");
    // One day short of it: not.
    w.patient_full("g4", "1980-01-01", "M", "")
        .reg("g4", "A00001", "2021-10-02", "")
        .event("g4", "2015-01-01", LD);
    monthly(&mut w, "g4", "2023-10-01");
    // A repeat medication check 31 days after the start is no review; a
    // STOMP review 30 days after is.
    w.ld("g5");
    monthly(&mut w, "g5", "2023-10-01");
    w.event("g5", "2023-11-01", REPEAT_CHECK);
    w.ld("g6");
    monthly(&mut w, "g6", "2023-10-01");
    w.event("g6", "2023-10-31", STOMP_REVIEW);
    let n = national(&w);
    assert_eq!(n("STOMP12"), (3, 4)); // g1, g3, g5 of g1, g3, g5, g6
}

#[test]
fn monitoring_counts_glycaemia_any_lipid_and_declined_blood_pressure() {
    let mut w = Workdir::new();
    for id in ["h1", "h2", "h3", "h4"] {
        w.ld(id);
        w.med(id, "2023-06-01", RISPERIDONE, "")
            .med(id, "2024-01-01", RISPERIDONE, "");
    }
    for code in [WEIGHT, BP, HBA1C, HDL] {
        w.event("h1", "2023-06-01", code);
    }
    for code in [WEIGHT, BP_DECLINED, HBA1C, TRIGLYCERIDES] {
        w.event("h2", "2023-06-01", code);
    }
    w.event("h3", "2023-06-01", WEIGHT);
    let n = national(&w);
    assert_eq!(n("STOMP13"), (2, 4)); // h3, h4
    assert_eq!(n("STOMP13A"), (1, 4)); // h4
    assert_eq!(n("STOMP13B"), (2, 4)); // h3, h4: h2 declined
    assert_eq!(n("STOMP13C"), (2, 4));
    assert_eq!(n("STOMP13D"), (2, 4)); // HDL and triglycerides are lipid tests
    assert_eq!(n("STOMP13E"), (1, 4)); // h4
    assert_eq!(n("STOMP13F"), (1, 4)); // h2
}

#[test]
fn coverage_names_codes_no_list_knows_by_their_names_in_the_extract() {
    let mut w = Workdir::new();
    w.ld("k1");
    w.med_named("k1", "2024-02-01", RISPERIDONE, "Risperidone 2mg tablets")
        .med_named("k1", "2024-03-01", RISPERIDONE, "Risperidone 2mg tablets");
    // A dm+d id no bundled list holds (a product newer than the lists):
    // its name says aripiprazole, so it is reported, and not counted.
    w.ld("k2");
    w.med_named(
        "k2",
        "2024-02-01",
        "99999911000001109",
        "Aripiprazole 10mg tablets (New Supplier Ltd)",
    )
    .med_named(
        "k2",
        "2024-03-01",
        "99999911000001109",
        "Aripiprazole 10mg tablets (New Supplier Ltd)",
    );
    // A medicine of no class: not reported.
    w.med_named(
        "k2",
        "2024-03-01",
        "99999811000001100",
        "Paracetamol 500mg tablets",
    );
    let n = national(&w);
    assert_eq!(n("STOMP02"), (1, 2));
    let summary: serde_json::Value = serde_json::from_str(&w.read_out("summary.json")).unwrap();
    let c = &summary["drug_coverage"];
    assert_eq!(c["concepts"]["antipsychotic"]["dmd"], 2);
    assert_eq!(c["concepts"]["antipsychotic"]["bnf"], 0);
    let unlisted = c["unlisted"].as_object().unwrap();
    assert_eq!(unlisted.len(), 1, "{unlisted:?}");
    let u = &unlisted["99999911000001109"];
    assert_eq!(u["rows"], 2);
    assert_eq!(u["concepts"], serde_json::json!(["antipsychotic"]));
    // validate says the same, for a data manager.
    let out = super::workdir::run(&["validate", w.extract().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("99999911000001109 Aripiprazole 10mg tablets (New Supplier Ltd) (2 rows): antipsychotic"),
        "{text}"
    );
}

#[test]
fn codes_lists_each_dmd_code_with_its_class_for_a_pharmacist_to_check() {
    let out = super::workdir::run(&["codes"]);
    let text = ok(&out);
    let rows = parse_csv(&text);
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["dmd_id"] == id)
            .unwrap_or_else(|| panic!("{id} not listed"))
    };
    let b = row(BUCCOLAM);
    assert_eq!(
        (b["form"].as_str(), b["concepts"].as_str()),
        ("oromucosal", "seizure_rescue")
    );
    let d = row(ABILIFY_MAINTENA);
    assert_eq!(
        (
            d["form"].as_str(),
            d["ingredient"].as_str(),
            d["concepts"].as_str()
        ),
        ("depot", "aripiprazole", "antipsychotic")
    );
    // What its dose is counted in: 400 mg per injection, against 400 mg
    // every 28 days; chlorpromazine equivalents of aripiprazole LAI are not
    // in Leucht 2016.
    assert_eq!(
        (
            d["mg_per_unit"].as_str(),
            d["unit"].as_str(),
            d["bnf_max_mg_per_day"].as_str(),
            d["cpz_100mg_per_day"].as_str()
        ),
        ("400", "injection", &(400.0f64 / 28.0).to_string()[..], "")
    );
    // A liquid, per ml.
    let l = row("321597002"); // Risperidone 1mg/ml oral solution sugar free
    assert_eq!(
        (
            l["mg_per_unit"].as_str(),
            l["unit"].as_str(),
            l["bnf_max_mg_per_day"].as_str()
        ),
        ("1", "ml", "16")
    );
    // An antidepressant: 98.5 mg of sertraline a day is 40 mg of fluoxetine
    // (Hayasaka 2015); fluoxetine is the reference; citalopram is not in
    // the table.
    let s = row("321959007"); // Sertraline 50mg tablets
    assert_eq!(
        (
            s["ingredient"].as_str(),
            s["mg_per_unit"].as_str(),
            s["fluoxetine_40mg_per_day"].as_str()
        ),
        ("sertraline", "50", "98.5")
    );
    assert_eq!(
        row("321949006")["fluoxetine_40mg_per_day"],
        "40",
        "Fluoxetine 20mg capsules"
    );
    assert_eq!(
        row("321987003")["fluoxetine_40mg_per_day"],
        "",
        "Citalopram 20mg tablets"
    );
    // The 2023 id gets the presentation code of its name ("Lamotrigine 25mg tablets").
    assert_eq!(row(LAMOTRIGINE_NEW_ID)["bnf_code"], "0408010H0AAACAC");
    // Codes of no concept are not listed.
    assert!(!rows.iter().any(|r| r["dmd_id"] == ACETAZOLAMIDE));
}

/// The review list puts numeric ids in number order whatever their length
/// (9 before 10 before 11 before 100), and written in any order.
#[test]
fn numeric_ids_of_different_lengths_sort_as_numbers() {
    let mut w = Workdir::new();
    for id in ["100", "10", "9", "11"] {
        w.ld(id);
        w.med(id, "2024-03-01", RISPERIDONE, "");
    }
    ok(&w.audit(&["--index-date", T, "-q"]));
    let review = parse_csv(&w.read_out("review_list.csv"));
    let first = review[0]["indicator_id"].clone();
    let ids: Vec<&str> = review
        .iter()
        .filter(|r| r["indicator_id"] == first)
        .map(|r| r["patient_id"].as_str())
        .collect();
    assert_eq!(ids, ["9", "10", "11", "100"], "{first}");
}
