//! The first sheet of an XLSX workbook that carries the contract's header, streamed row by
//! row by a reader thread. The parts are read directly (issue 16: through calamine the reader
//! thread managed 68,000 rows a second): the workbook, its relationships, its number formats
//! and its shared strings, then the sheet's XML as it is decompressed, one cell element at a
//! time. Every byte decompressed counts against the drop's limits, the shared strings against
//! their own, and no cell, shared string or tag may pass [`Limits::max_field_bytes`]: memory
//! stays bounded whatever the archive holds.

use std::path::Path;

use super::{Detected, Records};
use crate::limits::Limits;
use crate::validation::Layout;
use crate::{Error, Result};

mod parts;
mod sheet;

use parts::Archive;
use sheet::read_sheet;

/// Rows handed from the reader thread at once (one wake-up per batch, not per row).
const XLSX_BATCH_ROWS: usize = 1024;

/// A batch is handed on early past this many bytes of text.
const XLSX_BATCH_BYTES: usize = 4 << 20;

/// Batches read ahead of the validation in a workbook.
const XLSX_BATCHES_AHEAD: usize = 8;

/// Rows read by the reader thread: their cells' text in one buffer (no allocation per cell).
#[derive(Debug, Default)]
pub struct RowBatch {
    pub(super) text: String,
    /// End of each cell in `text`.
    pub(super) ends: Vec<usize>,
    /// Each row: its line (the sheet's row number), its first cell in `ends`, its cells.
    pub(super) rows: Vec<(u64, usize, usize)>,
}

impl RowBatch {
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn cell(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// Row `k` into `out`, reusing its strings; returns its line.
    pub(super) fn row_into(&self, k: usize, out: &mut Vec<String>) -> u64 {
        let (line, first, n) = self.rows[k];
        out.truncate(n);
        for j in 0..n {
            let s = self.cell(first + j);
            match out.get_mut(j) {
                Some(o) => {
                    o.clear();
                    o.push_str(s);
                }
                None => out.push(s.to_owned()),
            }
        }
        line
    }

    /// Row `k`'s cells into `out` (emptied first), lent from the batch; returns its line.
    pub(super) fn row_cells<'a>(&'a self, k: usize, out: &mut Vec<&'a str>) -> u64 {
        let (line, first, n) = self.rows[k];
        out.clear();
        out.extend((first..first + n).map(|i| self.cell(i)));
        line
    }

    /// Where the row being built starts.
    pub(super) fn mark(&self) -> (usize, usize) {
        (self.text.len(), self.ends.len())
    }

    /// Drops the row being built.
    pub(super) fn rollback(&mut self, (text, ends): (usize, usize)) {
        self.text.truncate(text);
        self.ends.truncate(ends);
    }
}

type RowSender = std::sync::mpsc::SyncSender<Result<RowBatch>>;

/// Sends the rows of the workbook's first sheet whose first row is the contract's header (or,
/// if none is, of the first sheet with a row, so that the missing columns are reported).
/// Memory stays bounded by the channel and the limits, whatever the sheet's size.
fn stream_xlsx(path: &Path, limits: &Limits, tx: &RowSender) -> Result<()> {
    let mut archive = Archive::open(path, limits)?;
    let wb = archive.workbook()?;
    if wb.sheets.is_empty() {
        return Err(Error::Xlsx {
            path: path.to_path_buf(),
            message: "le classeur n'a aucune feuille".into(),
        });
    }
    let sheet = |archive: &mut Archive<'_>,
                 (name, part): &(String, String),
                 batch: &mut RowBatch,
                 row_done: &mut dyn FnMut(&mut RowBatch) -> bool|
     -> Result<()> {
        let label = format!("feuille « {name} »");
        let read = archive.with_part(part, &label, None, |s| {
            read_sheet(s, &wb, limits, batch, &mut *row_done)
        })?;
        read.ok_or_else(|| Error::Xlsx {
            path: path.to_path_buf(),
            message: format!("{label} absente de l'archive"),
        })
    };
    let mut chosen = None;
    let mut fallback = None;
    for s in &wb.sheets {
        let mut first = RowBatch::default();
        sheet(&mut archive, s, &mut first, &mut |_: &mut RowBatch| false)?;
        let mut header = Vec::new();
        if first.is_empty() {
            continue;
        }
        first.row_into(0, &mut header);
        if Layout::from_header(&header).is_ok() {
            chosen = Some(s.clone());
            break;
        }
        if fallback.is_none() {
            fallback = Some(s.clone());
        }
    }
    let Some(s) = chosen.or(fallback) else {
        return Ok(());
    };
    let mut batch = RowBatch::default();
    let mut open = true;
    let read = sheet(&mut archive, &s, &mut batch, &mut |b: &mut RowBatch| {
        if b.rows.len() < XLSX_BATCH_ROWS && b.text.len() < XLSX_BATCH_BYTES {
            return true;
        }
        open = tx.send(Ok(std::mem::take(b))).is_ok();
        open
    });
    // The rows read before an error come before it, as in a CSV.
    if !batch.is_empty() && open {
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
    let first = first?;
    if first.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut header = Vec::new();
    first.row_into(0, &mut header);
    Ok((
        header,
        Detected {
            encodage: "xlsx",
            separateur: None,
        },
        Records::Xlsx {
            rows: rx,
            pending: first,
            next: 1,
        },
    ))
}

#[cfg(test)]
mod tests;
