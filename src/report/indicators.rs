//! The aggregate indicator table (CSV and Parquet): one row per index date
//! x indicator x level x unit, with every statistic. It never holds a
//! patient id.

use polars::prelude::*;

use super::stat_columns;
use crate::aggregate::IndicatorRow;
use crate::output::{column, text_column};

/// CSV file name.
pub const CSV: &str = "indicators.csv";
/// Parquet file name.
pub(crate) const PARQUET: &str = "indicators.parquet";

/// The table of `rows` (the run's aggregate rows, or a batch of them) as
/// a frame.
pub(crate) fn frame(r: &[IndicatorRow]) -> PolarsResult<DataFrame> {
    let mut columns = vec![
        column("index_date", r, |x| x.index_date.to_string()),
        text_column("indicator_id", r, |x| &x.indicator_id),
        text_column("indicator_title", r, |x| &x.indicator_title),
        column("level", r, |x| x.level.as_str()),
        text_column("unit_code", r, |x| &x.unit_code),
        text_column("unit_name", r, |x| &x.unit_name),
        column("numerator", r, |x| x.numerator),
        column("denominator", r, |x| x.denominator),
        column("suppressed", r, |x| x.suppressed()),
    ];
    columns.extend(stat_columns(
        r,
        "rate",
        |x: &IndicatorRow| &x.stats,
        |_| 1.0,
    ));
    columns.extend([
        column("expected", r, |x| x.expected),
        column("isr", r, |x| x.stats.isr.map(|v| v.0)),
        column("isr_low", r, |x| x.stats.isr.map(|v| v.1)),
        column("isr_high", r, |x| x.stats.isr.map(|v| v.2)),
    ]);
    DataFrame::new_infer_height(columns)
}
