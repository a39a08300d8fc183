//! The aggregate indicator table (CSV and Parquet): one row per index date
//! x indicator x level x unit. It never holds a patient id.

use polars::prelude::*;

use crate::audit::AuditRun;

/// CSV file name.
pub const CSV: &str = "indicators.csv";
/// Parquet file name.
pub const PARQUET: &str = "indicators.parquet";

/// The table as a frame.
pub fn frame(run: &AuditRun) -> PolarsResult<DataFrame> {
    let r = &run.rows;
    df!(
        "index_date" => r.iter().map(|x| x.index_date.to_string()).collect::<Vec<_>>(),
        "indicator_id" => r.iter().map(|x| x.indicator_id.as_str()).collect::<Vec<_>>(),
        "indicator_title" => r.iter().map(|x| x.indicator_title.as_str()).collect::<Vec<_>>(),
        "level" => r.iter().map(|x| x.level).collect::<Vec<_>>(),
        "unit_code" => r.iter().map(|x| x.unit_code.as_str()).collect::<Vec<_>>(),
        "unit_name" => r.iter().map(|x| x.unit_name.as_str()).collect::<Vec<_>>(),
        "numerator" => r.iter().map(|x| x.numerator).collect::<Vec<_>>(),
        "denominator" => r.iter().map(|x| x.denominator).collect::<Vec<_>>(),
        "rate" => r.iter().map(|x| x.rate).collect::<Vec<_>>(),
        "ci_low" => r.iter().map(|x| x.ci_low).collect::<Vec<_>>(),
        "ci_high" => r.iter().map(|x| x.ci_high).collect::<Vec<_>>(),
    )
}
