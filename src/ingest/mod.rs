//! Reading an extract: finding its tables, mapping its columns, streaming
//! its rows, and accounting for every row. Also the public data that
//! practice-level measures read: prescribing files, list sizes and ODS
//! organisation files.

/// Rows per streamed batch unless `--batch-rows` (or the config) says
/// otherwise: large enough that per-batch overhead vanishes, small enough
/// that a few batches in flight stay within a few MB.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

pub mod accounting;
pub(crate) mod batch;
pub(crate) mod csv_rows;
pub mod csv_structure;
pub(crate) mod filtered_parquet;
pub mod list_sizes;
pub mod locality;
pub mod mapping;
pub mod memo;
pub mod ods;
pub mod partition;
pub mod patient_ids;
pub mod population;
pub mod practices;
pub mod prescribing;
pub mod provenance;
pub mod source;
pub mod table;
