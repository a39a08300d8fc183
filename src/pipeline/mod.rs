//! The two pipelines that put the stages together, each going down the
//! layers once: the audit of a patient-level extract (`audit`, `merge`,
//! `quality`) and the practice-level measures of public prescribing data
//! (`measures`).

pub mod audit;
#[cfg(test)]
mod invariants;
pub mod measures;
pub mod merge;
pub mod quality;
