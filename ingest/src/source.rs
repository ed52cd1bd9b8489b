//! Reading a drop's rows, whatever the export: CSV (optionally gzip-compressed) in UTF-8 with or
//! without BOM or in Windows-1252, separated by `;`, `,` or tabs, with quoted line breaks; or
//! the first sheet of an XLSX workbook that carries the contract's header.
//!
//! Everything is streamed within the [`Limits`] (issue 13): no line, field, cell or decompressed
//! stream is ever read without a cap, and a drop past a limit is refused with the limit named.
//! Line numbers are those of the file, whatever its line endings (CRLF, LF, CR, mixed).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use chrono::{Days, NaiveDate};

use crate::limits::{Capped, Limit, Limits, exceeded, exceeded_error_at};
use crate::validation::Layout;
use crate::{DropFormat, Error, Result};

/// What was found about a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// `UTF-8`, `UTF-8 (BOM)`, `Windows-1252` or `xlsx`.
    pub encodage: &'static str,
    /// The field separator of a CSV.
    pub separateur: Option<char>,
}

type Stream = Box<dyn Read + Send>;

/// A source of records: the header, then each row with its line number in the file.
pub enum Records {
    /// A streamed CSV.
    Csv {
        /// The parser, over the line tracker.
        reader: Box<csv::Reader<Guard<Stream>>>,
        /// The record being read.
        record: csv::ByteRecord,
        /// Whether fields are decoded from Windows-1252.
        windows_1252: bool,
        /// The file.
        path: PathBuf,
        /// Its container.
        format: DropFormat,
        /// The bounds.
        limits: Limits,
    },
    /// A workbook's sheet, streamed cell by cell by a reader thread, a bounded number of rows
    /// ahead (the thread owns the workbook, which the cell reader borrows).
    Xlsx {
        /// Rows with their sheet row number.
        rows: std::sync::mpsc::Receiver<Result<(u64, Vec<String>)>>,
    },
}

/// The file's bytes, decompressed, within [`Limits::max_decompressed_bytes`] (and the
/// compression ratio for a `.csv.gz`).
fn open_stream(path: &Path, format: DropFormat, limits: &Limits) -> Result<Stream> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let size = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let buffered = BufReader::with_capacity(1 << 20, file);
    Ok(match format {
        DropFormat::CsvGz => Box::new(Capped::new(
            BufReader::with_capacity(1 << 20, flate2::read::MultiGzDecoder::new(buffered)),
            limits,
            Some(size),
        )),
        _ => Box::new(Capped::new(buffered, limits, None)),
    })
}

/// The error of a failed read of a drop: a limit, a broken archive (the drop's fault), or a
/// fault of the machine ([`Error::Io`], never a reason to refuse the drop).
fn read_error(path: &Path, format: DropFormat, e: io::Error, line: Option<u64>) -> Error {
    if let Some((limit, at)) = exceeded(&e) {
        return Error::Limit {
            path: path.to_path_buf(),
            limit,
            value: 0,
            line: at.or(line),
        };
    }
    if format == DropFormat::CsvGz
        && matches!(
            e.kind(),
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
        )
    {
        return Error::Csv {
            path: path.to_path_buf(),
            line: line.unwrap_or(0),
            message: "archive gzip tronquée ou corrompue".into(),
        };
    }
    Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Fills in the value of a limit error (readers only know which limit they crossed).
fn with_value(e: Error, limits: &Limits) -> Error {
    match e {
        Error::Limit {
            path, limit, line, ..
        } => Error::Limit {
            path,
            limit,
            value: limits.value(limit),
            line,
        },
        other => other,
    }
}

/// Whether the bytes look like UTF-16 (or UTF-32): a BOM, or text where every other byte is
/// NUL (ASCII in UTF-16 without a BOM). Other NUL bytes (a file of zeros) are not taken for
/// UTF-16: they are left to the other checks.
fn utf16(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\xFF\xFE\0\0") || head.starts_with(b"\0\0\xFE\xFF") {
        return Some("UTF-32");
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Some("UTF-16");
    }
    let (mut pairs, mut even, mut odd) = (0usize, 0usize, 0usize);
    for p in head.chunks_exact(2).take(256) {
        pairs += 1;
        even += usize::from(p[0] == 0 && p[1] != 0);
        odd += usize::from(p[0] != 0 && p[1] == 0);
    }
    (pairs >= 2 && (even * 10 >= pairs * 9 || odd * 10 >= pairs * 9)).then_some("UTF-16 (sans BOM)")
}

