//! Codelists and the classification of codes to concepts.

pub mod bnf;
pub mod classifier;
pub mod codelist;
