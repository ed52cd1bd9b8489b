//! The reading of drops: encodings, separators, line numbers, limits, workbooks.

use super::chunks::ChunkParser;
use super::*;

type Rows = Vec<(u64, Vec<String>)>;

fn read_all(path: &Path, format: DropFormat) -> (Vec<String>, Detected, Rows) {
    let (header, detected, mut records) = Records::open(path, format, &Limits::default()).unwrap();
    let mut rows = vec![];
    let mut row = vec![];
    while let Some(line) = records.next_row(&mut row).unwrap() {
        rows.push((line, row.clone()));
    }
    (header, detected, rows)
}

/// Writes `bytes` as a CSV drop in a fresh folder and reads it all back.
fn read_csv(bytes: impl AsRef<[u8]>) -> (Vec<String>, Detected, Rows) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x_20250101.csv");
    std::fs::write(&path, bytes).unwrap();
    read_all(&path, DropFormat::Csv)
}

#[test]
fn windows_1252_with_semicolons_and_quoted_line_breaks() {
    let text =
        "Identifiant;Événement;Adresse\r\n1;rdv;\"Bât. B\r\n12 rue\"\r\n2;diagnostic;Élancourt\r\n";
    let (header, detected, rows) = read_csv(encoding_rs::WINDOWS_1252.encode(text).0);
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
    let (_, _, rows) = read_csv("id,adresse\n1,\"a\nb\"\n2,c\n");
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 4]);
}

