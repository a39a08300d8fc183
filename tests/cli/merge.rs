//! Partial audits of patient buckets merge into exactly the single-machine
//! run: `partition`, `audit --partial` per bucket, `merge`.

use std::path::{Path, PathBuf};

use super::workdir::{ok, run};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data-samples/extract");
const DATES: [&str; 4] = ["--index-date", "2023-03-31", "--index-date", "2024-03-31"];

/// Every output that holds results (summary.json also lists the input files,
/// which differ between one extract and its buckets).
const SAME: [&str; 6] = [
    "indicators.csv",
    "indicators.parquet",
    "changes.csv",
    "deciles.csv",
    "review_list.csv",
    "report.html",
];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(tail).copied().collect()
}

/// Partitions the sample into `b` buckets, audits each as a partial and
/// merges them into `dir/merged-b`; returns the merged folder and the partials.
fn merged(dir: &Path, b: u32, extra: &[&str]) -> (PathBuf, Vec<PathBuf>) {
    let parts = dir.join(format!("parts-{b}"));
    let buckets = b.to_string();
    ok(&run(&[
        "partition",
        SAMPLE,
        "--buckets",
        &buckets,
        "--out",
        parts.to_str().unwrap(),
        "-q",
    ]));
    let mut partials = Vec::new();
    for k in 0..b {
        let bucket = parts.join(format!("bucket-{k:03}"));
        let partial = dir.join(format!("partial-{b}-{k}"));
        ok(&run(&args(
            &[
                "audit",
                bucket.to_str().unwrap(),
                "--partial",
                "--out",
                partial.to_str().unwrap(),
                "-q",
            ],
            &DATES,
        )));
        partials.push(partial);
    }
    let out = dir.join(format!("merged-{b}"));
    let mut cmd: Vec<&str> = vec!["merge"];
    cmd.extend(partials.iter().map(|p| p.to_str().unwrap()));
    cmd.extend(["--out", out.to_str().unwrap(), "-q"]);
    cmd.extend(extra);
    ok(&run(&cmd));
    (out, partials)
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn merged_partials_equal_the_single_machine_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let single = dir.path().join("single");
    ok(&run(&args(
        &["audit", SAMPLE, "--out", single.to_str().unwrap(), "-q"],
        &DATES,
    )));
    let whole = summary(&single);
    for b in [1, 3, 8] {
        let (out, _) = merged(dir.path(), b, &[]);
        for f in SAME {
            let (a, m) = (
                std::fs::read(single.join(f)).unwrap(),
                std::fs::read(out.join(f)).unwrap(),
            );
            assert!(a == m, "B = {b}: {f} differs from the single run");
        }
        // The population and every row of every table are accounted for.
        let s = summary(&out);
        assert_eq!(s["population"], whole["population"], "B = {b}");
        assert_eq!(s["doses"], whole["doses"], "B = {b}");
        assert!(whole["doses"]["by_index_date"][DATES[1]]["drugs_held"].as_u64() > Some(0));
        for table in [
            "patients",
            "registrations",
            "clinical_events",
            "medications",
        ] {
            let read = |v: &serde_json::Value| -> u64 {
                v["inputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| i["table"] == table)
                    .map(|i| i["rows_read"].as_u64().unwrap())
                    .sum()
            };
            assert_eq!(read(&s), read(&whole), "B = {b}, {table}");
        }
        assert_eq!(
            s["inputs"].as_array().unwrap().len(),
            5 * b as usize,
            "every bucket's five files are listed"
        );
    }
}

#[test]
fn disclosure_control_is_applied_after_the_merge() {
    let dir = tempfile::tempdir().unwrap();
    let single = dir.path().join("single");
    ok(&run(&args(
        &[
            "audit",
            SAMPLE,
            "--out",
            single.to_str().unwrap(),
            "-q",
            "--disclosure-control",
        ],
        &DATES,
    )));
    let (out, _) = merged(dir.path(), 3, &["--disclosure-control"]);
    assert_eq!(
        std::fs::read(single.join("indicators.csv")).unwrap(),
        std::fs::read(out.join("indicators.csv")).unwrap()
    );
}

#[test]
fn partials_of_another_audit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_, partials) = merged(dir.path(), 3, &[]);
    // A bucket audited at other index dates.
    let other = dir.path().join("other-dates");
    ok(&run(&[
        "audit",
        dir.path().join("parts-3/bucket-001").to_str().unwrap(),
        "--index-date",
        "2024-03-31",
        "--partial",
        "--out",
        other.to_str().unwrap(),
        "-q",
    ]));
    let out = run(&[
        "merge",
        partials[0].to_str().unwrap(),
        other.to_str().unwrap(),
        "--out",
        dir.path().join("bad").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("other-dates: not the same index dates as the first partial (2024-03-31 against 2023-03-31, 2024-03-31)"),
        "{err}"
    );
    // Partials made with the bundled spec, merged under another spec.
    let spec_dir = dir.path().join("spec");
    std::fs::create_dir_all(&spec_dir).unwrap();
    copy_dir(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/spec")),
        &spec_dir,
    );
    let text = std::fs::read_to_string(spec_dir.join("default.toml")).unwrap();
    std::fs::write(
        spec_dir.join("default.toml"),
        text.replace("version = \"", "version = \"local-"),
    )
    .unwrap();
    let out = run(&[
        "merge",
        partials[0].to_str().unwrap(),
        "--spec",
        spec_dir.join("default.toml").to_str().unwrap(),
        "--out",
        dir.path().join("bad2").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not the same spec as the first partial"),
        "{err}"
    );
    // A folder that is no partial.
    let out = run(&[
        "merge",
        SAMPLE,
        "--out",
        dir.path().join("bad3").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("partial.json"));
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
