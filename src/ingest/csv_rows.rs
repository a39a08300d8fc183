//! One parallel pass over a large CSV file (plain or gzipped) for a fold
//! that must see every row but keeps few, as the measures pass over a
//! national EPD month does (16 M rows, nine in ten matching no measure).
//!
//! The file is read once, by one thread that also takes its SHA-256, in
//! windows of whole lines. Each window is cut on line ends into chunks that
//! the cores parse at once, each into its own state; the states come back
//! in file order, so a consumer that merges them in that order sees what a
//! sequential read would. A line without a quote is split on commas; a
//! line with one is read by `csv-core` from its start, as
//! [`csv_structure`](super::csv_structure) reads every line, so a quoted
//! field may hold commas, doubled quotes and line ends. A chunk that began
//! inside such a field (its cut guessed wrong) is read again from where the
//! chunk before it ended.
//!
//! What it accepts, refuses and counts is what the structure pass and the
//! polars reader do together: the same header checks and missing-column
//! errors, a row with the wrong number of fields rejected by its line, a
//! blank line a row of one empty field, values trimmed with empty ones
//! missing. Whatever makes the file unreadable (bytes that are not UTF-8,
//! an unclosed quote) is reported by the structure pass itself, so the
//! message names the same line and column.

use std::fs::File;
use std::io::{BufReader, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::JoinHandle;

use polars::prelude::{PlSmallStr, PolarsDataType, StringChunkedBuilder, StringType};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

/// A column of text as polars holds it.
type Utf8ViewArray = <StringType as PolarsDataType>::Array;

use super::accounting::{Location, Tally};
use super::csv_structure;
use super::source::{RowFields, SourceError, TableSource};
use super::table::TableKind;

/// Bytes read per window: a few windows in flight stay within ~100 MB.
const WINDOW: usize = 32 << 20;

/// Bytes per chunk parsed on one core.
const CHUNK: usize = 2 << 20;

/// How the file is cut: [`WINDOW`] and [`CHUNK`], smaller in tests so
/// that every cut is tried.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    window: usize,
    chunk: usize,
}

const SIZES: Sizes = Sizes {
    window: WINDOW,
    chunk: CHUNK,
};

/// One row as the fold sees it: the requested columns' values and its line.
pub(crate) struct Record<'a> {
    text: &'a str,
    /// The places of the row's first fields (all of them for a quoted
    /// row); a later field is found when asked for.
    bounds: &'a [(u32, u32)],
    columns: &'a [Option<usize>],
    line: u64,
    /// Where the row's last field ends in `text`.
    end: u32,
}

impl Record<'_> {
    /// The value of requested column `col` as written (unquoted, not
    /// trimmed); `None` when the column is absent or the value empty.
    fn raw(&self, col: usize) -> Option<&str> {
        let field = self.columns[col]?;
        let (lo, hi) = match self.bounds.get(field) {
            Some(&b) => b,
            None => {
                // A plain row: count on from the last field found.
                let &(_, end) = self.bounds.last()?;
                let skip = field - self.bounds.len();
                let from = end as usize + 1;
                let mut commas = memchr::memchr_iter(b',', self.text.as_bytes().get(from..)?);
                let lo = match skip {
                    0 => from,
                    _ => from + commas.nth(skip - 1)? + 1,
                };
                let hi = commas.next().map_or(self.text.len(), |i| from + i);
                (lo as u32, hi as u32)
            }
        };
        // Fields end at ASCII bytes, so the slice is at character bounds.
        let mut text = self.text.get(lo as usize..hi as usize)?;
        // A CRLF line end is not part of the last value (as polars reads it).
        if hi == self.end {
            text = text.strip_suffix('\r').unwrap_or(text);
        }
        Some(text).filter(|s| !s.is_empty())
    }
}

impl RowFields for Record<'_> {
    fn get(&self, col: usize) -> Option<&str> {
        Some(crate::text::trimmed(self.raw(col)?)).filter(|s| !s.is_empty())
    }

    fn location(&self) -> Location {
        Location::Line(self.line)
    }
}

