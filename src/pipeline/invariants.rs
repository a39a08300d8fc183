//! Property tests of the audit's invariants on random synthetic extracts:
//! results do not depend on row order, batch size or thread count; every
//! row read is used, ignored or rejected; practices add up to every level.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::audit::{run, AuditRun};
use crate::aggregate::IndicatorRow;
use crate::audit::{AuditConfig, Silent};
use crate::date::Date;
use crate::ingest::accounting::IgnoreReason;
use crate::ingest::locality::Level;
use crate::ingest::mapping::ColumnMapping;
use crate::ingest::table::TableKind;
use crate::spec::AuditSpec;
use crate::spec::ConceptKind;
use crate::synth::{generate, DrugCoding, SynthConfig, SynthFormat};

fn synth(dir: &Path, seed: u64) {
    synth_coded(dir, seed, DrugCoding::DmdOnly, 250);
}

fn synth_coded(dir: &Path, seed: u64, coding: DrugCoding, patients: u64) {
    synth_with(dir, seed, coding, patients, 0.0);
}

fn synth_with(
    dir: &Path,
    seed: u64,
    coding: DrugCoding,
    patients: u64,
    unrelated_courses: f64,
) -> crate::synth::SynthCounts {
    generate(&SynthConfig {
        patients,
        seed,
        out: dir.to_path_buf(),
        format: SynthFormat::Csv,
        practices: Some(5),
        ld_prevalence: 0.3,
        autism_prevalence: 0.1,
        extract_date: "2024-06-30".parse().unwrap(),
        history_years: 4,
        coding,
        unrelated_courses,
    })
    .unwrap()
}

/// The tables of an extract, by file stem.
const TABLES: [&str; 5] = [
    "patients",
    "registrations",
    "medications",
    "clinical_events",
    "practices",
];

/// Shuffles the data rows of every table (the header stays first).
fn shuffle(dir: &Path, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for table in TABLES {
        let path = dir.join(format!("{table}.csv"));
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1..].shuffle(&mut rng);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
}

fn audit(spec: &AuditSpec, dir: &Path, batch_rows: usize, threads: usize) -> AuditRun {
    audit_with(spec, dir, batch_rows, threads, true)
}

fn audit_with(
    spec: &AuditSpec,
    dir: &Path,
    batch_rows: usize,
    threads: usize,
    pushdown: bool,
) -> AuditRun {
    let config = AuditConfig {
        extract: dir.to_path_buf(),
        mapping: ColumnMapping::default(),
        index_dates: vec!["2024-03-31".parse().unwrap(), "2023-09-30".parse().unwrap()],
        batch_rows,
        pushdown,
        check_every_row: false,
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| run(spec, &config, Default::default(), &Silent))
        .unwrap()
}

/// An aggregate row's key: date, indicator, level, unit.
type UnitKey = (Date, Arc<str>, Level, Arc<str>);

