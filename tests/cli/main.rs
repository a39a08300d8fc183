//! The integration tests: the real `stomp-audit` binary on hand-built
//! extracts and on the bundled sample.

mod catalogue;
mod definitions;
mod focus;
mod golden;
mod indicators;
mod inputs;
mod layers;
mod measures;
mod merge;
mod national;
mod outcomes;
mod report;
mod review_packs;
mod sample;
mod variation;
mod workdir;
