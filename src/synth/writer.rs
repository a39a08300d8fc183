//! Streaming table writers for synthetic extracts: CSV rows go straight to
//! a buffered file; Parquet rows are gathered into row groups and written
//! batch by batch, so memory stays flat however many rows are generated.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::*;

/// The output format of a synthetic extract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SynthFormat {
    /// One `.csv` file per table.
    Csv,
    /// One `.parquet` file per table.
    Parquet,
}

const ROW_GROUP: usize = 262_144;

/// Writes one table, row by row; every value is text (empty = missing).
pub(crate) enum TableWriter {
    /// CSV rows.
    Csv(BufWriter<File>),
    /// Parquet rows gathered per row group.
    Parquet {
        /// The batched writer.
        writer: Box<polars::io::parquet::write::BatchedWriter<File>>,
        /// Column names.
        names: Vec<&'static str>,
        /// Pending rows, column-wise.
        columns: Vec<Vec<Option<String>>>,
    },
}

impl TableWriter {
    /// Creates `dir/<stem>.<ext>` with the given header.
    pub fn create(
        dir: &Path,
        stem: &str,
        header: &[&'static str],
        format: SynthFormat,
    ) -> PolarsResult<TableWriter> {
        match format {
            SynthFormat::Csv => {
                let mut w = BufWriter::with_capacity(
                    1 << 20,
                    File::create(dir.join(format!("{stem}.csv")))?,
                );
                writeln!(w, "{}", header.join(","))?;
                Ok(TableWriter::Csv(w))
            }
            SynthFormat::Parquet => {
                let schema: Schema = header
                    .iter()
                    .map(|n| Field::new((*n).into(), DataType::String))
                    .collect();
                let file = File::create(dir.join(format!("{stem}.parquet")))?;
                let writer = ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)?;
                Ok(TableWriter::Parquet {
                    writer: Box::new(writer),
                    names: header.to_vec(),
                    columns: vec![Vec::new(); header.len()],
                })
            }
        }
    }

    /// Writes one row.
    pub fn row(&mut self, values: &[&str]) -> PolarsResult<()> {
        match self {
            TableWriter::Csv(w) => {
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        w.write_all(b",")?;
                    }
                    if v.contains([',', '"', '\n']) {
                        write!(w, "\"{}\"", v.replace('"', "\"\""))?;
                    } else {
                        w.write_all(v.as_bytes())?;
                    }
                }
                w.write_all(b"\n")?;
                Ok(())
            }
            TableWriter::Parquet { columns, .. } => {
                for (c, v) in columns.iter_mut().zip(values) {
                    c.push((!v.is_empty()).then(|| v.to_string()));
                }
                if columns[0].len() >= ROW_GROUP {
                    self.flush()?;
                }
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> PolarsResult<()> {
        if let TableWriter::Parquet {
            writer,
            names,
            columns,
        } = self
        {
            if columns[0].is_empty() {
                return Ok(());
            }
            let cols: Vec<Column> = names
                .iter()
                .zip(columns.iter_mut())
                .map(|(n, c)| Column::new((*n).into(), std::mem::take(c)))
                .collect();
            let df = DataFrame::new_infer_height(cols)?;
            writer.write_batch(&df)?;
        }
        Ok(())
    }

    /// Flushes and closes the file.
    pub fn finish(mut self) -> PolarsResult<()> {
        self.flush()?;
        match self {
            TableWriter::Csv(mut w) => Ok(w.flush()?),
            TableWriter::Parquet { writer, .. } => writer.finish().map(|_| ()),
        }
    }
}
