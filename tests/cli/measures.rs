//! `stomp-audit measures` on the real September 2017 sample
//! (`data-samples/epd/`, four whole practices) and on copies of it in the
//! other published layouts and with broken rows.
//!
//! Every expected number was computed from the raw CSV independently of
//! the engine (Python's csv module: filter BNF_CODE by prefix, sum ITEMS /
//! ADQUSAGE per PRACTICE_CODE; list sizes from the SEX=ALL rows; STAR-PU
//! as OpenPrescribing computes it, weight[band][0] x male + [1] x female).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::workdir::{ok, parse_csv, run};

const EPD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data-samples/epd/epd_201709_4practices.csv"
);
const LIST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data-samples/epd/list_size_201709.csv"
);
const EPRACCUR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data-samples/epd/epraccur_201708.csv"
);
const ECCG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data-samples/epd/eccg_201708.csv"
);

const PRACTICES: [&str; 4] = ["B85010", "B85054", "L84018", "L84073"];
const LIST_SIZES: [f64; 4] = [6939.0, 10529.0, 6632.0, 4181.0];
/// Antipsychotic items (BNF 0402010 + 0402020) per practice.
const ANTIPSYCHOTIC_ITEMS: [f64; 4] = [112.0, 199.0, 134.0, 93.0];

type Rows = Vec<BTreeMap<String, String>>;

