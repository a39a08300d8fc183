//! Review packs (issue 16, part 3): one printable page per practice for
//! its pharmacist, holding only that practice's flagged patients, the most
//! concerning first, written only where the patient-level review list goes.

use super::workdir::{ok, parse_csv, Workdir, LD};

const T: &str = "2024-03-31";
const RISPERIDONE: &str = "321589009"; // Risperidone 1mg tablets
const OLANZAPINE_10: &str = "321614001"; // Olanzapine 10mg tablets; BNF max 20 mg
const SERTRALINE: &str = "321959007"; // Sertraline 50mg tablets
const STRUCTURED_REVIEW: &str = "1239511000000100"; // structured medication review

/// The patient ids of a pack, in the order it lists them.
fn patients_in(html: &str) -> Vec<String> {
    html.split("<h3>Patient ")
        .skip(1)
        .map(|s| s.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

fn extract() -> Workdir {
    let mut w = Workdir::new();
    w.practices.push(
        "B00002,Other Surgery,PCN002,Other PCN,01A,Test sub-ICB,QAA,Test ICB,Y01,Test Region"
            .into(),
    );
    // 150% of the BNF maximum (84 x 10 mg over 28 days): STOMP02, 03, 10.
    w.ld("p-high");
    w.med_dose("p-high", "2024-03-01", OLANZAPINE_10, "84", "");
    // An antipsychotic and an antidepressant without a reason: STOMP02, 03, 05.
    w.ld("p-three");
    w.med_dose("p-three", "2024-03-01", RISPERIDONE, "28", "")
        .med_dose("p-three", "2024-03-01", SERTRALINE, "28", "");
    // Two flags (STOMP02, 03): never reviewed, then reviewed in 2023.
    w.ld("p-norev");
    w.med_dose("p-norev", "2024-03-01", RISPERIDONE, "28", "");
    w.ld("p-rev")
        .event("p-rev", "2023-06-01", STRUCTURED_REVIEW);
    w.med_dose("p-rev", "2024-03-01", RISPERIDONE, "28", "");
    // Flagged at the other practice.
    w.patient_full("b-one", "1980-05-01", "M", "")
        .reg("b-one", "B00002", "2010-01-01", "")
        .event("b-one", "2015-01-01", LD);
    w.med_dose("b-one", "2024-03-01", RISPERIDONE, "28", "");
    // On the register, nothing issued: in no pack.
    w.ld("clean");
    w
}

#[test]
fn each_practice_gets_its_own_patients_most_concerning_first() {
    let w = extract();
    ok(&w.audit(&["--index-date", T, "--review-packs", "-q"]));
    let pack = |code: &str| w.read_out(&format!("review_packs/{code}.html"));
    let a = pack("A00001");
    assert_eq!(
        patients_in(&a),
        ["p-high", "p-three", "p-norev", "p-rev"],
        "most flags, then a high dose, then the longest without a review"
    );
    assert!(a.contains("STOMP10"), "the high-dose flag is named");
    assert!(a.contains("Last medication review:</b> 2023-06-01"));
    assert!(a.contains("not for publication"));
    assert_eq!(patients_in(&pack("B00002")), ["b-one"]);
    // Exactly the review list's patients at T, each in their own
    // practice's pack.
    let review = parse_csv(&w.read_out("review_list.csv"));
    for r in &review {
        let listed = patients_in(&pack(&r["practice_code"]));
        assert!(listed.contains(&r["patient_id"]), "{r:?}");
    }
    let packs: Vec<String> = std::fs::read_dir(w.out().join("review_packs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(packs.len(), 3, "two practices and the index: {packs:?}");
    let index = pack("index");
    assert!(index.contains("A00001.html") && index.contains("B00002.html"));
    // The summary lists them; the aggregate report never holds a patient.
    let summary: serde_json::Value = serde_json::from_str(&w.read_out("summary.json")).unwrap();
    let listed = summary["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["file"] == "review_packs/A00001.html")
        .expect("the pack is listed");
    assert_eq!(
        listed["bytes"].as_u64(),
        Some(a.len() as u64),
        "with its size"
    );
    assert!(!w.read_out("report.html").contains("p-high"));
    // The header compares the practice with its PCN, ICB and the top
    // level: STOMP03 is 4 of the 5 LD patients at A00001, 5 of 6 overall.
    assert!(
        a.contains("80.0% (4/5)") && a.contains("83.3% (5/6)"),
        "{a}"
    );
}

#[test]
fn review_packs_go_only_where_the_review_list_goes() {
    let w = extract();
    // Under disclosure control without a review folder: refused up front.
    let out = w.audit(&[
        "--index-date",
        T,
        "--review-packs",
        "--disclosure-control",
        "-q",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs --review-out"), "{err}");
    assert!(!w.out().exists(), "nothing written");
    // With one: the packs go there, not beside the published tables.
    let review = w.path().join("review");
    ok(&w.audit(&[
        "--index-date",
        T,
        "--review-packs",
        "--disclosure-control",
        "--review-out",
        review.to_str().unwrap(),
        "-q",
    ]));
    assert!(review.join("review_packs/A00001.html").exists());
    assert!(!w.out().join("review_packs").exists());
    let summary = w.read_out("summary.json");
    assert!(summary.contains("review/review_packs"), "{summary}");
}

#[test]
fn a_practice_code_is_a_safe_file_name_and_never_overwrites_another() {
    let mut w = Workdir::new();
    for (id, practice) in [("c1", "C/3"), ("c2", "C_3")] {
        w.practices.push(format!(
            "{practice},Surgery {id},PCN001,Test PCN,01A,Test sub-ICB,QAA,Test ICB,Y01,Test Region"
        ));
        w.patient_full(id, "1980-05-01", "F", "")
            .reg(id, practice, "2010-01-01", "")
            .event(id, "2015-01-01", LD);
        w.med_dose(id, "2024-03-01", RISPERIDONE, "28", "");
    }
    ok(&w.audit(&["--index-date", T, "--review-packs", "-q"]));
    // "C/3" sorts first and takes C_3.html; "C_3" gets C_3-2.html.
    let c1 = w.read_out("review_packs/C_3.html");
    let c2 = w.read_out("review_packs/C_3-2.html");
    assert_eq!(
        (patients_in(&c1), patients_in(&c2)),
        (vec!["c1".to_string()], vec!["c2".to_string()])
    );
    let index = w.read_out("review_packs/index.html");
    assert!(index.contains("href=\"C_3-2.html\">C_3</a>"), "{index}");
}

/// Printed from Chromium, a patient's block stays on one page: the pack is
/// taken into the practice on paper.
#[test]
fn a_patient_never_splits_across_printed_pages() {
    let (Some(browser), true) = (
        super::report::chromium(),
        std::process::Command::new("pdftotext")
            .arg("-v")
            .output()
            .is_ok(),
    ) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and poppler-utils (.ci/run does)"
        );
        eprintln!("chromium or pdftotext not installed: skipping the print check");
        return;
    };
    // Thirty patients with three flags each: several printed pages.
    let mut w = Workdir::new();
    for k in 0..30 {
        let id = format!("p{k:02}");
        w.ld(&id);
        w.med_dose(&id, "2024-03-01", RISPERIDONE, "28", "")
            .med_dose(&id, "2024-03-01", SERTRALINE, "28", "");
    }
    ok(&w.audit(&["--index-date", T, "--review-packs", "-q"]));
    let pdf = w.path().join("pack.pdf");
    let printed = super::report::headless(&browser, &w.path().join("profile"))
        .arg("--no-pdf-header-footer")
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!(
            "file://{}",
            w.out().join("review_packs/A00001.html").display()
        ))
        .output()
        .unwrap();
    assert!(pdf.exists(), "{}", String::from_utf8_lossy(&printed.stderr));
    let txt = w.path().join("pack.txt");
    let status = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg(&txt)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&txt).unwrap();
    assert!(text.matches('\u{c}').count() >= 3, "several pages");
    for k in 0..30 {
        let start = text
            .find(&format!("Patient p{k:02} "))
            .unwrap_or_else(|| panic!("p{k:02} not printed"));
        let end = start + text[start..].find("Last medication review").unwrap();
        assert!(
            !text[start..end].contains('\u{c}'),
            "p{k:02} splits across pages"
        );
    }
}
