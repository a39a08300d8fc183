//! Variation outputs on the hand-built extract of `indicators.rs`:
//! disclosure control, change since the baseline, standardised ratios,
//! quarters and the config file.

use super::indicators::scenario;
use super::workdir::{national, ok, parse_csv, run};

#[test]
fn disclosure_control_rounds_every_published_count() {
    let w = scenario();
    ok(&w.audit(&["--index-date", "2024-03-31", "-q", "--disclosure-control"]));
    let rows = parse_csv(&w.read_out("indicators.csv"));
    let nat = |id: &str| national(&rows, "2024-03-31", id);
    let counts = |id: &str| {
        let r = nat(id);
        (
            r["numerator"].clone(),
            r["denominator"].clone(),
            r["suppressed"].clone(),
        )
    };
    // 26/29 -> 25/30; 15/26 -> 15/25; 13/15 -> 15/15.
    assert_eq!(
        counts("STOMP01"),
        ("25".into(), "30".into(), "false".into())
    );
    assert_eq!(
        counts("STOMP02"),
        ("15".into(), "25".into(), "false".into())
    );
    assert_eq!(
        counts("STOMP03B"),
        ("15".into(), "15".into(), "false".into())
    );
    assert_eq!(nat("STOMP02")["rate"], "0.6");
    // 1/1 is suppressed, not zero: no count, rate, interval or flag.
    assert_eq!(counts("STOMP04"), ("".into(), "".into(), "true".into()));
    for col in [
        "rate",
        "ci_low",
        "z_score",
        "flag_95",
        "flag_998",
        "percentile_rank",
    ] {
        assert_eq!(nat("STOMP04")[col], "", "{col}");
    }
    // 0 is published as 0 (a true zero discloses no one).
    assert_eq!(counts("STOMP05C"), ("0".into(), "".into(), "true".into()));
    // Expected counts and standardised ratios are not published at all.
    assert!(rows
        .iter()
        .all(|r| r["expected"].is_empty() && r["isr"].is_empty()));
    // A suppressed practice has no rank and plays no part in the others'.
    for r in rows.iter().filter(|r| r["suppressed"] == "true") {
        assert_eq!(r["percentile_rank"], "", "{r:?}");
    }
    let summary = w.read_out("summary.json");
    assert!(
        summary.contains("\"disclosure_control\": true"),
        "{summary}"
    );
    let html = w.read_out("report.html");
    assert!(html.contains("[suppressed]") && html.contains("counts of 1 to 7 are suppressed"));
}

#[test]
fn a_suppressed_count_makes_no_change() {
    let w = scenario();
    ok(&w.audit(&[
        "--index-date",
        "2023-12-31",
        "--index-date",
        "2024-03-31",
        "-q",
        "--disclosure-control",
    ]));
    let rows = parse_csv(&w.read_out("changes.csv"));
    let find = |id: &str| {
        rows.iter()
            .find(|r| r["indicator_id"] == id && r["level"] == "national")
            .unwrap()
    };
    // STOMP02: 8/28 -> 10/30 at the baseline, 15/26 -> 15/25 now: published.
    let r = find("STOMP02");
    assert_eq!(
        (
            r["baseline_numerator"].as_str(),
            r["current_numerator"].as_str()
        ),
        ("10", "15")
    );
    assert!(!r["difference"].is_empty());
    // STOMP04: 1/1 at both dates, suppressed: no difference, never significant.
    let r = find("STOMP04");
    assert_eq!(r["baseline_numerator"], "");
    assert_eq!(r["difference"], "");
    assert_eq!(r["significant"], "false");
}

#[test]
fn change_since_the_baseline_uses_newcombe() {
    let w = scenario();
    ok(&w.audit(&[
        "--index-date",
        "2023-12-31",
        "--index-date",
        "2024-03-31",
        "-q",
    ]));
    let rows = parse_csv(&w.read_out("changes.csv"));
    let r = rows
        .iter()
        .find(|r| r["indicator_id"] == "STOMP02" && r["level"] == "national")
        .unwrap();
    // 8/28 at the baseline, 15/26 now (see indicators.rs).
    assert_eq!(
        (
            r["baseline_numerator"].as_str(),
            r["baseline_denominator"].as_str()
        ),
        ("8", "28")
    );
    assert_eq!(
        (
            r["current_numerator"].as_str(),
            r["current_denominator"].as_str()
        ),
        ("15", "26")
    );
    // statsmodels 0.15.0: confint_proportions_2indep(15, 26, 8, 28,
    // method="newcomb", compare="diff") = (0.0279357, 0.5053024).
    let low: f64 = r["difference_low"].parse().unwrap();
    let high: f64 = r["difference_high"].parse().unwrap();
    assert!(
        (low - 0.0279357).abs() < 1e-6 && (high - 0.5053024).abs() < 1e-6,
        "{low} {high}"
    );
    assert_eq!(r["significant"], "true");
    // statsmodels 0.15.0: proportions_ztest([15, 8], [26, 28]) p = 0.0305926.
    let p: f64 = r["p_value"].parse().unwrap();
    assert!((p - 0.030592629056511642).abs() < 1e-9, "{p}");
    // Benjamini-Hochberg over every pair: q >= p, and the FDR verdict follows q.
    for r in &rows {
        if let (Ok(p), Ok(q)) = (r["p_value"].parse::<f64>(), r["q_value"].parse::<f64>()) {
            assert!(q >= p - 1e-15 && q <= 1.0, "{r:?}");
            assert_eq!(r["significant_fdr"] == "true", q < 0.05, "{r:?}");
        }
    }
}

