//! OpenCodelists CSV files, read unchanged so a user can drop in a newer
//! download from opencodelists.org.
//!
//! Formats seen: `code,term` (SNOMED CT), `dmd_type,dmd_id,dmd_name,bnf_code`
//! and `code,term,dmd_id` (dm+d), `bnf_code,bnf_name,...` (BNF). The column
//! to read is configured per file in the audit spec.

use std::io::Cursor;

use polars::prelude::*;
use sha2::{Digest, Sha256};

/// Why a codelist could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CodelistError {
    /// The file is not a readable CSV.
    #[error("codelist {name} ({source_name}): cannot read as CSV: {message}")]
    Unreadable {
        /// The codelist's name in the spec.
        name: String,
        /// Where it came from.
        source_name: String,
        /// The reader's message.
        message: String,
    },
    /// A configured column is missing.
    #[error(
        "codelist {name} ({source_name}) has no column '{column}'; its columns are: {available}"
    )]
    MissingColumn {
        /// The codelist's name in the spec.
        name: String,
        /// Where it came from.
        source_name: String,
        /// The missing column.
        column: String,
        /// The columns it has.
        available: String,
    },
}

/// One row of a codelist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodelistEntry {
    /// The code as written (SNOMED CT id, dm+d id or BNF code).
    pub code: String,
    /// Its description, when the list has one.
    pub term: String,
    /// The BNF code of a dm+d entry, when the list has that column.
    pub bnf: Option<String>,
}

/// A codelist loaded from CSV, with what identifies its version.
#[derive(Clone, Debug)]
pub struct Codelist {
    /// The name the spec gives it.
    pub name: String,
    /// The file it was read from (or `bundled:<file>`).
    pub source_name: String,
    /// The version as stated in the spec (e.g. the OpenCodelists id).
    pub version: String,
    /// SHA-256 of the file's bytes, so a run records exactly which list it used.
    pub sha256: String,
    /// The rows with a non-empty code.
    pub entries: Vec<CodelistEntry>,
}

/// Which columns of a codelist file to read.
#[derive(Clone, Debug)]
pub(crate) struct CodelistColumns<'a> {
    /// The code column.
    pub code: &'a str,
    /// The description column, if any.
    pub term: Option<&'a str>,
    /// The BNF column of a dm+d list, if any.
    pub bnf: Option<&'a str>,
}

