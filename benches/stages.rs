//! Benchmarks of each stage of the engine (run: `cargo bench`):
//! classification, the scan and fold of a whole extract, the roll-up, the
//! statistics, and `measures` over an EPD month (CSV and Parquet). Whole-CLI comparisons with DuckDB and polars are in
//! `scripts/bench.sh`.

use std::sync::OnceLock;

use stomp_audit::aggregate::AggregateOptions;
use stomp_audit::audit::{AuditConfig, Silent};
use stomp_audit::classify::classifier::DrugKey;
use stomp_audit::ingest::mapping::ColumnMapping;
use stomp_audit::pipeline::audit::{self, AuditRun};
use stomp_audit::pipeline::merge::merge;
use stomp_audit::spec::AuditSpec;
use stomp_audit::stats::funnel::binomial_limit;
use stomp_audit::stats::overdispersion::dispersion;
use stomp_audit::synth::{generate, SynthConfig, SynthFormat};

fn main() {
    divan::main();
}

fn spec() -> &'static AuditSpec {
    static SPEC: OnceLock<AuditSpec> = OnceLock::new();
    SPEC.get_or_init(|| AuditSpec::bundled().expect("bundled spec"))
}

/// A 20,000-patient synthetic Parquet extract, made once.
fn extract() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| synthetic(SynthFormat::Parquet)).path()
}

/// The same extract as CSV, made once.
fn csv_extract() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| synthetic(SynthFormat::Csv)).path()
}

fn synthetic(format: SynthFormat) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    generate(&SynthConfig {
        patients: 20_000,
        seed: 1,
        out: dir.path().to_path_buf(),
        format,
        practices: Some(4),
        ld_prevalence: 0.02,
        autism_prevalence: 0.01,
        extract_date: "2024-06-30".parse().expect("date"),
        history_years: 4,
        coding: Default::default(),
        unrelated_courses: 0.0,
    })
    .expect("synth");
    dir
}

/// The CSV structure pass (field counts and line numbers) over the
/// medications file, the largest input.
#[divan::bench]
fn csv_structure(b: divan::Bencher) {
    let path = csv_extract().join("medications.csv");
    let bytes = std::fs::metadata(&path).expect("medications.csv").len();
    b.counter(divan::counter::BytesCount::new(bytes)).bench(|| {
        stomp_audit::ingest::csv_structure::scan(&path)
            .expect("scan")
            .rows
    });
}

fn run_audit() -> AuditRun {
    audit::run(spec(), &config(), AggregateOptions::default(), &Silent).expect("audit")
}

/// The audit of the 20,000-patient extract at one index date.
fn config() -> AuditConfig {
    AuditConfig {
        extract: extract().to_path_buf(),
        mapping: ColumnMapping::default(),
        index_dates: vec!["2024-03-31".parse().expect("date")],
        batch_rows: stomp_audit::ingest::DEFAULT_BATCH_ROWS,
        pushdown: true,
        check_every_row: false,
    }
}

/// Medication code pairs as they arrive: dm+d ids from the lists, repeated.
#[divan::bench]
fn classify_medications(b: divan::Bencher) {
    let keys: Vec<DrugKey> = spec()
        .codelists
        .values()
        .flat_map(|l| l.entries.iter())
        .filter_map(|e| e.code.parse::<u64>().ok())
        .map(|id| DrugKey::new(Some(id), None))
        .cycle()
        .take(100_000)
        .collect();
    b.counter(divan::counter::ItemsCount::new(keys.len()))
        .bench(|| {
            keys.iter()
                .map(|k| spec().classifier.mask(*k))
                .fold(0u64, |a, m| a | m)
        });
}

/// Scan, classify, fold and evaluate a 20,000-patient extract.
#[divan::bench(sample_count = 10)]
fn audit_extract() -> usize {
    run_audit().rows.len()
}

/// Roll practice counts up the hierarchy with every statistic, with the
/// changes and deciles (a run's "aggregate" stage: its partial merged alone).
#[divan::bench(sample_count = 20)]
fn aggregate(b: divan::Bencher) {
    let part = stomp_audit::audit::run_partial(spec(), &config(), &Silent).expect("audit");
    b.with_inputs(|| vec![part.clone()]).bench_values(|parts| {
        merge(spec(), parts, &[], AggregateOptions::default())
            .expect("merge")
            .rows
            .len()
    });
}

/// Exact binomial funnel limits for 1,000 practice sizes.
#[divan::bench]
fn funnel_limits() -> f64 {
    (1..=1000u64)
        .filter_map(|n| binomial_limit(0.15, n * 7, 0.999))
        .sum()
}

/// Over-dispersion over 6,500 practices (England's count).
#[divan::bench]
fn overdispersion(b: divan::Bencher) {
    let units: Vec<(u64, u64)> = (0..6500u64)
        .map(|i| ((i * 37) % 40, 40 + (i * 13) % 200))
        .collect();
    b.bench(|| dispersion(&units, 0.15));
}

/// A synthetic EPD month (synth-epd: 200 practices × 2,500 rows, a tenth
/// psychotropic), made once per format.
fn epd_month(format: SynthFormat) -> &'static stomp_audit::synth::epd::EpdFiles {
    static FILES: OnceLock<[(tempfile::TempDir, stomp_audit::synth::epd::EpdFiles); 2]> =
        OnceLock::new();
    let files = FILES.get_or_init(|| {
        [SynthFormat::Csv, SynthFormat::Parquet].map(|format| {
            let dir = tempfile::tempdir().expect("temp dir");
            let files = stomp_audit::synth::epd::generate(&stomp_audit::synth::epd::EpdConfig {
                practices: 200,
                month: stomp_audit::date::Month::new(2024, 3).expect("month"),
                rows_per_practice: 2500,
                psychotropic_share: 0.1,
                other_codes: 12,
                seed: 1,
                format,
                out: dir.path().to_path_buf(),
            })
            .expect("synth-epd");
            (dir, files)
        })
    });
    &files[usize::from(format == SynthFormat::Parquet)].1
}

/// `measures` on one EPD month: the scan and fold of every row, the
/// roll-up and the statistics; rows per second of the prescribing file.
#[divan::bench(args = ["csv", "parquet"], sample_count = 10)]
fn epd_measures(b: divan::Bencher, format: &str) {
    let format = if format == "csv" {
        SynthFormat::Csv
    } else {
        SynthFormat::Parquet
    };
    let files = epd_month(format);
    let config = stomp_audit::pipeline::measures::MeasuresConfig {
        prescribing: vec![files.epd.clone()],
        list_sizes: vec![files.list_sizes.clone()],
        practices: Some(files.practices.clone()),
        ccgs: None,
        batch_rows: stomp_audit::ingest::DEFAULT_BATCH_ROWS,
        pushdown: true,
        scope: stomp_audit::ingest::locality::Scope::National,
    };
    b.counter(divan::counter::ItemsCount::new(files.rows))
        .bench(|| {
            stomp_audit::pipeline::measures::run(&spec().measures, &config)
                .expect("measures")
                .rows
                .len()
        });
}
