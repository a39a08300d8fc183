//! Reading an extract: finding its tables, mapping its columns, streaming
//! its rows, and accounting for every row.

pub mod accounting;
pub mod csv_structure;
pub mod mapping;
pub mod patient_ids;
pub mod population;
pub mod practices;
pub mod source;
pub mod table;