/// Whether the whole stream is valid UTF-8 (read in chunks, never all in memory); refuses
/// UTF-16 text and lines past [`Limits::max_line_bytes`] on the way.
fn is_utf8(path: &Path, format: DropFormat, limits: &Limits) -> Result<bool> {
    let mut stream = Guard::physical(open_stream(path, format, limits)?, limits);
    let mut buf = vec![0u8; 1 << 20];
    let mut carry = 0usize;
    let mut first = true;
    let mut utf8 = true;
    loop {
        let n = match stream.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(path, format, e, None)),
        };
        if first && n > 0 {
            first = false;
            if let Some(found) = utf16(&buf[..n.min(4096)]) {
                return Err(Error::Encoding {
                    path: path.to_path_buf(),
                    message: format!(
                        "fichier encodé en {found} : Copil lit l'UTF-8 et le Windows-1252 ; enregistrez l'export en « CSV UTF-8 » ou en « CSV (séparateur : point-virgule) »"
                    ),
                });
            }
        }
        if n == 0 {
            return Ok(utf8 && carry == 0);
        }
        if !utf8 {
            // Keep reading: the limits still apply to the rest of the file.
            continue;
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            Err(e) if e.error_len().is_none() => {
                // An incomplete sequence at the end: keep it for the next chunk.
                let valid = e.valid_up_to();
                buf.copy_within(valid..filled, 0);
                carry = filled - valid;
            }
            Err(_) => {
                utf8 = false;
                carry = 0;
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldState {
    /// At the start of a field.
    Start,
    /// In an unquoted field.
    Unquoted,
    /// In a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field (its end, or the first of a doubled quote).
    QuoteSeen,
}

/// Sits under the CSV parser: counts the file's line breaks (CRLF, LF and CR each count one)
/// so that each record gets its exact first line, and refuses a record longer than
/// [`Limits::max_line_bytes`] before the parser buffers it. It follows the parser's quoting
/// (a quote opens a field only at its start; a doubled quote is a quote), so a quoted line
/// break continues the record.
pub struct Guard<R> {
    inner: R,
    max_record: u64,
    /// The separator, in CSV mode; `None`: physical lines only, quotes ignored.
    delimiter: Option<u8>,
    state: FieldState,
    offset: u64,
    record_len: u64,
    record_line: u64,
    breaks_total: u64,
    prev_cr: bool,
    /// Offsets just past each line break the parser has not yet gone beyond.
    breaks: VecDeque<u64>,
    counted: u64,
}

impl<R: Read> Guard<R> {
    fn physical(inner: R, limits: &Limits) -> Self {
        Self::new(inner, limits, None)
    }

    fn new(inner: R, limits: &Limits, delimiter: Option<u8>) -> Self {
        Self {
            inner,
            max_record: limits.max_line_bytes,
            delimiter,
            state: FieldState::Start,
            offset: 0,
            record_len: 0,
            record_line: 1,
            breaks_total: 0,
            prev_cr: false,
            breaks: VecDeque::new(),
            counted: 0,
        }
    }

    /// The line of the file at byte `end` of the stream (1-based), counting every line break
    /// before it. Calls must come with non-decreasing offsets.
    fn line_before(&mut self, end: u64) -> u64 {
        while self.breaks.front().is_some_and(|&b| b < end) {
            self.breaks.pop_front();
            self.counted += 1;
        }
        self.counted + 1
    }

    fn scan(&mut self, bytes: &[u8]) -> io::Result<()> {
        let csv = self.delimiter.is_some();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\r' || (b == b'\n' && !self.prev_cr) {
                self.breaks_total += 1;
                if csv {
                    self.breaks.push_back(self.offset + i as u64 + 1);
                }
            }
            self.prev_cr = b == b'\r';
            let ends_record = if !csv {
                b == b'\r' || b == b'\n'
            } else {
                match (self.state, b) {
                    (FieldState::Quoted, b'"') => {
                        self.state = FieldState::QuoteSeen;
                        false
                    }
                    (FieldState::Quoted, _) => false,
                    (FieldState::Start, b'"') => {
                        self.state = FieldState::Quoted;
                        false
                    }
                    (_, d) if Some(d) == self.delimiter => {
                        self.state = FieldState::Start;
                        false
                    }
                    (_, b'\r' | b'\n') => {
                        self.state = FieldState::Start;
                        true
                    }
                    (FieldState::QuoteSeen, b'"') => {
                        self.state = FieldState::Quoted;
                        false
                    }
                    _ => {
                        self.state = FieldState::Unquoted;
                        false
                    }
                }
            };
            if ends_record {
                self.record_len = 0;
                self.record_line = self.breaks_total + 1;
            } else {
                self.record_len += 1;
                if self.record_len > self.max_record {
                    return Err(exceeded_error_at(Limit::LineBytes, Some(self.record_line)));
                }
            }
        }
        self.offset += bytes.len() as u64;
        Ok(())
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n])?;
        Ok(n)
    }
}