/// A chunk's rows as text columns, for a [`Batch`](super::source::Batch):
/// each value as written (unquoted, not trimmed), empty ones null, as
/// polars reads them; and each row's line.
pub(crate) struct TextColumns {
    builders: Vec<StringChunkedBuilder>,
    lines: Vec<u64>,
}

impl TextColumns {
    /// Columns for `n` requested columns.
    pub(crate) fn new(n: usize) -> TextColumns {
        TextColumns {
            builders: (0..n)
                .map(|_| StringChunkedBuilder::new(PlSmallStr::EMPTY, 1024))
                .collect(),
            lines: Vec::new(),
        }
    }

    /// Adds a row.
    pub(crate) fn push(&mut self, r: &Record) {
        for (col, b) in self.builders.iter_mut().enumerate() {
            match r.raw(col) {
                Some(v) => b.append_value(v),
                None => b.append_null(),
            }
        }
        self.lines.push(r.line);
    }

    /// The columns as arrays, and the rows' lines.
    pub(crate) fn finish(self) -> (Vec<Utf8ViewArray>, Vec<u64>) {
        let arrays = self
            .builders
            .into_iter()
            .map(|b| b.finish().rechunk().downcast_as_array().clone())
            .collect();
        (arrays, self.lines)
    }
}

/// What a chunk's parse needs of the file: shared by the cores.
struct Shape {
    path: PathBuf,
    kind: TableKind,
    header_fields: usize,
    /// Per requested column, its field in the header (`None`: absent).
    columns: Vec<Option<usize>>,
    /// Fields placed in every plain row: up to the last of the columns
    /// every row is read for.
    eager: usize,
}

/// A CSV file being read window by window.
pub(crate) struct CsvRows {
    shape: Shape,
    windows: Receiver<std::io::Result<String>>,
    reader: Option<JoinHandle<std::io::Result<(String, u64)>>>,
    /// The first window's rows, held back while the header was read.
    first: Option<String>,
    /// Text of a record that a window ended inside.
    carry: String,
    /// Line of the next unread byte.
    line: u64,
    done: bool,
    sizes: Sizes,
}

/// What one chunk's parse produced.
struct Parsed<S> {
    state: S,
    tally: Tally,
    /// Where the parse stopped: the end of its last whole record.
    end: usize,
    /// It stopped inside a record that runs past the window.
    open: bool,
    /// It met what the structure pass refuses (an unclosed quote): an
    /// error only if the chunk was cut right.
    fault: bool,
}

/// Why a header could not be read from the bytes so far.
enum Header {
    /// More bytes are needed.
    Short,
    /// The file is refused (the structure pass names why).
    Fault,
}

/// The names in a CSV file's header, as written (for the layout checks).
pub(crate) fn header(path: &Path) -> Result<Vec<String>, SourceError> {
    let mut reader = open_plain(path).map_err(|e| malformed(path, e.to_string()))?;
    let mut head = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| malformed(path, e.to_string()))?;
        head.extend_from_slice(&buf[..n]);
        match parse_header(&head, n == 0) {
            Ok((names, _)) => return Ok(names),
            Err(Header::Short) if n > 0 && head.len() < WINDOW => {}
            Err(_) => return Err(structure_error(path)),
        }
    }
}

impl CsvRows {
    /// Opens `source` (a CSV file) and resolves `columns` (canonical names)
    /// against its header; a required column the file lacks is an error.
    /// The first `every_row` columns are the ones read for every row: the
    /// others are found only in the rows that ask for them.
    pub(crate) fn open(
        source: &TableSource,
        columns: &[&str],
        every_row: usize,
    ) -> Result<CsvRows, SourceError> {
        CsvRows::open_cut(source, columns, every_row, SIZES)
    }

