//! Reading a drop's rows, whatever the export: CSV (optionally gzip-compressed) in UTF-8 with or
//! without BOM or in Windows-1252, separated by `;`, `,` or tabs, with quoted line breaks; or
//! the first sheet of an XLSX workbook. CSV is streamed: memory does not grow with the file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use chrono::{Days, NaiveDate};

use crate::{DropFormat, Error, Result};

/// What was found about a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// `UTF-8`, `UTF-8 (BOM)`, `Windows-1252` or `xlsx`.
    pub encodage: &'static str,
    /// The field separator of a CSV.
    pub separateur: Option<char>,
}

/// A source of records: the header, then each row with its line number in the file.
pub enum Records {
    /// A streamed CSV.
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        record: csv::ByteRecord,
        windows_1252: bool,
        /// The reader reports one line too few after a CRLF line end: added back here.
        crlf: u64,
        path: PathBuf,
    },
    /// A workbook's first sheet, streamed cell by cell by a reader thread, a bounded number of
    /// rows ahead (the thread owns the workbook, which the cell reader borrows).
    Xlsx {
        rows: std::sync::mpsc::Receiver<Result<(u64, Vec<String>)>>,
    },
}

fn open_stream(path: &Path, format: DropFormat) -> Result<Box<dyn Read + Send>> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let buffered = BufReader::with_capacity(1 << 20, file);
    Ok(match format {
        DropFormat::CsvGz => Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(buffered),
        )),
        _ => Box::new(buffered),
    })
}

/// Whether the whole stream is valid UTF-8 (read in chunks, never all in memory).
fn is_utf8(mut stream: impl Read, path: &Path) -> Result<bool> {
    let mut buf = vec![0u8; 1 << 20];
    let mut carry = 0usize;
    loop {
        let n = stream.read(&mut buf[carry..]).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if n == 0 {
            return Ok(carry == 0);
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
            Err(_) => return Ok(false),
        }
    }
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

/// Sends rows in order, with an empty row for each sheet row without a cell.
struct RowSender<'a> {
    tx: &'a std::sync::mpsc::SyncSender<Result<(u64, Vec<String>)>>,
    last: Option<u32>,
}

impl RowSender<'_> {
    /// Sends row `r` (0-based); false when the receiver has gone.
    fn send(&mut self, r: u32, cells: Vec<String>) -> bool {
        if let Some(last) = self.last {
            for gap in last + 1..r {
                if self.tx.send(Ok((u64::from(gap) + 1, Vec::new()))).is_err() {
                    return false;
                }
            }
        }
        self.last = Some(r);
        self.tx.send(Ok((u64::from(r) + 1, cells))).is_ok()
    }
}

/// Sends the first sheet's rows of the workbook at `path`, in order, each with its line number
/// (the sheet's row + 1), from the first used row to the last: a cell's place in a row is its
/// column (A is 0), missing cells are empty strings, and a row without any cell is empty.
/// Memory stays bounded by the channel, whatever the sheet's size.
fn stream_xlsx(
    path: &Path,
    tx: &std::sync::mpsc::SyncSender<Result<(u64, Vec<String>)>>,
) -> Result<()> {
    let err = |message: String| Error::Xlsx {
        path: path.to_path_buf(),
        message,
    };
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| err(e.to_string()))?;
    let sheet = wb
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| err("le classeur n'a aucune feuille".into()))?;
    let mut cells = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|e| err(e.to_string()))?;
    let mut out = RowSender { tx, last: None };
    // Cells come row by row, left to right.
    let mut current: Option<(u32, Vec<String>)> = None;
    while let Some(cell) = cells.next_cell().map_err(|e| err(e.to_string()))? {
        let (r, c) = cell.get_position();
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        match &mut current {
            Some((row, values)) if *row == r => {
                if values.len() < c as usize {
                    values.resize(c as usize, String::new());
                }
                values.push(text);
            }
            _ => {
                if let Some((row, values)) = current.take()
                    && !out.send(row, values)
                {
                    return Ok(());
                }
                let mut values = vec![String::new(); c as usize];
                values.push(text);
                current = Some((r, values));
            }
        }
    }
    if let Some((row, values)) = current {
        out.send(row, values);
    }
    Ok(())
}

impl Records {
    /// Opens a drop, detects its encoding and separator, and returns its header with the
    /// record source.
    pub fn open(path: &Path, format: DropFormat) -> Result<(Vec<String>, Detected, Records)> {
        if format == DropFormat::Xlsx {
            return Self::open_xlsx(path);
        }
        let utf8 = is_utf8(open_stream(path, format)?, path)?;
        let mut stream = BufReader::new(open_stream(path, format)?);
        let head = stream.fill_buf().map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bom = head.starts_with(b"\xEF\xBB\xBF");
        if bom {
            stream.consume(3);
        }
        let head = stream.fill_buf().map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let first_line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let sep = detect_separator(first_line);
        let crlf = u64::from(first_line.ends_with(b"\r"));
        let encodage = match (utf8, bom) {
            (true, true) => "UTF-8 (BOM)",
            (true, false) => "UTF-8",
            (false, _) => "Windows-1252",
        };
        let inner: Box<dyn Read + Send> = Box::new(stream);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(sep)
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_reader(inner);
        let mut record = csv::ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut record)
            .map_err(|e| Error::Csv {
                path: path.to_path_buf(),
                line: 1,
                message: e.to_string(),
            })?;
        if !has_header {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        let header = record.iter().map(|f| decode(f, !utf8)).collect();
        let records = Records::Csv {
            reader,
            record,
            windows_1252: !utf8,
            crlf,
            path: path.to_path_buf(),
        };
        let detected = Detected {
            encodage,
            separateur: Some(sep as char),
        };
        Ok((header, detected, records))
    }

    fn open_xlsx(path: &Path) -> Result<(Vec<String>, Detected, Records)> {
        let (tx, rx) = std::sync::mpsc::sync_channel(XLSX_ROWS_AHEAD);
        let owned = path.to_path_buf();
        std::thread::Builder::new()
            .name("copil-xlsx".into())
            .spawn(move || {
                if let Err(e) = stream_xlsx(&owned, &tx) {
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

    /// The next row into `out` (cleared first), with its line number; `None` at the end.
    pub fn next_row(&mut self, out: &mut Vec<String>) -> Result<Option<u64>> {
        out.clear();
        match self {
            Records::Csv {
                reader,
                record,
                windows_1252,
                crlf,
                path,
            } => {
                let more = reader.read_byte_record(record).map_err(|e| {
                    let line = e.position().map_or(0, |p| p.line());
                    Error::Csv {
                        path: path.clone(),
                        line,
                        message: e.to_string(),
                    }
                })?;
                if !more {
                    return Ok(None);
                }
                let line = record.position().map_or(0, |p| p.line()) + *crlf;
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
        // SAFETY-free fast path: ASCII is valid UTF-8.
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
        let (header, detected, mut records) = Records::open(path, format).unwrap();
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
}
