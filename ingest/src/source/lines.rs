//! The file's lines under the CSV parser: exact line numbers whatever the line endings, and
//! records bounded before the parser buffers them.

use std::collections::VecDeque;
use std::io::{self, Read};

use crate::limits::{Limit, Limits, exceeded_error_at};

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
    pub(super) record_line: u64,
    breaks_total: u64,
    prev_cr: bool,
    /// Offsets just past each line break the parser has not yet gone beyond.
    breaks: VecDeque<u64>,
    /// Whether `breaks` is kept (not when only the record boundaries are wanted).
    keep_breaks: bool,
    counted: u64,
    /// The last record boundary seen: the offset just past the byte that ended a record, the
    /// line of the record after it, and whether that byte was a CR.
    pub(super) boundary: (u64, u64, bool),
}

impl<R: Read> Guard<R> {
    pub(super) fn physical(inner: R, limits: &Limits) -> Self {
        Self::new(inner, limits, None)
    }

    pub(super) fn new(inner: R, limits: &Limits, delimiter: Option<u8>) -> Self {
        Self::resume(inner, limits, delimiter, 1, false)
    }

    /// A guard over a part of a file that starts at a record boundary: its first byte is on
    /// line `first_line`, just after a CR if `after_cr` (a LF there ends no new line).
    pub(super) fn resume(
        inner: R,
        limits: &Limits,
        delimiter: Option<u8>,
        first_line: u64,
        after_cr: bool,
    ) -> Self {
        let before = first_line.saturating_sub(1);
        Self {
            inner,
            max_record: limits.max_line_bytes,
            delimiter,
            state: FieldState::Start,
            offset: 0,
            record_len: 0,
            record_line: first_line,
            breaks_total: before,
            prev_cr: after_cr,
            breaks: VecDeque::new(),
            keep_breaks: true,
            counted: before,
            boundary: (0, first_line, after_cr),
        }
    }

    /// A guard that only finds record boundaries (and bounds records): the chunker's.
    pub(super) fn boundaries(inner: R, limits: &Limits, delimiter: u8) -> Self {
        Self {
            keep_breaks: false,
            ..Self::new(inner, limits, Some(delimiter))
        }
    }

    /// The line of the file at byte `end` of the stream (1-based), counting every line break
    /// before it. Calls must come with non-decreasing offsets.
    pub(super) fn line_before(&mut self, end: u64) -> u64 {
        while self.breaks.front().is_some_and(|&b| b < end) {
            self.breaks.pop_front();
            self.counted += 1;
        }
        self.counted + 1
    }

    fn scan(&mut self, bytes: &[u8]) -> io::Result<()> {
        // Kept only if the whole read is accepted: its bytes are not handed on otherwise.
        let mut boundary = self.boundary;
        let mut i = 0;
        while i < bytes.len() {
            // The run of bytes that only lengthen the record (no line break, and in CSV mode
            // nothing that changes the field's state) is skipped at once.
            let rest = &bytes[i..];
            let run = match (self.delimiter, self.state) {
                (None, _) => memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len()),
                (Some(d), FieldState::Unquoted) => unquoted_run(rest, d),
                (Some(_), FieldState::Quoted) => {
                    memchr::memchr3(b'"', b'\r', b'\n', rest).unwrap_or(rest.len())
                }
                (Some(_), FieldState::Start | FieldState::QuoteSeen) => 0,
            };
            if run > 0 {
                if let (Some(d), FieldState::Unquoted) = (self.delimiter, self.state)
                    && rest[run - 1] == d
                {
                    // The run ends on a separator: the next byte starts a field.
                    self.state = FieldState::Start;
                }
                self.prev_cr = false;
                self.record_len += run as u64;
                if self.record_len > self.max_record {
                    return Err(exceeded_error_at(Limit::LineBytes, Some(self.record_line)));
                }
                i += run;
                continue;
            }
            self.step(bytes[i], self.offset + i as u64, &mut boundary)?;
            i += 1;
        }
        self.offset += bytes.len() as u64;
        self.boundary = boundary;
        Ok(())
    }

    /// Takes in one byte, at stream offset `at`, that a run does not skip: counts a line
    /// break, follows the field's state, and ends the record at a line break outside quotes
    /// (`boundary` is then just past it) or lengthens it within the limit.
    #[inline]
    fn step(&mut self, b: u8, at: u64, boundary: &mut (u64, u64, bool)) -> io::Result<()> {
        let csv = self.delimiter.is_some();
        if b == b'\r' || (b == b'\n' && !self.prev_cr) {
            self.breaks_total += 1;
            if csv && self.keep_breaks {
                self.breaks.push_back(at + 1);
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
            *boundary = (at + 1, self.record_line, b == b'\r');
        } else {
            self.record_len += 1;
            if self.record_len > self.max_record {
                return Err(exceeded_error_at(Limit::LineBytes, Some(self.record_line)));
            }
        }
        Ok(())
    }
}