/// Line breaks inside a field (a quoted field keeps them): CRLF, LF and CR count one each.
fn breaks_in(field: &[u8]) -> u64 {
    let mut n = 0;
    let mut prev_cr = false;
    for &b in field {
        if b == b'\r' || (b == b'\n' && !prev_cr) {
            n += 1;
        }
        prev_cr = b == b'\r';
    }
    n
}

/// The separator of a header line: the most frequent of `;`, `,` and tab outside quotes.
fn detect_separator(line: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => counts[0] += 1,
            b',' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let seps = [b';', b',', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 { b';' } else { seps[best] }
}

fn excel_date(serial: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    (serial >= 1.0)
        .then(|| base.checked_add_days(Days::new(serial.floor() as u64)))
        .flatten()
}

fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            excel_date(d.as_f64()).map_or_else(|| d.as_f64().to_string(), |d| d.to_string())
        }
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Rows read ahead of the validation in a workbook.
const XLSX_ROWS_AHEAD: usize = 4096;

/// Checks a workbook's parts before the reader opens it (it loads the shared strings whole):
/// each part is decompressed as a stream and counted, within the limits on decompressed bytes,
/// compression ratio and shared strings, and no text run (a cell, a shared string) may pass
/// [`Limits::max_field_bytes`].
fn prescan_xlsx(path: &Path, limits: &Limits) -> Result<()> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let size = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let limit = |limit: Limit| Error::Limit {
        path: path.to_path_buf(),
        limit,
        value: limits.value(limit),
        line: None,
    };
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|_| Error::Xlsx {
        path: path.to_path_buf(),
        message: "ce n'est pas un classeur .xlsx (archive zip illisible)".into(),
    })?;
    let cap = limits.expansion_cap(size);
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| Error::Xlsx {
            path: path.to_path_buf(),
            message: "archive zip corrompue".into(),
        })?;
        let shared = entry
            .name_raw()
            .eq_ignore_ascii_case(b"xl/sharedStrings.xml");
        let mut part = 0u64;
        let mut run = 0u64;
        loop {
            let n = match entry.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    return Err(Error::Xlsx {
                        path: path.to_path_buf(),
                        message: "archive zip corrompue ou tronquée".into(),
                    });
                }
            };
            if n == 0 {
                break;
            }
            part += n as u64;
            total += n as u64;
            if total > limits.max_decompressed_bytes {
                return Err(limit(Limit::DecompressedBytes));
            }
            if total > cap {
                return Err(limit(Limit::CompressionRatio));
            }
            if shared && part > limits.max_xlsx_shared_strings_bytes {
                return Err(limit(Limit::SharedStrings));
            }
            for &b in &buf[..n] {
                if b == b'<' {
                    run = 0;
                } else {
                    run += 1;
                    if run > limits.max_field_bytes {
                        return Err(limit(Limit::FieldBytes));
                    }
                }
            }
        }
    }
    Ok(())
}

type RowSender = std::sync::mpsc::SyncSender<Result<(u64, Vec<String>)>>;

/// Hands a finished sheet row on, unless it is blank; false when told to stop.
fn flush(row: Option<(u32, Vec<String>)>, each: &mut dyn FnMut(u64, Vec<String>) -> bool) -> bool {
    match row {
        Some((r, values)) if values.iter().any(|v| !v.trim().is_empty()) => {
            each(u64::from(r) + 1, values)
        }
        _ => true,
    }
}

