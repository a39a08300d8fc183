//! National deciles of practice rates per index date and indicator, the
//! distribution OpenPrescribing draws behind each practice.

use std::sync::Arc;

use super::IndicatorRow;
use crate::date::Date;
use crate::ingest::locality::Level;
use crate::stats::percentile::deciles as decile_values;

/// The deciles of practice rates for one indicator on one date.
#[derive(Clone, Debug, PartialEq)]
pub struct DecileRow {
    /// The index date.
    pub index_date: Date,
    /// Indicator id.
    pub indicator_id: Arc<str>,
    /// The 10th..90th percentiles of practice rates (practices with a denominator).
    pub deciles: [f64; 9],
}

/// Deciles of practice-level rates, in date and indicator order.
pub fn deciles(rows: &[IndicatorRow]) -> Vec<DecileRow> {
    let mut out: Vec<DecileRow> = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let (date, id) = (rows[start].index_date, &rows[start].indicator_id);
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| r.index_date == date && &r.indicator_id == id)
                .count();
        let rates: Vec<Option<f64>> = rows[start..end]
            .iter()
            .filter(|r| r.level == Level::Practice)
            .map(|r| r.stats.rate)
            .collect();
        if let Some(d) = decile_values(&rates) {
            out.push(DecileRow {
                index_date: date,
                indicator_id: id.clone(),
                deciles: d,
            });
        }
        start = end;
    }
    out
}
