//! Statistics commissioners trust: pure functions, one module per method,
//! each citing its source and tested against independently computed values.

pub mod disclosure;
pub mod exact_test;
pub mod funnel;
pub mod multiple;
pub mod newcombe;
pub mod overdispersion;
pub mod percentile;
pub mod poisson;
pub mod wilson;