#[test]
fn national_observed_equals_expected_and_practices_rank() {
    let w = scenario();
    ok(&w.audit(&["--index-date", "2024-03-31", "-q"]));
    let rows = parse_csv(&w.read_out("indicators.csv"));
    let r = national(&rows, "2024-03-31", "STOMP02");
    // Nationally, observed equals expected by construction.
    assert_eq!(r["isr"], "1.0");
    assert!((r["expected"].parse::<f64>().unwrap() - 15.0).abs() < 1e-9);
    // Two practices: A00001 at 15/25 ranks above Z99999 at 0/1.
    let practice = |code: &str| {
        rows.iter()
            .find(|r| r["indicator_id"] == "STOMP02" && r["unit_code"] == code)
            .unwrap()
    };
    assert_eq!(practice("A00001")["percentile_rank"], "1.0");
    assert_eq!(practice("Z99999")["percentile_rank"], "0.0");
    assert_eq!(practice("Z99999")["flag_998"], "none");
    // Exact binomial 99.8% upper limit for n = 1 around θ = 15/26, by hand:
    // P(R <= 0) = 11/26, P(R <= 1) = 1 >= 0.999 so r = 1,
    // α = (1 - 0.999) / (1 - 11/26) = 0.0017333, limit = 1 - α.
    let high: f64 = practice("Z99999")["funnel_high_998"].parse().unwrap();
    assert!(
        (high - (1.0 - 0.001 / (15.0 / 26.0))).abs() < 1e-12,
        "{high}"
    );
}

/// A practice's expected count and ISR, computed by hand over two age band
/// x sex strata at T = 2024-03-31, on an antipsychotic (STOMP02):
///   women 35-44: A00001 2 (1 on one), A00002 4 (1 on one): rate 2/6
///   men 18-24:   A00001 2 (2 on one), A00002 none:         rate 2/2
/// A00001: expected 2 x 1/3 + 2 x 1 = 8/3, ISR 3 / (8/3) = 1.125;
/// A00002: expected 4 x 1/3 = 4/3, ISR 1 / (4/3) = 0.75. Without the strata
/// both would expect 4 x 4/8 = 2 (ISR 1.5 and 0.5). Garwood limits from
/// scipy: chi2.ppf(0.025, 2y) / 2 / E and chi2.ppf(0.975, 2y + 2) / 2 / E.
#[test]
fn a_practice_isr_standardises_by_age_band_and_sex() {
    use super::workdir::{Workdir, LD};
    const RISPERIDONE: &str = "321590000"; // 2mg tablets, dm+d only
    let mut w = Workdir::new();
    w.practices.push(
        "A00002,Second Surgery,PCN001,Test PCN,01A,Test sub-ICB,QAA,Test ICB,Y01,Test Region"
            .into(),
    );
    let mut person = |id: &str, practice: &str, dob: &str, sex: &str, on: bool| {
        w.patient_full(id, dob, sex, "")
            .reg(id, practice, "2010-01-01", "")
            .event(id, "2015-01-01", LD);
        if on {
            w.med(id, "2024-02-01", RISPERIDONE, "");
        }
    };
    person("a1", "A00001", "1985-01-01", "F", true);
    person("a2", "A00001", "1985-01-01", "F", false);
    person("a3", "A00001", "2003-01-01", "M", true);
    person("a4", "A00001", "2003-01-01", "M", true);
    for (k, on) in [true, false, false, false].into_iter().enumerate() {
        person(&format!("b{k}"), "A00002", "1985-01-01", "F", on);
    }
    ok(&w.audit(&["--index-date", "2024-03-31", "-q"]));
    let rows = parse_csv(&w.read_out("indicators.csv"));
    let practice = |code: &str| {
        rows.iter()
            .find(|r| r["indicator_id"] == "STOMP02" && r["unit_code"] == code)
            .unwrap()
    };
    let num = |code: &str, col: &str| practice(code)[col].parse::<f64>().unwrap();
    for (code, observed, expected, low, high) in [
        (
            "A00001",
            3.0,
            8.0 / 3.0,
            0.2320020460858505,
            3.2877274011533713,
        ),
        (
            "A00002",
            1.0,
            4.0 / 3.0,
            0.01898835598821741,
            4.178732543204174,
        ),
    ] {
        assert_eq!(num(code, "numerator"), observed, "{code}");
        assert_eq!(num(code, "denominator"), 4.0, "{code}");
        assert!((num(code, "expected") - expected).abs() < 1e-12, "{code}");
        assert!(
            (num(code, "isr") - observed / expected).abs() < 1e-12,
            "{code}"
        );
        assert!((num(code, "isr_low") - low).abs() < 1e-9, "{code}");
        assert!((num(code, "isr_high") - high).abs() < 1e-9, "{code}");
    }
}

