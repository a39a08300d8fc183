//! stomp-audit: audits psychotropic prescribing for people with a learning
//! disability, autism or both (NHS England STOMP).
//!
//! The layout follows the data flow:
//!
//! ```text
//!  extract folder (CSV / CSV.gz / Parquet)        spec (TOML) + codelists
//!          │                                              │
//!   ingest ── population (patients, registrations,  spec ── compile: concepts,
//!          │   practices), streamed batches              │   facts, indicators
//!          ▼                                              ▼
//!   classify ── each distinct code -> concept bitmask: SNOMED CT codes by
//!          │   codelist; dm+d ids -> BNF codes (the drug dictionary: list
//!          │   BNF columns, product names), then BNF patterns and forms
//!          ▼
//!   audit ── cohort -> per-patient history -> facts -> indicators (rayon)
//!          ▼
//!   aggregate ── practice -> PCN -> sub-ICB -> ICB -> region -> national
//!          ▼
//!   stats ── Wilson intervals, percentile ranks, funnel limits,
//!            over-dispersion, standardised ratios, Newcombe differences
//!          ▼
//!   report ── indicators.csv/.parquet, changes.csv, deciles.csv,
//!             report.html, review_list.csv, summary.json, rejected_rows.csv
//! ```
//!
//! `pipeline` puts the stages together, going down them once: the audit
//! (an extract evaluated into a partial, partials merged and rolled up) and
//! the measures of public practice-level prescribing data (EPD): prescribing
//! files and list sizes -> BNF classification -> sums per practice and
//! month -> the same statistics and report. `output` writes files whole or
//! not at all, for the report and the partials alike. Imports point only
//! down the layers (checked by `tests/cli/layers.rs`).
//!
//! `synth` writes realistic synthetic extracts for tests and benchmarks.
#![deny(missing_docs)]

pub mod aggregate;
pub mod audit;
pub mod classify;
pub mod date;
pub mod ingest;
pub mod order;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod spec;
pub mod stats;
pub mod synth;
pub mod text;
