//! The modules' imports point one way, down the data flow: a module may use
//! only modules on a lower floor. A new circle, or a new top-level module
//! without a floor, fails this test, naming the file and line.
//!
//! Read from the `crate::` paths in `src/` (the binary's `cli` sits on top
//! and reaches the library as `stomp_audit::`).

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module's floor, lowest first. Modules on one floor do
/// not use each other.
const FLOORS: &[(&str, u32)] = &[
    // Small shared helpers.
    ("text", 0),
    ("order", 0),
    ("date", 1),
    ("stats", 1),
    ("output", 1),
    // The stages, in the order data go through them.
    ("ingest", 2),
    ("classify", 2),
    ("spec", 3),
    ("synth", 4),
    ("audit", 4),
    ("aggregate", 5),
    // The two pipelines that put the stages together, and what they write.
    ("pipeline", 6),
    ("report", 7),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every import against the floors in `files` (path under `src/`, text).
fn violations(files: &[(String, String)]) -> Vec<String> {
    let floors: BTreeMap<&str, u32> = FLOORS.iter().copied().collect();
    let mut wrong = Vec::new();
    for (rel, text) in files {
        let top = rel
            .split('/')
            .next()
            .unwrap_or_default()
            .trim_end_matches(".rs");
        if ["lib", "main", "cli"].contains(&top) {
            continue;
        }
        let Some(&floor) = floors.get(top) else {
            wrong.push(format!(
                "src/{rel}: the module '{top}' has no floor in FLOORS"
            ));
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            for (at, _) in line.match_indices("crate::") {
                if line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let used: String = line[at + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if used == top || used.is_empty() {
                    continue;
                }
                match floors.get(used.as_str()) {
                    Some(&f) if f < floor => {}
                    Some(&f) => wrong.push(format!(
                        "src/{rel}:{}: {top} (floor {floor}) uses {used} (floor {f})",
                        n + 1
                    )),
                    None => wrong.push(format!(
                        "src/{rel}:{}: '{used}' has no floor in FLOORS",
                        n + 1
                    )),
                }
            }
        }
    }
    wrong
}

#[test]
fn imports_point_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            (
                p.strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    assert!(files.len() > 50, "{} files", files.len());
    let wrong = violations(&files);
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_names_an_upward_import_and_an_unplaced_module() {
    let file = |p: &str, t: &str| (p.to_string(), t.to_string());
    let wrong = violations(&[
        file("aggregate/mod.rs", "use crate::audit::evaluate::Counts;\n"),
        file(
            "audit/partial/mod.rs",
            "//! text\nuse crate::report::write_parquet;\n",
        ),
        file("ingest/x.rs", "use crate::classify::Drug;\n"),
        file("newstage/mod.rs", "use crate::date::Date;\n"),
    ]);
    assert_eq!(
        wrong,
        [
            "src/audit/partial/mod.rs:2: audit (floor 4) uses report (floor 7)",
            "src/ingest/x.rs:1: ingest (floor 2) uses classify (floor 2)",
            "src/newstage/mod.rs: the module 'newstage' has no floor in FLOORS",
        ]
    );
}