/// The --config help names every key the file accepts, and a misspelt key
/// is refused with the list of valid ones (serde names them).
#[test]
fn the_config_help_names_every_key_it_accepts() {
    let w = scenario();
    w.write();
    let config = w.path().join("typo.toml");
    std::fs::write(&config, "nationl = true\n").unwrap();
    let out = run(&["audit", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let (_, valid) = err
        .split_once("expected one of ")
        .unwrap_or_else(|| panic!("{err}"));
    let keys: Vec<&str> = valid
        .split(',')
        .map(|k| k.trim().trim_matches('`'))
        .map(|k| {
            k.split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .next()
                .unwrap()
        })
        .filter(|k| !k.is_empty())
        .collect();
    assert!(keys.len() >= 15, "{keys:?}");
    let help = String::from_utf8_lossy(&run(&["audit", "--help"]).stdout).replace('\n', " ");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let listed = help
        .split_once("any of these options (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(keys, _)| keys.to_string())
        .unwrap_or_else(|| panic!("{help}"));
    let mut listed: Vec<&str> = listed.split(", ").collect();
    let mut keys = keys;
    listed.sort_unstable();
    keys.sort_unstable();
    assert_eq!(listed, keys);
    assert!(help.contains("the earliest is the baseline"));
}

#[test]
fn quarters_and_a_config_file_make_a_batch_job() {
    let w = scenario();
    w.write();
    let config = w.path().join("quarterly.toml");
    std::fs::write(
        &config,
        "extract = \"extract\"\nout = \"quarterly\"\nquarters = \"2023Q3..2024Q1\"\nquiet = true\ndisclosure_control = false\n",
    )
    .unwrap();
    let out = run(&["audit", "--config", config.to_str().unwrap()]);
    assert_eq!(ok(&out), "");
    let rows =
        parse_csv(&std::fs::read_to_string(w.path().join("quarterly/indicators.csv")).unwrap());
    let mut dates: Vec<&str> = rows.iter().map(|r| r["index_date"].as_str()).collect();
    dates.dedup();
    assert_eq!(dates, ["2023-09-30", "2023-12-31", "2024-03-31"]);
    assert!(w.path().join("quarterly/changes.csv").is_file());
    // A bad key in the config is a usage error.
    std::fs::write(
        &config,
        "extract = \"extract\"\nindex_date = \"2024-03-31\"\n",
    )
    .unwrap();
    let out = run(&["audit", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `index_date`"));
}

#[test]
fn under_disclosure_control_patient_level_files_go_only_to_their_own_folder() {
    let w = scenario();
    // No review folder named: the review list is not written, and the run says so.
    let stdout = ok(&w.audit(&["--index-date", "2024-03-31", "--disclosure-control"]));
    assert!(!w.out().join("review_list.csv").exists());
    assert!(stdout.contains("review list not written"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(&w.read_out("summary.json")).unwrap();
    assert!(summary["review_list"]
        .as_str()
        .unwrap()
        .starts_with("not written"));
    // A folder of its own: the list goes there, never beside the tables.
    let review = w.path().join("pharmacist");
    ok(&w.audit(&[
        "--index-date",
        "2024-03-31",
        "--disclosure-control",
        "--force",
        "-q",
        "--review-out",
        review.to_str().unwrap(),
    ]));
    assert!(review.join("review_list.csv").is_file());
    assert!(!w.out().join("review_list.csv").exists());
    // Inside the output folder is refused, as is a partial under disclosure control.
    let inside = w.out().join("review");
    let o = w.audit(&[
        "--index-date",
        "2024-03-31",
        "--disclosure-control",
        "--force",
        "--review-out",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must be a folder of its own"));
    let o = w.audit(&[
        "--index-date",
        "2024-03-31",
        "--disclosure-control",
        "--partial",
        "--force",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