    fn open_cut(
        source: &TableSource,
        columns: &[&str],
        every_row: usize,
        sizes: Sizes,
    ) -> Result<CsvRows, SourceError> {
        let (tx, windows) = sync_channel(2);
        let reader_path = source.path.clone();
        let reader = std::thread::spawn(move || read_windows(&reader_path, sizes.window, tx));
        let mut rows = CsvRows {
            shape: Shape {
                path: source.path.clone(),
                kind: source.kind,
                header_fields: 0,
                columns: Vec::new(),
                eager: 0,
            },
            windows,
            reader: Some(reader),
            first: None,
            carry: String::new(),
            line: 1,
            done: false,
            sizes,
        };
        // The header may span windows (a long one, or tiny test windows).
        let mut first = String::new();
        let (names, consumed) = loop {
            let more = rows.receive()?;
            let all = more.is_none();
            first.push_str(&more.unwrap_or_default());
            match parse_header(first.as_bytes(), all) {
                Ok(found) => break found,
                Err(Header::Short) if !all => {}
                Err(_) => return Err(structure_error(&source.path)),
            }
        };
        source.check_names(&names)?;
        rows.shape.header_fields = names.len();
        rows.shape.columns = columns
            .iter()
            .map(|c| {
                let want = source.mapping.source_name(c);
                names.iter().position(|n| n == want)
            })
            .collect();
        rows.shape.eager = rows.shape.columns[..every_row.min(columns.len())]
            .iter()
            .flatten()
            .max()
            .map_or(1, |&f| f + 1);
        rows.line += count_lines(&first.as_bytes()[..consumed]);
        // The header ends at a line end: a character bound.
        let rest = first
            .get(consumed..)
            .ok_or_else(|| structure_error(&source.path))?;
        rows.first = Some(rest.to_string());
        Ok(rows)
    }

    fn receive(&mut self) -> Result<Option<String>, SourceError> {
        match self.windows.recv() {
            Ok(Ok(w)) => Ok(Some(w)),
            // Bytes that are not UTF-8: the structure pass names where.
            Ok(Err(e)) if e.get_ref().is_some_and(|e| e.is::<NotUtf8>()) => {
                Err(structure_error(&self.shape.path))
            }
            Ok(Err(e)) => Err(malformed(&self.shape.path, e.to_string())),
            Err(_) => Ok(None),
        }
    }

    /// Parses the next window: one `(state, structural rejections)` per
    /// chunk, in file order; `None` after the last. `row` sees every row
    /// with the header's number of fields; the others are rejected.
    pub(crate) fn next_window<S: Send>(
        &mut self,
        new_state: impl Fn() -> S + Sync,
        row: impl Fn(&mut S, &Record) + Sync,
    ) -> Result<Option<Vec<(S, Tally)>>, SourceError> {
        if self.done {
            return Ok(None);
        }
        let fresh = match self.first.take() {
            Some(w) => Some(w),
            None => self.receive()?,
        };
        let last = fresh.is_none();
        let mut text = std::mem::take(&mut self.carry);
        match fresh {
            Some(w) if text.is_empty() => text = w,
            Some(w) => text.push_str(&w),
            None => self.done = true,
        }
        // The reader checked the text is UTF-8; the parse works on bytes
        // and cuts values out of the text at ASCII bytes.
        let window = text.as_bytes();
        let cuts = cut(window, self.sizes.chunk);
        let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|c| (c[0], c[1])).collect();
        // Each chunk's lines.
        let counted: Vec<u64> = ranges
            .par_iter()
            .map(|&(lo, hi)| count_lines(&window[lo..hi]))
            .collect();
        let mut starts = Vec::with_capacity(ranges.len());
        let mut line = self.line;
        for &n in &counted {
            starts.push(line);
            line += n;
        }
        let shape = &self.shape;
        let parse = |lo: usize, hi: usize, line: u64| {
            let mut state = new_state();
            let mut tally = Tally::default();
            let mut each = |r: &Record| row(&mut state, r);
            let (end, open, fault) =
                shape.parse(&text, (lo, hi), last, line, &mut each, &mut tally);
            Parsed {
                state,
                tally,
                end,
                open,
                fault,
            }
        };
        let parsed: Vec<Parsed<S>> = ranges
            .par_iter()
            .zip(&starts)
            .map(|(&(lo, hi), &line)| parse(lo, hi, line))
            .collect();
        // Keep each chunk whose cut was right; read the others again from
        // where the chunk before them ended.
        let mut out = Vec::with_capacity(parsed.len());
        let mut at = 0;
        for ((&(lo, hi), p), &line) in ranges.iter().zip(parsed).zip(&starts) {
            if at >= hi {
                continue;
            }
            let p = if at == lo {
                p
            } else {
                parse(at, hi, line + count_lines(&window[lo..at]))
            };
            if p.fault {
                return Err(structure_error(&self.shape.path));
            }
            at = p.end;
            out.push((p.state, p.tally));
            if p.open {
                break;
            }
        }
        // The line at `at`, from the chunks' counts: no second count of
        // the window.
        for (&(lo, hi), &n) in ranges.iter().zip(&counted) {
            if hi <= at {
                self.line += n;
            } else {
                self.line += count_lines(&window[lo.min(at)..at]);
                break;
            }
        }
        if at < window.len() {
            if last {
                return Err(structure_error(&self.shape.path));
            }
            // A record ends at a line end: a character bound.
            self.carry = text
                .get(at..)
                .ok_or_else(|| structure_error(&self.shape.path))?
                .to_string();
        }
        Ok(Some(out))
    }

    /// Waits for the reader: the file's SHA-256 and size.
    pub(crate) fn finish(mut self) -> Result<(String, u64), SourceError> {
        // Stop a reader still sending windows nobody will take.
        drop(std::mem::replace(&mut self.windows, sync_channel(0).1));
        match self.reader.take().map(JoinHandle::join) {
            Some(Ok(Ok(sum))) => Ok(sum),
            Some(Ok(Err(e))) => Err(malformed(&self.shape.path, e.to_string())),
            _ => Err(malformed(
                &self.shape.path,
                "the reader stopped unexpectedly".into(),
            )),
        }
    }
}

