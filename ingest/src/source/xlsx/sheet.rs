//! A sheet's rows, read one cell element at a time into a [`RowBatch`], and each cell's text
//! as the sheet shows it.

use std::fmt::Write as _;
use std::io::Read;

use chrono::{Datelike, Days, NaiveDate};

use super::super::xml::{
    Body, Scanner, Token, XmlError, attr, attrs, push_text, rich_text, unescape_ooxml,
};
use super::RowBatch;
use super::parts::{Located, Workbook};
use crate::limits::{Limit, Limits};

fn excel_date(serial: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    (serial >= 1.0)
        .then(|| base.checked_add_days(Days::new(serial.floor() as u64)))
        .flatten()
}

fn push_date(d: NaiveDate, out: &mut String) {
    let (y, m, day) = (d.year(), d.month(), d.day());
    if (1000..=9999).contains(&y) {
        let _ = write!(out, "{y}-{m:02}-{day:02}");
    } else {
        let _ = write!(out, "{d}");
    }
}

/// A number as the sheet's text: whole numbers without a decimal point.
fn push_number(v: f64, out: &mut String) {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(out, "{}", v as i64);
    } else {
        let _ = write!(out, "{v}");
    }
}

/// How a cell's value is written (its `t` attribute).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Number,
    Shared,
    Inline,
    Formula,
    Bool,
    Error,
    Iso,
    Unknown,
}

fn kind(t: Option<&[u8]>) -> Kind {
    match t {
        None | Some(b"n") => Kind::Number,
        Some(b"s") => Kind::Shared,
        Some(b"inlineStr") => Kind::Inline,
        Some(b"str") => Kind::Formula,
        Some(b"b") => Kind::Bool,
        Some(b"e") => Kind::Error,
        Some(b"d") => Kind::Iso,
        Some(_) => Kind::Unknown,
    }
}

/// A cell reference's column (`A` is 0), if it has one.
pub(super) fn column(reference: &[u8]) -> Option<u64> {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .take(8);
    let mut col = 0u64;
    let mut any = false;
    for b in letters {
        col = col * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1);
        any = true;
    }
    any.then(|| col - 1)
}

