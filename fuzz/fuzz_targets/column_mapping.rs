//! Arbitrary text as a column-mapping file, and its date formats applied to
//! arbitrary values: an error or a mapping, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stomp_audit::date::DateFormat;
use stomp_audit::ingest::mapping::ColumnMapping;
use stomp_audit::ingest::table::TableKind;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = ColumnMapping::parse(&text) {
        for t in TableKind::ALL {
            let _ = m.table(t).date_format.parse(&text);
        }
    }
    if let Ok(f) = DateFormat::from_spec(&text) {
        let _ = f.parse("01/02/2024");
    }
    let _ = DateFormat::Iso.parse(&text);
    let _ = stomp_audit::date::quarter_ends(&text);
});
