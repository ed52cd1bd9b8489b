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

fn number(raw: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(raw).ok()?.trim();
    s.parse().ok()
}

/// The raw text of a cell's `<v>`, and whether it needs entities resolved.
fn value_of(body: &[u8]) -> std::result::Result<Option<(&[u8], bool)>, XmlError> {
    // The usual cell: `<v>…</v>` and nothing else.
    if let Some(inner) = body
        .strip_prefix(b"<v>")
        .and_then(|b| b.strip_suffix(b"</v>"))
        && memchr::memchr(b'<', inner).is_none()
    {
        return Ok(Some((inner, memchr::memchr2(b'&', b'\r', inner).is_some())));
    }
    let mut start = None;
    let mut tokens = Body::new(body);
    while let Some(token) = tokens.next() {
        match token? {
            Token::Tag(t) if t.name == b"v" && !t.close && t.empty => {
                return Ok(Some((&b""[..], false)));
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
                    return Ok(Some((&inner[..close], true)));
                }
            }
            _ => {}
        }
    }
    Ok(None)
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
    let mut line = 0u64;
    // The row being built: where it starts, its next column, whether it has text.
    let mut row: Option<((usize, usize), u64, bool)> = None;
    let mut cell = String::new();
    let mut scratch = String::new();
    let at = |line: u64| move |e: XmlError| (e, Some(line));
    loop {
        let Some(t) = s.next().map_err(|e| (e, in_data.then_some(line)))? else {
            break;
        };
        match t.name {
            b"sheetData" if t.close => break,
            b"sheetData" => in_data = !t.empty,
            b"row" if in_data && !t.close => {
                if row.is_some() {
                    return Err((XmlError::Invalid("ligne non fermée"), Some(line)));
                }
                line = attr(t.attrs, b"r").and_then(number).unwrap_or(line + 1);
                row = Some((batch.mark(), 0, false));
                if t.empty {
                    let (mark, _, _) = row.take().expect("row");
                    batch.rollback(mark);
                }
            }
            b"row" if in_data => {
                let Some((mark, _, text)) = row.take() else {
                    continue;
                };
                if !text {
                    batch.rollback(mark);
                    continue;
                }
                batch.rows.push((line, mark.1, batch.ends.len() - mark.1));
                if !row_done(batch) {
                    return Ok(());
                }
            }
            b"c" if in_data && !t.close => {
                let Some((_, next_col, _)) = row else {
                    continue;
                };
                let (mut reference, mut style, mut kind_attr) = (None, None, None);
                for (k, v) in attrs(t.attrs) {
                    match k {
                        b"r" => reference = Some(v),
                        b"s" => style = Some(v),
                        b"t" => kind_attr = Some(v),
                        _ => {}
                    }
                }
                let col = reference.and_then(column).unwrap_or(next_col);
                let style = style.and_then(number).unwrap_or(0) as usize;
                let kind = kind(kind_attr);
                let empty = t.empty;
                if col >= limits.max_columns {
                    return Err((
                        XmlError::Io(crate::limits::exceeded_error_at(Limit::Columns, Some(line))),
                        Some(line),
                    ));
                }
                if empty {
                    continue;
                }
                cell.clear();
                let body = s.body().map_err(at(line))?;
                cell_text(body, kind, style, wb, &mut cell, &mut scratch).map_err(at(line))?;
                if cell.is_empty() {
                    continue;
                }
                if cell.len() as u64 > limits.max_field_bytes {
                    return Err((XmlError::TooLong, Some(line)));
                }
                let (mark, next_col, text) = row.as_mut().expect("row");
                let have = (batch.ends.len() - mark.1) as u64;
                for _ in have..col {
                    batch.ends.push(batch.text.len());
                }
                batch.text.push_str(&cell);
                batch.ends.push(batch.text.len());
                *next_col = col.max(have) + 1;
                *text = *text || !cell.trim().is_empty();
            }
            _ => {}
        }
    }
    Ok(())
}

/// A cell's text, as the sheet shows it: shared and inline strings, numbers (whole ones
/// without a decimal point), dates (a number in a date format, as `AAAA-MM-JJ`), booleans,
/// errors.
fn cell_text(
    body: &[u8],
    kind: Kind,
    style: usize,
    wb: &Workbook,
    out: &mut String,
    scratch: &mut String,
) -> std::result::Result<(), XmlError> {
    if kind == Kind::Inline {
        return rich_text(body, out, scratch);
    }
    let Some((raw, escaped)) = value_of(body)? else {
        return Ok(());
    };
    let text: &str = if escaped {
        scratch.clear();
        push_text(raw, scratch)?;
        scratch.as_str()
    } else {
        std::str::from_utf8(raw).map_err(|_| XmlError::Invalid("texte hors UTF-8"))?
    };
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
            let serial = if wb.date1904 { v + 1462.0 } else { v };
            match excel_date(serial) {
                Some(d) => push_date(d, out),
                None => {
                    let _ = write!(out, "{v}");
                }
            }
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