/// Reads a sheet's rows in order, each with its line number (the sheet's row + 1): a cell's
/// place in a row is its column (A is 0), missing cells are empty strings; blank rows (no
/// cell, or only spaces) are not rows, like the empty lines of a CSV. `each` returns false to
/// stop.
fn sheet_rows<RS: Read + io::Seek>(
    wb: &mut calamine::Xlsx<RS>,
    sheet: &str,
    path: &Path,
    limits: &Limits,
    mut each: impl FnMut(u64, Vec<String>) -> bool,
) -> Result<()> {
    let err = |message: String| Error::Xlsx {
        path: path.to_path_buf(),
        message,
    };
    let mut cells = wb
        .worksheet_cells_reader(sheet)
        .map_err(|_| err(format!("feuille « {sheet} » illisible")))?;
    let mut current: Option<(u32, Vec<String>)> = None;
    // Cells come row by row, left to right.
    while let Some(cell) = cells
        .next_cell()
        .map_err(|_| err(format!("feuille « {sheet} » illisible (XML invalide)")))?
    {
        let (r, c) = cell.get_position();
        if u64::from(c) >= limits.max_columns {
            return Err(Error::Limit {
                path: path.to_path_buf(),
                limit: Limit::Columns,
                value: limits.max_columns,
                line: Some(u64::from(r) + 1),
            });
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if text.len() as u64 > limits.max_field_bytes {
            return Err(Error::Limit {
                path: path.to_path_buf(),
                limit: Limit::FieldBytes,
                value: limits.max_field_bytes,
                line: Some(u64::from(r) + 1),
            });
        }
        match &mut current {
            Some((row, values)) if *row == r => {
                if values.len() < c as usize {
                    values.resize(c as usize, String::new());
                }
                values.push(text);
            }
            _ => {
                if !flush(current.take(), &mut each) {
                    return Ok(());
                }
                let mut values = vec![String::new(); c as usize];
                values.push(text);
                current = Some((r, values));
            }
        }
    }
    flush(current, &mut each);
    Ok(())
}

/// Sends the rows of the workbook's first sheet whose first row is the contract's header (or,
/// if none is, of the first sheet with a row, so that the missing columns are reported).
/// Memory stays bounded by the channel and the limits, whatever the sheet's size.
fn stream_xlsx(path: &Path, limits: &Limits, tx: &RowSender) -> Result<()> {
    prescan_xlsx(path, limits)?;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).map_err(|_| Error::Xlsx {
        path: path.to_path_buf(),
        message: "ce n'est pas un classeur .xlsx lisible".into(),
    })?;
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(Error::Xlsx {
            path: path.to_path_buf(),
            message: "le classeur n'a aucune feuille".into(),
        });
    }
    let mut chosen = None;
    let mut fallback = None;
    for name in &names {
        let mut header = None;
        sheet_rows(&mut wb, name, path, limits, |_, row| {
            header = Some(row);
            false
        })?;
        match header {
            Some(h) if Layout::from_header(&h).is_ok() => {
                chosen = Some(name.clone());
                break;
            }
            Some(_) if fallback.is_none() => fallback = Some(name.clone()),
            _ => {}
        }
    }
    let Some(sheet) = chosen.or(fallback) else {
        return Ok(());
    };
    sheet_rows(&mut wb, &sheet, path, limits, |line, row| {
        tx.send(Ok((line, row))).is_ok()
    })
}