impl Codelist {
    /// Reads a codelist from its CSV bytes.
    pub(crate) fn from_csv(
        name: &str,
        source_name: &str,
        version: &str,
        bytes: &[u8],
        columns: &CodelistColumns<'_>,
    ) -> Result<Codelist, CodelistError> {
        let unreadable = |e: PolarsError| CodelistError::Unreadable {
            name: name.to_string(),
            source_name: source_name.to_string(),
            message: e.to_string(),
        };
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .into_reader_with_file_handle(Cursor::new(bytes.to_vec()))
            .finish()
            .map_err(unreadable)?;
        let column = |c: &str| -> Result<StringChunked, CodelistError> {
            let col = df.column(c).map_err(|_| CodelistError::MissingColumn {
                name: name.to_string(),
                source_name: source_name.to_string(),
                column: c.to_string(),
                available: df
                    .get_column_names()
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            Ok(col.str().map_err(unreadable)?.clone())
        };
        let codes = column(columns.code)?;
        let terms = columns.term.map(column).transpose()?;
        let bnfs = columns.bnf.map(column).transpose()?;
        let mut entries = Vec::with_capacity(codes.len());
        for i in 0..codes.len() {
            let Some(code) = codes.get(i).map(str::trim).filter(|c| !c.is_empty()) else {
                continue;
            };
            let term = terms
                .as_ref()
                .and_then(|t| t.get(i))
                .unwrap_or("")
                .trim()
                .to_string();
            let bnf = bnfs
                .as_ref()
                .and_then(|b| b.get(i))
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .map(str::to_string);
            entries.push(CodelistEntry {
                code: code.to_string(),
                term,
                bnf,
            });
        }
        Ok(Codelist {
            name: name.to_string(),
            source_name: source_name.to_string(),
            version: version.to_string(),
            sha256: format!("{:x}", Sha256::digest(bytes)),
            entries,
        })
    }
}

impl Codelist {
    /// Reads a Greater Manchester SDE code set: `code<TAB>description` per
    /// line, no header. Lines without a tab or a code are skipped.
    pub(crate) fn from_gm_sde(
        name: &str,
        source_name: &str,
        version: &str,
        bytes: &[u8],
    ) -> Codelist {
        let text = String::from_utf8_lossy(bytes);
        let entries = text
            .lines()
            .filter_map(|line| {
                let (code, term) = line.split_once('\t')?;
                let code = code.trim();
                (!code.is_empty()).then(|| CodelistEntry {
                    code: code.to_string(),
                    term: term.trim().to_string(),
                    bnf: None,
                })
            })
            .collect();
        Codelist {
            name: name.to_string(),
            source_name: source_name.to_string(),
            version: version.to_string(),
            sha256: format!("{:x}", Sha256::digest(bytes)),
            entries,
        }
    }
}

/// Parses a SNOMED CT or dm+d id: digits only, at most 18 of them (fits u64).
pub(crate) fn parse_sctid(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 18 {
        return None;
    }
    // At most 18 digits: the value cannot overflow.
    s.bytes().try_fold(0u64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// True for a plausible BNF code or prefix: 1 to 15 ASCII letters and digits.
pub(crate) fn is_bnf_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 15 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// True for the BNF code of a prescribed item: a 15-character presentation
/// code, or an 11-character appliance code (chapters 20-23). A 14-character
/// code has usually lost its leading zero in a spreadsheet.
pub(crate) fn is_bnf_item_code(s: &str) -> bool {
    (s.len() == 15 || s.len() == 11) && is_bnf_code(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dmd_lists_with_their_bnf_column() {
        let csv = b"dmd_type,dmd_id,dmd_name,bnf_code\nVMP,321589009,Risperidone 1mg tablets,040201030AAAAAA\nAMP,,empty,\n";
        let cols = CodelistColumns {
            code: "dmd_id",
            term: Some("dmd_name"),
            bnf: Some("bnf_code"),
        };
        let list = Codelist::from_csv("sga", "x.csv", "v1", csv, &cols).unwrap();
        assert_eq!(list.entries.len(), 1);
        assert_eq!(list.entries[0].bnf.as_deref(), Some("040201030AAAAAA"));
        assert_eq!(list.sha256.len(), 64);
    }

    #[test]
    fn a_missing_column_lists_the_real_ones() {
        let cols = CodelistColumns {
            code: "dmd_id",
            term: None,
            bnf: None,
        };
        let err = Codelist::from_csv("x", "x.csv", "v", b"code,term\n1,a\n", &cols).unwrap_err();
        assert!(
            err.to_string().contains("its columns are: code, term"),
            "{err}"
        );
    }

    #[test]
    fn reads_gm_sde_code_sets() {
        let bytes = b"879511000001105\tCamcolit 250 tablets\n\nno tab here\n4888611000001102\tLi-Liquid 1.018g/5ml oral solution\r\n";
        let list = Codelist::from_gm_sde("lithium", "x.txt", "v1", bytes);
        assert_eq!(list.entries.len(), 2);
        assert_eq!(list.entries[1].code, "4888611000001102");
        assert_eq!(list.entries[1].term, "Li-Liquid 1.018g/5ml oral solution");
    }

    #[test]
    fn code_syntax() {
        assert_eq!(parse_sctid("1106111000000108"), Some(1106111000000108));
        assert_eq!(parse_sctid("12 3"), None);
        assert_eq!(parse_sctid(""), None);
        assert!(is_bnf_code("0402010ADAAAAAA"));
        assert!(!is_bnf_code("0402010AD AAAAA"));
        assert!(!is_bnf_code("0402010ADAAAAAAX"));
        assert!(is_bnf_item_code("0402010ADAAAAAA"));
        assert!(is_bnf_item_code("23803048000"));
        assert!(!is_bnf_item_code("402010ADAAAAAA"));
        assert!(!is_bnf_item_code("4.0201E+14"));
    }
}