impl Shape {
    /// Parses the records starting in `lo..hi` of `whole` (the window; the last
    /// may run past `hi`), calling `row` on each whole one. Returns where it stopped,
    /// whether a record was left open at the window's end, and whether it
    /// met a fault.
    fn parse(
        &self,
        whole: &str,
        (lo, hi): (usize, usize),
        last: bool,
        mut line: u64,
        row: &mut dyn FnMut(&Record),
        tally: &mut Tally,
    ) -> (usize, bool, bool) {
        let mut bounds: Vec<(u32, u32)> = Vec::with_capacity(self.header_fields + 1);
        let mut quoted = Quoted::new();
        let window = whole.as_bytes();
        let mut pos = lo;
        while pos < hi {
            let rest = &window[pos..];
            let line_end = match memchr::memchr(b'\n', rest) {
                Some(i) => i,
                None if last => rest.len(),
                None => return (pos, true, false),
            };
            let plain = &rest[..line_end];
            let (text, consumed, lines, fields, end) = if memchr::memchr(b'"', plain).is_none() {
                // A line starts and ends at ASCII bytes: character bounds.
                let Some(line_text) = whole.get(pos..pos + line_end) else {
                    return (pos, false, true);
                };
                // The first fields placed, the others only counted.
                bounds.clear();
                let mut from = 0;
                let mut commas = memchr::memchr_iter(b',', plain);
                while bounds.len() < self.eager {
                    let Some(i) = commas.next() else { break };
                    bounds.push((from as u32, i as u32));
                    from = i + 1;
                }
                let placed = bounds.len();
                let later = commas.count();
                if later == 0 {
                    bounds.push((from as u32, plain.len() as u32));
                }
                let fields = placed + later + 1;
                let end = plain.len() as u32;
                (line_text, (line_end + 1).min(rest.len()), 1, fields, end)
            } else {
                match quoted.read(rest, last, &mut bounds) {
                    Some(consumed) => {
                        let lines = count_lines(&rest[..consumed]).max(1);
                        let end = bounds.last().map_or(0, |b| b.1);
                        // Unquoting takes out ASCII quotes only: still UTF-8.
                        let Ok(unquoted) = std::str::from_utf8(&quoted.output[..end as usize])
                        else {
                            return (pos, false, true);
                        };
                        (unquoted, consumed, lines, bounds.len(), end)
                    }
                    None => return (pos, !last, last),
                }
            };
            if fields == self.header_fields {
                row(&Record {
                    text,
                    bounds: &bounds,
                    columns: &self.columns,
                    line,
                    end,
                });
            } else {
                tally.ragged(self.kind, line, fields, self.header_fields);
            }
            pos += consumed;
            line += lines;
        }
        (pos, false, false)
    }
}

