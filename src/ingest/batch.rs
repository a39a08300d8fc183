//! A batch of rows as text columns, whichever reader made it: polars (a
//! whole Parquet or CSV scan), the parallel CSV reader, or the arrow-rs
//! Parquet reader that decodes only the rows a filter keeps. The per-row
//! passes read values, value keys and row places through it alone.

use arrow_array::{Array as _, StringViewArray};
use polars::prelude::*;

use super::accounting::Location;
use crate::date::DateFormat;

/// What [`Batch::value_key`] gives: the value's 16-byte string view (the
/// text itself when short, else its place in the batch's buffers, which a
/// dictionary-encoded column shares between equal values), as two words:
/// 8-byte aligned, so a memo slot holding one stays small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ValueKey(pub [u64; 2]);

impl ValueKey {
    /// The key of a null, and of an empty text (its view is all zero):
    /// memos never remember it.
    pub const NULL: ValueKey = ValueKey([0, 0]);

    fn of_view(view: u128) -> ValueKey {
        ValueKey([view as u64, (view >> 64) as u64])
    }
}

/// Reaches `Array::is_null`, which polars does not re-export.
fn is_null<A: StaticArray>(a: &A, i: usize) -> bool {
    a.is_null(i)
}

/// A row's values by requested column and its place in its file: what a
/// per-row pass needs, whether the row came in a polars batch or from the
/// parallel CSV reader.
pub(crate) trait RowFields {
    /// The value of requested column `col`, trimmed; `None` when null or blank.
    fn get(&self, col: usize) -> Option<&str>;
    /// Where the row is in its file.
    fn location(&self) -> Location;
}

/// Row `i` of a batch.
pub(crate) struct BatchRow<'a>(pub &'a Batch, pub usize);

impl RowFields for BatchRow<'_> {
    fn get(&self, col: usize) -> Option<&str> {
        self.0.get(col, self.1)
    }

    fn location(&self) -> Location {
        self.0.location(self.1)
    }
}

/// One requested column of a batch: text in either library's string-view
/// layout (the same 16-byte views), or not read at all.
pub(crate) enum TextColumn {
    /// From polars or the parallel CSV reader.
    Polars(<StringType as PolarsDataType>::Array),
    /// From the arrow-rs Parquet reader.
    Arrow(StringViewArray),
    /// A column this batch does not carry: every value is null.
    Absent,
}

impl TextColumn {
    #[inline]
    fn is_null(&self, i: usize) -> bool {
        match self {
            TextColumn::Polars(a) => is_null(a, i),
            TextColumn::Arrow(a) => a.is_null(i),
            TextColumn::Absent => true,
        }
    }

    /// The value as stored (untrimmed), `None` when null.
    #[inline]
    fn raw(&self, i: usize) -> Option<&str> {
        match self {
            TextColumn::Polars(a) => StaticArray::get(a, i),
            TextColumn::Arrow(a) => (!a.is_null(i)).then(|| a.value(i)),
            TextColumn::Absent => None,
        }
    }

    /// The 16-byte view of a non-null value.
    #[inline]
    fn view(&self, i: usize) -> u128 {
        match self {
            TextColumn::Polars(a) => a.views()[i].as_u128(),
            TextColumn::Arrow(a) => a.views()[i],
            TextColumn::Absent => 0,
        }
    }
}

/// Where a batch's rows are in their file.
pub(crate) enum RowPlaces {
    /// Consecutive file rows from this one (0-based): a Parquet file read whole.
    From(u64),
    /// Each row's line: a CSV file.
    Lines(Vec<u64>),
    /// Each row's file row (0-based): the rows a filter kept of a Parquet file.
    Rows(Vec<u64>),
}

/// A batch of rows: the requested columns as text, in the order asked for.
pub(crate) struct Batch {
    columns: Vec<TextColumn>,
    len: usize,
    places: RowPlaces,
    native_dates: Vec<bool>,
}

