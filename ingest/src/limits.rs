//! Bounds on every input (issue 13): a hostile drop (a gzip bomb, a 1 GiB line or cell, a
//! hundred million empty lines) is refused, with a French message naming the limit, after
//! reading at most a bounded amount of memory and time.

use std::io::{self, Read};

/// The bounds a drop must stay within. Each has a configuration key (`ingest.*`) of the same
/// name; the defaults fit the largest territory at national scale with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of text a drop may hold once decompressed (a `.csv.gz`, or a workbook's parts).
    pub max_decompressed_bytes: u64,
    /// How many times its own size a compressed drop may expand to (checked past 64 MiB).
    pub max_compression_ratio: u64,
    /// Bytes of one record: a line, with the line breaks of its quoted fields.
    pub max_line_bytes: u64,
    /// Bytes of one field (CSV) or one cell or shared string (XLSX).
    pub max_field_bytes: u64,
    /// Data rows of one drop.
    pub max_rows: u64,
    /// Columns of one drop.
    pub max_columns: u64,
    /// Bytes of a workbook's shared strings (`xl/sharedStrings.xml`), which are held in memory.
    pub max_xlsx_shared_strings_bytes: u64,
    /// Seconds to read one drop.
    pub max_parse_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: 4 << 30,
            max_compression_ratio: 100,
            max_line_bytes: 1 << 20,
            max_field_bytes: 256 << 10,
            max_rows: 20_000_000,
            max_columns: 500,
            max_xlsx_shared_strings_bytes: 128 << 20,
            max_parse_seconds: 1800,
        }
    }
}

/// Below this many decompressed bytes the compression ratio is not checked (tiny, repetitive
/// files compress very well and are harmless).
pub(crate) const RATIO_FLOOR: u64 = 64 << 20;

impl Limits {
    /// The most bytes a compressed file of `compressed` bytes may expand to.
    pub(crate) fn expansion_cap(&self, compressed: u64) -> u64 {
        compressed
            .saturating_mul(self.max_compression_ratio)
            .max(RATIO_FLOOR)
    }

    /// The value of one limit.
    pub fn value(&self, limit: Limit) -> u64 {
        match limit {
            Limit::DecompressedBytes => self.max_decompressed_bytes,
            Limit::CompressionRatio => self.max_compression_ratio,
            Limit::LineBytes => self.max_line_bytes,
            Limit::FieldBytes => self.max_field_bytes,
            Limit::Rows => self.max_rows,
            Limit::Columns => self.max_columns,
            Limit::SharedStrings => self.max_xlsx_shared_strings_bytes,
            Limit::ParseSeconds => self.max_parse_seconds,
        }
    }
}

/// One of the [`Limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::max_decompressed_bytes`]
    DecompressedBytes,
    /// [`Limits::max_compression_ratio`]
    CompressionRatio,
    /// [`Limits::max_line_bytes`]
    LineBytes,
    /// [`Limits::max_field_bytes`]
    FieldBytes,
    /// [`Limits::max_rows`]
    Rows,
    /// [`Limits::max_columns`]
    Columns,
    /// [`Limits::max_xlsx_shared_strings_bytes`]
    SharedStrings,
    /// [`Limits::max_parse_seconds`]
    ParseSeconds,
}

