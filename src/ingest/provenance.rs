//! Where a run's inputs came from: each file with its size and SHA-256, so
//! a published table can be matched to the exact files it was made from.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::table::TableKind;

/// One input file as read.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// The table.
    pub table: TableKind,
    /// The file.
    pub path: PathBuf,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// An input file could not be read to its end for its checksum.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct ChecksumError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// SHA-256 and size of a file, recorded in the summary so a run can be
/// matched to its inputs.
pub(crate) fn checksum(path: &Path) -> Result<(String, u64), ChecksumError> {
    let io = |source| ChecksumError {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((format!("{:x}", h.finalize()), total))
}
