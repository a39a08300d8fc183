//! Reading a partial back: every column checked, nothing mapped to a
//! placeholder. A partial is written whole by this engine, so an empty
//! value where it writes none, an unknown column or location, or a name
//! it never writes means the folder was made or changed by something else.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{file_error, Partial, PartialError, PartialMeta, ReviewLine, FORMAT, WHOLE_ROW};
use crate::audit::dose::DoseSummary;
use crate::audit::evaluate::{Counts, STRATA};
use crate::date::Date;
use crate::ingest::accounting::{Location, RejectReason, Rejection};
use crate::ingest::table::TableKind;

impl Partial {
    /// Reads a partial folder of an audit with `indicators` indicators
    /// (its spec's): a count naming another is refused.
    pub fn read(dir: &Path, indicators: usize) -> Result<Partial, PartialError> {
        let meta = read_meta(&dir.join("partial.json"))?;
        let counts = read_counts(&Table::open(dir, "counts.parquet")?, &meta, indicators)?;
        let review = read_review(&Table::open(dir, "review.parquet")?)?;
        let rejections = read_rejections(&Table::open(dir, "rejected.parquet")?, &meta)?;
        Ok(Partial {
            meta,
            counts,
            review,
            rejections,
        })
    }
}

/// `partial.json`, refused unless it is of this engine's format.
fn read_meta(path: &Path) -> Result<PartialMeta, PartialError> {
    let text = std::fs::read(path).map_err(|e| file_error(path, e))?;
    let meta: PartialMeta = serde_json::from_slice(&text)
        .map_err(|e| file_error(path, format!("not a stomp-audit partial ({e})")))?;
    if meta.format != FORMAT {
        return Err(file_error(
            path,
            format!(
                "partial format '{}', this engine reads '{FORMAT}'",
                meta.format
            ),
        ));
    }
    Ok(meta)
}

/// One Parquet file of a partial, its columns read by name and type.
struct Table {
    path: PathBuf,
    frame: DataFrame,
}

impl Table {
    fn open(dir: &Path, name: &str) -> Result<Table, PartialError> {
        let path = dir.join(name);
        let frame = LazyFrame::scan_parquet(
            PlRefPath::new(path.to_string_lossy().as_ref()),
            ScanArgsParquet::default(),
        )
        .and_then(|lf| lf.collect())
        .map_err(|e| file_error(&path, e))?;
        Ok(Table { path, frame })
    }

    fn error(&self, message: impl std::fmt::Display) -> PartialError {
        file_error(&self.path, message)
    }

    /// A column that may hold no empty value.
    fn column(&self, name: &str) -> Result<&Column, PartialError> {
        let column = self.frame.column(name).map_err(|e| self.error(e))?;
        match column.null_count() {
            0 => Ok(column),
            n => Err(self.error(format!(
                "column '{name}' has {n} empty value(s); a partial has none there"
            ))),
        }
    }

    /// A column of type `T` with no empty value, as `T`'s values.
    fn values<T>(&self, name: &str) -> Result<Vec<T::Native>, PartialError>
    where
        T: PolarsNumericType,
    {
        let column = self.column(name)?;
        let values = column
            .as_materialized_series()
            .unpack::<T>()
            .map_err(|e| self.error(e))?;
        Ok(values.into_no_null_iter().collect())
    }

