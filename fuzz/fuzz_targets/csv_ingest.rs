//! Arbitrary bytes as a medications CSV file: the structure pass and the
//! streamed polars read the audit uses must return a value or an error,
//! never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stomp_audit::ingest::mapping::ColumnMapping;
use stomp_audit::ingest::source::Extract;
use stomp_audit::ingest::table::TableKind;

fuzz_target!(|data: &[u8]| {
    let _ = stomp_audit::ingest::csv_structure::scan_reader(data);
    let dir = std::env::temp_dir().join(format!("stomp-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    for t in TableKind::ALL {
        let _ = std::fs::write(dir.join(format!("{}.csv", t.file_stem())), "x\n");
    }
    let _ = std::fs::write(dir.join("medications.csv"), data);
    let Ok(extract) = Extract::open(&dir, &ColumnMapping::default()) else {
        return;
    };
    let source = extract.table(TableKind::Medications);
    let _ = source.for_each_batch(&["patient_id", "date", "dmd_code", "bnf_code"], 64, |b| {
        for i in 0..b.len() {
            let _ = (
                b.get(0, i),
                b.get(1, i),
                b.get(2, i),
                b.get(3, i),
                b.location(i),
            );
        }
        Ok::<(), std::convert::Infallible>(())
    });
});
