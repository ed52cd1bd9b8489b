//! A workbook's parts besides its sheets: relationships, the workbook (sheets, date system),
//! number formats and shared strings, each decompressed against the drop's limits.

use std::cell::Cell;
use std::io::{self, BufReader, Read};
use std::path::Path;

use super::super::open_file;
use super::super::xml::{Scanner, XmlError, attr, push_text, rich_text};
use crate::limits::{Limit, Limits, exceeded, exceeded_error};
use crate::{Error, Result};

/// Sheets of a workbook considered (Excel's practical range is far below).
const MAX_SHEETS: usize = 1024;

/// Cell styles read (Excel allows 64,000 cell formats).
const MAX_STYLES: usize = 65_536;

/// Bytes of markup an element may hold beyond its text.
const MARKUP_SLACK: u64 = 64 << 10;

/// Counts the bytes decompressed from every part of a workbook against the drop's limits.
pub(super) struct Meter {
    used: Cell<u64>,
    max: u64,
    ratio_cap: u64,
}

/// One part's bytes, counted by the [`Meter`] (and against `part_max`, for the shared
/// strings).
pub(super) struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
    part: u64,
    part_max: Option<u64>,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let used = self.meter.used.get() + n as u64;
        self.meter.used.set(used);
        self.part += n as u64;
        if used > self.meter.max {
            return Err(exceeded_error(Limit::DecompressedBytes));
        }
        if used > self.meter.ratio_cap {
            return Err(exceeded_error(Limit::CompressionRatio));
        }
        if self.part_max.is_some_and(|m| self.part > m) {
            return Err(exceeded_error(Limit::SharedStrings));
        }
        Ok(n)
    }
}

/// Whether a number format shows a date or a time (its first section, outside quoted text,
/// escaped characters and brackets other than elapsed time `[h]`, `[m]`, `[s]`), as Excel
/// and calamine decide it.
pub(super) fn date_format(code: &str) -> bool {
    let (mut escaped, mut quoted, mut ampm) = (false, false, false);
    let (mut brackets, mut elapsed, mut prev) = (0u8, false, ' ');
    for c in code.chars() {
        if escaped {
            escaped = false;
        } else if matches!(c, '\\' | '_' | '*') {
            escaped = true;
        } else if quoted {
            quoted = c != '"';
        } else {
            match c {
                '"' => quoted = true,
                ';' => return false,
                '[' => brackets = brackets.saturating_add(1),
                ']' if brackets == 1 && elapsed => return true,
                ']' => brackets = brackets.saturating_sub(1),
                'a' | 'A' if !ampm && brackets == 0 => ampm = true,
                'p' | 'P' | 'm' | 'M' | '/' if ampm && brackets == 0 => return true,
                'd' | 'D' | 'm' | 'M' | 'h' | 'H' | 'y' | 'Y' | 's' | 'S'
                    if !ampm && brackets == 0 =>
                {
                    return true;
                }
                _ if elapsed && c.eq_ignore_ascii_case(&prev) => {}
                _ => elapsed = prev == '[' && matches!(c, 'h' | 'H' | 'm' | 'M' | 's' | 'S'),
            }
        }
        prev = c;
    }
    false
}

/// The built-in number formats that show a date or a time (ECMA-376, 18.8.30).
pub(super) fn builtin_date(id: u32) -> bool {
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58)
}

/// What a workbook's parts say about its sheets.
#[derive(Debug, Default)]
pub(super) struct Workbook {
    /// Worksheets in order: name and part.
    pub(super) sheets: Vec<(String, String)>,
    /// Shared strings, one after the other, and where each ends.
    pub(super) strings: String,
    pub(super) string_ends: Vec<usize>,
    /// For each cell style, whether it shows a date.
    pub(super) date_styles: Vec<bool>,
    /// Dates counted from 1904 (old Mac workbooks).
    pub(super) date1904: bool,
}

impl Workbook {
    pub(super) fn string(&self, i: usize) -> Option<&str> {
        let end = *self.string_ends.get(i)?;
        let start = if i == 0 { 0 } else { self.string_ends[i - 1] };
        Some(&self.strings[start..end])
    }
}

/// A part of the archive, being decompressed.
pub(super) type PartReader<'a> = zip::read::ZipFile<'a, BufReader<std::fs::File>>;

/// A reader's result, an error with the sheet line it was found at (when in a sheet).
pub(super) type Located<T> = std::result::Result<T, (XmlError, Option<u64>)>;

/// The workbook file being read.
pub(super) struct Archive<'p> {
    zip: zip::ZipArchive<BufReader<std::fs::File>>,
    meter: Meter,
    path: &'p Path,
    limits: Limits,
}