/// The value of `raw` when it is only ASCII digits (at most 19: no overflow), read without a
/// UTF-8 check: the usual index, style, row number or whole number (issue 16).
fn digits(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || raw.len() > 19 {
        return None;
    }
    raw.iter().try_fold(0u64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

fn number(raw: &[u8]) -> Option<u64> {
    if let Some(n) = digits(raw) {
        return Some(n);
    }
    let s = std::str::from_utf8(raw).ok()?.trim();
    s.parse().ok()
}

/// The raw text of a cell's `<v>`, entities not resolved.
fn value_of(body: &[u8]) -> std::result::Result<Option<&[u8]>, XmlError> {
    // The usual cell: `<v>…</v>` and nothing else.
    if let Some(inner) = body
        .strip_prefix(b"<v>")
        .and_then(|b| b.strip_suffix(b"</v>"))
        && memchr::memchr(b'<', inner).is_none()
    {
        return Ok(Some(inner));
    }
    let mut start = None;
    let mut tokens = Body::new(body);
    while let Some(token) = tokens.next() {
        match token? {
            Token::Tag(t) if t.name == b"v" && !t.close && t.empty => {
                return Ok(Some(&b""[..]));
            }
            Token::Tag(t) if t.name == b"v" && !t.close => {
                start = Some(body.len() - tokens.remaining());
            }
            Token::Tag(t) if t.name == b"v" && t.close => {
                if let Some(s) = start {
                    let end = body.len() - tokens.remaining();
                    let inner = &body[s..end];
                    // The raw text between the tags, the closing tag left out.
                    let close = memchr::memrchr(b'<', inner).unwrap_or(inner.len());
                    return Ok(Some(&inner[..close]));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// A row, a row's end or a cell at the start of `held`, laid out as writers lay them out
/// (`<c r="B2" s="1" t="s"><v>7</v></c>`, inline strings `<is><t>…</t></is>`); anything
/// else goes the general way.
enum Fast<'a> {
    Row {
        len: usize,
        r: Option<&'a [u8]>,
        empty: bool,
    },
    RowEnd,
    Cell {
        len: usize,
        attrs: [Option<&'a [u8]>; 3],
        value: Raw<'a>,
    },
}

/// A cell's value as found by [`fast`].
#[derive(Clone, Copy)]
enum Raw<'a> {
    None,
    /// The text of `<v>`.
    V(&'a [u8]),
    /// The text of an inline string's one `<t>`, and whether it keeps its blanks.
    T(&'a [u8], bool),
}

const PRESERVE: &[u8] = b"<is><t xml:space=\"preserve\">";

fn fast(h: &[u8]) -> Option<Fast<'_>> {
    if h.starts_with(b"</row>") {
        return Some(Fast::RowEnd);
    }
    let (row, mut i) = if h.starts_with(b"<c ") {
        (false, 2)
    } else if h.starts_with(b"<row ") || h.starts_with(b"<row>") {
        (true, 4)
    } else {
        return None;
    };
    // `r`, `s`, `t`: double-quoted values, plain names (any prefix taken off).
    let mut found: [Option<&[u8]>; 3] = [None; 3];
    let empty = loop {
        while h.get(i) == Some(&b' ') {
            i += 1;
        }
        match *h.get(i)? {
            b'>' => {
                i += 1;
                break false;
            }
            b'/' if h.get(i + 1) == Some(&b'>') => {
                i += 2;
                break true;
            }
            _ => {}
        }
        let n = h[i..]
            .iter()
            .take(64)
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b':'))?;
        let name = &h[i..i + n];
        if h.get(i + n..i + n + 2)? != b"=\"" {
            return None;
        }
        let start = i + n + 2;
        let end = start + memchr::memchr(b'"', &h[start..])?;
        let name = name.rsplit(|b| *b == b':').next().unwrap_or(name);
        match name {
            b"r" => found[0] = Some(&h[start..end]),
            b"s" => found[1] = Some(&h[start..end]),
            b"t" => found[2] = Some(&h[start..end]),
            _ => {}
        }
        i = end + 1;
    };
    if row {
        return Some(Fast::Row {
            len: i,
            r: found[0],
            empty,
        });
    }
    if empty {
        return Some(Fast::Cell {
            len: i,
            attrs: found,
            value: Raw::None,
        });
    }
    let b = &h[i..];
    let ended = |k: usize, close: &[u8]| b.get(k..k + close.len()) == Some(close);
    let (value, len) = if let Some(rest) = b.strip_prefix(b"<v>") {
        let k = 3 + memchr::memchr(b'<', rest)?;
        ended(k, b"</v></c>").then_some((Raw::V(&b[3..k]), k + 8))?
    } else if let Some(rest) = b.strip_prefix(b"<is><t>") {
        let k = 7 + memchr::memchr(b'<', rest)?;
        ended(k, b"</t></is></c>").then_some((Raw::T(&b[7..k], false), k + 13))?
    } else if let Some(rest) = b.strip_prefix(PRESERVE) {
        let k = PRESERVE.len() + memchr::memchr(b'<', rest)?;
        ended(k, b"</t></is></c>").then_some((Raw::T(&b[PRESERVE.len()..k], true), k + 13))?
    } else if b.starts_with(b"</c>") {
        (Raw::None, 4)
    } else {
        return None;
    };
    Some(Fast::Cell {
        len: i + len,
        attrs: found,
        value,
    })
}

/// The rows of a sheet as they are built into a [`RowBatch`].
struct Builder<'w> {
    wb: &'w Workbook,
    limits: &'w Limits,
    line: u64,
    /// The row being built: where it starts, its next column, whether it has text.
    row: Option<((usize, usize), u64, bool)>,
    cell: String,
    scratch: String,
}

/// A cell's value, found either way.
#[derive(Clone, Copy)]
enum Value<'a> {
    Fast(Raw<'a>),
    Body(&'a [u8]),
}

impl Builder<'_> {
    fn open_row(&mut self, r: Option<&[u8]>, empty: bool, batch: &mut RowBatch) -> Located<()> {
        if self.row.is_some() {
            return Err((XmlError::Invalid("ligne non fermée"), Some(self.line)));
        }
        self.line = r.and_then(number).unwrap_or(self.line + 1);
        if !empty {
            self.row = Some((batch.mark(), 0, false));
        }
        Ok(())
    }

    /// Ends the row: true if it holds text (it is then in the batch).
    fn close_row(&mut self, batch: &mut RowBatch) -> bool {
        let Some((mark, _, text)) = self.row.take() else {
            return false;
        };
        if !text {
            batch.rollback(mark);
            return false;
        }
        batch
            .rows
            .push((self.line, mark.1, batch.ends.len() - mark.1));
        true
    }

    /// Whether a cell met now belongs to a row.
    fn in_row(&self) -> bool {
        self.row.is_some()
    }

    fn cell(
        &mut self,
        [reference, style, kind_attr]: [Option<&[u8]>; 3],
        value: Value<'_>,
        batch: &mut RowBatch,
    ) -> Located<()> {
        let Some((_, next_col, _)) = self.row else {
            return Ok(());
        };
        let line = self.line;
        let col = reference.and_then(column).unwrap_or(next_col);
        let style = style.and_then(number).unwrap_or(0) as usize;
        let kind = kind(kind_attr);
        if col >= self.limits.max_columns {
            return Err((
                XmlError::Io(crate::limits::exceeded_error_at(Limit::Columns, Some(line))),
                Some(line),
            ));
        }
        let (cell, scratch) = (&mut self.cell, &mut self.scratch);
        cell.clear();
        match value {
            Value::Body(body) if kind == Kind::Inline => rich_text(body, cell, scratch),
            Value::Body(body) => value_of(body).and_then(|v| match v {
                Some(raw) => value_text(raw, kind, style, self.wb, cell, scratch),
                None => Ok(()),
            }),
            Value::Fast(Raw::V(raw)) if kind != Kind::Inline => {
                value_text(raw, kind, style, self.wb, cell, scratch)
            }
            Value::Fast(Raw::T(raw, preserve)) if kind == Kind::Inline => {
                inline_text(raw, preserve, cell, scratch)
            }
            Value::Fast(_) => Ok(()),
        }
        .map_err(|e| (e, Some(line)))?;
        if cell.is_empty() {
            return Ok(());
        }
        if cell.len() as u64 > self.limits.max_field_bytes {
            return Err((XmlError::TooLong, Some(line)));
        }
        let (mark, next_col, text) = self.row.as_mut().expect("row");
        let have = (batch.ends.len() - mark.1) as u64;
        for _ in have..col {
            batch.ends.push(batch.text.len());
        }
        batch.text.push_str(cell);
        batch.ends.push(batch.text.len());
        *next_col = col.max(have) + 1;
        // Not blank: a first byte that is printable ASCII says so at once.
        *text = *text || cell.as_bytes()[0].is_ascii_graphic() || !cell.trim().is_empty();
        Ok(())
    }
}

/// Reads the cells of one sheet; `row_done` is called after each row that is not blank (no
/// cell, or only spaces) and returns false to stop.
pub(super) fn read_sheet<R: Read>(
    s: &mut Scanner<R>,
    wb: &Workbook,
    limits: &Limits,
    batch: &mut RowBatch,
    mut row_done: impl FnMut(&mut RowBatch) -> bool,
) -> Located<()> {
    let mut in_data = false;
    let mut b = Builder {
        wb,
        limits,
        line: 0,
        row: None,
        cell: String::new(),
        scratch: String::new(),
    };
    loop {
        // Most items, laid out the usual way, are read straight from the held bytes.
        if in_data {
            let line = b.line;
            let held = s.held().map_err(|e| (e, Some(line)))?;
            let blank = held.iter().take_while(|b| b.is_ascii_whitespace()).count();
            let (len, done) = match fast(&held[blank..]) {
                Some(Fast::Cell { len, attrs, value }) => {
                    b.cell(attrs, Value::Fast(value), batch)?;
                    (len, false)
                }
                Some(Fast::Row { len, r, empty }) => {
                    b.open_row(r, empty, batch)?;
                    (len, false)
                }
                Some(Fast::RowEnd) => (6, b.close_row(batch)),
                None => (0, false),
            };
            if len > 0 {
                s.advance(blank + len);
                if done && !row_done(batch) {
                    return Ok(());
                }
                continue;
            }
        }
        let Some(t) = s.next().map_err(|e| (e, in_data.then_some(b.line)))? else {
            // A sheet whose data ends without `</sheetData>` was cut short: not read as whole.
            if in_data {
                return Err((XmlError::Invalid("feuille tronquée"), Some(b.line)));
            }
            break;
        };
        match t.name {
            b"sheetData" if t.close => break,
            b"sheetData" => in_data = !t.empty,
            b"row" if in_data && !t.close => {
                let (r, empty) = (attr(t.attrs, b"r"), t.empty);
                b.open_row(r, empty, batch)?;
            }
            b"row" if in_data => {
                let complete = b.close_row(batch);
                if complete && !row_done(batch) {
                    return Ok(());
                }
            }
            b"c" if in_data && !t.close && b.in_row() => {
                let mut found: [Option<&[u8]>; 3] = [None; 3];
                for (k, v) in attrs(t.attrs) {
                    match k {
                        b"r" => found[0] = Some(v),
                        b"s" => found[1] = Some(v),
                        b"t" => found[2] = Some(v),
                        _ => {}
                    }
                }
                // The attributes are copied out: reading the body may move the held bytes.
                let mut copies: [Option<Vec<u8>>; 3] = [None, None, None];
                for (c, f) in copies.iter_mut().zip(found) {
                    *c = f.map(<[u8]>::to_vec);
                }
                let empty = t.empty;
                let attrs = [
                    copies[0].as_deref(),
                    copies[1].as_deref(),
                    copies[2].as_deref(),
                ];
                if empty {
                    b.cell(attrs, Value::Fast(Raw::None), batch)?;
                    continue;
                }
                let line = b.line;
                let body = s.body().map_err(|e| (e, Some(line)))?;
                b.cell(attrs, Value::Body(body), batch)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// `raw` as text: itself when it holds no entity nor CR (no copy), else resolved into
/// `scratch`.
fn resolved<'a>(raw: &'a [u8], scratch: &'a mut String) -> std::result::Result<&'a str, XmlError> {
    if memchr::memchr2(b'&', b'\r', raw).is_none() {
        return std::str::from_utf8(raw).map_err(|_| XmlError::Invalid("texte hors UTF-8"));
    }
    scratch.clear();
    push_text(raw, scratch)?;
    Ok(scratch.as_str())
}

/// An inline string's one `<t>` (see [`rich_text`]).
fn inline_text(
    raw: &[u8],
    preserve: bool,
    out: &mut String,
    scratch: &mut String,
) -> std::result::Result<(), XmlError> {
    let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let text = resolved(raw, scratch)?;
    let edges =
        text.as_bytes().first().is_some_and(blank) || text.as_bytes().last().is_some_and(blank);
    let text = if preserve || !edges {
        text
    } else {
        text.trim_matches([' ', '\t', '\r', '\n'])
    };
    out.push_str(&unescape_ooxml(text));
    Ok(())
}

/// A date cell's serial number as the date it shows.
fn push_serial(v: f64, wb: &Workbook, out: &mut String) {
    let serial = if wb.date1904 { v + 1462.0 } else { v };
    match excel_date(serial) {
        Some(d) => push_date(d, out),
        None => {
            let _ = write!(out, "{v}");
        }
    }
}

/// The usual cells written straight from their bytes, the same text as [`value_text`]'s general
/// way gives: a shared-string index, a whole number, a date's whole serial. False when the
/// value is anything else (signs, blanks, entities, decimals…), left to the general way.
fn digit_cell(
    raw: &[u8],
    kind: Kind,
    style: usize,
    wb: &Workbook,
    out: &mut String,
) -> std::result::Result<bool, XmlError> {
    let unsigned = raw.strip_prefix(b"-").unwrap_or(raw);
    let Some(n) = digits(unsigned) else {
        return Ok(false);
    };
    let negative = unsigned.len() < raw.len();
    match kind {
        Kind::Shared if !negative => {
            let s = usize::try_from(n)
                .ok()
                .and_then(|i| wb.string(i))
                .ok_or(XmlError::Invalid("texte partagé inconnu"))?;
            out.push_str(s);
        }
        Kind::Number if wb.date_styles.get(style).copied().unwrap_or(false) => {
            let v = n as f64;
            push_serial(if negative { -v } else { v }, wb, out);
        }
        Kind::Number if unsigned.len() <= 15 && (unsigned[0] != b'0' || raw.len() == 1) => {
            out.extend(raw.iter().map(|&b| char::from(b)));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The text of a cell's `<v>`, by the cell's kind and style.
fn value_text(
    raw: &[u8],
    kind: Kind,
    style: usize,
    wb: &Workbook,
    out: &mut String,
    scratch: &mut String,
) -> std::result::Result<(), XmlError> {
    if digit_cell(raw, kind, style, wb, out)? {
        return Ok(());
    }
    let text = resolved(raw, scratch)?;
    if text.is_empty() {
        return Ok(());
    }
    match kind {
        Kind::Shared => {
            let s = number(text.as_bytes())
                .and_then(|i| wb.string(i as usize))
                .ok_or(XmlError::Invalid("texte partagé inconnu"))?;
            out.push_str(s);
        }
        Kind::Number if wb.date_styles.get(style).copied().unwrap_or(false) => {
            let v: f64 = text
                .trim()
                .parse()
                .map_err(|_| XmlError::Invalid("nombre illisible"))?;
            push_serial(v, wb, out);
        }
        Kind::Number => {
            let b = text.as_bytes();
            let digits = b.strip_prefix(b"-").unwrap_or(b);
            if !digits.is_empty()
                && digits.len() <= 15
                && digits.iter().all(u8::is_ascii_digit)
                && (digits[0] != b'0' || b.len() == 1)
            {
                out.push_str(text);
            } else {
                // Not a number: kept as text, for the validation to name.
                match text.trim().parse::<f64>() {
                    Ok(v) => push_number(v, out),
                    Err(_) => out.push_str(text),
                }
            }
        }
        Kind::Bool => match text.trim() {
            "0" => out.push_str("false"),
            "1" => out.push_str("true"),
            t if t.eq_ignore_ascii_case("false") => out.push_str("false"),
            t if t.eq_ignore_ascii_case("true") => out.push_str("true"),
            _ => return Err(XmlError::Invalid("booléen illisible")),
        },
        Kind::Error => out.push_str(match text {
            "#DIV/0!" => "#Div0",
            "#N/A" => "#NA",
            "#NAME?" => "#Name",
            "#NULL!" => "#Null",
            "#NUM!" => "#Num",
            "#REF!" => "#Ref",
            "#VALUE!" => "#Value",
            "#GETTING_DATA" => "#GettingData",
            other => other,
        }),
        Kind::Iso => out.push_str(text.get(..10).unwrap_or(text)),
        Kind::Formula => out.push_str(&unescape_ooxml(text)),
        Kind::Inline => {}
        Kind::Unknown => return Err(XmlError::Invalid("type de cellule inconnu")),
    }
    Ok(())
}