#[test]
fn utf8_with_bom_and_commas_and_gzip_tabs() {
    let (header, detected, rows) = read_csv("\u{feff}\"id\",\"évènement\"\n\"a\",\"rdv\"\n");
    assert_eq!(header, ["id", "évènement"]);
    assert_eq!(
        detected,
        Detected {
            encodage: "UTF-8 (BOM)",
            separateur: Some(',')
        }
    );
    assert_eq!(rows.len(), 1);

    let dir = tempfile::tempdir().unwrap();
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
    let mut bytes = b"id;nom\n".to_vec();
    for i in 0..200_000 {
        bytes.extend_from_slice(format!("{i};abcdef\n").as_bytes());
    }
    bytes.extend_from_slice(b"x;H\xe9l\xe8ne\n");
    let (_, detected, rows) = read_csv(&bytes);
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

fn open_err(path: &Path, format: DropFormat, limits: &Limits) -> Error {
    match Records::open(path, format, limits) {
        Err(e) => e,
        Ok((_, _, mut records)) => {
            let mut row = vec![];
            loop {
                match records.next_row(&mut row) {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("{}: read to the end without error", path.display()),
                    Err(e) => return e,
                }
            }
        }
    }
}

/// Issue 13: line numbers drifted with mixed line endings (CRLF header and LF body +1, the
/// reverse -1, CR-only files all « ligne 1 »).
#[test]
fn issue_13_line_numbers_are_exact_for_every_mix_of_line_endings() {
    let dir = tempfile::tempdir().unwrap();
    let endings = ["\n", "\r\n", "\r"];
    let mut cases = 0;
    for header_end in endings {
        for body in 0..4 {
            for quoted_end in endings {
                // body 0..3: every row ends the same; 3: the three endings in turn.
                let end = |i: usize| {
                    if body < 3 {
                        endings[body]
                    } else {
                        endings[i % 3]
                    }
                };
                let mut text = format!("id;adresse;evenement{header_end}");
                let mut line = 2u64;
                let mut expected = vec![];
                for i in 0..12usize {
                    if i == 5 {
                        // A blank line is not a row but is a line.
                        text.push_str(end(i));
                        line += 1;
                    }
                    expected.push(line);
                    if i % 4 == 1 {
                        text.push_str(&format!("{i};\"bat{quoted_end}rue\";rdv{}", end(i)));
                        line += 2;
                    } else {
                        text.push_str(&format!("{i};rue;rdv{}", end(i)));
                        line += 1;
                    }
                }
                // The last row without a line end.
                expected.push(line);
                text.push_str("99;fin;rdv");
                let path = dir.path().join(format!("x{cases}_20250101.csv"));
                std::fs::write(&path, &text).unwrap();
                let (header, _, rows) = read_all(&path, DropFormat::Csv);
                assert_eq!(header, ["id", "adresse", "evenement"], "{text:?}");
                let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
                assert_eq!(lines, expected, "{text:?}");
                assert_eq!(rows[1].1[1], format!("bat{quoted_end}rue"));
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 36);
}

/// Issue 13: a UTF-16 file was told « colonnes obligatoires absentes ».
#[test]
fn issue_13_utf16_is_named_as_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let text = "id_personne;date_naissance;date;evenement\r\n1;01/01/1980;01/01/2024;rdv\r\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    for (name, bytes) in [
        ("bom_le", [&[0xFF, 0xFE][..], &le].concat()),
        ("bom_be", [&[0xFE, 0xFF][..], &be].concat()),
        ("sans_bom", le.clone()),
    ] {
        let path = dir.path().join(format!("{name}_20250101.csv"));
        std::fs::write(&path, bytes).unwrap();
        let e = open_err(&path, DropFormat::Csv, &Limits::default());
        let m = e.to_string();
        assert!(matches!(e, Error::Encoding { .. }), "{name}: {m}");
        assert!(m.contains("UTF-16") && m.contains("UTF-8"), "{name}: {m}");
        assert!(!e.is_fault(), "the drop's fault, refused");
    }
}

/// Issue 13: a line, a field or a row count past its limit is refused, naming the limit
/// and the line, before the parser buffers it.
#[test]
fn issue_13_lines_fields_and_columns_past_their_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_line_bytes: 1000,
        max_field_bytes: 300,
        max_columns: 20,
        ..Limits::default()
    };
    let header = "id_personne;date_naissance;date;evenement\n";
    let ok_row = "1;01/01/1980;01/01/2024;rdv\n";
    // A long line (unquoted), at line 3.
    let long = format!("{header}{ok_row}2;{};x;rdv\n", "a".repeat(5000));
    // A quoted field spanning many short lines, starting at line 3.
    let quoted = format!(
        "{header}{ok_row}2;\"{}\";x;rdv\n",
        "abcdefghij\n".repeat(200)
    );
    // An unbalanced quote: the rest of the file is one record.
    let unbalanced = format!("{header}{ok_row}\"2;x;y;rdv\n{}", ok_row.repeat(100));
    // A field past its limit within a short enough line.
    let field = format!("{header}{ok_row}{ok_row}3;{};x;rdv\n", "b".repeat(400));
    let columns = format!("{header}{}\n", vec!["x"; 30].join(";"));
    for (name, text, limit, line) in [
        ("long", long, Limit::LineBytes, 3),
        ("quoted", quoted, Limit::LineBytes, 3),
        ("unbalanced", unbalanced, Limit::LineBytes, 3),
        ("field", field, Limit::FieldBytes, 4),
        ("columns", columns, Limit::Columns, 2),
    ] {
        for format in [DropFormat::Csv, DropFormat::CsvGz] {
            let path = dir
                .path()
                .join(format!("{name}_20250101.{}", format.extension()));
            let bytes = if format == DropFormat::CsvGz {
                let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
                std::io::Write::write_all(&mut e, text.as_bytes()).unwrap();
                e.finish().unwrap()
            } else {
                text.clone().into_bytes()
            };
            std::fs::write(&path, bytes).unwrap();
            let e = open_err(&path, format, &limits);
            let m = e.to_string();
            match &e {
                Error::Limit {
                    limit: l,
                    line: at,
                    value,
                    ..
                } => {
                    assert_eq!((*l, *at), (limit, Some(line)), "{name}: {m}");
                    assert_eq!(*value, limits.value(limit), "{name}: {m}");
                }
                other => panic!("{name}: {other}"),
            }
            assert!(
                m.contains(limit.key()) && m.contains(&format!("ligne {line}")),
                "{name}: {m}"
            );
        }
    }
    // Within the limits, the same reader reads everything.
    let path = dir.path().join("ok_20250101.csv");
    std::fs::write(&path, format!("{header}{ok_row}{ok_row}")).unwrap();
    let (_, _, mut records) = Records::open(&path, DropFormat::Csv, &limits).unwrap();
    let mut row = vec![];
    assert_eq!(records.next_row(&mut row).unwrap(), Some(2));
    assert_eq!(records.next_row(&mut row).unwrap(), Some(3));
}

/// Issue 13: English library text (« incomplete deflate stream ») reached users.
#[test]
fn issue_13_a_broken_gzip_is_told_in_french_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
    for i in 0..20_000 {
        std::io::Write::write_all(
            &mut e,
            format!("{i};01/01/1980;01/01/2024;rdv\n").as_bytes(),
        )
        .unwrap();
    }
    let bytes = e.finish().unwrap();
    let path = dir.path().join("tronque_20250101.csv.gz");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = open_err(&path, DropFormat::CsvGz, &Limits::default());
    let m = e.to_string();
    assert!(m.contains("archive gzip tronquée ou corrompue"), "{m}");
    assert!(!m.contains("deflate") && !e.is_fault(), "{m}");
    let path = dir.path().join("pas_gzip_20250101.csv.gz");
    std::fs::write(&path, "id;date\n1;2\n").unwrap();
    let m = open_err(&path, DropFormat::CsvGz, &Limits::default()).to_string();
    assert!(m.contains("archive gzip tronquée ou corrompue"), "{m}");
}

