//! The real binary on the bundled sample extract: the README's command,
//! row accounting, determinism across threads and batch sizes, and formats.

use std::path::{Path, PathBuf};

use super::workdir::{ok, parse_csv, run};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/extract")
}

fn audit(out: &Path, extra: &[&str]) -> String {
    let extract = sample();
    let mut args = vec![
        "audit",
        extract.to_str().unwrap(),
        "--index-date",
        "2024-03-31",
    ];
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    ok(&run(&args))
}

#[test]
fn the_readme_audit_runs_on_the_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let stdout = audit(tmp.path(), &[]);
    // The README shows this run's output (its first screen's command,
    // `--out out/`): keep them the same.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let shown = stdout.replace(&tmp.path().display().to_string(), "out");
    assert!(
        readme.contains(&format!("```\n{shown}```")),
        "README's output listing differs from:\n{shown}"
    );
    for f in [
        "indicators.csv",
        "indicators.parquet",
        "review_list.csv",
        "summary.json",
    ] {
        assert!(tmp.path().join(f).is_file(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("summary.json")).unwrap())
            .unwrap();
    // Every row of every file is read (a data line of the CSV file, counted
    // here apart from the engine), and used, ignored or rejected.
    let inputs = summary["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 5);
    for input in inputs {
        let path = PathBuf::from(input["file"].as_str().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let data_lines = text.lines().skip(1).filter(|l| !l.is_empty()).count() as u64;
        assert_eq!(
            input["rows_read"].as_u64().unwrap(),
            data_lines,
            "{}",
            path.display()
        );
        let sum = |k: &str| {
            input[k]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>()
        };
        let read = input["rows_read"].as_u64().unwrap();
        assert!(read > 0, "{input}");
        assert_eq!(
            read,
            input["rows_used"].as_u64().unwrap() + sum("rows_ignored") + sum("rows_rejected"),
            "{input}"
        );
    }
    assert_eq!(summary["codelists"].as_array().unwrap().len(), 46);
    // The sample is coded as real extracts are: dm+d only, every drug
    // class reached through the dm+d dictionary.
    for (concept, rows) in summary["drug_coverage"]["concepts"].as_object().unwrap() {
        assert_eq!(rows["bnf"], 0, "{concept}");
    }
    for concept in [
        "antipsychotic",
        "antidepressant",
        "antiepileptic",
        "melatonin",
    ] {
        let n = summary["drug_coverage"]["concepts"][concept]["dmd"]
            .as_u64()
            .unwrap();
        assert!(n > 100, "{concept}: {n} rows through dm+d");
    }
    // The sample looks like the LD population: antipsychotics in 10-25% of
    // the register, fewer than half of them with an SMI code.
    let rows = parse_csv(&std::fs::read_to_string(tmp.path().join("indicators.csv")).unwrap());
    let rate = |id: &str| {
        rows.iter()
            .find(|r| r["indicator_id"] == id && r["level"] == "national")
            .map(|r| r["rate"].parse::<f64>().unwrap())
            .unwrap()
    };
    assert!(
        (0.10..0.25).contains(&rate("STOMP02")),
        "STOMP02 {}",
        rate("STOMP02")
    );
    assert!(rate("STOMP03B") > 0.5, "STOMP03B {}", rate("STOMP03B"));
}

#[test]
fn results_do_not_depend_on_threads_or_batch_size() {
    let runs: Vec<(tempfile::TempDir, [&str; 4])> = vec![
        (
            tempfile::tempdir().unwrap(),
            ["--threads", "1", "--batch-rows", "65536"],
        ),
        (
            tempfile::tempdir().unwrap(),
            ["--threads", "2", "--batch-rows", "1000"],
        ),
        (
            tempfile::tempdir().unwrap(),
            ["--threads", "2", "--batch-rows", "7"],
        ),
    ];
    for (dir, args) in &runs {
        audit(dir.path(), args);
    }
    for f in ["indicators.csv", "review_list.csv", "indicators.parquet"] {
        let first = std::fs::read(runs[0].0.path().join(f)).unwrap();
        for (dir, args) in &runs[1..] {
            assert!(
                first == std::fs::read(dir.path().join(f)).unwrap(),
                "{f} differs with {args:?}"
            );
        }
    }
}

#[test]
fn csv_gz_and_parquet_extracts_give_the_same_results() {
    let tmp = tempfile::tempdir().unwrap();
    let parquet = tmp.path().join("parquet");
    ok(&run(&[
        "synth",
        "--patients",
        "1500",
        "--seed",
        "7",
        "--ld-prevalence",
        "0.1",
        "--format",
        "parquet",
        "--out",
        parquet.to_str().unwrap(),
    ]));
    let csv = tmp.path().join("csv");
    ok(&run(&[
        "synth",
        "--patients",
        "1500",
        "--seed",
        "7",
        "--ld-prevalence",
        "0.1",
        "--out",
        csv.to_str().unwrap(),
    ]));
    // gzip one table of the CSV extract (always: no fallback to plain CSV
    // that would let the .csv.gz path go untested).
    let meds = csv.join("medications.csv");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(csv.join("medications.csv.gz")).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut enc, &std::fs::read(&meds).unwrap()).unwrap();
    enc.finish().unwrap();
    std::fs::remove_file(&meds).unwrap();
    let mut outputs = Vec::new();
    for (name, dir) in [("p", &parquet), ("c", &csv)] {
        let out = tmp.path().join(format!("out-{name}"));
        ok(&run(&[
            "audit",
            dir.to_str().unwrap(),
            "--index-date",
            "2024-03-31",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ]));
        outputs.push(std::fs::read_to_string(out.join("indicators.csv")).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    let summary = std::fs::read_to_string(tmp.path().join("out-c/summary.json")).unwrap();
    assert!(summary.contains("medications.csv.gz\""), "{summary}");
}

#[test]
fn synth_is_deterministic_for_a_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut texts = Vec::new();
    for (name, seed) in [("a", "5"), ("b", "5"), ("c", "6")] {
        let dir = tmp.path().join(name);
        ok(&run(&[
            "synth",
            "--patients",
            "300",
            "--seed",
            seed,
            "--out",
            dir.to_str().unwrap(),
        ]));
        texts.push(std::fs::read_to_string(dir.join("medications.csv")).unwrap());
    }
    assert_eq!(texts[0], texts[1]);
    assert_ne!(texts[0], texts[2]);
}
