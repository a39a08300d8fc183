//! Statistics commissioners trust: pure functions, each citing its method.

pub mod wilson;
