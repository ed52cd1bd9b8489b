//! One drop prepared on every core (issue 16): a reader thread cuts the CSV at record
//! boundaries, workers parse, hash, validate and pseudonymise whole chunks, and the rows are
//! taken in the file's order, so that line numbers, duplicates, rejects and the Parquet files
//! are those of a read on one thread. At most a few chunks per worker are in flight: memory
//! stays bounded whatever the file's size.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel};
use std::sync::{Mutex, PoisonError};

use super::rows::{Prepared, Preparer, Sink};
use crate::Result;
use crate::source::{Chunk, Chunks};

/// Chunks read ahead per worker, beyond the one being taken.
const AHEAD_PER_WORKER: usize = 2;

/// What a worker made of a chunk: its rows, and the error that stopped it, if one did.
struct Done {
    rows: Vec<Prepared>,
    end: Option<crate::Error>,
}

/// Prepares the chunks on `workers` threads and gives their rows to `sink` in order. The
/// first error in the file's order (a limit, a broken record, a fault) stops everything.
pub(super) fn run<'a>(
    mut chunks: Chunks,
    workers: usize,
    sink: &mut Sink<'_>,
    preparer: impl Fn() -> Preparer<'a> + Sync,
) -> Result<()> {
    let parser = chunks.parser();
    let in_flight = workers * AHEAD_PER_WORKER + 1;
    // A chunk is read only with a token, given back once its rows are taken.
    let (tokens, token_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        tokens.send(()).expect("room for every token");
    }
    let (todo_tx, todo_rx) = sync_channel::<(u64, Result<Chunk>)>(workers);
    let todo_rx = Mutex::new(todo_rx);
    let (done_tx, done_rx) = channel::<(u64, Done)>();
    let (parser, preparer, todo_rx) = (&parser, &preparer, &todo_rx);
    std::thread::scope(|s| {
        s.spawn(move || {
            for index in 0.. {
                if token_rx.recv().is_err() {
                    return;
                }
                let (item, last) = match chunks.next_chunk() {
                    Ok(Some(chunk)) => (Ok(chunk), false),
                    Ok(None) => return,
                    Err(e) => (Err(e), true),
                };
                if todo_tx.send((index, item)).is_err() || last {
                    return;
                }
            }
        });
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            s.spawn(move || {
                let mut preparer = preparer();
                let mut row = Vec::new();
                loop {
                    let next = todo_rx
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .recv();
                    let Ok((index, chunk)) = next else { return };
                    let done = match chunk {
                        Err(e) => Done {
                            rows: Vec::new(),
                            end: Some(e),
                        },
                        Ok(chunk) => {
                            let mut rows = Vec::new();
                            let mut reader = parser.rows(&chunk);
                            let end = loop {
                                match reader.next_row(&mut row) {
                                    Ok(Some(line)) => rows.push(preparer.prepare(line, &row)),
                                    Ok(None) => break None,
                                    Err(e) => break Some(e),
                                }
                            };
                            Done { rows, end }
                        }
                    };
                    if done_tx.send((index, done)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);
        // Chunks come back in any order: each waits for those before it.
        let mut waiting = BTreeMap::new();
        let mut next = 0u64;
        let taken = (|| {
            while let Ok((index, done)) = done_rx.recv() {
                waiting.insert(index, done);
                while let Some(Done { rows, end }) = waiting.remove(&next) {
                    next += 1;
                    for row in rows {
                        sink.take(row)?;
                    }
                    if let Some(e) = end {
                        return Err(e);
                    }
                    let _ = tokens.send(());
                }
            }
            Ok(())
        })();
        // Stops the reader and the workers (they find their channels closed).
        drop((tokens, done_rx, waiting));
        taken
    })
}