/// One record that holds a quote, read by `csv-core`.
struct Quoted {
    csv: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
}

impl Quoted {
    fn new() -> Quoted {
        Quoted {
            csv: csv_core::ReaderBuilder::new()
                .terminator(csv_core::Terminator::Any(b'\n'))
                .build(),
            output: vec![0; 1 << 12],
            ends: vec![0; 64],
        }
    }

    /// Reads the record at the start of `input` into `output`, its fields'
    /// places into `bounds`; returns the bytes it took (its line end
    /// included), or `None` when it is still open at the end of `input`.
    /// At the end of the file (`last`) a line end closes what is not
    /// inside quotes, as in the structure pass.
    fn read(&mut self, input: &[u8], last: bool, bounds: &mut Vec<(u32, u32)>) -> Option<usize> {
        use csv_core::ReadRecordResult::*;
        self.csv.reset();
        let (mut nin, mut nout, mut nend) = (0, 0, 0);
        let mut ended = false;
        loop {
            // An empty feed tells csv-core the file has ended: only at
            // the end of the file, and then as a line end.
            let feed: &[u8] = if nin < input.len() {
                &input[nin..]
            } else if !last {
                return None;
            } else if !ended {
                ended = true;
                b"\n"
            } else {
                return None;
            };
            let (result, i, o, e) =
                self.csv
                    .read_record(feed, &mut self.output[nout..], &mut self.ends[nend..]);
            if !ended {
                nin += i;
            }
            nout += o;
            nend += e;
            match result {
                OutputFull => self.output.resize(self.output.len() * 2, 0),
                OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                Record => break,
                InputEmpty | End if last => {}
                InputEmpty | End => return None,
            }
        }
        bounds.clear();
        let mut from = 0;
        for &end in &self.ends[..nend] {
            bounds.push((from as u32, end as u32));
            from = end;
        }
        Some(nin)
    }
}

/// The header's names from the file's first bytes (its byte order mark
/// skipped), and the bytes it took.
fn parse_header(head: &[u8], all: bool) -> Result<(Vec<String>, usize), Header> {
    if !all && head.len() < 4 {
        return Err(Header::Short);
    }
    csv_structure::sniff(head).map_err(|_| Header::Fault)?;
    let start = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    if head[start..].iter().all(|&b| b == b'\n' || b == b'\r') {
        return Err(if all { Header::Fault } else { Header::Short });
    }
    let mut quoted = Quoted::new();
    let mut bounds = Vec::new();
    let Some(consumed) = quoted.read(&head[start..], all, &mut bounds) else {
        return Err(if all { Header::Fault } else { Header::Short });
    };
    let mut names = Vec::with_capacity(bounds.len());
    let mut seen = std::collections::HashSet::new();
    for &(lo, hi) in &bounds {
        let name = std::str::from_utf8(&quoted.output[lo as usize..hi as usize])
            .map_err(|_| Header::Fault)?;
        if !seen.insert(name.trim()) {
            return Err(Header::Fault);
        }
        names.push(name.to_string());
    }
    // A CRLF line end is not part of the last name (as polars reads it).
    if let Some(last) = names.last_mut() {
        if last.ends_with('\r') {
            last.pop();
        }
    }
    Ok((names, start + consumed))
}

/// Cuts a window into chunks of about `chunk` bytes, each ending after a
/// line end (the last at the window's end).
fn cut(window: &[u8], chunk: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    let mut at = 0;
    while window.len() - at > chunk {
        match memchr::memchr(b'\n', &window[at + chunk..]) {
            Some(i) if at + chunk + i + 1 < window.len() => {
                at += chunk + i + 1;
                cuts.push(at);
            }
            _ => break,
        }
    }
    cuts.push(window.len());
    cuts
}

fn count_lines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// The whole-file fault the structure pass finds, as its error names it.
fn structure_error(path: &Path) -> SourceError {
    let message = match csv_structure::scan(path) {
        Err(e) => e.to_string(),
        Ok(_) => "the file's CSV structure could not be read in one pass".to_string(),
    };
    malformed(path, message)
}

