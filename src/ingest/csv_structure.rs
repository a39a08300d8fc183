//! One quote-aware pass over a CSV file (plain or gzipped) before polars
//! parses it, for what a fast parser glosses over:
//!
//! - rows with more or fewer fields than the header (polars pads or drops
//!   them silently): each is rejected, never half-read;
//! - quoted fields spanning lines: rejections then still name the real line;
//! - bytes that are not UTF-8 (a Latin-1 export): an error naming the line
//!   and column, not a bare "invalid utf-8";
//! - a duplicated column name, an unclosed quote, a file with no header.
//!
//! A UTF-8 byte order mark and CRLF line ends are accepted. Blank lines
//! hold no row.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// What the pass found wrong with the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StructureError {
    /// The file could not be read.
    Io(String),
    /// The file is empty: not even a header.
    Empty,
    /// Bytes that are not UTF-8.
    InvalidUtf8 {
        /// 1-based line.
        line: u64,
        /// 1-based byte column in the line.
        column: u64,
        /// The first offending byte.
        byte: u8,
    },
    /// A quote opened and never closed.
    UnclosedQuote {
        /// The line where the unclosed field starts.
        line: u64,
    },
    /// A column name appears twice in the header.
    DuplicateColumn(String),
    /// Not CSV text but a spreadsheet (an .xlsx zip or an old .xls) saved
    /// under a .csv name.
    Spreadsheet,
    /// UTF-16 text (with or without a byte order mark), as Excel's
    /// "Unicode text" writes.
    Utf16,
    /// A header with tabs and no comma: tab-separated values.
    TabSeparated,
}

impl std::fmt::Display for StructureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StructureError::Io(e) => write!(f, "{e}"),
            StructureError::Empty => write!(f, "the file is empty (no header line)"),
            StructureError::InvalidUtf8 { line, column, byte } => write!(
                f,
                "line {line}, column {column}: byte 0x{byte:02X} is not UTF-8\n  hint: the export is probably Latin-1 or Windows-1252; convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8"
            ),
            StructureError::UnclosedQuote { line } => {
                write!(f, "line {line}: a quoted field is never closed\n  hint: a value contains a stray double quote")
            }
            StructureError::DuplicateColumn(c) => write!(f, "the column '{c}' appears more than once in the header"),
            StructureError::Spreadsheet => write!(
                f,
                "this is a spreadsheet (an Excel .xlsx or .xls file), not CSV text, though its name ends in .csv\n  hint: open it and save it as \"CSV UTF-8 (Comma delimited)\", or export the table as CSV"
            ),
            StructureError::Utf16 => write!(
                f,
                "the file is UTF-16 text (as Excel's \"Unicode Text\" saves it), not UTF-8\n  hint: save it as \"CSV UTF-8 (Comma delimited)\", or convert it: iconv -f UTF-16 -t UTF-8"
            ),
            StructureError::TabSeparated => write!(
                f,
                "the header has tabs and no comma: the file is tab-separated, not comma-separated\n  hint: export it as comma-separated CSV (or convert it: tr '\\t' ',' only if no value holds a comma)"
            ),
        }
    }
}

/// The structure of a CSV file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvStructure {
    /// Fields in the header.
    pub header_fields: usize,
    /// Data rows (0-based) whose field count differs from the header's:
    /// row -> (line, fields).
    pub ragged: BTreeMap<u64, (u64, usize)>,
    /// Rows from which the line number runs ahead of `row + 2`, with the extra lines.
    breaks: Vec<(u64, u64)>,
    /// Data rows.
    pub rows: u64,
}

impl CsvStructure {
    /// The 1-based line where data row `row` (0-based) starts.
    pub fn line_of(&self, row: u64) -> u64 {
        let i = self.breaks.partition_point(|(r, _)| *r <= row);
        let extra = if i == 0 { 0 } else { self.breaks[i - 1].1 };
        row + 2 + extra
    }
}

/// Reads the file once and describes its structure.
pub fn scan(path: &Path) -> Result<CsvStructure, StructureError> {
    let file = File::open(path).map_err(|e| StructureError::Io(e.to_string()))?;
    let gz = path.to_string_lossy().to_ascii_lowercase().ends_with(".gz");
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    scan_reader(reader)
}

