//! Golden outputs: the tables and `summary.json` of three sample runs, as
//! users' downstream jobs read them, pinned in `tests/golden/`. The column
//! order, the shape of the summary and every value are contracts; a change
//! to any of them must be deliberate.
//!
//! After a deliberate change, regenerate and review:
//!
//! ```text
//! UPDATE_GOLDEN=1 cargo test --release --test cli golden
//! git diff --stat tests/golden && git diff tests/golden
//! ```
//!
//! Times, thread counts, the command line and the engine version are
//! masked; paths are written relative to the repository or the output
//! folder. `report.html` is too large to keep: its SHA-256 is pinned,
//! with paths masked the same way.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::workdir::{ok, run};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn golden_dir(run_name: &str) -> PathBuf {
    Path::new(REPO).join("tests/golden").join(run_name)
}

/// Compares `actual` with the golden file, or rewrites it under
/// `UPDATE_GOLDEN`. A difference names the first line that differs.
fn check(run_name: &str, file: &str, actual: &str) {
    let path = golden_dir(run_name).join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_GOLDEN=1 cargo test --release --test cli golden",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let (line, (want, got)) = expected
        .lines()
        .chain(std::iter::repeat("<end of file>"))
        .zip(actual.lines().chain(std::iter::repeat("<end of file>")))
        .enumerate()
        .find(|(_, (e, a))| e != a)
        .unwrap_or((0, ("", "")));
    panic!(
        "{} differs from this run at line {}:\n  golden: {want}\n  now:    {got}\n\
         If the change is deliberate: UPDATE_GOLDEN=1 cargo test --release --test cli golden, then review git diff tests/golden",
        path.display(),
        line + 1
    );
}

/// `summary.json` without what changes from run to run or machine to
/// machine: times, threads, the command line, the engine's version, the
/// absolute part of every path, and the outputs' sizes (a page that names
/// its inputs grows with the checkout's path; the contents are pinned by
/// the other golden files).
fn masked_summary(out: &Path) -> String {
    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn walk(v: &mut serde_json::Value, out: &str) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    match k.as_str() {
                        "command" | "threads" | "engine_version" | "engine" => {
                            *x = "<masked>".into();
                        }
                        "timings_seconds" => {
                            if let serde_json::Value::Object(t) = x {
                                for s in t.values_mut() {
                                    *s = "<masked>".into();
                                }
                            }
                        }
                        _ => walk(x, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|x| walk(x, out)),
            serde_json::Value::String(s) => {
                *s = s.replace(out, "<out>").replace(REPO, "<repo>");
            }
            _ => {}
        }
    }
    walk(&mut v, &out.display().to_string());
    if let Some(outputs) = v["outputs"].as_array_mut() {
        for o in outputs {
            o["bytes"] = "<masked>".into();
        }
    }
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

/// The SHA-256 of a page, with the absolute part of its paths masked as in
/// [`masked_summary`] (the measures page names its input files).
fn sha256_of(path: &Path) -> String {
    let out = path.parent().unwrap().display().to_string();
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace(&out, "<out>")
        .replace(REPO, "<repo>");
    format!(
        "{:x}  {}\n",
        Sha256::digest(text.as_bytes()),
        path.file_name().unwrap().to_string_lossy()
    )
}

fn read(out: &Path, file: &str) -> String {
    std::fs::read_to_string(out.join(file)).unwrap()
}

fn audit(out: &Path, dates: &[&str]) {
    let extract = Path::new(REPO).join("data-samples/extract");
    let mut args = vec!["audit", extract.to_str().unwrap()];
    args.extend_from_slice(dates);
    args.extend(["--out", out.to_str().unwrap(), "-q"]);
    ok(&run(&args));
}

#[test]
fn golden_sample_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    audit(&out, &["--index-date", "2024-03-31"]);
    for file in ["indicators.csv", "deciles.csv", "review_list.csv"] {
        check("sample", file, &read(&out, file));
    }
    check("sample", "summary.json", &masked_summary(&out));
    check(
        "sample",
        "report.html.sha256",
        &sha256_of(&out.join("report.html")),
    );
}

#[test]
fn golden_quarterly_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    audit(&out, &["--quarters", "2023Q1..2024Q1"]);
    check("quarterly", "changes.csv", &read(&out, "changes.csv"));
    check("quarterly", "deciles.csv", &read(&out, "deciles.csv"));
    check("quarterly", "summary.json", &masked_summary(&out));
    check(
        "quarterly",
        "report.html.sha256",
        &sha256_of(&out.join("report.html")),
    );
    // The latest quarter's rows are the single-date run's rows.
    let single = tmp.path().join("single");
    audit(&single, &["--index-date", "2024-03-31"]);
    let sample = read(&single, "indicators.csv");
    let indicators = read(&out, "indicators.csv");
    let mut lines = indicators.lines();
    let header = lines.next().unwrap();
    let latest: Vec<&str> = std::iter::once(header)
        .chain(lines.filter(|l| l.starts_with("2024-03-31,")))
        .collect();
    assert_eq!(latest.join("\n") + "\n", sample);
}

#[test]
fn golden_epd_measures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let epd = Path::new(REPO).join("data-samples/epd");
    ok(&run(&[
        "measures",
        "--epd",
        epd.join("epd_201709_4practices.csv").to_str().unwrap(),
        "--list-sizes",
        epd.join("list_size_201709.csv").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    for file in ["measures.csv", "measure_deciles.csv"] {
        check("epd", file, &read(&out, file));
    }
    check("epd", "summary.json", &masked_summary(&out));
    check(
        "epd",
        "report.html.sha256",
        &sha256_of(&out.join("report.html")),
    );
}
