//! The workbook reader: number formats, part paths, and agreement with calamine.

use std::path::Path;

use super::parts::{builtin_date, date_format, resolve};
use super::sheet::column;
use crate::DropFormat;
use crate::limits::Limits;
use crate::source::Records;

type Rows = Vec<(u64, Vec<String>)>;

fn read_all(path: &Path) -> Rows {
    let (header, _, mut records) =
        Records::open(path, DropFormat::Xlsx, &Limits::default()).unwrap();
    let mut rows = vec![(1, header)];
    let mut row = vec![];
    while let Some(line) = records.next_row(&mut row).unwrap() {
        rows.push((line, row.clone()));
    }
    rows
}

#[test]
fn issue_16_number_formats_that_show_dates() {
    for code in [
        "dd/mm/yyyy",
        "yyyy-mm-dd",
        "[$-40C]d mmmm yyyy",
        "h:mm AM/PM",
        "[h]:mm:ss",
        "mm:ss",
    ] {
        assert!(date_format(code), "{code}");
    }
    for code in [
        "0.00",
        "#,##0",
        "\"jours\" 0",
        "[Red]0",
        "0;[Red]-0",
        "\\d0",
        "General",
        "@",
    ] {
        assert!(!date_format(code), "{code}");
    }
    assert!(builtin_date(14) && builtin_date(46) && !builtin_date(0) && !builtin_date(49));
}

#[test]
fn issue_16_relationship_targets_resolve_to_archive_paths() {
    assert_eq!(
        resolve("xl/workbook.xml", "worksheets/sheet1.xml"),
        "xl/worksheets/sheet1.xml"
    );
    assert_eq!(
        resolve("xl/workbook.xml", "/xl/worksheets/s.xml"),
        "xl/worksheets/s.xml"
    );
    assert_eq!(
        resolve("xl/workbook.xml", "../docProps/app.xml"),
        "docProps/app.xml"
    );
    assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
    assert_eq!(column(b"A1"), Some(0));
    assert_eq!(column(b"AB12"), Some(27));
    assert_eq!(column(b"12"), None);
}

/// What calamine (the reader before issue 16) made of a cell: the reference the workbook
/// reader must agree with.
fn calamine_text(cell: &calamine::DataRef<'_>) -> String {
    use calamine::DataRef;
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => {
            let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
            let v = d.as_f64();
            if v >= 1.0 {
                (base + chrono::Days::new(v.floor() as u64)).to_string()
            } else {
                v.to_string()
            }
        }
        DataRef::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        DataRef::Error(e) => format!("#{e:?}"),
    }
}

/// The non-blank rows of a workbook's first sheet as calamine reads them.
fn calamine_rows(path: &Path) -> Rows {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let name = wb.sheet_names()[0].clone();
    let mut cells = wb.worksheet_cells_reader(&name).unwrap();
    let mut rows: Rows = Vec::new();
    while let Some(cell) = cells.next_cell().unwrap() {
        let (r, c) = cell.get_position();
        let text = calamine_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        let line = u64::from(r) + 1;
        if rows.last().is_none_or(|l| l.0 != line) {
            rows.push((line, Vec::new()));
        }
        let values = &mut rows.last_mut().unwrap().1;
        if values.len() < c as usize {
            values.resize(c as usize, String::new());
        }
        values.push(text);
    }
    rows.retain(|r| r.1.iter().any(|v| !v.trim().is_empty()));
    rows
}

