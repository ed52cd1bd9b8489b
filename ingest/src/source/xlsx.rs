//! The first sheet of an XLSX workbook that carries the contract's header, checked part by
//! part before it is opened and streamed row by row by a reader thread.

use std::io::{self, BufReader, Read};
use std::path::Path;

use calamine::{DataRef, Reader};
use chrono::{Days, NaiveDate};

use super::{Detected, Records, open_file};
use crate::limits::{Limit, Limits};
use crate::validation::Layout;
use crate::{Error, Result};

fn excel_date(serial: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    (serial >= 1.0)
        .then(|| base.checked_add_days(Days::new(serial.floor() as u64)))
        .flatten()
}

/// A cell's text, made once from the reader's borrowed value (shared strings are not copied
/// twice).
fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => {
            excel_date(d.as_f64()).map_or_else(|| d.as_f64().to_string(), |d| d.to_string())
        }
        DataRef::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// Rows handed from the reader thread at once (one wake-up per batch, not per row).
const XLSX_BATCH_ROWS: usize = 256;

/// Batches read ahead of the validation in a workbook (4,096 rows).
const XLSX_BATCHES_AHEAD: usize = 16;

/// Rows with their sheet row number, in file order.
pub(super) type RowBatch = Vec<(u64, Vec<String>)>;

/// Checks a workbook's parts before the reader opens it (it loads the shared strings whole):
/// each part is decompressed as a stream and counted, within the limits on decompressed bytes,
/// compression ratio and shared strings, and no text run (a cell, a shared string) may pass
/// [`Limits::max_field_bytes`].
fn prescan_xlsx(path: &Path, limits: &Limits) -> Result<()> {
    let (file, size) = open_file(path)?;
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
            // The text runs between tags, found with `memchr`, not byte by byte.
            let mut rest = &buf[..n];
            loop {
                let (text, tag) = match memchr::memchr(b'<', rest) {
                    Some(at) => (at, true),
                    None => (rest.len(), false),
                };
                run += text as u64;
                if run > limits.max_field_bytes {
                    return Err(limit(Limit::FieldBytes));
                }
                if !tag {
                    break;
                }
                run = 0;
                rest = &rest[text + 1..];
            }
        }
    }
    Ok(())
}

type RowSender = std::sync::mpsc::SyncSender<Result<RowBatch>>;

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
        let text = cell_text(cell.get_value());
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
    let mut batch = RowBatch::with_capacity(XLSX_BATCH_ROWS);
    let read = sheet_rows(&mut wb, &sheet, path, limits, |line, row| {
        batch.push((line, row));
        batch.len() < XLSX_BATCH_ROWS
            || tx
                .send(Ok(std::mem::replace(
                    &mut batch,
                    RowBatch::with_capacity(XLSX_BATCH_ROWS),
                )))
                .is_ok()
    });
    // The rows read before an error come before it, as in a CSV.
    if !batch.is_empty() {
        let _ = tx.send(Ok(batch));
    }
    read
}

/// Opens a workbook: its header, then its rows from the reader thread.
pub(super) fn open(path: &Path, limits: &Limits) -> Result<(Vec<String>, Detected, Records)> {
    let (tx, rx) = std::sync::mpsc::sync_channel(XLSX_BATCHES_AHEAD);
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
    let mut pending = first?.into_iter();
    let Some((_, header)) = pending.next() else {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    };
    Ok((
        header,
        Detected {
            encodage: "xlsx",
            separateur: None,
        },
        Records::Xlsx { rows: rx, pending },
    ))
}