fn workbook(path: &Path, sheets: &[Vec<(u32, u16, String)>]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for cells in sheets {
        let ws = wb.add_worksheet();
        for (r, c, v) in cells {
            ws.write_string(*r, *c, v.as_str()).unwrap();
        }
    }
    wb.save(path).unwrap();
}

fn header_cells(r: u32) -> Vec<(u32, u16, String)> {
    ["id_personne", "date_naissance", "date", "evenement"]
        .iter()
        .enumerate()
        .map(|(c, v)| (r, c as u16, v.to_string()))
        .collect()
}

/// Issue 13: an empty first sheet hid the data of the second; a cell at row 1,048,576
/// recorded a million blank rows.
#[test]
fn issue_13_xlsx_reads_the_sheet_with_the_header_and_skips_blank_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("classeur_20250101.xlsx");
    let mut data = header_cells(2);
    for r in 3..6u32 {
        data.push((r, 0, format!("p{r}")));
        data.push((r, 3, "rdv".into()));
    }
    // Blank rows (spaces only) in the middle and at the very bottom of the sheet.
    data.push((7, 1, "   ".into()));
    data.push((8, 0, "p8".into()));
    data.push((1_048_575, 2, " ".into()));
    let notes = vec![(0, 0, "Export du 01/01/2025".to_string())];
    workbook(&path, &[vec![], notes, data]);
    let (header, detected, rows) = read_all(&path, DropFormat::Xlsx);
    assert_eq!(
        header,
        ["id_personne", "date_naissance", "date", "evenement"]
    );
    assert_eq!(detected.encodage, "xlsx");
    let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(lines, [4, 5, 6, 9], "blank rows are not rows");
    assert_eq!(rows[0].1, ["p3", "", "", "rdv"]);

    // No sheet with the contract's header: the first sheet with a row is read, so that
    // the missing columns are named.
    let other = dir.path().join("autre_20250101.xlsx");
    workbook(&other, &[vec![], vec![(0, 0, "Nom".to_string())]]);
    let (header, _, _) = read_all(&other, DropFormat::Xlsx);
    assert_eq!(header, ["Nom"]);
}

/// Issue 16: the reader thread hands rows on in batches; every row still comes in order,
/// with its line, across batch boundaries, and the rows read before a fault come before it.
#[test]
fn issue_16_xlsx_rows_come_in_order_across_batches_and_before_a_fault() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lots_20250101.xlsx");
    let mut data = header_cells(0);
    for r in 1..=700u32 {
        data.push((r, 0, format!("p{r}")));
        data.push((r, 3, "rdv".into()));
    }
    // Row 701 (sheet row 700) has a cell past the column limit.
    data.push((700, 12, "trop loin".into()));
    workbook(&path, &[data]);
    let limits = Limits {
        max_columns: 10,
        ..Limits::default()
    };
    let (_, _, mut records) = Records::open(&path, DropFormat::Xlsx, &limits).unwrap();
    let mut row = vec![];
    let mut lines = vec![];
    let error = loop {
        match records.next_row(&mut row) {
            Ok(Some(line)) => {
                assert_eq!(row[0], format!("p{}", line - 1), "line {line}");
                lines.push(line);
            }
            Ok(None) => panic!("read to the end without error"),
            Err(e) => break e,
        }
    };
    assert_eq!(lines, (2..=700).collect::<Vec<u64>>());
    assert!(
        matches!(
            error,
            Error::Limit {
                limit: Limit::Columns,
                line: Some(701),
                ..
            }
        ),
        "{error}"
    );
    // Within the limits, all 700 rows come, and then the end.
    let (_, _, rows) = read_all(&path, DropFormat::Xlsx);
    assert_eq!(rows.len(), 700);
    assert_eq!(rows[699].0, 701);
}

