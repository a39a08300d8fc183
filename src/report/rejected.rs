//! `rejected_rows.csv`: every rejected row (or value set to missing) with
//! the file, line or row, column, value and reason.

use std::path::Path;

use polars::prelude::*;

use crate::audit::AuditRun;
use crate::ingest::accounting::Tally;

/// File name.
pub const FILE: &str = "rejected_rows.csv";

/// The rejected rows as a frame; `None` when nothing was rejected.
pub fn frame(run: &AuditRun) -> PolarsResult<Option<DataFrame>> {
    frame_of(run.inputs.iter().map(|i| (i.file.path.as_path(), &i.tally)))
}

/// The rejections of each input file's tally as one frame; `None` when none.
pub fn frame_of<'a>(
    inputs: impl Iterator<Item = (&'a Path, &'a Tally)>,
) -> PolarsResult<Option<DataFrame>> {
    let mut file = Vec::new();
    let mut location = Vec::new();
    let mut column = Vec::new();
    let mut value = Vec::new();
    let mut reason = Vec::new();
    let mut action = Vec::new();
    for (path, t) in inputs {
        for r in &t.rejections {
            file.push(path.display().to_string());
            location.push(r.location.to_string());
            column.push(r.column);
            value.push(r.value.as_str());
            reason.push(r.reason.as_str());
            action.push(if r.row_kept {
                "value_set_to_missing"
            } else {
                "row_rejected"
            });
        }
    }
    if file.is_empty() {
        return Ok(None);
    }
    df!(
        "file" => file,
        "location" => location,
        "column" => column,
        "value" => value,
        "reason" => reason,
        "action" => action,
    )
    .map(Some)
}
