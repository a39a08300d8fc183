//! `changes.csv`: each unit's rate at the baseline (the first index date)
//! and now (the last), the difference with Newcombe's 95% interval, and
//! whether it is significant. Written when a run has two or more dates.

use polars::prelude::*;

use crate::aggregate::change::ChangeRow;
use crate::output::{column, text_column};

/// File name.
pub const FILE: &str = "changes.csv";

fn rate(counts: Option<(u64, u64)>) -> Option<f64> {
    counts.and_then(|(n, d)| (d > 0).then(|| n as f64 / d as f64))
}

/// The change table as a frame.
pub(crate) fn frame(r: &[ChangeRow]) -> PolarsResult<DataFrame> {
    DataFrame::new_infer_height(vec![
        text_column("indicator_id", r, |x| &x.indicator_id),
        column("level", r, |x| x.level.as_str()),
        text_column("unit_code", r, |x| &x.unit_code),
        text_column("unit_name", r, |x| &x.unit_name),
        column("baseline_date", r, |x| x.baseline_date.to_string()),
        column("baseline_numerator", r, |x| x.baseline.map(|c| c.0)),
        column("baseline_denominator", r, |x| x.baseline.map(|c| c.1)),
        column("baseline_rate", r, |x| rate(x.baseline)),
        column("current_date", r, |x| x.current_date.to_string()),
        column("current_numerator", r, |x| x.current.map(|c| c.0)),
        column("current_denominator", r, |x| x.current.map(|c| c.1)),
        column("current_rate", r, |x| rate(x.current)),
        column("difference", r, |x| x.difference.map(|d| d.0)),
        column("difference_low", r, |x| x.difference.map(|d| d.1)),
        column("difference_high", r, |x| x.difference.map(|d| d.2)),
        column("significant", r, |x| x.significant),
        column("p_value", r, |x| x.p_value),
        column("q_value", r, |x| x.q_value),
        column("significant_fdr", r, |x| x.significant_fdr),
    ])
}
