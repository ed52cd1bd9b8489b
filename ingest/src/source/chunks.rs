//! A CSV cut at record boundaries, so that its records are parsed on every core (issue 16).
//!
//! One reader decompresses the file within the limits and finds where records end, with the
//! parser's quoting (a line break inside quotes ends no record): that scan is cheap and
//! sequential, so each chunk starts at a true record boundary, with its line number, and
//! nothing is guessed. A chunk is then parsed on any thread by the same parser and line
//! tracker as a whole-file read, and gives the same rows with the same line numbers.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::lines::Guard;
use super::{Detected, Stream, Text, csv_reader, open_csv, read_error, with_value};
use crate::limits::Limits;
use crate::{DropFormat, Error, Result};

/// Bytes of records a chunk holds at least (but the last).
const CHUNK_BYTES: usize = 1 << 20;
/// Bytes read at once from the stream.
const READ_BYTES: usize = 256 << 10;

/// Whole records of a CSV, from a record boundary.
#[derive(Debug)]
pub struct Chunk {
    bytes: Vec<u8>,
    /// The line of the file its first byte is on.
    first_line: u64,
    /// Whether the byte before it is a CR (a LF first then ends no new line).
    after_cr: bool,
    /// Whether its first record is the header, already read.
    header: bool,
}

/// Parses chunks of one file; cheap to clone, one per thread.
#[derive(Debug, Clone)]
pub struct ChunkParser {
    pub(super) sep: u8,
    pub(super) windows_1252: bool,
    pub(super) path: PathBuf,
    pub(super) format: DropFormat,
    pub(super) limits: Limits,
}

impl ChunkParser {
    /// The rows of a chunk.
    pub fn rows<'a>(&'a self, chunk: &'a Chunk) -> ChunkRows<'a> {
        let guard = Guard::resume(
            &chunk.bytes[..],
            &self.limits,
            Some(self.sep),
            chunk.first_line,
            chunk.after_cr,
        );
        ChunkRows {
            reader: csv_reader(guard, self.sep),
            record: csv::ByteRecord::new(),
            text: self.text(),
            skip_header: chunk.header,
        }
    }

    /// How its records become rows (a whole file's reader uses it too).
    pub(super) fn text(&self) -> Text<'_> {
        Text {
            windows_1252: self.windows_1252,
            path: &self.path,
            format: self.format,
            limits: &self.limits,
        }
    }
}

/// The rows of one chunk, as [`super::Records::next_row`] gives them.
pub struct ChunkRows<'a> {
    reader: csv::Reader<Guard<&'a [u8]>>,
    record: csv::ByteRecord,
    text: Text<'a>,
    skip_header: bool,
}

impl ChunkRows<'_> {
    /// The next row into `out` (its strings reused), with its line number in the file; `None`
    /// (and `out` empty) at the end of the chunk.
    pub fn next_row(&mut self, out: &mut Vec<String>) -> Result<Option<u64>> {
        if self.skip_header {
            self.skip_header = false;
            self.text
                .next_row(&mut self.reader, &mut self.record, out)?;
        }
        self.text.next_row(&mut self.reader, &mut self.record, out)
    }
}

/// A CSV's records, chunk by chunk, in the file's order; at most about two chunks in memory.
pub struct Chunks {
    guard: Guard<Stream>,
    /// Bytes read and not yet handed on; the first is at `start` in the stream.
    buf: Vec<u8>,
    chunk_bytes: usize,
    start: u64,
    /// The line of `start`, and whether the byte before it is a CR.
    first_line: u64,
    after_cr: bool,
    /// A read failed: the error, once the records before it are handed on.
    failed: Option<Error>,
    ended: bool,
    /// The chunk the header was read from.
    first: Option<Chunk>,
    parser: ChunkParser,
}

impl Chunks {
    /// Opens a CSV drop as [`super::Records::open`] does (same encoding, separator, limits
    /// and errors), and returns its header with its chunks.
    pub fn open(
        path: &Path,
        format: DropFormat,
        limits: &Limits,
    ) -> Result<(Vec<String>, Detected, Chunks)> {
        let opened = open_csv(path, format, limits)?;
        Self::start(
            Box::new(opened.stream),
            opened.detected,
            opened.parser,
            CHUNK_BYTES,
        )
    }

    /// Chunks of at least `chunk_bytes` (but the last) over a CSV's text, its BOM skipped;
    /// reads up to its header.
    pub(super) fn start(
        inner: Stream,
        detected: Detected,
        parser: ChunkParser,
        chunk_bytes: usize,
    ) -> Result<(Vec<String>, Detected, Chunks)> {
        let mut chunks = Chunks {
            guard: Guard::boundaries(inner, &parser.limits, parser.sep),
            buf: Vec::with_capacity(chunk_bytes + READ_BYTES),
            chunk_bytes,
            start: 0,
            first_line: 1,
            after_cr: false,
            failed: None,
            ended: false,
            first: None,
            parser,
        };
        let mut header = Vec::new();
        // Chunks of blank lines only may come before the header.
        loop {
            let Some(mut chunk) = chunks.next_chunk()? else {
                return Err(Error::Empty {
                    path: chunks.parser.path.clone(),
                });
            };
            if chunks.parser.rows(&chunk).next_row(&mut header)?.is_some() {
                chunk.header = true;
                chunks.first = Some(chunk);
                return Ok((header, detected, chunks));
            }
        }
    }

    /// The parser of this file's chunks.
    pub fn parser(&self) -> ChunkParser {
        self.parser.clone()
    }

    /// Hands on the bytes before stream offset `at` (a record boundary).
    fn cut(&mut self, at: u64, line: u64, after_cr: bool) -> Chunk {
        let rest = self.buf.split_off((at - self.start) as usize);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let chunk = Chunk {
            bytes,
            first_line: self.first_line,
            after_cr: self.after_cr,
            header: false,
        };
        (self.start, self.first_line, self.after_cr) = (at, line, after_cr);
        chunk
    }

    /// The next chunk, in the file's order; `None` at the end. A read error (a limit, a
    /// broken archive) comes after the whole records read before it, and ends the chunks.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>> {
        if let Some(first) = self.first.take() {
            return Ok(Some(first));
        }
        loop {
            let (at, line, after_cr) = self.guard.boundary;
            if self.buf.len() >= self.chunk_bytes && at > self.start {
                return Ok(Some(self.cut(at, line, after_cr)));
            }
            if let Some(e) = self.failed.take() {
                if at > self.start {
                    self.failed = Some(e);
                    return Ok(Some(self.cut(at, line, after_cr)));
                }
                self.ended = true;
                self.buf = Vec::new();
                return Err(e);
            }
            if self.ended {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let end = self.start + self.buf.len() as u64;
                return Ok(Some(self.cut(end, line, after_cr)));
            }
            let len = self.buf.len();
            self.buf.resize(len + READ_BYTES, 0);
            match self.guard.read(&mut self.buf[len..]) {
                Ok(n) => {
                    self.buf.truncate(len + n);
                    self.ended = n == 0;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(len),
                Err(e) => {
                    self.buf.truncate(len);
                    let p = &self.parser;
                    let line = Some(self.guard.record_line);
                    self.failed = Some(with_value(
                        read_error(&p.path, p.format, e, line),
                        &p.limits,
                    ));
                }
            }
        }
    }
}