fn malformed(path: &Path, message: String) -> SourceError {
    SourceError::Malformed {
        path: path.to_path_buf(),
        message,
    }
}

fn is_gz(path: &Path) -> bool {
    path.to_string_lossy().to_ascii_lowercase().ends_with(".gz")
}

/// The file's text: its bytes, decompressed when its name ends in `.gz`.
fn open_plain(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
    let file = File::open(path)?;
    Ok(if is_gz(path) {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(file)
    })
}

/// A file that hashes the bytes read from it.
struct Hashing {
    file: File,
    sha: Sha256,
    bytes: u64,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The file's text read through its hash.
enum Text {
    Plain(Hashing),
    Gz(Box<flate2::read::MultiGzDecoder<BufReader<Hashing>>>),
}

impl Read for Text {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Text::Plain(h) => h.read(buf),
            Text::Gz(d) => d.read(buf),
        }
    }
}

impl Text {
    /// The SHA-256 and size of every byte of the file, read to its end.
    fn checksum(self) -> std::io::Result<(String, u64)> {
        let mut h = match self {
            Text::Plain(h) => h,
            Text::Gz(d) => d.into_inner().into_inner(),
        };
        std::io::copy(&mut h, &mut std::io::sink())?;
        Ok((format!("{:x}", h.sha.finalize()), h.bytes))
    }
}

/// Marks the reader's error for bytes that are not UTF-8 (the structure
/// pass then names where they are).
#[derive(Debug, thiserror::Error)]
#[error("the file is not UTF-8")]
struct NotUtf8;

