//! `deciles.csv`: the national deciles of practice rates per index date and
//! indicator.

use polars::prelude::*;

use crate::aggregate::deciles::DecileRow;
use crate::output::{column, text_column};

/// File name.
pub const FILE: &str = "deciles.csv";

/// The decile table as a frame (long form: one row per decile).
pub(crate) fn frame(rows: &[DecileRow]) -> PolarsResult<DataFrame> {
    let long: Vec<(&DecileRow, usize)> = rows
        .iter()
        .flat_map(|r| (0..9).map(move |k| (r, k)))
        .collect();
    DataFrame::new_infer_height(vec![
        column("index_date", &long, |(r, _)| r.index_date.to_string()),
        text_column("indicator_id", &long, |(r, _)| &r.indicator_id),
        column("percentile", &long, |(_, k)| (10 * (k + 1)) as u32),
        column("practice_rate", &long, |(r, k)| r.deciles[*k]),
    ])
}