/// Runs `measures` into `out` with the given inputs and extra arguments.
fn measures(epd: &[&Path], lists: &[&Path], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = vec!["measures".into(), "--epd".into()];
    args.extend(epd.iter().map(|p| p.display().to_string()));
    args.push("--list-sizes".into());
    args.extend(lists.iter().map(|p| p.display().to_string()));
    args.push("--out".into());
    args.push(out.display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn table(out: &Path) -> Rows {
    parse_csv(&std::fs::read_to_string(out.join("measures.csv")).expect("measures.csv"))
}

/// (numerator, denominator) of a measure at a level and unit in a month.
fn nd(rows: &Rows, month: &str, id: &str, level: &str, unit: &str) -> Option<(f64, f64)> {
    rows.iter()
        .find(|r| {
            r["month"] == month
                && r["measure_id"] == id
                && r["level"] == level
                && r["unit_code"] == unit
        })
        .map(|r| {
            (
                r["numerator"].parse().unwrap(),
                r["denominator"].parse().unwrap(),
            )
        })
}

fn value(rows: &Rows, id: &str, unit: &str) -> f64 {
    rows.iter()
        .find(|r| r["measure_id"] == id && r["level"] == "practice" && r["unit_code"] == unit)
        .map(|r| r["value"].parse().unwrap())
        .unwrap_or_else(|| panic!("no {id} row for {unit}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn real() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let stdout = ok(&measures(&[Path::new(EPD)], &[Path::new(LIST)], &out, &[]));
    (dir, out, stdout)
}

#[test]
fn the_real_sample_gives_the_hand_checked_numbers() {
    let (_dir, out, stdout) = real();
    let rows = table(&out);
    for (k, p) in PRACTICES.iter().enumerate() {
        // Antipsychotic items per 1,000 patients: B85010 112 / 6,939 = 16.14.
        assert_eq!(
            nd(&rows, "2017-09", "EPD01", "practice", p),
            Some((ANTIPSYCHOTIC_ITEMS[k], LIST_SIZES[k]))
        );
        assert!(close(
            value(&rows, "EPD01", p),
            ANTIPSYCHOTIC_ITEMS[k] / LIST_SIZES[k] * 1000.0
        ));
    }
    assert!(close(value(&rows, "EPD01", "B85010"), 16.140654272949995));
    // Depot share: 2 of B85054's 199 antipsychotic items, 2 of L84018's 134.
    let depot: Vec<Option<(f64, f64)>> = PRACTICES
        .iter()
        .map(|p| nd(&rows, "2017-09", "EPD03", "practice", p))
        .collect();
    assert_eq!(
        depot,
        [
            Some((0.0, 112.0)),
            Some((2.0, 199.0)),
            Some((2.0, 134.0)),
            Some((0.0, 93.0))
        ]
    );
    assert!(close(value(&rows, "EPD03", "B85054"), 200.0 / 199.0));
    // Lithium items: carbonate and citrate (0402030K0, 0402030P0) only;
    // B85054's 6 and L84018's 7 valproate semisodium items (0402030Q0,
    // Depakote) are not lithium.
    let lithium: Vec<f64> = PRACTICES
        .iter()
        .map(|p| nd(&rows, "2017-09", "EPD04", "practice", p).unwrap().0)
        .collect();
    assert_eq!(lithium, [2.0, 18.0, 6.0, 9.0]);
    // Antidepressant ADQs over antidepressant STAR-PUs.
    let star_pu = [149836.6, 241703.7, 151256.2, 91268.5];
    let ad_adq = [18903.16638, 37198.20769, 18999.69962, 18592.51647];
    for (k, p) in PRACTICES.iter().enumerate() {
        let (n, d) = nd(&rows, "2017-09", "EPD05", "practice", p).unwrap();
        assert!(
            (n - ad_adq[k]).abs() < 1e-6 && (d - star_pu[k]).abs() < 1e-6,
            "{p}: {n} {d}"
        );
    }
    // Hypnotic and anxiolytic ADQs, and gabapentinoid defined daily doses:
    // TOTAL_QUANTITY x mg per capsule or tablet / 300 (pregabalin) or 1,800
    // (gabapentin), summed by a separate script over the raw rows, reading
    // each strength from the file's BNF_DESCRIPTION ("Pregabalin_Cap 75mg").
    let hyp = [1775.6, 2209.13332, 2025.39999, 1742.4];
    let gaba_ddd = [2647.6666666667, 4885.5, 1946.3333333333, 1808.2777777778];
    for (k, p) in PRACTICES.iter().enumerate() {
        assert!((nd(&rows, "2017-09", "EPD06", "practice", p).unwrap().0 - hyp[k]).abs() < 1e-6);
        let ddd = nd(&rows, "2017-09", "EPD07", "practice", p).unwrap().0;
        assert!((ddd - gaba_ddd[k]).abs() < 1e-6, "{p}: {ddd}");
    }
    // Higher levels pool: the CCG 03A00 is B85010 + B85054; the top level all four.
    assert_eq!(
        nd(&rows, "2017-09", "EPD01", "sub_icb", "03A00"),
        Some((311.0, 17468.0))
    );
    assert_eq!(
        nd(&rows, "2017-09", "EPD01", "icb", "Q64"),
        Some((227.0, 10813.0))
    );
    assert_eq!(
        nd(&rows, "2017-09", "EPD01", "national", "ALL"),
        Some((538.0, 28281.0))
    );
    // No PCN is known from EPD columns, so no PCN rows.
    assert!(rows.iter().all(|r| r["level"] != "pcn"));
    assert!(stdout.contains("EPD01      19.02"), "{stdout}");
    // The README shows this run's output: keep them the same.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let printed: Vec<&str> = stdout
        .lines()
        .take_while(|l| !l.starts_with("  wrote"))
        .collect();
    assert!(
        readme.contains(&printed.join("\n")),
        "README differs from:\n{stdout}"
    );
    // Every row is accounted for; 1,105 rows matched a measure and fold
    // into 406 practice-presentations (EPD splits rows by pack size); the
    // 8 rows (7 presentations) of valproate semisodium are no lithium.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let epd = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["table"] == "prescribing")
        .unwrap();
    assert_eq!(epd["rows_read"], 10027);
    assert_eq!(epd["rows_used"], 1105);
    assert_eq!(epd["rows_ignored"]["unrelated_code"], 10027 - 1105);
    assert_eq!(epd["layout"], "EPD (AREA_TEAM columns)");
    assert_eq!(summary["presentations"], 406);
    // Distinct BNF codes, and those a measure uses (4 valproate semisodium
    // presentations left lithium).
    assert_eq!(summary["bnf_codes"], serde_json::json!([2709, 176]));
    // Funnel limits come with every practice row; the models are named.
    let b = rows
        .iter()
        .find(|r| r["measure_id"] == "EPD01" && r["unit_code"] == "B85010")
        .unwrap();
    assert_eq!(b["model"], "poisson");
    let (lo, hi): (f64, f64) = (
        b["funnel_low_998"].parse().unwrap(),
        b["funnel_high_998"].parse().unwrap(),
    );
    assert!(lo < 19.02 && 19.03 < hi, "{lo} {hi}");
    assert!(!out.join("measure_changes.csv").exists());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        14,
        "a funnel and a caterpillar plot per measure"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("measures.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().unwrap().len(), rows.len());
}

/// The sample rewritten by `f` (a function of the whole text) into `dir/name`.
fn variant(dir: &Path, name: &str, f: impl Fn(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(EPD).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, f(&text)).unwrap();
    path
}

/// The sample in the HSCIC layout: padded names and counts, trailing comma.
fn hscic(text: &str) -> String {
    let rows = parse_csv(text);
    let mut out = String::from(" SHA,PCT,PRACTICE,BNF CODE,BNF NAME                                    ,ITEMS  ,NIC        ,ACT COST   ,QUANTITY,PERIOD,\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{:<15},{:<40},{:07},{:011.2},{:011.2},{:07},201709,\n",
            r["AREA_TEAM_CODE"],
            &r["PCO_CODE"][..3],
            r["PRACTICE_CODE"],
            r["BNF_CODE"],
            r["BNF_DESCRIPTION"].replace(',', " "),
            r["ITEMS"].parse::<u64>().unwrap(),
            r["NIC"].parse::<f64>().unwrap(),
            r["ACTUAL_COST"].parse::<f64>().unwrap(),
            r["TOTAL_QUANTITY"].parse::<f64>().unwrap() as u64,
        ));
    }
    out
}

#[test]
fn every_published_layout_gives_the_same_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let gz = d.join("epd.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(EPD).unwrap()).unwrap();
    enc.finish().unwrap();
    let layouts = [
        (
            variant(d, "published.csv", |t| t.replace("\n2017_09,", "\n201709,")),
            "EPD (AREA_TEAM columns)",
        ),
        (
            variant(d, "stp.csv", |t| {
                t.replacen("AREA_TEAM_NAME,AREA_TEAM_CODE", "STP_NAME,STP_CODE", 1)
            }),
            "EPD (STP columns)",
        ),
        (
            variant(d, "icb.csv", |t| {
                t.replacen("AREA_TEAM_NAME,AREA_TEAM_CODE", "ICB_NAME,ICB_CODE", 1)
            }),
            "EPD (ICB columns)",
        ),
        (gz, "EPD (AREA_TEAM columns)"),
        (
            variant(d, "hscic.csv", hscic),
            "HSCIC practice level prescribing",
        ),
    ];
    for (k, (path, layout)) in layouts.iter().enumerate() {
        let out = d.join(format!("out{k}"));
        let stdout = ok(&measures(&[path], &[Path::new(LIST)], &out, &[]));
        let rows = table(&out);
        for (i, p) in PRACTICES.iter().enumerate() {
            assert_eq!(
                nd(&rows, "2017-09", "EPD01", "practice", p),
                Some((ANTIPSYCHOTIC_ITEMS[i], LIST_SIZES[i])),
                "{layout} {p}"
            );
        }
        // The area-team / STP / ICB column is the ICB level.
        assert_eq!(
            nd(&rows, "2017-09", "EPD01", "icb", "Q64"),
            Some((227.0, 10813.0)),
            "{layout}"
        );
        let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
        assert!(summary.contains(layout), "{layout}: {summary}");
        if layout.starts_with("HSCIC") {
            // No ADQ column: the ADQ measures are left out, and it says so.
            assert!(rows
                .iter()
                .all(|r| !["EPD02", "EPD05", "EPD06"].contains(&r["measure_id"].as_str())));
            assert!(stdout.contains("EPD02 left out"), "{stdout}");
            assert_eq!(
                nd(&rows, "2017-09", "EPD01", "sub_icb", "03A"),
                Some((311.0, 17468.0))
            );
        } else {
            assert!(
                close(
                    value(&rows, "EPD02", "B85010"),
                    1321.72489 / 6939.0 * 1000.0
                ),
                "{layout}"
            );
        }
    }
}

#[test]
fn broken_rows_are_counted_with_their_line_and_never_half_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let path = variant(d, "broken.csv", |t| {
        let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
        let antipsychotic = lines[469].clone();
        // Line 470 (L84073, 2 items of 0402010AB): the quoted area team
        // name loses its quotes, so its comma shifts every later column.
        assert!(lines[469].contains("0402010ABAAABAB"));
        lines[469] = lines[469].replacen(
            "\"BATH,GLOS,SWINDON & WILTSHIRE AREA TEAM\"",
            "BATH,GLOS,SWINDON & WILTSHIRE AREA TEAM",
            1,
        );
        // Line 3: no practice code.
        lines[2] = lines[2].replacen(",L84073,", ",,", 1);
        // Line 4: prescribed outside a practice (no ODS code recorded).
        lines[3] = lines[3].replacen(",L84073,", ",-,", 1);
        // An antipsychotic row of a practice with no list size.
        lines.push(antipsychotic.replacen(",L84073,", ",Z99999,", 1));
        lines.join("\n") + "\n"
    });
    let out = d.join("out");
    ok(&measures(&[&path], &[Path::new(LIST)], &out, &[]));
    let rows = table(&out);
    // The shifted row is rejected whole: L84073 loses its 2 items.
    assert_eq!(
        nd(&rows, "2017-09", "EPD01", "practice", "L84073"),
        Some((91.0, 4181.0))
    );
    assert!(rows.iter().all(|r| r["unit_code"] != "Z99999"));
    let rejected = parse_csv(&std::fs::read_to_string(out.join("rejected_rows.csv")).unwrap());
    let found: Vec<(&str, &str, &str)> = rejected
        .iter()
        .map(|r| {
            (
                r["location"].as_str(),
                r["column"].as_str(),
                r["reason"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("line 3", "practice_code", "missing_value"),
            ("line 470", "(row)", "wrong_field_count")
        ]
    );
    assert!(rejected[1]["value"].contains("28 fields; the header has 26"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let epd = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["table"] == "prescribing")
        .unwrap();
    assert_eq!(epd["rows_read"], 10028);
    assert_eq!(epd["rows_ignored"]["not_a_practice"], 1);
    assert_eq!(epd["rows_ignored"]["no_list_size"], 1);
    assert_eq!(summary["not_practices"][0][0], "-");
    assert_eq!(summary["not_practices"][0][1], 1);
    assert_eq!(summary["without_list_size"][0][1], "Z99999");
    // --strict turns rejected rows into a failure.
    let strict = measures(&[&path], &[Path::new(LIST)], &d.join("out2"), &["--strict"]);
    assert_eq!(strict.status.code(), Some(1));
    assert!(!d.join("out2").exists(), "exit 1 leaves no output folder");
}

#[test]
fn two_months_give_changes_deciles_and_trends() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // October: September's rows, with B85054's antipsychotic rows twice.
    let october = variant(d, "epd_201710.csv", |t| {
        let mut out = String::new();
        for (i, line) in t.lines().enumerate() {
            let line = if i == 0 {
                line.to_string()
            } else {
                line.replacen("2017_09,", "2017_10,", 1)
            };
            out.push_str(&line);
            out.push('\n');
            if line.contains(",B85054,") && (line.contains(",0402010") || line.contains(",0402020"))
            {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    });
    let list_oct = d.join("list_size_201710.csv");
    std::fs::write(
        &list_oct,
        std::fs::read_to_string(LIST)
            .unwrap()
            .replace("01SEP2017", "01OCT2017"),
    )
    .unwrap();
    let out = d.join("out");
    ok(&measures(
        &[Path::new(EPD), &october],
        &[Path::new(LIST), &list_oct],
        &out,
        &[],
    ));
    let rows = table(&out);
    assert_eq!(
        nd(&rows, "2017-10", "EPD01", "practice", "B85054"),
        Some((398.0, 10529.0))
    );
    assert_eq!(
        nd(&rows, "2017-09", "EPD01", "practice", "B85054"),
        Some((199.0, 10529.0))
    );
    let changes = parse_csv(&std::fs::read_to_string(out.join("measure_changes.csv")).unwrap());
    let c = changes
        .iter()
        .find(|c| c["measure_id"] == "EPD01" && c["unit_code"] == "B85054")
        .unwrap();
    // 37.80 - 18.90 per 1,000, well outside its Poisson interval.
    assert!(close(
        c["difference"].parse().unwrap(),
        199.0 / 10529.0 * 1000.0
    ));
    assert_eq!(c["significant"], "true");
    let same = changes
        .iter()
        .find(|c| c["measure_id"] == "EPD01" && c["unit_code"] == "B85010")
        .unwrap();
    assert_eq!(
        (same["difference"].as_str(), same["significant"].as_str()),
        ("0.0", "false")
    );
    let deciles = parse_csv(&std::fs::read_to_string(out.join("measure_deciles.csv")).unwrap());
    assert_eq!(deciles.len(), 2 * 7 * 9);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(
        html.matches("<svg").count(),
        21,
        "funnel, caterpillar and trend per measure"
    );
}

#[test]
fn ods_files_place_practices_in_their_ccgs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // Declared national (as a whole EPD month is), the top level is England.
    let stdout = ok(&measures(
        &[Path::new(EPD)],
        &[Path::new(LIST)],
        &out,
        &["--practices", EPRACCUR, "--ccgs", ECCG, "--national"],
    ));
    assert!(stdout.contains("\n  England, 2017-09:\n"), "{stdout}");
    let rows = table(&out);
    let unit = |level: &str, code: &str| {
        rows.iter()
            .find(|r| r["measure_id"] == "EPD01" && r["level"] == level && r["unit_code"] == code)
            .map(|r| {
                (
                    r["unit_name"].clone(),
                    r["numerator"].parse::<f64>().unwrap(),
                )
            })
    };
    assert_eq!(
        unit("sub_icb", "11M"),
        Some(("NHS GLOUCESTERSHIRE CCG".into(), 227.0))
    );
    assert_eq!(
        unit("sub_icb", "03A"),
        Some(("NHS GREATER HUDDERSFIELD CCG".into(), 311.0))
    );
    assert_eq!(unit("icb", "Q72").map(|u| u.1), Some(311.0));
    assert_eq!(unit("region", "Y57").map(|u| u.1), Some(227.0));
    assert_eq!(unit("national", "ENG"), Some(("England".into(), 538.0)));
    assert_eq!(
        unit("practice", "B85010").map(|u| u.0),
        Some("DALTON SURGERY".into())
    );
}

#[test]
fn a_file_in_no_known_layout_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "month,practice,code\n201709,B85010,0402010AB\n").unwrap();
    let out = measures(&[&bad], &[Path::new(LIST)], &dir.path().join("out"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv: not a known prescribing layout")
            && err.contains("month, practice, code"),
        "{err}"
    );
}
