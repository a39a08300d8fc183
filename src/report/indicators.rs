//! The aggregate indicator table (CSV and Parquet): one row per index date
//! x indicator x level x unit, with every statistic. It never holds a
//! patient id.

use polars::prelude::*;

use super::column;
use crate::audit::AuditRun;

/// CSV file name.
pub const CSV: &str = "indicators.csv";
/// Parquet file name.
pub const PARQUET: &str = "indicators.parquet";

/// The table as a frame.
pub fn frame(run: &AuditRun) -> PolarsResult<DataFrame> {
    let r = &run.rows;
    let limit = |f: fn(&crate::aggregate::UnitStats) -> Option<(f64, f64)>, hi: bool| {
        move |x: &crate::aggregate::IndicatorRow| f(&x.stats).map(|(l, h)| if hi { h } else { l })
    };
    let flag = |f: fn(&crate::aggregate::UnitStats) -> Option<crate::aggregate::Flag>| {
        move |x: &crate::aggregate::IndicatorRow| f(&x.stats).map(|v| v.as_str())
    };
    DataFrame::new_infer_height(vec![
        column("index_date", r, |x| x.index_date.to_string()),
        column("indicator_id", r, |x| x.indicator_id.clone()),
        column("indicator_title", r, |x| x.indicator_title.clone()),
        column("level", r, |x| x.level),
        column("unit_code", r, |x| x.unit_code.clone()),
        column("unit_name", r, |x| x.unit_name.clone()),
        column("numerator", r, |x| x.numerator),
        column("denominator", r, |x| x.denominator),
        column("rate", r, |x| x.stats.rate),
        column("ci_low", r, |x| x.stats.ci_low),
        column("ci_high", r, |x| x.stats.ci_high),
        column("percentile_rank", r, |x| x.stats.percentile_rank),
        column("z_score", r, |x| x.stats.z_score),
        column("funnel_low_95", r, limit(|s| s.funnel[0], false)),
        column("funnel_high_95", r, limit(|s| s.funnel[0], true)),
        column("funnel_low_998", r, limit(|s| s.funnel[1], false)),
        column("funnel_high_998", r, limit(|s| s.funnel[1], true)),
        column("adjusted_low_95", r, limit(|s| s.funnel_adjusted[0], false)),
        column("adjusted_high_95", r, limit(|s| s.funnel_adjusted[0], true)),
        column(
            "adjusted_low_998",
            r,
            limit(|s| s.funnel_adjusted[1], false),
        ),
        column(
            "adjusted_high_998",
            r,
            limit(|s| s.funnel_adjusted[1], true),
        ),
        column("flag_95", r, flag(|s| s.flag[0])),
        column("flag_998", r, flag(|s| s.flag[1])),
        column("flag_adjusted_95", r, flag(|s| s.flag_adjusted[0])),
        column("flag_adjusted_998", r, flag(|s| s.flag_adjusted[1])),
        column("phi", r, |x| x.stats.phi),
        column("tau2", r, |x| x.stats.tau2),
        column("expected", r, |x| x.expected),
        column("isr", r, |x| x.stats.isr.map(|v| v.0)),
        column("isr_low", r, |x| x.stats.isr.map(|v| v.1)),
        column("isr_high", r, |x| x.stats.isr.map(|v| v.2)),
    ])
}