impl Records {
    /// Opens a drop within `limits`, detects its encoding and separator, and returns its
    /// header with the record source.
    pub fn open(
        path: &Path,
        format: DropFormat,
        limits: &Limits,
    ) -> Result<(Vec<String>, Detected, Records)> {
        if format == DropFormat::Xlsx {
            return Self::open_xlsx(path, limits);
        }
        let utf8 = is_utf8(path, format, limits).map_err(|e| with_value(e, limits))?;
        let mut stream = BufReader::new(open_stream(path, format, limits)?);
        let head = stream
            .fill_buf()
            .map_err(|e| with_value(read_error(path, format, e, Some(1)), limits))?;
        let bom = head.starts_with(b"\xEF\xBB\xBF");
        if bom {
            stream.consume(3);
        }
        let head = stream
            .fill_buf()
            .map_err(|e| with_value(read_error(path, format, e, Some(1)), limits))?;
        let first_line = head
            .split(|b| *b == b'\n' || *b == b'\r')
            .next()
            .unwrap_or(&[]);
        let sep = detect_separator(first_line);
        let encodage = match (utf8, bom) {
            (true, true) => "UTF-8 (BOM)",
            (true, false) => "UTF-8",
            (false, _) => "Windows-1252",
        };
        let inner: Stream = Box::new(stream);
        let reader = csv::ReaderBuilder::new()
            .delimiter(sep)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(Guard::new(inner, limits, Some(sep)));
        let mut records = Records::Csv {
            reader: Box::new(reader),
            record: csv::ByteRecord::new(),
            windows_1252: !utf8,
            path: path.to_path_buf(),
            format,
            limits: *limits,
        };
        let mut header = Vec::new();
        if records.next_row(&mut header)?.is_none() {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        let detected = Detected {
            encodage,
            separateur: Some(sep as char),
        };
        Ok((header, detected, records))
    }

    fn open_xlsx(path: &Path, limits: &Limits) -> Result<(Vec<String>, Detected, Records)> {
        let (tx, rx) = std::sync::mpsc::sync_channel(XLSX_ROWS_AHEAD);
        let owned = path.to_path_buf();
        let limits = *limits;
        std::thread::Builder::new()
            .name("copil-xlsx".into())
            .spawn(move || {
                if let Err(e) = stream_xlsx(&owned, &limits, &tx) {
                    let _ = tx.send(Err(e));
                }
            })
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let Some(first) = rx.recv().ok() else {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        };
        let (_, header) = first?;
        Ok((
            header,
            Detected {
                encodage: "xlsx",
                separateur: None,
            },
            Records::Xlsx { rows: rx },
        ))
    }

    /// The next row into `out` (cleared first), with its line number in the file; `None` at
    /// the end.
    pub fn next_row(&mut self, out: &mut Vec<String>) -> Result<Option<u64>> {
        out.clear();
        match self {
            Records::Csv {
                reader,
                record,
                windows_1252,
                path,
                format,
                limits,
            } => {
                let more = match reader.read_byte_record(record) {
                    Ok(more) => more,
                    Err(e) => {
                        let line = reader.get_mut().record_line;
                        let err = match e.into_kind() {
                            csv::ErrorKind::Io(io) => read_error(path, *format, io, Some(line)),
                            _ => Error::Csv {
                                path: path.clone(),
                                line,
                                message: "enregistrement CSV illisible".into(),
                            },
                        };
                        return Err(with_value(err, limits));
                    }
                };
                if !more {
                    return Ok(None);
                }
                let end = reader.position().byte();
                let last = reader.get_mut().line_before(end);
                let inside: u64 = record.iter().map(breaks_in).sum();
                let line = last.saturating_sub(inside).max(1);
                let limit = |limit: Limit| Error::Limit {
                    path: path.clone(),
                    limit,
                    value: limits.value(limit),
                    line: Some(line),
                };
                if record.len() as u64 > limits.max_columns {
                    return Err(limit(Limit::Columns));
                }
                if record
                    .iter()
                    .any(|f| f.len() as u64 > limits.max_field_bytes)
                {
                    return Err(limit(Limit::FieldBytes));
                }
                out.extend(record.iter().map(|f| decode(f, *windows_1252)));
                Ok(Some(line))
            }
            Records::Xlsx { rows } => match rows.recv() {
                Ok(row) => {
                    let (line, cells) = row?;
                    *out = cells;
                    Ok(Some(line))
                }
                // The reader thread has sent every row.
                Err(_) => Ok(None),
            },
        }
    }
}

fn decode(field: &[u8], windows_1252: bool) -> String {
    if field.is_ascii() {
        // ASCII is valid UTF-8.
        return String::from_utf8(field.to_vec()).unwrap_or_default();
    }
    if windows_1252 {
        encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(field)
            .0
            .into_owned()
    } else {
        String::from_utf8_lossy(field).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<(u64, Vec<String>)>;

    fn read_all(path: &Path, format: DropFormat) -> (Vec<String>, Detected, Rows) {
        let (header, detected, mut records) =
            Records::open(path, format, &Limits::default()).unwrap();
        let mut rows = vec![];
        let mut row = vec![];
        while let Some(line) = records.next_row(&mut row).unwrap() {
            rows.push((line, row.clone()));
        }
        (header, detected, rows)
    }

    #[test]
    fn windows_1252_with_semicolons_and_quoted_line_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_20250101.csv");
        let text = "Identifiant;Événement;Adresse\r\n1;rdv;\"Bât. B\r\n12 rue\"\r\n2;diagnostic;Élancourt\r\n";
        std::fs::write(&path, encoding_rs::WINDOWS_1252.encode(text).0).unwrap();
        let (header, detected, rows) = read_all(&path, DropFormat::Csv);
        assert_eq!(header, ["Identifiant", "Événement", "Adresse"]);
        assert_eq!(
            detected,
            Detected {
                encodage: "Windows-1252",
                separateur: Some(';')
            }
        );
        assert_eq!(
            rows[0],
            (2, vec!["1".into(), "rdv".into(), "Bât. B\r\n12 rue".into()])
        );
        assert_eq!(rows[1].0, 4, "line numbers count the quoted line break");
        assert_eq!(rows[1].1[2], "Élancourt");
    }

    #[test]
    fn line_numbers_with_plain_line_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_20250101.csv");
        std::fs::write(&path, "id,adresse\n1,\"a\nb\"\n2,c\n").unwrap();
        let (_, _, rows) = read_all(&path, DropFormat::Csv);
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 4]);
    }

    #[test]
    fn utf8_with_bom_and_commas_and_gzip_tabs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_20250101.csv");
        std::fs::write(&path, "\u{feff}\"id\",\"évènement\"\n\"a\",\"rdv\"\n").unwrap();
        let (header, detected, rows) = read_all(&path, DropFormat::Csv);
        assert_eq!(header, ["id", "évènement"]);
        assert_eq!(
            detected,
            Detected {
                encodage: "UTF-8 (BOM)",
                separateur: Some(',')
            }
        );
        assert_eq!(rows.len(), 1);

        let gz = dir.path().join("y_20250101.csv.gz");
        let mut e =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        std::io::Write::write_all(&mut e, "date\tevenement\n2024-01-02\trdv\n".as_bytes()).unwrap();
        e.finish().unwrap();
        let (header, detected, rows) = read_all(&gz, DropFormat::CsvGz);
        assert_eq!(header, ["date", "evenement"]);
        assert_eq!(
            detected,
            Detected {
                encodage: "UTF-8",
                separateur: Some('\t')
            }
        );
        assert_eq!(rows[0].1, ["2024-01-02", "rdv"]);
    }

    #[test]
    fn an_accent_past_the_first_megabyte_still_decides_the_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_20250101.csv");
        let mut bytes = b"id;nom\n".to_vec();
        for i in 0..200_000 {
            bytes.extend_from_slice(format!("{i};abcdef\n").as_bytes());
        }
        bytes.extend_from_slice(b"x;H\xe9l\xe8ne\n");
        std::fs::write(&path, &bytes).unwrap();
        let (_, detected, rows) = read_all(&path, DropFormat::Csv);
        assert_eq!(detected.encodage, "Windows-1252");
        assert_eq!(rows.last().unwrap().1[1], "Hélène");
    }

    #[test]
    fn separators_are_counted_outside_quotes() {
        assert_eq!(detect_separator(b"\"a;b\",c,d"), b',');
        assert_eq!(detect_separator(b"a;b;c"), b';');
        assert_eq!(detect_separator(b"a\tb"), b'\t');
        assert_eq!(detect_separator(b"seule"), b';');
    }

    fn open_err(path: &Path, format: DropFormat, limits: &Limits) -> Error {
        match Records::open(path, format, limits) {
            Err(e) => e,
            Ok((_, _, mut records)) => {
                let mut row = vec![];
                loop {
                    match records.next_row(&mut row) {
                        Ok(Some(_)) => {}
                        Ok(None) => panic!("{}: read to the end without error", path.display()),
                        Err(e) => return e,
                    }
                }
            }
        }
    }

    /// Issue 13: line numbers drifted with mixed line endings (CRLF header and LF body +1, the
    /// reverse -1, CR-only files all « ligne 1 »).
    #[test]
    fn issue_13_line_numbers_are_exact_for_every_mix_of_line_endings() {
        let dir = tempfile::tempdir().unwrap();
        let endings = ["\n", "\r\n", "\r"];
        let mut cases = 0;
        for header_end in endings {
            for body in 0..4 {
                for quoted_end in endings {
                    // body 0..3: every row ends the same; 3: the three endings in turn.
                    let end = |i: usize| {
                        if body < 3 {
                            endings[body]
                        } else {
                            endings[i % 3]
                        }
                    };
                    let mut text = format!("id;adresse;evenement{header_end}");
                    let mut line = 2u64;
                    let mut expected = vec![];
                    for i in 0..12usize {
                        if i == 5 {
                            // A blank line is not a row but is a line.
                            text.push_str(end(i));
                            line += 1;
                        }
                        expected.push(line);
                        if i % 4 == 1 {
                            text.push_str(&format!("{i};\"bat{quoted_end}rue\";rdv{}", end(i)));
                            line += 2;
                        } else {
                            text.push_str(&format!("{i};rue;rdv{}", end(i)));
                            line += 1;
                        }
                    }
                    // The last row without a line end.
                    expected.push(line);
                    text.push_str("99;fin;rdv");
                    let path = dir.path().join(format!("x{cases}_20250101.csv"));
                    std::fs::write(&path, &text).unwrap();
                    let (header, _, rows) = read_all(&path, DropFormat::Csv);
                    assert_eq!(header, ["id", "adresse", "evenement"], "{text:?}");
                    let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
                    assert_eq!(lines, expected, "{text:?}");
                    assert_eq!(rows[1].1[1], format!("bat{quoted_end}rue"));
                    cases += 1;
                }
            }
        }
        assert_eq!(cases, 36);
    }

    /// Issue 13: a UTF-16 file was told « colonnes obligatoires absentes ».
    #[test]
    fn issue_13_utf16_is_named_as_the_cause() {
        let dir = tempfile::tempdir().unwrap();
        let text = "id_personne;date_naissance;date;evenement\r\n1;01/01/1980;01/01/2024;rdv\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        for (name, bytes) in [
            ("bom_le", [&[0xFF, 0xFE][..], &le].concat()),
            ("bom_be", [&[0xFE, 0xFF][..], &be].concat()),
            ("sans_bom", le.clone()),
        ] {
            let path = dir.path().join(format!("{name}_20250101.csv"));
            std::fs::write(&path, bytes).unwrap();
            let e = open_err(&path, DropFormat::Csv, &Limits::default());
            let m = e.to_string();
            assert!(matches!(e, Error::Encoding { .. }), "{name}: {m}");
            assert!(m.contains("UTF-16") && m.contains("UTF-8"), "{name}: {m}");
            assert!(!e.is_fault(), "the drop's fault, refused");
        }
    }

    /// Issue 13: a line, a field or a row count past its limit is refused, naming the limit
    /// and the line, before the parser buffers it.
    #[test]
    fn issue_13_lines_fields_and_columns_past_their_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_line_bytes: 1000,
            max_field_bytes: 300,
            max_columns: 20,
            ..Limits::default()
        };
        let header = "id_personne;date_naissance;date;evenement\n";
        let ok_row = "1;01/01/1980;01/01/2024;rdv\n";
        // A long line (unquoted), at line 3.
        let long = format!("{header}{ok_row}2;{};x;rdv\n", "a".repeat(5000));
        // A quoted field spanning many short lines, starting at line 3.
        let quoted = format!(
            "{header}{ok_row}2;\"{}\";x;rdv\n",
            "abcdefghij\n".repeat(200)
        );
        // An unbalanced quote: the rest of the file is one record.
        let unbalanced = format!("{header}{ok_row}\"2;x;y;rdv\n{}", ok_row.repeat(100));
        // A field past its limit within a short enough line.
        let field = format!("{header}{ok_row}{ok_row}3;{};x;rdv\n", "b".repeat(400));
        let columns = format!("{header}{}\n", vec!["x"; 30].join(";"));
        for (name, text, limit, line) in [
            ("long", long, Limit::LineBytes, 3),
            ("quoted", quoted, Limit::LineBytes, 3),
            ("unbalanced", unbalanced, Limit::LineBytes, 3),
            ("field", field, Limit::FieldBytes, 4),
            ("columns", columns, Limit::Columns, 2),
        ] {
            for format in [DropFormat::Csv, DropFormat::CsvGz] {
                let path = dir
                    .path()
                    .join(format!("{name}_20250101.{}", format.extension()));
                let bytes = if format == DropFormat::CsvGz {
                    let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
                    std::io::Write::write_all(&mut e, text.as_bytes()).unwrap();
                    e.finish().unwrap()
                } else {
                    text.clone().into_bytes()
                };
                std::fs::write(&path, bytes).unwrap();
                let e = open_err(&path, format, &limits);
                let m = e.to_string();
                match &e {
                    Error::Limit {
                        limit: l,
                        line: at,
                        value,
                        ..
                    } => {
                        assert_eq!((*l, *at), (limit, Some(line)), "{name}: {m}");
                        assert_eq!(*value, limits.value(limit), "{name}: {m}");
                    }
                    other => panic!("{name}: {other}"),
                }
                assert!(
                    m.contains(limit.key()) && m.contains(&format!("ligne {line}")),
                    "{name}: {m}"
                );
            }
        }
        // Within the limits, the same reader reads everything.
        let path = dir.path().join("ok_20250101.csv");
        std::fs::write(&path, format!("{header}{ok_row}{ok_row}")).unwrap();
        let (_, _, mut records) = Records::open(&path, DropFormat::Csv, &limits).unwrap();
        let mut row = vec![];
        assert_eq!(records.next_row(&mut row).unwrap(), Some(2));
        assert_eq!(records.next_row(&mut row).unwrap(), Some(3));
    }

    /// Issue 13: English library text (« incomplete deflate stream ») reached users.
    #[test]
    fn issue_13_a_broken_gzip_is_told_in_french_and_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
        for i in 0..20_000 {
            std::io::Write::write_all(
                &mut e,
                format!("{i};01/01/1980;01/01/2024;rdv\n").as_bytes(),
            )
            .unwrap();
        }
        let bytes = e.finish().unwrap();
        let path = dir.path().join("tronque_20250101.csv.gz");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = open_err(&path, DropFormat::CsvGz, &Limits::default());
        let m = e.to_string();
        assert!(m.contains("archive gzip tronquée ou corrompue"), "{m}");
        assert!(!m.contains("deflate") && !e.is_fault(), "{m}");
        let path = dir.path().join("pas_gzip_20250101.csv.gz");
        std::fs::write(&path, "id;date\n1;2\n").unwrap();
        let m = open_err(&path, DropFormat::CsvGz, &Limits::default()).to_string();
        assert!(m.contains("archive gzip tronquée ou corrompue"), "{m}");
    }

    fn workbook(path: &Path, sheets: &[Vec<(u32, u16, String)>]) {
        let mut wb = rust_xlsxwriter::Workbook::new();
        for cells in sheets {
            let ws = wb.add_worksheet();
            for (r, c, v) in cells {
                ws.write_string(*r, *c, v.as_str()).unwrap();
            }
        }
        wb.save(path).unwrap();
    }

    fn header_cells(r: u32) -> Vec<(u32, u16, String)> {
        ["id_personne", "date_naissance", "date", "evenement"]
            .iter()
            .enumerate()
            .map(|(c, v)| (r, c as u16, v.to_string()))
            .collect()
    }

    /// Issue 13: an empty first sheet hid the data of the second; a cell at row 1,048,576
    /// recorded a million blank rows.
    #[test]
    fn issue_13_xlsx_reads_the_sheet_with_the_header_and_skips_blank_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("classeur_20250101.xlsx");
        let mut data = header_cells(2);
        for r in 3..6u32 {
            data.push((r, 0, format!("p{r}")));
            data.push((r, 3, "rdv".into()));
        }
        // Blank rows (spaces only) in the middle and at the very bottom of the sheet.
        data.push((7, 1, "   ".into()));
        data.push((8, 0, "p8".into()));
        data.push((1_048_575, 2, " ".into()));
        let notes = vec![(0, 0, "Export du 01/01/2025".to_string())];
        workbook(&path, &[vec![], notes, data]);
        let (header, detected, rows) = read_all(&path, DropFormat::Xlsx);
        assert_eq!(
            header,
            ["id_personne", "date_naissance", "date", "evenement"]
        );
        assert_eq!(detected.encodage, "xlsx");
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, [4, 5, 6, 9], "blank rows are not rows");
        assert_eq!(rows[0].1, ["p3", "", "", "rdv"]);

        // No sheet with the contract's header: the first sheet with a row is read, so that
        // the missing columns are named.
        let other = dir.path().join("autre_20250101.xlsx");
        workbook(&other, &[vec![], vec![(0, 0, "Nom".to_string())]]);
        let (header, _, _) = read_all(&other, DropFormat::Xlsx);
        assert_eq!(header, ["Nom"]);
    }

    #[test]
    fn issue_13_xlsx_cells_and_shared_strings_past_their_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grande_cellule_20250101.xlsx");
        let mut data = header_cells(0);
        data.push((1, 0, "x".repeat(20_000)));
        workbook(&path, &[data]);
        let limits = Limits {
            max_field_bytes: 10_000,
            ..Limits::default()
        };
        let e = open_err(&path, DropFormat::Xlsx, &limits);
        assert!(
            matches!(
                e,
                Error::Limit {
                    limit: Limit::FieldBytes,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("ingest.max_field_bytes"), "{e}");
        let limits = Limits {
            max_xlsx_shared_strings_bytes: 5_000,
            ..Limits::default()
        };
        let e = open_err(&path, DropFormat::Xlsx, &limits);
        assert!(
            e.to_string()
                .contains("ingest.max_xlsx_shared_strings_bytes"),
            "{e}"
        );
        // Within the limits it is read.
        assert_eq!(read_all(&path, DropFormat::Xlsx).2.len(), 1);
        // Not a workbook: told in French.
        let fake = dir.path().join("faux_20250101.xlsx");
        std::fs::write(&fake, "id;date\n").unwrap();
        let m = open_err(&fake, DropFormat::Xlsx, &Limits::default()).to_string();
        assert!(m.contains("ce n'est pas un classeur .xlsx"), "{m}");
    }
}