/// Issue 16: the workbook reader that replaced calamine reads every kind of cell as calamine
/// did (shared, inline and rich strings, escapes, numbers, dates, booleans, formulas, gaps),
/// in both layouts a writer uses (a shared string table, or strings inline).
#[test]
fn issue_16_the_workbook_reader_agrees_with_calamine_cell_for_cell() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let texts = [
        "id_personne",
        " espaces autour ",
        "a & b < c > d",
        "guillemets \"x\" et 'y'",
        "ligne\nsuivante",
        "retour\r\nchariot",
        "accentué é ç œ 😀",
        "_x0041_ littéral",
        "tab\tici",
        "  ",
        "0123",
        "1e5",
        "=pas une formule",
        "",
    ];
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let iso = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let money = Format::new().set_num_format("#,##0.00 €");
    let bold = Format::new().set_bold();
    for (k, inline) in [false, true].into_iter().enumerate() {
        let path = dir.path().join(format!("reference{k}_20250101.xlsx"));
        let mut wb = Workbook::new();
        let ws = if inline {
            wb.add_worksheet_with_constant_memory().unwrap()
        } else {
            wb.add_worksheet()
        };
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for r in 0..400u32 {
            for c in 0..12u16 {
                let pick = next() % 15;
                if r == 0 {
                    ws.write_string(r, c, format!("col{c}")).unwrap();
                    continue;
                }
                match pick {
                    0..=3 => {
                        ws.write_string(r, c, texts[next() % texts.len()]).unwrap();
                    }
                    4 => {
                        ws.write_number(r, c, (next() % 100_000) as f64).unwrap();
                    }
                    5 => {
                        ws.write_number(r, c, -((next() % 1000) as f64) / 7.0)
                            .unwrap();
                    }
                    6 => {
                        let d = ExcelDateTime::from_ymd(
                            1990 + (next() % 40) as u16,
                            1 + (next() % 12) as u8,
                            1 + (next() % 28) as u8,
                        )
                        .unwrap();
                        ws.write_datetime_with_format(r, c, &d, &date).unwrap();
                    }
                    7 => {
                        let d = ExcelDateTime::from_ymd(2020, 2, 29).unwrap();
                        ws.write_datetime_with_format(r, c, &d, &iso).unwrap();
                    }
                    8 => {
                        ws.write_number_with_format(r, c, 1234.5, &money).unwrap();
                    }
                    9 => {
                        ws.write_boolean(r, c, next() % 2 == 0).unwrap();
                    }
                    10 => {
                        ws.write_formula(r, c, Formula::new("=A1&\"x\"").set_result("col0x & <y>"))
                            .unwrap();
                    }
                    11 if !inline => {
                        ws.write_rich_string(
                            r,
                            c,
                            &[(&bold, "gras "), (&Format::default(), " puis &normal ")],
                        )
                        .unwrap();
                    }
                    12 => {
                        ws.write_number(r, c, 1e20).unwrap();
                    }
                    // Whole numbers at the edges of the digits-only way (issue 16).
                    13 => {
                        let edges = [
                            0.0,
                            -0.0,
                            7.0,
                            -12.0,
                            123_456_789_012_345.0,
                            1_234_567_890_123_456.0,
                        ];
                        ws.write_number(r, c, edges[next() % edges.len()]).unwrap();
                    }
                    _ => {}
                }
            }
        }
        wb.save(&path).unwrap();
        let ours = read_all(&path);
        let theirs = calamine_rows(&path);
        assert_eq!(ours.len(), theirs.len(), "inline {inline}");
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a, b, "inline {inline}");
        }
    }
}

/// Issue 16: a sheet cut short (its data never closed) is refused, not read as a shorter sheet.
#[test]
fn issue_16_a_sheet_cut_short_is_refused() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("modele_20250101.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for r in 0..50u32 {
        ws.write_string(r, 0, format!("v{r}")).unwrap();
    }
    wb.save(&model).unwrap();
    assert_eq!(read_all(&model).len(), 50);
    let cut = dir.path().join("coupe_20250101.xlsx");
    let mut source = zip::ZipArchive::new(std::fs::File::open(&model).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(&cut).unwrap());
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        if entry.name_raw() == b"xl/worksheets/sheet1.xml" {
            let mut xml = String::new();
            entry.read_to_string(&mut xml).unwrap();
            let at = xml.find("<row r=\"30\"").unwrap();
            out.start_file(
                "xl/worksheets/sheet1.xml",
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            out.write_all(&xml.as_bytes()[..at]).unwrap();
        } else {
            out.raw_copy_file(entry).unwrap();
        }
    }
    out.finish().unwrap();
    let (_, _, mut records) = Records::open(&cut, DropFormat::Xlsx, &Limits::default()).unwrap();
    let mut row = vec![];
    let mut read = 0;
    let error = loop {
        match records.next_row(&mut row) {
            Ok(Some(_)) => read += 1,
            Ok(None) => panic!("{read} rows of a cut sheet read without error"),
            Err(e) => break e,
        }
    };
    assert_eq!(read, 28, "the rows before the cut come first");
    assert!(error.to_string().contains("feuille tronquée"), "{error}");
}
