//! Writing rows: CSV in its encodings and containers, or an XLSX workbook, streamed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use flate2::{Compression, GzBuilder};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use crate::variant::{FormatDate, Variante};
use crate::{Error, Result};

/// One cell of a row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Vide,
    Texte(&'a str),
    /// A number written as such in a workbook (ids in some exports), as text elsewhere.
    Nombre(&'a str),
    Date(NaiveDate),
    /// A date that cannot exist, written as text in the variant's spelling.
    DateImpossible(NaiveDate),
}

pub(crate) enum Sink {
    Csv {
        out: Box<dyn Write + Send>,
        variante: Variante,
        line: String,
        encoded: Vec<u8>,
    },
    Xlsx {
        workbook: Box<Workbook>,
        row: u32,
        date_format: Format,
        path: std::path::PathBuf,
    },
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn xlsx_err(path: &Path) -> impl Fn(rust_xlsxwriter::XlsxError) -> Error + '_ {
    move |e| Error::Xlsx {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl Sink {
    pub(crate) fn create(path: &Path, variante: Variante) -> Result<Self> {
        if variante == Variante::Xlsx {
            let mut workbook = Box::new(Workbook::new());
            let props = rust_xlsxwriter::DocProperties::new()
                .set_creation_datetime(
                    &ExcelDateTime::from_ymd(2020, 1, 1).map_err(xlsx_err(path))?,
                )
                .set_author("Copil (données synthétiques)");
            workbook.set_properties(&props);
            workbook
                .add_worksheet_with_constant_memory()
                .map_err(xlsx_err(path))?;
            return Ok(Sink::Xlsx {
                workbook,
                row: 0,
                date_format: Format::new().set_num_format("dd/mm/yyyy"),
                path: path.to_path_buf(),
            });
        }
        let file = File::create(path).map_err(io_err(path))?;
        let buffered = BufWriter::with_capacity(1 << 16, file);
        let mut out: Box<dyn Write + Send> = if variante.extension() == "csv.gz" {
            Box::new(
                GzBuilder::new()
                    .mtime(0)
                    .write(buffered, Compression::fast()),
            )
        } else {
            Box::new(buffered)
        };
        if variante.bom() {
            out.write_all(b"\xEF\xBB\xBF").map_err(io_err(path))?;
        }
        Ok(Sink::Csv {
            out,
            variante,
            line: String::with_capacity(512),
            encoded: Vec::new(),
        })
    }

    pub(crate) fn write_row(&mut self, cells: &[Cell<'_>], path: &Path) -> Result<()> {
        match self {
            Sink::Csv {
                out,
                variante,
                line,
                encoded,
            } => {
                line.clear();
                let sep = variante.separateur().expect("csv variant") as char;
                let quote_all = variante.tout_entre_guillemets();
                let dates = variante.format_date();
                let mut field = String::new();
                for (i, cell) in cells.iter().enumerate() {
                    if i > 0 {
                        line.push(sep);
                    }
                    let text: &str = match cell {
                        Cell::Vide => "",
                        Cell::Texte(s) | Cell::Nombre(s) => s,
                        Cell::Date(d) => {
                            field.clear();
                            dates.ecrire(*d, &mut field);
                            &field
                        }
                        Cell::DateImpossible(d) => {
                            field.clear();
                            dates.ecrire_impossible(*d, &mut field);
                            &field
                        }
                    };
                    push_csv_field(line, text, sep, quote_all);
                }
                line.push_str(variante.fin_de_ligne());
                let bytes: &[u8] = if variante.encodage() == "Windows-1252" {
                    let (cow, _, _) = encoding_rs::WINDOWS_1252.encode(line);
                    encoded.clear();
                    encoded.extend_from_slice(&cow);
                    encoded
                } else {
                    line.as_bytes()
                };
                out.write_all(bytes).map_err(io_err(path))
            }
            Sink::Xlsx {
                workbook,
                row,
                date_format,
                ..
            } => {
                let sheet = workbook.worksheet_from_index(0).map_err(xlsx_err(path))?;
                if *row >= 1_048_575 {
                    return Err(Error::Xlsx {
                        path: path.to_path_buf(),
                        message: "plus de 1 048 575 lignes : trop pour une feuille Excel".into(),
                    });
                }
                for (col, cell) in cells.iter().enumerate() {
                    let col = col as u16;
                    match cell {
                        Cell::Vide => {}
                        Cell::Texte(s) => {
                            sheet.write_string(*row, col, *s).map_err(xlsx_err(path))?;
                        }
                        Cell::Nombre(s) => match s.parse::<f64>() {
                            Ok(n) => {
                                sheet.write_number(*row, col, n).map_err(xlsx_err(path))?;
                            }
                            Err(_) => {
                                sheet.write_string(*row, col, *s).map_err(xlsx_err(path))?;
                            }
                        },
                        Cell::Date(d) => {
                            let dt = ExcelDateTime::from_ymd(
                                d.year() as u16,
                                d.month() as u8,
                                d.day() as u8,
                            )
                            .map_err(xlsx_err(path))?;
                            sheet
                                .write_datetime_with_format(*row, col, &dt, date_format)
                                .map_err(xlsx_err(path))?;
                        }
                        Cell::DateImpossible(d) => {
                            let mut s = String::new();
                            FormatDate::Francais.ecrire_impossible(*d, &mut s);
                            sheet.write_string(*row, col, &s).map_err(xlsx_err(path))?;
                        }
                    }
                }
                *row += 1;
                Ok(())
            }
        }
    }

    pub(crate) fn finish(self, path: &Path) -> Result<()> {
        match self {
            Sink::Csv { mut out, .. } => {
                out.flush().map_err(io_err(path))?;
                drop(out);
                Ok(())
            }
            Sink::Xlsx {
                mut workbook,
                path: p,
                ..
            } => workbook.save(&p).map_err(xlsx_err(path)),
        }
    }
}

fn push_csv_field(line: &mut String, text: &str, sep: char, quote_all: bool) {
    let needs = quote_all || text.contains([sep, '"', '\n', '\r']);
    if needs {
        line.push('"');
        for c in text.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(text);
    }
}
