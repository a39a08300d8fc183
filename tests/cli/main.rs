//! The integration tests: the real `stomp-audit` binary on hand-built
//! extracts and on the bundled sample.

mod catalogue;
mod definitions;
mod golden;
mod indicators;
mod inputs;
mod layers;
mod measures;
mod merge;
mod outcomes;
mod report;
mod review_packs;
mod sample;
mod variation;
mod workdir;