/// The reader thread: sends the file's text in windows that end after a
/// line end (the last one takes the rest), each checked to be UTF-8 here,
/// once, beside the parse; returns the file's SHA-256 and size.
fn read_windows(
    path: &Path,
    size: usize,
    tx: std::sync::mpsc::SyncSender<std::io::Result<String>>,
) -> std::io::Result<(String, u64)> {
    let fail = |e: std::io::Error| {
        let message = e.to_string();
        let _ = tx.send(Err(e));
        Err(std::io::Error::other(message))
    };
    let opened = File::open(path).map(|file| {
        let h = Hashing {
            file,
            sha: Sha256::new(),
            bytes: 0,
        };
        if is_gz(path) {
            Text::Gz(Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(
                h,
            ))))
        } else {
            Text::Plain(h)
        }
    });
    let mut text = match opened {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let mut tail: Vec<u8> = Vec::new();
    loop {
        let mut window = std::mem::take(&mut tail);
        window.reserve(size);
        let wanted = size as u64;
        let n = match (&mut text).take(wanted).read_to_end(&mut window) {
            Ok(n) => n,
            Err(e) => return fail(e),
        };
        let eof = (n as u64) < wanted;
        if !eof {
            // Hold back the last partial line for the next window.
            if let Some(nl) = memchr::memrchr(b'\n', &window) {
                tail = window[nl + 1..].to_vec();
                window.truncate(nl + 1);
            }
        }
        let window = match String::from_utf8(window) {
            Ok(w) => w,
            // A window without a line end (a line longer than a window)
            // may cut a character: its first bytes start the next window.
            Err(e) if !eof && tail.is_empty() && e.utf8_error().error_len().is_none() => {
                let valid = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                tail = bytes.split_off(valid);
                match String::from_utf8(bytes) {
                    Ok(w) => w,
                    Err(_) => return fail(std::io::Error::new(ErrorKind::InvalidData, NotUtf8)),
                }
            }
            Err(_) => return fail(std::io::Error::new(ErrorKind::InvalidData, NotUtf8)),
        };
        if !window.is_empty() && tx.send(Ok(window)).is_err() {
            break;
        }
        if eof {
            break;
        }
    }
    text.checksum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::mapping::TableMapping;
    use proptest::prelude::*;

    /// A row's values, or why it was rejected.
    type Outcome = Result<Vec<Option<String>>, String>;

    /// The rows read (line, values), the ragged rows (line, why), the checksum.
    type ReadBack = (Vec<(u64, Vec<Option<String>>)>, Vec<(u64, String)>, String);

    /// Every row as read: its line and its requested values, or the
    /// rejection of a ragged row; and the file's checksum.
    fn read_all(path: &Path, columns: &[&str], sizes: Sizes) -> Result<ReadBack, SourceError> {
        read_eager(path, columns, sizes, 1)
    }

    fn read_eager(
        path: &Path,
        columns: &[&str],
        sizes: Sizes,
        every_row: usize,
    ) -> Result<ReadBack, SourceError> {
        let source = TableSource::file(TableKind::Prescribing, path, TableMapping::default());
        let mut rows = CsvRows::open_cut(&source, columns, every_row, sizes)?;
        let mut got = Vec::new();
        let mut ragged = Vec::new();
        while let Some(parts) = rows.next_window(Vec::new, |v, r| {
            let Location::Line(line) = r.location() else {
                unreachable!()
            };
            let values = (0..columns.len()).map(|c| r.get(c).map(str::to_string));
            v.push((line, values.collect()));
        })? {
            for (part, tally) in parts {
                got.extend(part);
                for r in tally.rejections {
                    let Location::Line(line) = r.location else {
                        unreachable!()
                    };
                    ragged.push((line, r.value));
                }
            }
        }
        let (sha, _) = rows.finish()?;
        Ok((got, ragged, sha))
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    const TINY: Sizes = Sizes {
        window: 16,
        chunk: 4,
    };

    #[test]
    fn rows_lines_and_values_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let csv = b"\xEF\xBB\xBFperiod,practice_code,bnf_code,items\r\n\
202403,P00001,0402010A0AAAAAA, 2 \r\n\
\n\
202403,\"P0\n0002\",\"a,\"\"b\"\"\",3\n\
202403,P00003\n\
202403,,0402,\n\
202403,P00004,x,4";
        let path = write(dir.path(), "p.csv", csv);
        let want = vec![
            (
                2,
                vec![
                    Some("202403".into()),
                    Some("P00001".into()),
                    Some("0402010A0AAAAAA".into()),
                    Some("2".into()),
                ],
            ),
            (
                4,
                vec![
                    Some("202403".into()),
                    Some("P0\n0002".into()),
                    Some("a,\"b\"".into()),
                    Some("3".into()),
                ],
            ),
            (
                7,
                vec![Some("202403".into()), None, Some("0402".into()), None],
            ),
            (
                8,
                vec![
                    Some("202403".into()),
                    Some("P00004".into()),
                    Some("x".into()),
                    Some("4".into()),
                ],
            ),
        ];
        let ragged = vec![
            (3, "1 fields; the header has 4".to_string()),
            (6, "2 fields; the header has 4".to_string()),
        ];
        let columns = ["period", "practice_code", "bnf_code", "items"];
        let sha = crate::ingest::provenance::checksum(&path).unwrap().0;
        for sizes in [
            SIZES,
            TINY,
            Sizes {
                window: 40,
                chunk: 1,
            },
        ] {
            let (got, rejected, sum) = read_all(&path, &columns, sizes).unwrap();
            assert_eq!(got, want, "{sizes:?}");
            assert_eq!(rejected, ragged, "{sizes:?}");
            assert_eq!(sum, sha);
        }
    }

    #[test]
    fn gzipped_files_are_read_and_their_bytes_hashed() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"period,practice_code,bnf_code,items\n202403,P00001,0402,1\n")
            .unwrap();
        let path = write(dir.path(), "p.csv.gz", &gz.finish().unwrap());
        let (got, _, sum) = read_all(&path, &["practice_code"], TINY).unwrap();
        assert_eq!(got, vec![(2, vec![Some("P00001".to_string())])]);
        assert_eq!(sum, crate::ingest::provenance::checksum(&path).unwrap().0);
    }

    #[test]
    fn what_the_structure_pass_refuses_is_refused_with_its_message() {
        let dir = tempfile::tempdir().unwrap();
        let header = "period,practice_code,bnf_code,items\n";
        for (name, body, says) in [
            (
                "latin1",
                b"202403,P\xE90001,x,1\n".to_vec(),
                "line 3, column 9: byte 0xE9",
            ),
            (
                "unclosed",
                b"202403,\"P00001,x,1\n".to_vec(),
                "line 3: a quoted field is never closed",
            ),
        ] {
            let mut bytes = format!("{header}202403,P00001,x,1\n").into_bytes();
            bytes.extend(body);
            let path = write(dir.path(), &format!("{name}.csv"), &bytes);
            for sizes in [SIZES, TINY] {
                let Err(e) = read_all(&path, &["items"], sizes) else {
                    panic!("{name} was read");
                };
                assert!(e.to_string().contains(says), "{name}: {e}");
            }
        }
        let path = write(dir.path(), "short.csv", b"period,practice_code\n1,2\n");
        let e = read_all(&path, &["items"], TINY).err().unwrap();
        assert!(e.to_string().contains("required column 'bnf_code'"), "{e}");
    }

    /// A value as a CSV writer quotes it: plain, or quoted with its quotes
    /// doubled; with characters of two, three and four bytes, so that
    /// windows without a line end cut through them.
    fn field() -> impl Strategy<Value = (String, bool)> {
        ("[a-c£€𝄞 ,\"\n]{0,5}", any::<bool>()).prop_map(|(v, quote)| {
            let quote = quote || v.contains([',', '"', '\n']);
            (v, quote)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever the cuts, the rows, lines, values and rejections equal
        /// one sequential read, and the structure pass's count of rows.
        #[test]
        fn every_cut_reads_the_same_rows(
            rows in prop::collection::vec(prop::collection::vec(field(), 1..6), 0..30),
            window in 8usize..64,
            chunk in 1usize..16,
            tail_newline in any::<bool>(),
            every_row in 0usize..5,
        ) {
            let mut text = String::from("period,practice_code,bnf_code,items\n");
            for (i, row) in rows.iter().enumerate() {
                let fields: Vec<String> = row
                    .iter()
                    .map(|(v, q)| if *q { format!("\"{}\"", v.replace('"', "\"\"")) } else { v.clone() })
                    .collect();
                text.push_str(&fields.join(","));
                if i + 1 < rows.len() || tail_newline {
                    text.push('\n');
                }
            }
            let dir = tempfile::tempdir().unwrap();
            let path = write(dir.path(), "p.csv", text.as_bytes());
            let columns = ["period", "practice_code", "bnf_code", "items"];
            let whole = read_all(&path, &columns, SIZES).unwrap();
            let cut = read_eager(&path, &columns, Sizes { window, chunk }, every_row).unwrap();
            prop_assert_eq!(&cut, &whole);
            let st = csv_structure::scan(&path).unwrap();
            prop_assert_eq!((whole.0.len() + whole.1.len()) as u64, st.rows);
            let lines: Vec<u64> = whole.0.iter().map(|r| r.0).chain(whole.1.iter().map(|r| r.0)).collect();
            let mut sorted = lines.clone();
            sorted.sort();
            let want: Vec<u64> = (0..st.rows).map(|r| st.line_of(r)).collect();
            prop_assert_eq!(sorted, want);
            // In file order: each row's values (trimmed, blank ones
            // missing), or its number of fields when it has not four.
            let mut read: Vec<(u64, Outcome)> = whole.0.iter().map(|(l, v)| (*l, Ok(v.clone()))).collect();
            read.extend(whole.1.iter().map(|(l, v)| (*l, Err(v.clone()))));
            read.sort_by_key(|r| r.0);
            let mut written: Vec<Outcome> = rows
                .iter()
                .map(|row| match row.len() {
                    4 => Ok(row.iter().map(|(v, _)| Some(v.trim().to_string()).filter(|v| !v.is_empty())).collect()),
                    n => Err(format!("{n} fields; the header has 4")),
                })
                .collect();
            // A last row of one bare empty field is no row without its line end.
            if !tail_newline && rows.last().is_some_and(|r| r.len() == 1 && r[0].0.is_empty() && !r[0].1) {
                written.pop();
            }
            let read: Vec<_> = read.into_iter().map(|r| r.1).collect();
            prop_assert_eq!(read, written);
        }
    }
}