/// `target` of a relationship of part `from`, as a path in the archive.
pub(super) fn resolve(from: &str, target: &str) -> String {
    let joined = match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => match from.rfind('/') {
            Some(i) => format!("{}/{target}", &from[..i]),
            None => target.to_string(),
        },
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

pub(super) fn text_of(raw: &[u8]) -> String {
    let mut s = String::new();
    let _ = push_text(raw, &mut s);
    s
}

impl<'p> Archive<'p> {
    pub(super) fn open(path: &'p Path, limits: &Limits) -> Result<Self> {
        let (file, size) = open_file(path)?;
        let zip = zip::ZipArchive::new(BufReader::new(file)).map_err(|_| Error::Xlsx {
            path: path.to_path_buf(),
            message: "ce n'est pas un classeur .xlsx (archive zip illisible)".into(),
        })?;
        Ok(Archive {
            zip,
            meter: Meter {
                used: Cell::new(0),
                max: limits.max_decompressed_bytes,
                ratio_cap: limits.expansion_cap(size),
            },
            path,
            limits: *limits,
        })
    }

    fn error(&self, e: XmlError, label: &str, line: Option<u64>) -> Error {
        let limits = &self.limits;
        match e {
            XmlError::TooLong => Error::Limit {
                path: self.path.to_path_buf(),
                limit: Limit::FieldBytes,
                value: limits.max_field_bytes,
                line,
            },
            XmlError::Invalid(m) => Error::Xlsx {
                path: self.path.to_path_buf(),
                message: match line {
                    Some(l) => format!("{label} illisible à la ligne {l} (XML invalide : {m})"),
                    None => format!("{label} illisible (XML invalide : {m})"),
                },
            },
            XmlError::Io(e) => match exceeded(&e) {
                Some((limit, at)) => Error::Limit {
                    path: self.path.to_path_buf(),
                    limit,
                    value: limits.value(limit),
                    line: at.or(line),
                },
                None => Error::Xlsx {
                    path: self.path.to_path_buf(),
                    message: "archive zip corrompue ou tronquée".into(),
                },
            },
        }
    }

    /// The archive's entry for `part`, matched without regard to case as Excel does.
    fn find(&self, part: &str) -> Option<usize> {
        self.zip.index_for_name(part).or_else(|| {
            self.zip
                .file_names_raw()
                .position(|n| n.eq_ignore_ascii_case(part.as_bytes()))
        })
    }

    /// Runs `read` over a scanner of `part` (None when the archive has no such part); its
    /// errors are told with `label` and the line they carry.
    pub(super) fn with_part<T>(
        &mut self,
        part: &str,
        label: &str,
        part_max: Option<u64>,
        read: impl FnOnce(&mut Scanner<Metered<'_, PartReader<'_>>>) -> Located<T>,
    ) -> Result<Option<T>> {
        let Some(index) = self.find(part) else {
            return Ok(None);
        };
        let cap = (self.limits.max_field_bytes + MARKUP_SLACK) as usize;
        let entry = self.zip.by_index(index).map_err(|_| Error::Xlsx {
            path: self.path.to_path_buf(),
            message: "archive zip corrompue".into(),
        })?;
        let metered = Metered {
            inner: entry,
            meter: &self.meter,
            part: 0,
            part_max,
        };
        let mut scanner = Scanner::new(metered, cap);
        let out = read(&mut scanner);
        drop(scanner);
        out.map(Some)
            .map_err(|(e, line)| self.error(e, label, line))
    }

    /// The relationships of `part`: id, type, target part.
    fn relationships(&mut self, part: &str) -> Result<Vec<(String, String, String)>> {
        let rels = match part.rfind('/') {
            Some(i) => format!("{}/_rels/{}.rels", &part[..i], &part[i + 1..]),
            None => format!("_rels/{part}.rels"),
        };
        let label = format!("partie « {rels} »");
        let found = self.with_part(&rels, &label, None, |s| {
            let mut out = Vec::new();
            while let Some(t) = s.next().map_err(|e| (e, None))? {
                if t.name == b"Relationship" && !t.close {
                    let get = |n: &[u8]| attr(t.attrs, n).map(text_of).unwrap_or_default();
                    out.push((get(b"Id"), get(b"Type"), get(b"Target")));
                }
            }
            Ok(out)
        })?;
        Ok(found
            .unwrap_or_default()
            .into_iter()
            .map(|(id, kind, target)| (id, kind, resolve(part, &target)))
            .collect())
    }

    pub(super) fn workbook(&mut self) -> Result<Workbook> {
        let main = self
            .relationships("")?
            .into_iter()
            .find(|r| r.1.ends_with("/officeDocument"))
            .map_or_else(|| "xl/workbook.xml".to_string(), |r| r.2);
        let rels = self.relationships(&main)?;
        let target = |kind: &str| {
            rels.iter()
                .find(|r| r.1.ends_with(kind))
                .map(|r| r.2.clone())
        };
        let mut wb = Workbook::default();
        let mut listed: Vec<(String, String)> = Vec::new();
        let label = format!("partie « {main} »");
        let read = self.with_part(&main, &label, None, |s| {
            while let Some(t) = s.next().map_err(|e| (e, None))? {
                match t.name {
                    b"workbookPr" if !t.close => {
                        wb.date1904 = matches!(attr(t.attrs, b"date1904"), Some(b"1" | b"true"));
                    }
                    b"sheet" if !t.close && listed.len() < MAX_SHEETS => listed.push((
                        attr(t.attrs, b"name").map(text_of).unwrap_or_default(),
                        attr(t.attrs, b"id").map(text_of).unwrap_or_default(),
                    )),
                    _ => {}
                }
            }
            Ok(())
        })?;
        if read.is_none() {
            return Err(Error::Xlsx {
                path: self.path.to_path_buf(),
                message: "ce n'est pas un classeur .xlsx lisible (pas de classeur dans l'archive)"
                    .into(),
            });
        }
        // Looked up by id, not searched: a hostile workbook may list many sheets and relations.
        let worksheets: std::collections::HashMap<&str, &str> = rels
            .iter()
            .filter(|r| r.1.ends_with("/worksheet"))
            .map(|r| (r.0.as_str(), r.2.as_str()))
            .collect();
        wb.sheets = listed
            .into_iter()
            .filter_map(|(name, id)| worksheets.get(id.as_str()).map(|p| (name, p.to_string())))
            .collect();
        let styles = target("/styles").unwrap_or_else(|| "xl/styles.xml".into());
        wb.date_styles = self.styles(&styles)?;
        let strings = target("/sharedStrings").unwrap_or_else(|| "xl/sharedStrings.xml".into());
        self.shared_strings(&strings, &mut wb)?;
        Ok(wb)
    }

    /// For each cell style (`cellXfs`), whether its number format shows a date.
    fn styles(&mut self, part: &str) -> Result<Vec<bool>> {
        let label = format!("partie « {part} »");
        let found = self.with_part(part, &label, None, |s| {
            let mut custom: std::collections::HashMap<u32, bool> = Default::default();
            let mut out = Vec::new();
            let mut in_xfs = false;
            while let Some(t) = s.next().map_err(|e| (e, None))? {
                let id = || {
                    attr(t.attrs, b"numFmtId")
                        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<u32>().ok())
                };
                match t.name {
                    b"numFmt" if !t.close => {
                        if let Some(id) = id() {
                            let code = attr(t.attrs, b"formatCode")
                                .map(text_of)
                                .unwrap_or_default();
                            custom.insert(id, date_format(&code));
                        }
                    }
                    b"cellXfs" => in_xfs = !t.close && !t.empty,
                    // Past Excel's own limit of cell formats, the rest read as plain numbers.
                    b"xf" if in_xfs && !t.close && out.len() < MAX_STYLES => {
                        let date = id().is_some_and(|id| {
                            custom.get(&id).copied().unwrap_or_else(|| builtin_date(id))
                        });
                        out.push(date);
                    }
                    _ => {}
                }
            }
            Ok(out)
        })?;
        Ok(found.unwrap_or_default())
    }

    fn shared_strings(&mut self, part: &str, wb: &mut Workbook) -> Result<()> {
        let max_field = self.limits.max_field_bytes as usize;
        let part_max = Some(self.limits.max_xlsx_shared_strings_bytes);
        let (strings, ends) = (&mut wb.strings, &mut wb.string_ends);
        let label = format!("partie « {part} »");
        self.with_part(part, &label, part_max, |s| {
            let mut scratch = String::new();
            let at = |e| (e, None);
            while let Some(t) = s.next().map_err(at)? {
                if t.name != b"si" || t.close {
                    continue;
                }
                if !t.empty {
                    let start = strings.len();
                    rich_text(s.body().map_err(at)?, strings, &mut scratch).map_err(at)?;
                    if strings.len() - start > max_field {
                        return Err((XmlError::TooLong, None));
                    }
                }
                ends.push(strings.len());
            }
            Ok(())
        })?;
        Ok(())
    }
}
