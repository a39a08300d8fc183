//! Splits an extract into buckets of patients, each a complete extract for
//! its patients, so that partial audits of the buckets add up exactly
//! (`audit --partial`, `merge`).
//!
//! A row goes to bucket `fnv1a64(trim(patient_id)) mod B` — by patient, not
//! by practice, because patients move between practices. FNV-1a (64-bit,
//! offset 0xcbf29ce484222325, prime 0x100000001b3, over the id's UTF-8
//! bytes) is fixed, so the same id lands in the same bucket on any machine
//! and in any language. The practices table goes to every bucket. Buckets
//! are Parquet with the canonical column names, values as text exactly as
//! read; tables are streamed, so memory does not grow with the extract.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::io::parquet::write::BatchedWriter;
use polars::prelude::*;

use super::accounting::Tally;
use super::mapping::ColumnMapping;
use super::source::{Extract, ScanError, SourceError};
use super::table::TableKind;
use crate::date::DateFormat;

/// Why an extract could not be partitioned.
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    /// The extract could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A bucket could not be written.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Zero buckets.
    #[error("--buckets must be at least 1")]
    NoBuckets,
}

/// What partitioning did.
#[derive(Debug)]
pub struct PartitionSummary {
    /// The bucket folders, in bucket order.
    pub folders: Vec<PathBuf>,
    /// Per table: its file, rows written to each bucket, and its rows
    /// rejected for their structure (wrong field count), which no bucket holds.
    pub tables: Vec<(TableKind, PathBuf, Vec<u64>, Tally)>,
}

/// The bucket of a patient id among `buckets`.
pub(crate) fn bucket_of(patient_id: &str, buckets: u32) -> u32 {
    (fnv1a(patient_id.trim()) % u64::from(buckets.max(1))) as u32
}

/// FNV-1a 64 of a text's UTF-8 bytes.
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The folder name of bucket `k`.
pub(crate) fn bucket_name(k: u32) -> String {
    format!("bucket-{k:03}")
}

/// Rewrites the extract in `dir` into `buckets` bucket folders under `out`.
pub fn partition(
    dir: &Path,
    mapping: &ColumnMapping,
    buckets: u32,
    out: &Path,
    batch_rows: usize,
) -> Result<PartitionSummary, PartitionError> {
    if buckets == 0 {
        return Err(PartitionError::NoBuckets);
    }
    let extract = Extract::open(dir, mapping)?;
    for t in &extract.tables {
        t.check_columns()?;
    }
    let folders: Vec<PathBuf> = (0..buckets).map(|k| out.join(bucket_name(k))).collect();
    let write_err = |path: &Path, e: &dyn std::fmt::Display| PartitionError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    for f in &folders {
        std::fs::create_dir_all(f).map_err(|e| write_err(f, &e))?;
    }
    // Date patterns travel with the buckets; column names are canonical there.
    let patterns: Vec<String> = TableKind::ALL
        .iter()
        .filter_map(|&k| match mapping.table(k).date_format {
            DateFormat::Pattern(p) => Some(format!("[{k}]\ndate_format = {p:?}\n")),
            DateFormat::Iso => None,
        })
        .collect();
    if !patterns.is_empty() {
        for f in &folders {
            let path = f.join("mapping.toml");
            std::fs::write(&path, patterns.concat()).map_err(|e| write_err(&path, &e))?;
        }
    }

    let mut tables = Vec::new();
    for kind in TableKind::ALL {
        let source = extract.table(kind);
        let columns: Vec<&'static str> = kind.columns().iter().map(|c| c.name).collect();
        let schema: Schema = columns
            .iter()
            .map(|n| Field::new((*n).into(), DataType::String))
            .collect();
        let paths: Vec<PathBuf> = folders
            .iter()
            .map(|f| f.join(format!("{}.parquet", kind.file_stem())))
            .collect();
        let mut writers: Vec<BatchedWriter<File>> = paths
            .iter()
            .map(|p| {
                let file = File::create(p).map_err(|e| write_err(p, &e))?;
                ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&schema)
                    .map_err(|e| write_err(p, &e))
            })
            .collect::<Result<_, _>>()?;
        let mut rows = vec![0u64; buckets as usize];
        let by_patient = kind != TableKind::Practices;
        let result = source.for_each_frame(&columns, batch_rows, |df| {
            if !by_patient {
                for (k, w) in writers.iter_mut().enumerate() {
                    w.write_batch(&df).map_err(|e| write_err(&paths[k], &e))?;
                    rows[k] += df.height() as u64;
                }
                return Ok(());
            }
            let ids = df
                .column("patient_id")
                .and_then(|c| c.str())
                .map_err(|e| write_err(&paths[0], &e))?;
            // One pass over the ids, then one gather per bucket.
            let mut by_bucket: Vec<Vec<IdxSize>> = vec![Vec::new(); buckets as usize];
            for (row, id) in ids.iter().enumerate() {
                by_bucket[bucket_of(id.unwrap_or(""), buckets) as usize].push(row as IdxSize);
            }
            for (k, (w, rows_k)) in writers.iter_mut().zip(by_bucket).enumerate() {
                if rows_k.is_empty() {
                    continue;
                }
                let n = rows_k.len() as u64;
                let part = df
                    .take(&IdxCa::from_vec("".into(), rows_k))
                    .map_err(|e| write_err(&paths[k], &e))?;
                w.write_batch(&part).map_err(|e| write_err(&paths[k], &e))?;
                rows[k] += n;
            }
            Ok::<(), PartitionError>(())
        });
        let structural = match result {
            Ok(t) => t,
            Err(ScanError::Source(e)) => return Err(e.into()),
            Err(ScanError::Consumer(e)) => return Err(e),
        };
        for (w, p) in writers.into_iter().zip(&paths) {
            w.finish().map_err(|e| write_err(p, &e))?;
        }
        tables.push((kind, source.path.clone(), rows, structural));
    }
    Ok(PartitionSummary { folders, tables })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_fixed_by_the_id_alone() {
        // The FNV spec's test vector: FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
        assert_eq!(
            bucket_of("a", u32::MAX),
            (0xaf63_dc4c_8601_ec8c_u64 % u64::from(u32::MAX)) as u32
        );
        assert_eq!(bucket_of(" 42 ", 8), bucket_of("42", 8));
        assert_eq!(bucket_of("anything", 1), 0);
        let spread: std::collections::BTreeSet<u32> =
            (0..1000).map(|i| bucket_of(&i.to_string(), 8)).collect();
        assert_eq!(spread.len(), 8);
    }
}
