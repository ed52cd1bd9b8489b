//! A CSV's text: its encoding (UTF-8, with or without BOM, or Windows-1252; UTF-16 refused)
//! and its separator.

use std::io::{self, Read};
use std::path::Path;

use super::lines::Guard;
use super::{open_stream, read_error};
use crate::limits::Limits;
use crate::{DropFormat, Error, Result};

/// Whether the bytes look like UTF-16 (or UTF-32): a BOM, or text where every other byte is
/// NUL (ASCII in UTF-16 without a BOM). Other NUL bytes (a file of zeros) are not taken for
/// UTF-16: they are left to the other checks.
fn utf16(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\xFF\xFE\0\0") || head.starts_with(b"\0\0\xFE\xFF") {
        return Some("UTF-32");
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Some("UTF-16");
    }
    let (mut pairs, mut even, mut odd) = (0usize, 0usize, 0usize);
    for p in head.chunks_exact(2).take(256) {
        pairs += 1;
        even += usize::from(p[0] == 0 && p[1] != 0);
        odd += usize::from(p[0] != 0 && p[1] == 0);
    }
    (pairs >= 2 && (even * 10 >= pairs * 9 || odd * 10 >= pairs * 9)).then_some("UTF-16 (sans BOM)")
}

/// Whether the whole stream is valid UTF-8 (read in chunks, never all in memory); refuses
/// UTF-16 text and lines past [`Limits::max_line_bytes`] on the way.
pub(super) fn is_utf8(path: &Path, format: DropFormat, limits: &Limits) -> Result<bool> {
    let mut stream = Guard::physical(open_stream(path, format, limits)?, limits);
    let mut buf = vec![0u8; 1 << 20];
    let mut carry = 0usize;
    let mut first = true;
    let mut utf8 = true;
    loop {
        let n = match stream.read(&mut buf[carry..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(path, format, e, None)),
        };
        if first && n > 0 {
            first = false;
            if let Some(found) = utf16(&buf[..n.min(4096)]) {
                return Err(Error::Encoding {
                    path: path.to_path_buf(),
                    message: format!(
                        "fichier encodé en {found} : Copil lit l'UTF-8 et le Windows-1252 ; enregistrez l'export en « CSV UTF-8 » ou en « CSV (séparateur : point-virgule) »"
                    ),
                });
            }
        }
        if n == 0 {
            return Ok(utf8 && carry == 0);
        }
        if !utf8 {
            // Keep reading: the limits still apply to the rest of the file.
            continue;
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
            Err(_) => {
                utf8 = false;
                carry = 0;
            }
        }
    }
}

/// The separator of a header line: the most frequent of `;`, `,` and tab outside quotes.
pub(super) fn detect_separator(line: &[u8]) -> u8 {
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

/// A field's text, from UTF-8 or Windows-1252, into `out` (cleared first).
pub(super) fn decode_into(field: &[u8], windows_1252: bool, out: &mut String) {
    out.clear();
    if let Ok(text) = std::str::from_utf8(field)
        && (!windows_1252 || text.is_ascii())
    {
        out.push_str(text);
    } else if windows_1252 {
        out.push_str(
            &encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(field)
                .0,
        );
    } else {
        out.push_str(&String::from_utf8_lossy(field));
    }
}

/// A record's fields as text into `out`, reusing its strings: the whole record is checked as
/// UTF-8 once (the usual case: every field is then a slice of it), else field by field.
pub(super) fn decode_record(record: &csv::ByteRecord, windows_1252: bool, out: &mut Vec<String>) {
    out.truncate(record.len());
    out.resize_with(record.len(), String::new);
    let all = std::str::from_utf8(record.as_slice())
        .ok()
        .filter(|text| !windows_1252 || text.is_ascii());
    let mut start = 0;
    for (field, cell) in record.iter().zip(out.iter_mut()) {
        let end = start + field.len();
        // `get` is `None` off a character boundary: that field is decoded on its own.
        match all.and_then(|text| text.get(start..end)) {
            Some(text) => {
                cell.clear();
                cell.push_str(text);
            }
            None => decode_into(field, windows_1252, cell),
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 16: a record checked as UTF-8 at once gives, field by field, the text of each
    /// field decoded on its own (accents, Windows-1252 bytes, a character split between two
    /// fields, invalid bytes), and no cell of a longer row read before survives.
    #[test]
    fn issue_16_a_record_decoded_at_once_gives_each_field_decoded_alone() {
        let records: [&[&[u8]]; 6] = [
            &[b"12", b"rdv", b"2024-02-01"],
            &["Honoré".as_bytes(), "Marié(e)".as_bytes(), b""],
            &[b"Honor\xe9", b"\x80 euros", b"ok"],
            // A character cut by the separator: valid as a whole record, not as fields.
            &[b"a\xc3", b"\xa9b"],
            &[b"\xff\xfe", b"x"],
            &[],
        ];
        for windows_1252 in [false, true] {
            let mut out = vec!["reste".to_string(); 8];
            for fields in records {
                let record = csv::ByteRecord::from(fields.to_vec());
                decode_record(&record, windows_1252, &mut out);
                let alone: Vec<String> = fields
                    .iter()
                    .map(|f| {
                        let mut s = String::from("vieux");
                        decode_into(f, windows_1252, &mut s);
                        s
                    })
                    .collect();
                assert_eq!(out, alone, "{fields:?} (windows-1252: {windows_1252})");
            }
        }
        let mut s = String::new();
        decode_into(b"Honor\xe9", true, &mut s);
        assert_eq!(s, "Honoré");
        decode_into("Honoré".as_bytes(), false, &mut s);
        assert_eq!(s, "Honoré");
        decode_into(b"a\xc3", false, &mut s);
        assert_eq!(s, "a\u{fffd}");
    }
}