#[test]
fn issue_13_xlsx_cells_and_shared_strings_past_their_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grande_cellule_20250101.xlsx");
    let mut data = header_cells(0);
    data.push((1, 0, "x".repeat(20_000)));
    workbook(&path, &[data]);
    let limits = Limits {
        max_field_bytes: 10_000,
        ..Limits::default()
    };
    let e = open_err(&path, DropFormat::Xlsx, &limits);
    assert!(
        matches!(
            e,
            Error::Limit {
                limit: Limit::FieldBytes,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("ingest.max_field_bytes"), "{e}");
    let limits = Limits {
        max_xlsx_shared_strings_bytes: 5_000,
        ..Limits::default()
    };
    let e = open_err(&path, DropFormat::Xlsx, &limits);
    assert!(
        e.to_string()
            .contains("ingest.max_xlsx_shared_strings_bytes"),
        "{e}"
    );
    // Within the limits it is read.
    assert_eq!(read_all(&path, DropFormat::Xlsx).2.len(), 1);
    // Not a workbook: told in French.
    let fake = dir.path().join("faux_20250101.xlsx");
    std::fs::write(&fake, "id;date\n").unwrap();
    let m = open_err(&fake, DropFormat::Xlsx, &Limits::default()).to_string();
    assert!(m.contains("ce n'est pas un classeur .xlsx"), "{m}");
}

/// Hands on at most `step` bytes a read: chunks are then cut anywhere, a CR from its LF too.
struct Trickle {
    data: Vec<u8>,
    at: usize,
    step: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len() - self.at);
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A CSV's rows read chunk by chunk (chunks of at least `chunk_bytes`, `step` bytes a read),
/// up to the first error.
fn chunked(
    path: &Path,
    text: &[u8],
    limits: &Limits,
    chunk_bytes: usize,
    step: usize,
) -> (Rows, Option<String>) {
    let parser = ChunkParser {
        sep: b';',
        windows_1252: false,
        path: path.to_path_buf(),
        format: DropFormat::Csv,
        limits: *limits,
    };
    let detected = Detected {
        encodage: "UTF-8",
        separateur: Some(';'),
    };
    let stream = Box::new(Trickle {
        data: text.to_vec(),
        at: 0,
        step,
    });
    let (header, _, mut chunks) = match Chunks::start(stream, detected, parser, chunk_bytes) {
        Ok(x) => x,
        Err(e) => return (vec![], Some(e.to_string())),
    };
    let parser = chunks.parser();
    let mut rows = vec![(0, header)];
    let mut row = vec![];
    loop {
        let chunk = match chunks.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return (rows, None),
            Err(e) => return (rows, Some(e.to_string())),
        };
        let mut reader = parser.rows(&chunk);
        loop {
            match reader.next_row(&mut row) {
                Ok(Some(line)) => rows.push((line, row.clone())),
                Ok(None) => break,
                Err(e) => return (rows, Some(e.to_string())),
            }
        }
    }
}

#[test]
fn issue_16_chunks_cut_anywhere_give_the_rows_and_lines_of_a_whole_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x_20250101.csv");
    // Blank lines first, CRLF, LF, CR and mixed ends, quoted line breaks of every kind,
    // doubled quotes, a quoted separator, and no line end after the last record.
    let text = "\r\n\nid;evenement;note\r\n1;rdv;\"a\r\nb\"\r\n2;\"x\"\"y\";\"\n\"\n\r3;rdv;c\r\r\n\n\
                4;\"q;r\";\"\r\r\"\n5;;\"\"\r\n\"6\";z;\"w\r\n\r\nv\"\r\n7;rdv;\"\"\"\"\n8;fin;w";
    std::fs::write(&path, text).unwrap();
    let (header, _, rows) = read_all(&path, DropFormat::Csv);
    let mut whole = vec![(0, header)];
    whole.extend(rows);
    assert_eq!(whole.len(), 9);
    for chunk_bytes in [1, 2, 3, 5, 8, 13, 64, 1 << 20] {
        for step in [1, 2, 3, 7, 64] {
            let (rows, err) = chunked(
                &path,
                text.as_bytes(),
                &Limits::default(),
                chunk_bytes,
                step,
            );
            assert_eq!(err, None);
            assert_eq!(
                rows, whole,
                "chunks of {chunk_bytes} bytes, reads of {step}"
            );
        }
    }

    // A record past the limit through its quoted line breaks (each line is short): the
    // same error, naming the same line, after the same rows.
    let limits = Limits {
        max_line_bytes: 40,
        ..Limits::default()
    };
    let long = format!(
        "{text}\r\n9;rdv;\"{}\"\r\n10;rdv;x\r\n",
        "abcdefghi\n".repeat(6)
    );
    std::fs::write(&path, &long).unwrap();
    // A whole read may meet it while it reads the header (the parser reads ahead).
    let whole_err = match Records::open(&path, DropFormat::Csv, &limits) {
        Err(e) => e.to_string(),
        Ok((_, _, mut records)) => {
            let mut row = vec![];
            loop {
                match records.next_row(&mut row) {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("the long record is refused"),
                    Err(e) => break e.to_string(),
                }
            }
        }
    };
    let line = breaks_in(&long.as_bytes()[..long.find("9;rdv").unwrap()]) + 1;
    assert!(whole_err.contains(&format!("ligne {line} ")), "{whole_err}");
    for chunk_bytes in [1, 5, 64] {
        for step in [1, 3, 64] {
            let (rows, err) = chunked(&path, long.as_bytes(), &limits, chunk_bytes, step);
            assert_eq!(err.as_deref(), Some(whole_err.as_str()));
            assert_eq!(
                rows[..],
                whole[..rows.len()],
                "only rows of the file, in order"
            );
        }
    }
}