/// The bytes from the start of `rest`, in an unquoted field, that only lengthen the record:
/// separators (each starts a new field) and quotes inside a field change nothing that matters
/// here, so the run goes over whole rows, up to a line break or a quote that opens a field
/// (just after a separator). A quote first in `rest` is inside the current field (the byte
/// before it, already scanned, left the field unquoted, so it was no separator).
fn unquoted_run(rest: &[u8], delimiter: u8) -> usize {
    let mut at = 0;
    while let Some(j) = memchr::memchr3(b'"', b'\r', b'\n', &rest[at..]) {
        let j = at + j;
        if rest[j] == b'"' && (j == 0 || rest[j - 1] != delimiter) {
            at = j + 1;
            continue;
        }
        return j;
    }
    rest.len()
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n])?;
        Ok(n)
    }
}

/// Line breaks inside a field (a quoted field keeps them): CRLF, LF and CR count one each.
pub(super) fn breaks_in(field: &[u8]) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard's scan as it was before issue 16, one byte at a time (each through the same
    /// step): the reference the `memchr` runs must agree with.
    fn scan_bytewise<R: Read>(g: &mut Guard<R>, bytes: &[u8]) -> io::Result<()> {
        let mut boundary = g.boundary;
        for (i, &b) in bytes.iter().enumerate() {
            g.step(b, g.offset + i as u64, &mut boundary)?;
        }
        g.offset += bytes.len() as u64;
        g.boundary = boundary;
        Ok(())
    }

    fn same<R>(a: &Guard<R>, b: &Guard<R>) -> bool {
        (
            a.state,
            a.offset,
            a.record_len,
            a.record_line,
            a.breaks_total,
            a.prev_cr,
        ) == (
            b.state,
            b.offset,
            b.record_len,
            b.record_line,
            b.breaks_total,
            b.prev_cr,
        ) && a.breaks == b.breaks
            && a.boundary == b.boundary
    }

    /// Issue 16: the guard skips with `memchr` the bytes that only lengthen a record; on
    /// random text of quotes, separators and line breaks, read in random pieces, it keeps
    /// exactly the state, line numbers, boundaries and errors of the byte-by-byte scan.
    #[test]
    fn issue_16_memchr_runs_scan_like_the_bytewise_guard() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const ALPHABET: &[u8] = b"ab,;\"\r\n x";
        for case in 0..2_000 {
            let len = (next() % 400) as usize;
            let mut text = Vec::with_capacity(len);
            while text.len() < len {
                let b = ALPHABET[(next() % ALPHABET.len() as u64) as usize];
                // Long runs now and then, so that runs cross the reads.
                let run = if next() % 8 == 0 { next() % 60 } else { 1 };
                text.extend(std::iter::repeat_n(b, run as usize));
            }
            let limits = Limits {
                max_line_bytes: if case % 3 == 0 { 50 } else { 10_000 },
                ..Limits::default()
            };
            let delimiter = match case % 3 {
                0 => Some(b','),
                1 => Some(b';'),
                _ => None,
            };
            let mut fast = Guard::new(&[][..], &limits, delimiter);
            let mut slow = Guard::new(&[][..], &limits, delimiter);
            let mut at = 0;
            while at < text.len() {
                let piece = &text[at..(at + 1 + (next() % 64) as usize).min(text.len())];
                at += piece.len();
                let (f, s) = (fast.scan(piece), scan_bytewise(&mut slow, piece));
                match (f, s) {
                    (Ok(()), Ok(())) => assert!(same(&fast, &slow), "case {case}: {text:?}"),
                    (Err(f), Err(s)) => {
                        assert_eq!(f.to_string(), s.to_string(), "case {case}");
                        break;
                    }
                    (f, s) => panic!("case {case}: {f:?} against {s:?} on {text:?}"),
                }
            }
        }
    }
}