impl Limit {
    /// Its configuration key.
    pub fn key(self) -> &'static str {
        match self {
            Limit::DecompressedBytes => "ingest.max_decompressed_bytes",
            Limit::CompressionRatio => "ingest.max_compression_ratio",
            Limit::LineBytes => "ingest.max_line_bytes",
            Limit::FieldBytes => "ingest.max_field_bytes",
            Limit::Rows => "ingest.max_rows",
            Limit::Columns => "ingest.max_columns",
            Limit::SharedStrings => "ingest.max_xlsx_shared_strings_bytes",
            Limit::ParseSeconds => "ingest.max_parse_seconds",
        }
    }

    /// What it bounds, in French, with its unit.
    pub fn label(self) -> &'static str {
        match self {
            Limit::DecompressedBytes => "taille décompressée du dépôt (octets)",
            Limit::CompressionRatio => "taux de compression (fois la taille du fichier)",
            Limit::LineBytes => "taille d'une ligne (octets)",
            Limit::FieldBytes => "taille d'un champ ou d'une cellule (octets)",
            Limit::Rows => "nombre de lignes",
            Limit::Columns => "nombre de colonnes",
            Limit::SharedStrings => "taille des textes partagés du classeur (octets)",
            Limit::ParseSeconds => "durée de lecture (secondes)",
        }
    }
}

/// A limit crossed inside a reader (at a line, when known): carried through `io::Error`
/// (whose layers, gzip and CSV, only pass I/O errors on) and recognised by [`exceeded`].
#[derive(Debug)]
pub(crate) struct Exceeded(pub Limit, pub Option<u64>);

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "limite {} dépassée", self.0.key())
    }
}

impl std::error::Error for Exceeded {}

pub(crate) fn exceeded_error(limit: Limit) -> io::Error {
    exceeded_error_at(limit, None)
}

pub(crate) fn exceeded_error_at(limit: Limit, line: Option<u64>) -> io::Error {
    io::Error::other(Exceeded(limit, line))
}

/// The limit an I/O error stands for (and its line), if it is one.
pub(crate) fn exceeded(e: &io::Error) -> Option<(Limit, Option<u64>)> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<Exceeded>())
        .map(|x| (x.0, x.1))
}

/// Counts the bytes read through it and fails past a cap: [`Limit::DecompressedBytes`]
/// always, [`Limit::CompressionRatio`] for a compressed source.
pub(crate) struct Capped<R> {
    inner: R,
    read: u64,
    max: u64,
    ratio_cap: Option<u64>,
}

impl<R> Capped<R> {
    pub(crate) fn new(inner: R, limits: &Limits, compressed: Option<u64>) -> Self {
        Self {
            inner,
            read: 0,
            max: limits.max_decompressed_bytes,
            ratio_cap: compressed.map(|c| limits.expansion_cap(c)),
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Never hand out more than one byte past a cap: the caller sees the error right away.
        let room = self
            .max
            .min(self.ratio_cap.unwrap_or(u64::MAX))
            .saturating_sub(self.read)
            .saturating_add(1);
        let want = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(exceeded_error(Limit::DecompressedBytes));
        }
        if let Some(cap) = self.ratio_cap
            && self.read > cap
        {
            return Err(exceeded_error(Limit::CompressionRatio));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capped_reader_stops_one_byte_past_its_cap() {
        let limits = Limits {
            max_decompressed_bytes: 10,
            ..Limits::default()
        };
        let mut r = Capped::new(&[7u8; 100][..], &limits, None);
        let mut buf = vec![0u8; 64];
        let e = r.read(&mut buf).unwrap_err();
        assert_eq!(exceeded(&e), Some((Limit::DecompressedBytes, None)));
        assert_eq!(r.read, 11, "one byte past the cap, never more");
        let mut r = Capped::new(&[7u8; 10][..], &limits, None);
        assert_eq!(std::io::copy(&mut r, &mut std::io::sink()).unwrap(), 10);
        // A compressed source past its ratio (above the floor).
        let data = vec![0u8; (RATIO_FLOOR + 10) as usize];
        let mut r = Capped::new(&data[..], &Limits::default(), Some(1));
        let e = std::io::copy(&mut r, &mut std::io::sink()).unwrap_err();
        assert_eq!(exceeded(&e), Some((Limit::CompressionRatio, None)));
        let mut r = Capped::new(&data[..], &Limits::default(), Some(1 << 20));
        assert_eq!(
            std::io::copy(&mut r, &mut std::io::sink()).unwrap(),
            data.len() as u64
        );
    }
}