struct State {
    line: u64,
    in_quotes: bool,
    quote_line: u64,
    fields: usize,
    record_bytes: u64,
    record_line: u64,
    header: Vec<u8>,
    in_header: bool,
    out: CsvStructure,
    extra: u64,
}

impl State {
    fn end_record(&mut self) -> Result<(), StructureError> {
        if self.record_bytes > 0 {
            if self.in_header {
                self.in_header = false;
                self.out.header_fields = self.fields;
                let text = String::from_utf8_lossy(&self.header).into_owned();
                let mut seen = std::collections::HashSet::new();
                for name in text.split(',').map(|n| n.trim().trim_matches('"')) {
                    if !seen.insert(name.to_string()) {
                        return Err(StructureError::DuplicateColumn(name.to_string()));
                    }
                }
            } else {
                let row = self.out.rows;
                let extra = self.record_line - (row + 2);
                if extra != self.extra {
                    self.out.breaks.push((row, extra));
                    self.extra = extra;
                }
                if self.fields != self.out.header_fields {
                    self.out.ragged.insert(row, (self.record_line, self.fields));
                }
                self.out.rows += 1;
            }
        }
        self.fields = 1;
        self.record_bytes = 0;
        self.record_line = self.line + 1;
        Ok(())
    }
}

/// Refuses what is not comma-separated UTF-8 text, from its first bytes:
/// a spreadsheet saved under a .csv name, UTF-16 text, tab-separated values.
fn sniff(head: &[u8]) -> Result<(), StructureError> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(StructureError::Spreadsheet);
    }
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let nul_every_other = first_line.len() >= 4
        && (first_line.iter().step_by(2).all(|&b| b == 0)
            || first_line
                .iter()
                .skip(1)
                .step_by(2)
                .all(|&b| b == 0 || b == b'\r'));
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) || nul_every_other {
        return Err(StructureError::Utf16);
    }
    if first_line.contains(&b'\t') && !first_line.contains(&b',') {
        return Err(StructureError::TabSeparated);
    }
    Ok(())
}

