//! Exports (issue #6, part 4): indicator tables in CSV, XLSX and Parquet read back by
//! independent readers (the `csv` crate, calamine, the Parquet reader) and equal to the API's
//! values; statistical secrecy in every format; the same bytes for the same export even when
//! rebuilt; project-specific microdata pseudonyms; the XLSX row limit; manifests, dictionaries,
//! the audit log and the roles allowed.
//!
//! Here: the tables read back by independent readers, and the downloads.

mod manifests;
mod microdata;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use copil_dashboards::Role;
use copil_queries::{Niveau, RELATIF, export_pseudonym, project_key};
use copil_warehouse::{Register, Warehouse, Wave};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Float64Type, Int32Type, Int64Type,
};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::prelude::SessionContext;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::fixture::{self, Server, serve, serve_with};

/// The columns of the indicator table, in order.
const COLUMNS: [&str; 23] = [
    "indicateur",
    "titre",
    "niveau",
    "code",
    "libelle",
    "vague",
    "mois",
    "ventilation",
    "modalite",
    "valeur",
    "numerateur",
    "denominateur",
    "personnes",
    "ic95_bas",
    "ic95_haut",
    "q1",
    "q3",
    "moyenne",
    "secret",
    "provisoire",
    "territoires",
    "territoires_attendus",
    "couverture",
];

/// The figures, empty in a secret row: `valeur` to `moyenne` in [`COLUMNS`].
fn figures() -> &'static [&'static str] {
    let at = |name| COLUMNS.iter().position(|c| *c == name).unwrap();
    &COLUMNS[at("valeur")..=at("moyenne")]
}

/// A table read back: header and rows, empty cells as `None`, numbers in one spelling.
#[derive(Debug, PartialEq)]
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
}

impl Table {
    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("colonne {name} absente de {:?}", self.header))
    }

    fn get<'a>(&self, row: &'a [Option<String>], name: &str) -> Option<&'a str> {
        row[self.col(name)].as_deref()
    }

    /// The total row of (indicator, level, code, month), if any.
    fn total(
        &self,
        ind: &str,
        niveau: &str,
        code: &str,
        mois: &str,
    ) -> Option<&Vec<Option<String>>> {
        self.rows.iter().find(|r| {
            self.get(r, "indicateur") == Some(ind)
                && self.get(r, "niveau") == Some(niveau)
                && self.get(r, "code") == Some(code)
                && self.get(r, "mois") == Some(mois)
                && self.get(r, "ventilation").is_none()
        })
    }

    fn number(&self, row: &[Option<String>], name: &str) -> Option<f64> {
        self.get(row, name).map(|v| v.parse().unwrap())
    }
}

fn numeric(column: &str) -> bool {
    figures().contains(&column)
}

/// One spelling for every cell: empty is `None`, a number is Rust's shortest `f64` spelling.
fn norm(column: &str, v: Option<String>) -> Option<String> {
    let v = v.filter(|s| !s.is_empty())?;
    if numeric(column) {
        let f: f64 = v.parse().unwrap_or_else(|_| panic!("{column}: {v}"));
        Some(f.to_string())
    } else {
        Some(v)
    }
}

fn read_csv(bytes: &[u8]) -> Table {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("BOM UTF-8 en tête");
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| norm(h, Some(v.to_string())))
                .collect()
        })
        .collect();
    Table { header, rows }
}

fn read_xlsx(bytes: &[u8]) -> Table {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range("indicateurs").unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    let rows = rows
        .map(|r| {
            header
                .iter()
                .zip(r)
                .map(|(h, c)| {
                    let v = match c {
                        Data::Empty => None,
                        Data::String(s) => Some(s.clone()),
                        Data::Float(f) => Some(f.to_string()),
                        Data::Int(i) => Some(i.to_string()),
                        Data::Bool(b) => Some(b.to_string()),
                        other => panic!("{h}: cellule inattendue {other:?}"),
                    };
                    norm(h, v)
                })
                .collect()
        })
        .collect();
    Table { header, rows }
}

fn parquet_batches(bytes: &[u8]) -> Vec<RecordBatch> {
    let mut f = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut f, bytes).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A column of numbers of type `T`, as text (`None` for null).
fn primitive_texts<T: ArrowPrimitiveType>(c: &dyn Array) -> Vec<Option<String>>
where
    T::Native: ToString,
{
    c.as_primitive::<T>()
        .iter()
        .map(|v| v.map(|v| v.to_string()))
        .collect()
}

/// A column of a batch, as text (`None` for null).
fn texts(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = b.column_by_name(name).unwrap();
    match c.data_type() {
        DataType::Float64 => primitive_texts::<Float64Type>(c),
        DataType::Int64 => primitive_texts::<Int64Type>(c),
        DataType::Int32 => primitive_texts::<Int32Type>(c),
        DataType::Boolean => c
            .as_boolean()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        _ => {
            let s = cast(c, &DataType::Utf8).unwrap();
            s.as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        }
    }
}

fn read_parquet(bytes: &[u8]) -> Table {
    let batches = parquet_batches(bytes);
    let header: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut rows = Vec::new();
    for b in &batches {
        let cols: Vec<Vec<Option<String>>> = header.iter().map(|h| texts(b, h)).collect();
        for i in 0..b.num_rows() {
            rows.push(
                header
                    .iter()
                    .zip(&cols)
                    .map(|(h, c)| norm(h, c[i].clone()))
                    .collect(),
            );
        }
    }
    Table { header, rows }
}

struct Download {
    status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Download {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).to_string()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }

    /// The download, its status asserted.
    fn expect_status(self, status: StatusCode) -> Download {
        assert_eq!(self.status, status, "{}", self.text());
        self
    }
}

async fn fetch(s: &Server, role: Role, path: &str) -> Download {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}{path}", s.base))
        .bearer_auth(fixture::token(role))
        .send()
        .await
        .unwrap();
    Download {
        status: r.status(),
        headers: r.headers().clone(),
        bytes: r.bytes().await.unwrap().to_vec(),
    }
}

/// A data file, checked: 200, attachment, checksum header equal to the bytes'.
async fn data(s: &Server, path: &str) -> Download {
    let d = fetch(s, Role::Evaluateur, path).await;
    assert_eq!(d.status, StatusCode::OK, "{path}: {}", d.text());
    let disposition = d.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;"),
        "{path}: {disposition}"
    );
    assert_eq!(
        d.headers["x-copil-sha256"].to_str().unwrap(),
        d.sha256(),
        "{path}: en-tête X-Copil-Sha256"
    );
    d
}

fn register() -> Register {
    crate::fixture::register(&copil_warehouse::Departments::builtin())
}

/// Every row of a secret cell has its figures empty; a published one has a value.
fn check_secrecy(t: &Table, what: &str) -> usize {
    let mut secret = 0;
    for r in &t.rows {
        match t.get(r, "secret") {
            Some("true") => {
                secret += 1;
                for f in figures() {
                    assert_eq!(t.get(r, f), None, "{what}: case secrète avec {f} : {r:?}");
                }
            }
            Some("false") => {}
            other => panic!("{what}: secret = {other:?}"),
        }
    }
    secret
}
