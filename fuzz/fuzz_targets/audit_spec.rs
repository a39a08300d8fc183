//! Arbitrary text as an audit spec (with the bundled codelists): an error
//! or a compiled spec, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stomp_audit::spec::{bundled, AuditSpec, SpecError};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = AuditSpec::from_text(&text, "fuzz", |rel| {
        bundled::file(rel)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| SpecError::Invalid(format!("no file {rel}")))
    });
});
