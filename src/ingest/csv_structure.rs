//! One quote-aware pass over a CSV file (plain or gzipped), for what a fast
//! parser glosses over: before polars parses a file (the partition
//! command), and to name the fault when the parallel reader
//! (`csv_rows`) meets one. The fields are found by
//! `csv-core` (the state machine of the `csv` crate: a quote opens a quoted
//! field only at a field's start, `""` inside one is a quote), so the
//! header's names and every row's field count are those of a CSV reader,
//! not of a split on commas. It finds:
//!
//! - rows with more or fewer fields than the header (polars pads or drops
//!   them silently): each is rejected, never half-read;
//! - quoted fields spanning lines: rejections then still name the real line;
//! - bytes that are not UTF-8 (a Latin-1 export): an error naming the line
//!   and column, not a bare "invalid utf-8";
//! - a duplicated column name, an unclosed quote, a file with no header.
//!
//! A UTF-8 byte order mark and CRLF line ends are accepted. A blank line is
//! a row, as polars reads it: with one empty field, it is rejected when the
//! header has more. Only `\n` ends a line (a lone `\r` is a character, as
//! for polars). The rows counted here must equal the rows polars delivers
//! (`source` checks), so every line number given is right.

use std::collections::{BTreeMap, HashSet};
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
        /// The line where the row holding the unclosed field starts.
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
    /// The 1-based line where data row `row` (0-based) starts: the
    /// reference the parallel reader's lines are tested against.
    #[cfg(test)]
    pub(crate) fn line_of(&self, row: u64) -> u64 {
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

/// Refuses what is not comma-separated UTF-8 text, from its first bytes:
/// a spreadsheet saved under a .csv name, UTF-16 text, tab-separated values.
pub(crate) fn sniff(head: &[u8]) -> Result<(), StructureError> {
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

/// The record being read: its fields so far, and the newlines inside its
/// quoted fields (to find the line it starts on). The header's bytes and
/// field ends are kept to read its names.
#[derive(Default)]
struct Record {
    fields: usize,
    quoted_newlines: u64,
    header: Option<(Vec<u8>, Vec<usize>)>,
}

/// Counts records and their fields as `csv-core` finds them.
struct Records {
    csv: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    record: Record,
    out: CsvStructure,
    /// The last line offset seen, for [`CsvStructure::line_of`].
    extra: u64,
    /// The line after the last record: a record starting later follows
    /// blank lines.
    next_line: u64,
}

impl Records {
    fn new() -> Records {
        Records {
            csv: csv_core::ReaderBuilder::new()
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            output: vec![0; 1 << 16],
            ends: vec![0; 1 << 12],
            record: Record {
                header: Some(Default::default()),
                ..Record::default()
            },
            out: CsvStructure::default(),
            extra: 0,
            next_line: 1,
        }
    }

    /// Feeds bytes; an empty slice ends the file.
    fn feed(&mut self, mut input: &[u8]) -> Result<(), StructureError> {
        use csv_core::ReadRecordResult::*;
        loop {
            let (result, nin, nout, nend) =
                self.csv
                    .read_record(input, &mut self.output, &mut self.ends);
            let last = nin.checked_sub(1).map(|i| input[i]);
            input = &input[nin..];
            self.keep(nout, nend);
            match result {
                InputEmpty => return Ok(()),
                OutputFull | OutputEndsFull => {}
                Record => self.end_record(last == Some(b'\n'))?,
                End => return Ok(()),
            }
        }
    }

    /// Notes what a call read into the buffers, which the next call reuses.
    fn keep(&mut self, nout: usize, nend: usize) {
        let output = &self.output[..nout];
        self.record.quoted_newlines += output.iter().filter(|&&b| b == b'\n').count() as u64;
        if let Some((bytes, ends)) = &mut self.record.header {
            // csv-core counts a record's field ends from its first byte,
            // across calls, as if the output were one buffer.
            ends.extend_from_slice(&self.ends[..nend]);
            bytes.extend_from_slice(output);
        }
        self.record.fields += nend;
    }

    /// A record ended; `newline_read` when its terminator was a `\n`
    /// already counted in the reader's line.
    fn end_record(&mut self, newline_read: bool) -> Result<(), StructureError> {
        let record = std::mem::take(&mut self.record);
        let line = self.csv.line() - record.quoted_newlines - u64::from(newline_read);
        let blank = self.next_line..line;
        self.next_line = line + record.quoted_newlines + 1;
        if let Some((bytes, ends)) = record.header {
            self.out.header_fields = record.fields;
            let mut seen = HashSet::new();
            let mut start = 0;
            for end in ends {
                let name = String::from_utf8_lossy(&bytes[start..end])
                    .trim()
                    .to_string();
                if !seen.insert(name.clone()) {
                    return Err(StructureError::DuplicateColumn(name));
                }
                start = end;
            }
            return Ok(());
        }
        for blank_line in blank {
            self.row(blank_line, 1);
        }
        self.row(line, record.fields);
        Ok(())
    }

    /// A data row starting on `line` with `fields` fields.
    fn row(&mut self, line: u64, fields: usize) {
        let row = self.out.rows;
        let extra = line - (row + 2);
        if extra != self.extra {
            self.out.breaks.push((row, extra));
            self.extra = extra;
        }
        if fields != self.out.header_fields {
            self.out.ragged.insert(row, (line, fields));
        }
        self.out.rows += 1;
    }

    /// Ends the file: a quoted field still open swallows a newline fed
    /// after the last byte, where any other state ends the row with it or
    /// skips it as a blank line.
    fn finish(mut self) -> Result<CsvStructure, StructureError> {
        let (_, _, nout, nend) = self
            .csv
            .read_record(b"\n", &mut self.output, &mut self.ends);
        if nout > 0 && nend == 0 && self.output[nout - 1] == b'\n' {
            let line = self.csv.line() - 1 - self.record.quoted_newlines;
            return Err(StructureError::UnclosedQuote { line });
        }
        self.keep(nout, nend);
        if nend > 0 {
            self.end_record(true)?;
        }
        self.feed(&[])?;
        // Only the header's record keeps its bytes: no header was read.
        if self.record.header.is_some() {
            return Err(StructureError::Empty);
        }
        // Blank lines after the last row (not the empty end of the last
        // line, nor the newline fed here).
        for blank_line in self.next_line..self.csv.line() - 1 {
            self.row(blank_line, 1);
        }
        Ok(self.out)
    }
}

/// [`scan`] over any reader (for tests and gzipped files).
pub(crate) fn scan_reader(mut reader: impl Read) -> Result<CsvStructure, StructureError> {
    let mut records = Records::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut first = true;
    // The bytes of the chunk's first line that came in earlier chunks.
    let mut column = 0u64;
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
            if chunk.starts_with(&[0xEF, 0xBB, 0xBF]) {
                start = 3;
            }
            first = false;
        }
        // Validate UTF-8, keeping an incomplete trailing sequence for the next chunk.
        let mut valid_to = chunk.len();
        if let Err(e) = std::str::from_utf8(&chunk[start..]) {
            if e.error_len().is_some() || n == 0 {
                let bad = start + e.valid_up_to();
                let before = &chunk[start..bad];
                let newlines = before.iter().filter(|&&b| b == b'\n').count() as u64;
                let column = match before.iter().rposition(|&b| b == b'\n') {
                    Some(p) => (bad - start - p) as u64,
                    None => column + (bad - start) as u64 + 1,
                };
                return Err(StructureError::InvalidUtf8 {
                    line: records.csv.line() + newlines,
                    column,
                    byte: chunk[bad],
                });
            }
            valid_to = start + e.valid_up_to();
            carry = chunk[valid_to..].to_vec();
        }
        let text = &chunk[start..valid_to];
        column = match text.iter().rposition(|&b| b == b'\n') {
            Some(p) => (text.len() - p - 1) as u64,
            None => column + text.len() as u64,
        };
        // An empty slice would tell csv-core the file has ended.
        if !text.is_empty() {
            records.feed(text)?;
        }
        if n == 0 {
            break;
        }
    }
    records.finish()
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
    fn bom_and_crlf_are_accepted_and_blank_lines_are_rows() {
        let s = scan_str(b"\xEF\xBB\xBFa,b\r\n1,2\r\n\r\n3,4\r\n").unwrap();
        assert_eq!((s.header_fields, s.rows), (2, 3));
        assert_eq!(s.ragged, BTreeMap::from([(1, (3, 1))]));
        assert_eq!(s.line_of(2), 4);
        // Blank lines at the end are rows too; the end of the last line is not.
        let s = scan_str(b"a,b\n1,2\n\n\n").unwrap();
        assert_eq!(s.ragged, BTreeMap::from([(1, (3, 1)), (2, (4, 1))]));
        assert_eq!(scan_str(b"a,b\n1,2\n").unwrap().rows, 1);
        // A lone carriage return ends no line.
        let s = scan_str(b"a,b\n1,2\r3,4\n").unwrap();
        assert_eq!((s.rows, s.ragged.get(&0)), (1, Some(&(2, 3))));
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

    #[test]
    fn a_quote_opens_a_field_only_at_its_start() {
        // A quote inside an unquoted value is a character, not a quote.
        let s = scan_str(b"name,dose\n5\" tablet,1\nab\"c,2\n").unwrap();
        assert_eq!((s.rows, s.ragged.len()), (2, 0));
        // After a closing quote the field goes on to the next comma.
        let s = scan_str(b"a,b\n\"x\"y,1\n").unwrap();
        assert_eq!((s.rows, s.ragged.len()), (1, 0));
    }

    #[test]
    fn the_header_is_read_as_csv() {
        // A quoted name may hold a comma: two columns, not three.
        let s = scan_str(b"\"dose, mg\",code\n1,2\n").unwrap();
        assert_eq!((s.header_fields, s.ragged.len()), (2, 0));
        // Quoting does not make a name another name.
        assert_eq!(
            scan_str(b"\"a\",b,a\n").unwrap_err(),
            StructureError::DuplicateColumn("a".into())
        );
    }

    #[test]
    fn the_last_row_needs_no_line_end() {
        let s = scan_str(b"a,b\n1,2\n3").unwrap();
        assert_eq!(s.rows, 2);
        assert_eq!(s.ragged, BTreeMap::from([(1, (3, 1))]));
        assert_eq!(
            scan_str(b"a,b\n1,2\n3,\"x\ny").unwrap_err(),
            StructureError::UnclosedQuote { line: 3 }
        );
        assert_eq!(scan_str(b"a,b\n1,\"x\"").unwrap().rows, 1);
    }

    /// Hands bytes out a few at a time, to cross chunk edges anywhere.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    proptest::proptest! {
        /// Rows written as a CSV writer writes them (a field quoted when it
        /// holds a comma, a quote or a line end), with blank lines among
        /// and after them, come back with their field counts and the lines
        /// they start on, however the bytes arrive.
        #[test]
        fn rows_and_lines_agree_with_what_was_written(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-cé,\"\n\r ]{0,6}", 1..4), 1..20),
            crlf: bool,
            trailing: bool,
            blank_after in proptest::option::of(0usize..20),
            blanks_at_end in 0usize..3,
            step in 1usize..9,
        ) {
            let end = if crlf { "\r\n" } else { "\n" };
            let quote = |f: &str| {
                if f.contains([',', '"', '\n', '\r']) || f.is_empty() {
                    format!("\"{}\"", f.replace('"', "\"\""))
                } else {
                    f.to_string()
                }
            };
            let mut text = String::from("a,b,c");
            // Each row's (line, fields), blank lines included.
            let mut want = Vec::new();
            let mut line = 2u64;
            for (r, fields) in rows.iter().enumerate() {
                text.push_str(end);
                if blank_after == Some(r) {
                    text.push_str(end);
                    want.push((line, 1));
                    line += 1;
                }
                want.push((line, fields.len()));
                let row: Vec<String> = fields.iter().map(|f| quote(f)).collect();
                let row = row.join(",");
                line += 1 + row.matches('\n').count() as u64;
                text.push_str(&row);
            }
            if trailing {
                text.push_str(end);
                for _ in 0..blanks_at_end {
                    text.push_str(end);
                    want.push((line, 1));
                    line += 1;
                }
            }
            let s = scan_reader(Trickle(text.as_bytes(), step)).unwrap();
            proptest::prop_assert_eq!(s.rows, want.len() as u64);
            for (r, &(line, fields)) in want.iter().enumerate() {
                proptest::prop_assert_eq!(s.line_of(r as u64), line);
                let ragged = s.ragged.get(&(r as u64)).copied();
                proptest::prop_assert_eq!(ragged, (fields != 3).then_some((line, fields)));
            }
        }
    }
}