impl Batch {
    /// A batch of a Parquet file read whole by polars: `len` rows from
    /// file row `first_row`; `native_dates` marks columns the file stores
    /// as dates (their text is ISO).
    pub(crate) fn from_frame(
        columns: Vec<<StringType as PolarsDataType>::Array>,
        len: usize,
        first_row: u64,
        native_dates: Vec<bool>,
    ) -> Batch {
        Batch {
            columns: columns.into_iter().map(TextColumn::Polars).collect(),
            len,
            places: RowPlaces::From(first_row),
            native_dates,
        }
    }

    /// A batch of text columns from the parallel CSV reader, with each
    /// row's line.
    pub(crate) fn from_lines(
        columns: Vec<<StringType as PolarsDataType>::Array>,
        lines: Vec<u64>,
    ) -> Batch {
        Batch {
            len: lines.len(),
            native_dates: vec![false; columns.len()],
            columns: columns.into_iter().map(TextColumn::Polars).collect(),
            places: RowPlaces::Lines(lines),
        }
    }

    /// A batch from the arrow-rs Parquet reader: `len` rows, each column
    /// read or [`TextColumn::Absent`], at `places` in the file;
    /// `native_dates` marks columns the file stores as dates.
    pub(crate) fn from_arrow(
        columns: Vec<TextColumn>,
        len: usize,
        places: RowPlaces,
        native_dates: Vec<bool>,
    ) -> Batch {
        Batch {
            columns,
            len,
            places,
            native_dates,
        }
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The value of column `col` (index into the requested columns) at row
    /// `i`, trimmed; `None` when null or blank.
    #[inline]
    pub fn get(&self, col: usize, i: usize) -> Option<&str> {
        self.columns[col]
            .raw(i)
            .map(crate::text::trimmed)
            .filter(|s| !s.is_empty())
    }

    /// The value of column `col` at row `i` as stored, untrimmed; `None`
    /// when null.
    #[cfg(test)]
    pub(crate) fn raw(&self, col: usize, i: usize) -> Option<&str> {
        self.columns[col].raw(i)
    }

    /// A key for the value of column `col` at row `i` ([`ValueKey::NULL`]
    /// when null): two rows of this batch with the same key hold the same
    /// value, so a worker can reuse what it made of the first. (Equal
    /// values may still have different keys.)
    #[inline]
    pub fn value_key(&self, col: usize, i: usize) -> ValueKey {
        let column = &self.columns[col];
        if column.is_null(i) {
            ValueKey::NULL
        } else {
            ValueKey::of_view(column.view(i))
        }
    }

    /// The first byte of the value of column `col` at row `i` as stored
    /// (before trimming); `None` when null or empty. Read from the value's
    /// view, without reaching its text: enough to rule most values out of
    /// a rare case (a digit first: not a negative number).
    #[inline]
    pub(crate) fn first_byte(&self, col: usize, i: usize) -> Option<u8> {
        let column = &self.columns[col];
        if column.is_null(i) {
            return None;
        }
        // A view: length in the low 32 bits, then the text's first 4 bytes.
        let view = column.view(i);
        (view as u32 > 0).then_some((view >> 32) as u8)
    }

    /// Where row `i` is in its file.
    pub fn location(&self, i: usize) -> Location {
        match &self.places {
            RowPlaces::From(first) => Location::Row(first + i as u64 + 1),
            RowPlaces::Lines(lines) => Location::Line(lines[i]),
            RowPlaces::Rows(rows) => Location::Row(rows[i] + 1),
        }
    }

    /// The batch's rows split into chunks of `rows` rows (the last one
    /// shorter) for parallel parsing.
    pub(crate) fn chunk_ranges(&self, rows: usize) -> Vec<(usize, usize)> {
        let rows = rows.max(1);
        (0..self.len)
            .step_by(rows)
            .map(|lo| (lo, (lo + rows).min(self.len)))
            .collect()
    }

    /// The date format to use for column `col`: ISO when the file stored it
    /// as a native date, otherwise the table's configured format.
    pub fn date_format<'a>(&self, col: usize, configured: &'a DateFormat) -> &'a DateFormat {
        if self.native_dates[col] {
            &DateFormat::Iso
        } else {
            configured
        }
    }
}