/// [`scan`] over any reader (for tests and gzipped files).
pub fn scan_reader(mut reader: impl Read) -> Result<CsvStructure, StructureError> {
    let mut st = State {
        line: 1,
        in_quotes: false,
        quote_line: 1,
        fields: 1,
        record_bytes: 0,
        record_line: 1,
        header: Vec::new(),
        in_header: true,
        out: CsvStructure::default(),
        extra: 0,
    };
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    let mut total = 0u64;
    let mut col = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| StructureError::Io(e.to_string()))?;
        let mut chunk: Vec<u8> = std::mem::take(&mut carry);
        chunk.extend_from_slice(&buf[..n]);
        if chunk.is_empty() {
            break;
        }
        let mut start = 0;
        if first {
            sniff(&chunk)?;
        }
        if first && chunk.len() >= 3 && chunk[..3] == [0xEF, 0xBB, 0xBF] {
            start = 3;
        }
        first = false;
        // Validate UTF-8, keeping an incomplete trailing sequence for the next chunk.
        let mut valid_to = chunk.len();
        if let Err(e) = std::str::from_utf8(&chunk[start..]) {
            if e.error_len().is_some() || n == 0 {
                let bad = start + e.valid_up_to();
                let before = &chunk[start..bad];
                let nl = before.iter().filter(|&&b| b == b'\n').count() as u64;
                let column = match before.iter().rposition(|&b| b == b'\n') {
                    Some(p) => (bad - start - p) as u64,
                    None => col + (bad - start) as u64 + 1,
                };
                return Err(StructureError::InvalidUtf8 {
                    line: st.line + nl,
                    column,
                    byte: chunk[bad],
                });
            }
            valid_to = start + e.valid_up_to();
            carry = chunk[valid_to..].to_vec();
        }
        for &b in &chunk[start..valid_to] {
            total += 1;
            col += 1;
            if st.in_header && b != b'\n' && b != b'\r' {
                st.header.push(b);
            }
            match b {
                b'"' => {
                    if !st.in_quotes {
                        st.quote_line = st.line;
                    }
                    st.in_quotes = !st.in_quotes;
                    st.record_bytes += 1;
                }
                b',' if !st.in_quotes => {
                    st.fields += 1;
                    st.record_bytes += 1;
                }
                b'\n' => {
                    if st.in_quotes {
                        st.line += 1;
                        col = 0;
                        continue;
                    }
                    st.end_record()?;
                    st.line += 1;
                    st.record_line = st.line;
                    col = 0;
                }
                b'\r' => {}
                _ => st.record_bytes += 1,
            }
        }
        if n == 0 {
            break;
        }
    }
    if st.in_quotes {
        return Err(StructureError::UnclosedQuote {
            line: st.quote_line,
        });
    }
    st.end_record()?;
    if total == 0 || st.in_header {
        return Err(StructureError::Empty);
    }
    Ok(st.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_str(s: &[u8]) -> Result<CsvStructure, StructureError> {
        scan_reader(s)
    }

    #[test]
    fn what_is_not_comma_separated_utf8_is_named() {
        let utf16_le: Vec<u8> = "a,b\n1,2\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let utf16_be: Vec<u8> = "a,b\n1,2\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        for (bytes, want) in [
            (&b"PK\x03\x04rest of a zip"[..], StructureError::Spreadsheet),
            (
                &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1][..],
                StructureError::Spreadsheet,
            ),
            (&utf16_le[..], StructureError::Utf16),
            (&utf16_be[..], StructureError::Utf16),
            (&[0xFF, 0xFE, b'a', 0][..], StructureError::Utf16),
            (&b"a\tb\n1\t2\n"[..], StructureError::TabSeparated),
        ] {
            assert_eq!(scan_str(bytes).err(), Some(want));
        }
        // A tab inside a comma-separated header is only a value.
        assert!(scan_str(b"a,b\tc\n1,2\n").is_ok());
    }

    #[test]
    fn plain_rows_are_on_consecutive_lines() {
        let s = scan_str(b"a,b,c\n1,2,3\n4,5,6\n").unwrap();
        assert_eq!((s.header_fields, s.rows), (3, 2));
        assert!(s.ragged.is_empty());
        assert_eq!(s.line_of(1), 3);
    }

    #[test]
    fn ragged_rows_are_found_with_their_lines() {
        let s = scan_str(b"a,b,c\n1,2\n4,5,6\n7,8,9,10\n").unwrap();
        assert_eq!(s.ragged, BTreeMap::from([(0, (2, 2)), (2, (4, 4))]));
    }

    #[test]
    fn quoted_newlines_commas_and_quotes_keep_line_numbers_right() {
        let s = scan_str(b"a,b\n\"x\ny\",1\n\"q\"\"uote, comma\",2\nz,3\n").unwrap();
        assert_eq!(s.rows, 3);
        assert!(s.ragged.is_empty(), "{:?}", s.ragged);
        assert_eq!((s.line_of(0), s.line_of(1), s.line_of(2)), (2, 4, 5));
    }

    #[test]
    fn bom_crlf_and_blank_lines_are_accepted() {
        let s = scan_str(b"\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n3,4\r\n").unwrap();
        assert_eq!((s.header_fields, s.rows), (2, 2));
        assert_eq!(s.line_of(1), 4);
    }

    #[test]
    fn latin1_bytes_are_located() {
        let e = scan_str(b"a,b\n1,ok\n2,Synth\xE9tic\n").unwrap_err();
        assert_eq!(
            e,
            StructureError::InvalidUtf8 {
                line: 3,
                column: 8,
                byte: 0xE9
            }
        );
    }

    #[test]
    fn whole_file_faults() {
        assert_eq!(scan_str(b"").unwrap_err(), StructureError::Empty);
        assert_eq!(
            scan_str(b"a,b\n1,\"open\n2,3\n").unwrap_err(),
            StructureError::UnclosedQuote { line: 2 }
        );
        assert_eq!(
            scan_str(b"a,b,a\n").unwrap_err(),
            StructureError::DuplicateColumn("a".into())
        );
        assert_eq!(scan_str(b"a,b\n").unwrap().rows, 0);
    }
}