    fn strs(&self, name: &str) -> Result<Vec<String>, PartialError> {
        let values = self.column(name)?.str().map_err(|e| self.error(e))?;
        // No empty values (checked): the default is never used.
        Ok(values
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    }

    /// The one kind of column a partial may leave empty (no review yet).
    fn optional_strs(&self, name: &str) -> Result<Vec<Option<String>>, PartialError> {
        let column = self.frame.column(name).map_err(|e| self.error(e))?;
        let values = column.str().map_err(|e| self.error(e))?;
        Ok(values.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn bools(&self, name: &str) -> Result<Vec<bool>, PartialError> {
        let values = self.column(name)?.bool().map_err(|e| self.error(e))?;
        Ok(values.iter().map(|v| v.unwrap_or_default()).collect())
    }
}

/// `counts.parquet`: the non-zero count cells, into an array over the
/// partial's dates and practices and the spec's `indicators`. A cell must
/// name a practice the partial lists, and a date, indicator and stratum
/// in range.
fn read_counts(t: &Table, meta: &PartialMeta, indicators: usize) -> Result<Counts, PartialError> {
    let (d, i, p, s, n, m) = (
        t.values::<UInt32Type>("date")?,
        t.values::<UInt32Type>("indicator")?,
        t.strs("practice")?,
        t.values::<UInt32Type>("stratum")?,
        t.values::<UInt64Type>("numerator")?,
        t.values::<UInt64Type>("denominator")?,
    );
    let practice_of: HashMap<&str, usize> = meta
        .practices
        .iter()
        .enumerate()
        .filter_map(|(k, e)| Some((e.code()?, k)))
        .collect();
    let dates = meta.index_dates.len();
    let mut counts = Counts::new(dates, indicators, meta.practices.len());
    for k in 0..d.len() {
        let practice = *practice_of.get(p[k].as_str()).ok_or_else(|| {
            t.error(format!(
                "row {} names the practice {} that the partial does not list",
                k + 1,
                p[k]
            ))
        })?;
        let (date, indicator, stratum) = (d[k] as usize, i[k] as usize, s[k] as usize);
        if date >= dates || indicator >= indicators || stratum >= STRATA {
            return Err(t.error(format!("row {}: a count cell is out of range", k + 1)));
        }
        counts.add_cell(date, indicator, practice, stratum, n[k], m[k]);
    }
    Ok(counts)
}

/// `review.parquet`: the patient-level review lines.
fn read_review(t: &Table) -> Result<Vec<ReviewLine>, PartialError> {
    let date = |k: usize, what: &str, v: &str| {
        v.parse::<Date>()
            .map_err(|_| t.error(format!("row {} has a bad {what} '{v}'", k + 1)))
    };
    let doses = [
        t.strs("doses")?,
        t.strs("percent_max")?,
        t.strs("cpz_mg")?,
        t.strs("percent_max_before")?,
        t.strs("cpz_mg_before")?,
    ];
    let (rd, ri, pid, pc, ab, sx, dr, lr) = (
        t.strs("date")?,
        t.values::<UInt32Type>("indicator")?,
        t.strs("patient_id")?,
        t.strs("practice_code")?,
        t.strs("age_band")?,
        t.strs("sex")?,
        t.strs("drugs")?,
        t.optional_strs("last_review")?,
    );
    (0..rd.len())
        .map(|k| {
            Ok(ReviewLine {
                date: rd[k]
                    .parse()
                    .map_err(|_| t.error(format!("row {} has no valid date", k + 1)))?,
                indicator: ri[k] as usize,
                patient_id: pid[k].clone(),
                practice_code: pc[k].clone(),
                age_band: ab[k].clone(),
                sex: sx[k].clone(),
                drugs: dr[k].clone(),
                last_review: lr[k]
                    .as_deref()
                    .map(|v| date(k, "last_review", v))
                    .transpose()?,
                dose: DoseSummary {
                    doses: doses[0][k].clone(),
                    percent_max: doses[1][k].clone(),
                    cpz_mg: doses[2][k].clone(),
                    percent_max_before: doses[3][k].clone(),
                    cpz_mg_before: doses[4][k].clone(),
                },
            })
        })
        .collect()
}

/// `rejected.parquet`: each rejected row with the input it came from.
fn read_rejections(t: &Table, meta: &PartialMeta) -> Result<Vec<(usize, Rejection)>, PartialError> {
    let (inputs, loc, col, val, why, kept) = (
        t.values::<UInt32Type>("input")?,
        t.strs("location")?,
        t.strs("column")?,
        t.strs("value")?,
        t.strs("reason")?,
        t.bools("row_kept")?,
    );
    (0..inputs.len())
        .map(|k| {
            let input = inputs[k] as usize;
            let table = meta
                .inputs
                .get(input)
                .and_then(|e| TableKind::from_stem(&e.table))
                .ok_or_else(|| t.error(format!("row {} names no input", k + 1)))?;
            let rejection = Rejection {
                table,
                location: parse_location(&loc[k])
                    .ok_or_else(|| t.error(format!("row {}: bad location '{}'", k + 1, loc[k])))?,
                column: static_column(&col[k]).ok_or_else(|| {
                    t.error(format!("row {}: unknown column '{}'", k + 1, col[k]))
                })?,
                value: val[k].clone(),
                reason: parse_reason(&why[k])
                    .ok_or_else(|| t.error(format!("unknown reason in row {}", k + 1)))?,
                row_kept: kept[k],
            };
            Ok((input, rejection))
        })
        .collect()
}

/// A location as [`Location`]'s text writes it ("line 12", "row 3").
fn parse_location(s: &str) -> Option<Location> {
    match s.split_once(' ')? {
        ("row", n) => n.parse().ok().map(Location::Row),
        ("line", n) => n.parse().ok().map(Location::Line),
        _ => None,
    }
}

/// A known column's name, as the rejection recorded it (rejections carry
/// static names).
fn static_column(name: &str) -> Option<&'static str> {
    TableKind::ALL
        .iter()
        .chain([TableKind::Prescribing, TableKind::ListSizes].iter())
        .flat_map(|t| t.columns().iter().map(|c| c.name))
        .chain(std::iter::once(WHOLE_ROW))
        .find(|c| *c == name)
}

fn parse_reason(s: &str) -> Option<RejectReason> {
    RejectReason::ALL.into_iter().find(|r| r.as_str() == s)
}
