//! Codelists and the classification of codes to concepts.

pub mod bnf;
pub mod classifier;
pub mod codelist;
pub mod dictionary;
pub mod dose_text;
pub mod form;
pub mod strength;