/// Rows keyed by everything but the unit order, for comparisons across runs.
fn by_unit(rows: &[IndicatorRow]) -> BTreeMap<UnitKey, (u64, u64)> {
    rows.iter()
        .map(|r| {
            (
                (
                    r.index_date,
                    r.indicator_id.clone(),
                    r.level,
                    r.unit_code.clone(),
                ),
                (r.numerator.unwrap_or(0), r.denominator.unwrap_or(0)),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn order_batches_and_threads_do_not_change_results(
        seed in 0u64..10_000,
        shuffle_seed in 0u64..10_000,
        batch in 1usize..400,
    ) {
        let spec = AuditSpec::bundled().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        synth(&a, seed);
        synth(&b, seed);
        shuffle(&b, shuffle_seed);
        let sequential = audit(&spec, &a, 1 << 20, 1);
        let parallel = audit(&spec, &b, batch, 2);

        // Same file order: identical rows, bit for bit, in the same order.
        let same_order = audit(&spec, &a, batch, 2);
        prop_assert_eq!(&sequential.rows, &same_order.rows);
        prop_assert_eq!(&sequential.review, &same_order.review);

        // Shuffled rows: the same counts for every unit and the same review
        // list, in the same order (it is sorted by practice and patient id).
        prop_assert_eq!(by_unit(&sequential.rows), by_unit(&parallel.rows));
        prop_assert_eq!(&sequential.review, &parallel.review);

        // Every row is used, ignored or rejected.
        for i in &parallel.inputs {
            prop_assert!(i.tally.account.balances(), "{:?}", i.tally.account);
        }
        prop_assert!(parallel.inputs.iter().all(|i| i.tally.account.read > 0));

        // Practices add up to every higher level.
        let mut sums: BTreeMap<(Date, &str, Level), (u64, u64)> = BTreeMap::new();
        for r in &parallel.rows {
            let e = sums.entry((r.index_date, &*r.indicator_id, r.level)).or_default();
            e.0 += r.numerator.unwrap_or(0);
            e.1 += r.denominator.unwrap_or(0);
        }
        for ((date, id, _), total) in &sums {
            prop_assert_eq!(total, &sums[&(*date, *id, Level::Practice)]);
        }
    }

}

proptest! {
    // Three extracts a case, each large enough to hold every drug concept
    // (end-of-life injections are the rarest, a few per thousand patients).
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// A drug is in the same class whether a row gives its dm+d code or
    /// its BNF code: the same extract written dm+d only (as real extracts
    /// are), BNF only and with both gives every indicator the same
    /// numerator and denominator, and every drug concept of the spec is
    /// exercised (the synthetic extract writes drugs of each).
    #[test]
    fn dmd_only_and_bnf_only_extracts_give_the_same_numbers(seed in 0u64..10_000) {
        let spec = AuditSpec::bundled().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let mut runs = Vec::new();
        for (name, coding) in [
            ("dmd", DrugCoding::DmdOnly),
            ("bnf", DrugCoding::BnfOnly),
            ("both", DrugCoding::Both),
        ] {
            let dir = tmp.path().join(name);
            synth_coded(&dir, seed, coding, 1500);
            runs.push(audit(&spec, &dir, 1 << 20, 2));
        }
        let dmd = by_unit(&runs[0].rows);
        prop_assert_eq!(&dmd, &by_unit(&runs[1].rows));
        prop_assert_eq!(&dmd, &by_unit(&runs[2].rows));
        // Each drug concept was matched, through dm+d in the first extract
        // and through BNF in the second.
        for c in spec.compiled.concepts.iter().filter(|c| c.kind == ConceptKind::Drug) {
            let (d, b) = (&runs[0].drug_coverage.concepts[&c.name], &runs[1].drug_coverage.concepts[&c.name]);
            prop_assert!(d.dmd > 0 && d.bnf == 0, "{} {:?}", c.name, d);
            prop_assert!(b.bnf > 0 && b.dmd == 0, "{} {:?}", c.name, b);
            prop_assert_eq!(d.dmd, b.bnf, "{}", c.name);
        }
    }
}

/// Rows every kind of fault gives a medications or clinical events row:
/// codes invalid, mangled or missing, a negative quantity, an unknown
/// patient, a bad date (risperidone 1 mg tablets, 321589009, where the
/// fault needs a related code).
const FAULTS: [(&str, &str); 10] = [
    ("medications", "999999,2024-01-10,321589009,,28,"),
    ("medications", "100000000,2024-13-45,321589009,,28,"),
    ("medications", "100000000,2024-01-10,3.21612E+08,,28,"),
    (
        "medications",
        "100000000,2024-01-10,3.21612E+08,0402010ADAAAAAA,28,",
    ),
    ("medications", "100000000,2024-01-10,,,28,"),
    ("medications", "100000000,2024-01-10,321589009,,-28,"),
    ("medications", "100000000,2024-01-10,not a code,,28,"),
    ("clinical_events", "100000000,2024-01-10,"),
    ("clinical_events", "100000000,2024-01-10,E+10"),
    ("clinical_events", "999999,2024-13-45,416075005"),
];

/// Every table of a CSV extract written as Parquet, in row groups of
/// `group_rows`, the CSV files removed; with `native_dates`, the `date`
/// columns stored as dates (an invalid one null).
fn to_parquet(dir: &Path, group_rows: usize, native_dates: bool) {
    use polars::prelude::*;
    for table in TABLES {
        let csv = dir.join(format!("{table}.csv"));
        let mut df = CsvReadOptions::default()
            .with_infer_schema_length(Some(0))
            .try_into_reader_with_file_path(Some(csv.clone()))
            .unwrap()
            .finish()
            .unwrap();
        if native_dates && df.column("date").is_ok() {
            let days: Int32Chunked = df
                .column("date")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.and_then(|s| s.trim().parse::<Date>().ok()).map(|d| d.0))
                .collect();
            let dates = days.into_date().into_series().with_name("date".into());
            df.replace("date", dates.into_column()).unwrap();
        }
        let file = std::fs::File::create(dir.join(format!("{table}.parquet"))).unwrap();
        ParquetWriter::new(file)
            .with_row_group_size(Some(group_rows))
            .finish(&mut df)
            .unwrap();
        std::fs::remove_file(csv).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Reading only the rows whose codes need it (predicate pushdown on
    /// Parquet) changes nothing: the same indicator rows, review list,
    /// drug coverage and row accounts, every rejection at the same row,
    /// whether most medication rows are related (row groups read whole)
    /// or few are (the rest skipped), in row groups of any size, with
    /// dates stored as text or as dates.
    #[test]
    fn pushdown_changes_nothing(
        seed in 0u64..10_000,
        shuffle_seed in 0u64..10_000,
        unrelated in prop_oneof![Just(0.0), Just(4.0)],
        group_rows in 20usize..3000,
        batch in 7usize..2000,
        native_dates in any::<bool>(),
    ) {
        let spec = AuditSpec::bundled().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("x");
        synth_with(&dir, seed, DrugCoding::DmdOnly, 250, unrelated);
        for (table, row) in FAULTS {
            let path = dir.join(format!("{table}.csv"));
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, format!("{text}{row}\n")).unwrap();
        }
        shuffle(&dir, shuffle_seed);
        to_parquet(&dir, group_rows, native_dates);
        let read_all = audit_with(&spec, &dir, batch, 2, false);
        let pushed = audit_with(&spec, &dir, batch, 2, true);
        prop_assert_eq!(&read_all.rows, &pushed.rows);
        prop_assert_eq!(&read_all.review, &pushed.review);
        prop_assert_eq!(
            format!("{:?}", read_all.drug_coverage),
            format!("{:?}", pushed.drug_coverage)
        );
        prop_assert_eq!(read_all.inputs.len(), pushed.inputs.len());
        for (a, b) in read_all.inputs.iter().zip(&pushed.inputs) {
            prop_assert_eq!(format!("{:?}", a.tally), format!("{:?}", b.tally));
        }
        let meds = pushed.inputs.iter().find(|i| i.file.table == TableKind::Medications).unwrap();
        prop_assert_eq!(meds.tally.rejections.len(), 7, "{:?}", meds.tally.rejections);
    }
}

/// Medicines and events that no concept uses change no number: the same
/// extract with a real extract's share of unrelated medication rows (most
/// of them) gives the same indicator rows, statistics included, and the
/// same review list; every extra row is counted as ignored for its code.
#[test]
fn unrelated_rows_change_no_indicator() {
    let spec = AuditSpec::bundled().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (plain, real) = (tmp.path().join("plain"), tmp.path().join("real"));
    let few = synth_with(&plain, 7, DrugCoding::DmdOnly, 300, 0.0);
    let many = synth_with(&real, 7, DrugCoding::DmdOnly, 300, 5.0);
    let extra = many.unrelated_medications - few.unrelated_medications;
    assert_eq!(many.medications - few.medications, extra);
    // Most medication rows are now unrelated, as in real extracts.
    assert!(
        many.unrelated_medications * 2 > many.medications,
        "{many:?}"
    );
    assert!(many.clinical_events > few.clinical_events);

    let (a, b) = (
        audit(&spec, &plain, 1 << 20, 2),
        audit(&spec, &real, 1 << 20, 2),
    );
    assert_eq!(a.rows, b.rows);
    assert_eq!(a.review, b.review);
    let unrelated = |run: &AuditRun, table: TableKind| {
        run.inputs
            .iter()
            .find(|i| i.file.table == table)
            .map(|i| i.tally.account.ignored.get(IgnoreReason::UnrelatedCode))
            .unwrap()
    };
    assert_eq!(
        unrelated(&b, TableKind::Medications) - unrelated(&a, TableKind::Medications),
        extra
    );
    assert_eq!(
        unrelated(&b, TableKind::ClinicalEvents) - unrelated(&a, TableKind::ClinicalEvents),
        many.clinical_events - few.clinical_events
    );
}
