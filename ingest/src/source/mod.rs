//! Reading a drop's rows, whatever the export: CSV (optionally gzip-compressed) in UTF-8 with or
//! without BOM or in Windows-1252, separated by `;`, `,` or tabs, with quoted line breaks; or
//! the first sheet of an XLSX workbook that carries the contract's header.
//!
//! Everything is streamed within the [`Limits`] (issue 13): no line, field, cell or decompressed
//! stream is ever read without a cap, and a drop past a limit is refused with the limit named.
//! Line numbers are those of the file, whatever its line endings (CRLF, LF, CR, mixed).

mod chunks;
mod encoding;
mod lines;
mod xlsx;
mod xml;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::limits::{Capped, Limit, Limits, exceeded};
use crate::{DropFormat, Error, Result};

use chunks::ChunkParser;
pub use chunks::{Chunk, Chunks};
use encoding::{decode_record, detect_separator, is_utf8};
use lines::{Guard, breaks_in};

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
        /// How its records become rows: the same as a chunk's.
        parser: ChunkParser,
    },
    /// A workbook's sheet, streamed cell by cell by a reader thread, a bounded number of rows
    /// ahead (the thread owns the workbook, which the cell reader borrows).
    Xlsx {
        /// Batches of rows with their sheet row number.
        rows: std::sync::mpsc::Receiver<Result<xlsx::RowBatch>>,
        /// The batch being read.
        pending: xlsx::RowBatch,
        /// Its next row.
        next: usize,
    },
}

/// A file opened for reading, with its size.
fn open_file(path: &Path) -> Result<(File, u64)> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    Ok((file, size))
}

/// The file's bytes, decompressed, within [`Limits::max_decompressed_bytes`] (and the
/// compression ratio for a `.csv.gz`).
fn open_stream(path: &Path, format: DropFormat, limits: &Limits) -> Result<Stream> {
    let (file, size) = open_file(path)?;
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

/// How a CSV's records become rows: its encoding, and what its errors name.
struct Text<'a> {
    windows_1252: bool,
    path: &'a Path,
    format: DropFormat,
    limits: &'a Limits,
}

impl Text<'_> {
    /// The next record of `reader` into `out` (its strings reused; emptied at the end or on an
    /// error), with its line number in the file; `None` at the end. The whole file's reader and
    /// a chunk's share it.
    fn next_row<R: Read>(
        &self,
        reader: &mut csv::Reader<Guard<R>>,
        record: &mut csv::ByteRecord,
        out: &mut Vec<String>,
    ) -> Result<Option<u64>> {
        let (path, limits) = (self.path, self.limits);
        let more = match reader.read_byte_record(record) {
            Ok(more) => more,
            Err(e) => {
                out.clear();
                let line = reader.get_mut().record_line;
                let err = match e.into_kind() {
                    csv::ErrorKind::Io(io) => read_error(path, self.format, io, Some(line)),
                    _ => Error::Csv {
                        path: path.to_path_buf(),
                        line,
                        message: "enregistrement CSV illisible".into(),
                    },
                };
                return Err(with_value(err, limits));
            }
        };
        if !more {
            out.clear();
            return Ok(None);
        }
        let end = reader.position().byte();
        let last = reader.get_mut().line_before(end);
        // Most records hold no quoted line break: one search over the whole record says so.
        let inside: u64 = if memchr::memchr2(b'\r', b'\n', record.as_slice()).is_some() {
            record.iter().map(breaks_in).sum()
        } else {
            0
        };
        let line = last.saturating_sub(inside).max(1);
        let limit = |limit: Limit| Error::Limit {
            path: path.to_path_buf(),
            limit,
            value: limits.value(limit),
            line: Some(line),
        };
        if record.len() as u64 > limits.max_columns {
            out.clear();
            return Err(limit(Limit::Columns));
        }
        if record
            .iter()
            .any(|f| f.len() as u64 > limits.max_field_bytes)
        {
            out.clear();
            return Err(limit(Limit::FieldBytes));
        }
        decode_record(record, self.windows_1252, out);
        Ok(Some(line))
    }
}

/// A CSV's text, as [`Records::open`] finds it, its first bytes still unread, and how its
/// records are parsed.
struct Opened {
    stream: BufReader<Stream>,
    detected: Detected,
    parser: ChunkParser,
}

/// Opens a CSV: its encoding, its BOM skipped, its separator.
fn open_csv(path: &Path, format: DropFormat, limits: &Limits) -> Result<Opened> {
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
    Ok(Opened {
        stream,
        detected: Detected {
            encodage,
            separateur: Some(sep as char),
        },
        parser: ChunkParser {
            sep,
            windows_1252: !utf8,
            path: path.to_path_buf(),
            format,
            limits: *limits,
        },
    })
}

/// A CSV parser over `inner` as the drop's reader sets it up.
fn csv_reader<R: Read>(inner: Guard<R>, sep: u8) -> csv::Reader<Guard<R>> {
    csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(inner)
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
            return xlsx::open(path, limits);
        }
        let Opened {
            stream,
            detected,
            parser,
        } = open_csv(path, format, limits)?;
        let inner: Stream = Box::new(stream);
        let reader = csv_reader(Guard::new(inner, limits, Some(parser.sep)), parser.sep);
        let mut records = Records::Csv {
            reader: Box::new(reader),
            record: csv::ByteRecord::new(),
            parser,
        };
        let mut header = Vec::new();
        if records.next_row(&mut header)?.is_none() {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok((header, detected, records))
    }

    /// Gives every row left to `f`, with its line number, until the end or the first error
    /// (of the file or of `f`). A workbook's cells are lent straight from the reader's batch
    /// (no copy per cell).
    pub fn each_row(&mut self, mut f: impl FnMut(u64, &[&str]) -> Result<()>) -> Result<()> {
        let Records::Xlsx {
            rows,
            pending,
            next,
        } = self
        else {
            let mut row = Vec::new();
            // One allocation of cell references for the whole file, lent anew for each row.
            let mut spare: Vec<&'static str> = Vec::new();
            while let Some(line) = self.next_row(&mut row)? {
                let mut cells: Vec<&str> = spare.into_iter().map(|_| "").collect();
                cells.extend(row.iter().map(String::as_str));
                let done = f(line, &cells);
                cells.clear();
                spare = cells.into_iter().map(|_| "").collect();
                done?;
            }
            return Ok(());
        };
        loop {
            let mut cells = Vec::new();
            for k in std::mem::take(next)..pending.len() {
                let line = pending.row_cells(k, &mut cells);
                f(line, &cells)?;
            }
            *pending = match rows.recv() {
                Ok(batch) => batch?,
                // The reader thread has sent every row.
                Err(_) => return Ok(()),
            };
        }
    }

    /// The next row into `out` (its strings reused), with its line number in the file; `None`
    /// (and `out` empty) at the end.
    pub fn next_row(&mut self, out: &mut Vec<String>) -> Result<Option<u64>> {
        match self {
            Records::Csv {
                reader,
                record,
                parser,
            } => parser.text().next_row(reader, record, out),
            Records::Xlsx {
                rows,
                pending,
                next,
            } => loop {
                if *next < pending.len() {
                    let line = pending.row_into(*next, out);
                    *next += 1;
                    return Ok(Some(line));
                }
                out.clear();
                match rows.recv() {
                    Ok(batch) => {
                        *pending = batch?;
                        *next = 0;
                    }
                    // The reader thread has sent every row.
                    Err(_) => return Ok(None),
                }
            },
        }
    }
}

#[cfg(test)]
mod tests;
