//! Exports (issue #6, part 4): indicator tables in CSV, XLSX and Parquet read back by
//! independent readers (the `csv` crate, calamine, the Parquet reader) and equal to the API's
//! values; statistical secrecy in every format; the same bytes for the same export even when
//! rebuilt; project-specific microdata pseudonyms; the XLSX row limit; manifests, dictionaries,
//! the audit log and the roles allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use copil_dashboards::Role;
use copil_queries::{Niveau, RELATIF, export_pseudonym, project_key};
use copil_warehouse::{Register, Warehouse, Wave};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
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

/// The figures: empty in a secret row.
const FIGURES: [&str; 9] = [
    "valeur",
    "numerateur",
    "denominateur",
    "personnes",
    "ic95_bas",
    "ic95_haut",
    "q1",
    "q3",
    "moyenne",
];

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
    FIGURES.contains(&column)
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

/// A column of a batch, as text (`None` for null).
fn texts(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let c = b.column_by_name(name).unwrap();
    match c.data_type() {
        DataType::Float64 => c
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        DataType::Int64 => c
            .as_primitive::<Int64Type>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
        DataType::Int32 => c
            .as_primitive::<Int32Type>()
            .iter()
            .map(|v| v.map(|v| v.to_string()))
            .collect(),
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
                for f in FIGURES {
                    assert_eq!(t.get(r, f), None, "{what}: case secrète avec {f} : {r:?}");
                }
            }
            Some("false") => {}
            other => panic!("{what}: secret = {other:?}"),
        }
    }
    secret
}

/// Issue #6: the indicator table in CSV, XLSX and Parquet reads back identically with three
/// independent readers, holds what the results hold (secret cells secret, delays without
/// numerator and denominator) and equals the API's values for published cells.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicator_tables_read_back_alike_in_three_formats_and_match_the_api() {
    let s = serve().await;
    let csv = read_csv(&data(&s, "/exports/indicateurs.csv").await.bytes);
    let xlsx = read_xlsx(&data(&s, "/api/v1/exports/indicateurs.xlsx").await.bytes);
    let parquet = read_parquet(&data(&s, "/exports/indicateurs.parquet").await.bytes);
    assert_eq!(csv.header, COLUMNS.map(str::to_string).to_vec());
    assert_eq!(csv, xlsx, "CSV et XLSX");
    assert_eq!(csv, parquet, "CSV et Parquet");

    // Everything the results hold: every total of every level, none of the before / after
    // breakdown, secret where the results are secret.
    let results = s.state.results();
    let catalogue = s.state.catalogue();
    let reg = register();
    let mut levels = vec![(Niveau::National, "national".to_string())];
    levels.extend(
        Wave::ALL
            .iter()
            .map(|w| (Niveau::Vague, w.code().to_string())),
    );
    levels.extend(reg.iter().map(|t| (Niveau::Territoire, t.id.clone())));
    let (mut totals, mut secret_totals) = (0, 0);
    for ind in catalogue.iter() {
        for (niveau, code) in &levels {
            for c in results.series(&ind.id, *niveau, code) {
                if c.ventilation.is_empty() {
                    totals += 1;
                    secret_totals += usize::from(c.secret);
                }
            }
        }
    }
    assert_eq!(csv.rows.len(), totals);
    let secret = check_secrecy(&csv, "csv");
    assert_eq!(secret, secret_totals);
    assert!(secret > 0, "le jeu de test a des cases secrètes");
    assert!(
        csv.rows.iter().all(|r| csv.get(r, "ventilation").is_none()),
        "sans ventilation demandée : les totaux seulement ({RELATIF} exclu)"
    );
    // Delays never publish their numerator and denominator.
    for r in csv
        .rows
        .iter()
        .filter(|r| csv.get(r, "indicateur") == Some("delai_orientation"))
    {
        assert_eq!(csv.get(r, "numerateur"), None);
        assert_eq!(csv.get(r, "denominateur"), None);
    }

    // The API's values, cell by cell.
    let api = fixture::national();
    let mut compared = 0;
    for id in ["orientes_30j", "delai_orientation", "entrants"] {
        let body: Value = api
            .get(format!("{}/api/v1/indicateurs/{id}", s.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let d = &body["donnees"];
        let mois = d["mois"].as_str().unwrap();
        let mut cells: Vec<(&str, String, &Value)> =
            vec![("national", "national".into(), &d["national"])];
        for v in d["vagues"].as_array().unwrap() {
            cells.push(("vague", v["vague"].as_str().unwrap().into(), &v["valeur"]));
        }
        for t in d["territoires"].as_array().unwrap() {
            cells.push((
                "territoire",
                t["territoire"].as_str().unwrap().into(),
                &t["valeur"],
            ));
        }
        for (niveau, code, cell) in cells {
            if cell.is_null() {
                assert!(csv.total(id, niveau, &code, mois).is_none(), "{id} {code}");
                continue;
            }
            let row = csv
                .total(id, niveau, &code, mois)
                .unwrap_or_else(|| panic!("{id} {niveau} {code} {mois} absent de l'export"));
            let secret = cell["secret"].as_bool().unwrap();
            assert_eq!(
                csv.get(row, "secret"),
                Some(if secret { "true" } else { "false" })
            );
            for (api_key, column) in [
                ("valeur", "valeur"),
                ("numerateur", "numerateur"),
                ("denominateur", "denominateur"),
                ("personnes", "personnes"),
                ("ic95_bas", "ic95_bas"),
                ("ic95_haut", "ic95_haut"),
                ("q1", "q1"),
                ("q3", "q3"),
                ("moyenne", "moyenne"),
            ] {
                let a = cell[api_key].as_f64();
                let e = csv.number(row, column);
                match (a, e) {
                    (Some(a), Some(e)) => assert!(
                        (a - e).abs() <= 1e-12 * a.abs().max(1.0),
                        "{id} {code} {column}: API {a} ≠ export {e}"
                    ),
                    (a, e) => assert_eq!(a, e, "{id} {code} {column}"),
                }
            }
            compared += 1;
        }
    }
    assert!(compared > 30, "{compared} cases comparées");
}

/// Issue #6: the filters keep what the pages keep; secrecy holds in every format of a filtered
/// table too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_levels_months_and_breakdowns() {
    let s = serve().await;
    let reg = register();
    let ids = fixture::territories(&reg);
    // A wave: its territories, the wave and the nation.
    let t = read_csv(
        &data(&s, "/exports/indicateurs.csv?vague=ami1-2021")
            .await
            .bytes,
    );
    let mut want: BTreeSet<(String, String)> = BTreeSet::from([
        ("national".into(), "national".into()),
        ("vague".into(), "ami1-2021".into()),
    ]);
    for id in ids
        .iter()
        .filter(|id| reg.get(id).unwrap().vague == Wave::Ami1_2021)
    {
        want.insert(("territoire".into(), id.clone()));
    }
    let got: BTreeSet<(String, String)> = t
        .rows
        .iter()
        .map(|r| {
            (
                t.get(r, "niveau").unwrap().to_string(),
                t.get(r, "code").unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    // A territory: itself, its wave and the nation, in this order.
    let ta = &ids[0];
    let wave = reg.get(ta).unwrap().vague.code();
    let one = read_csv(
        &data(
            &s,
            &format!("/exports/indicateurs.csv?territoire={ta}&indicateur=entrants"),
        )
        .await
        .bytes,
    );
    let order: Vec<(String, String)> = one
        .rows
        .iter()
        .map(|r| {
            (
                one.get(r, "niveau").unwrap().to_string(),
                one.get(r, "code").unwrap().to_string(),
            )
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold(Vec::new(), |mut v, k| {
            if v.last() != Some(&k) {
                v.push(k);
            }
            v
        });
    assert_eq!(
        order,
        vec![
            ("national".into(), "national".into()),
            ("vague".into(), wave.to_string()),
            ("territoire".into(), ta.clone()),
        ]
    );
    // A month.
    let mois = one
        .get(&one.rows[one.rows.len() / 2], "mois")
        .unwrap()
        .to_string();
    let m = read_csv(
        &data(&s, &format!("/exports/indicateurs.csv?mois={mois}"))
            .await
            .bytes,
    );
    assert!(!m.rows.is_empty());
    assert!(
        m.rows
            .iter()
            .all(|r| m.get(r, "mois") == Some(mois.as_str()))
    );
    // A breakdown, in every format: its cells only, secret ones empty.
    let path = "indicateurs.{}?indicateur=part_france_travail&ventilation=orientation";
    for ext in ["csv", "xlsx", "parquet"] {
        let bytes = data(&s, &format!("/exports/{}", path.replace("{}", ext)))
            .await
            .bytes;
        let b = match ext {
            "csv" => read_csv(&bytes),
            "xlsx" => read_xlsx(&bytes),
            _ => read_parquet(&bytes),
        };
        assert!(!b.rows.is_empty());
        assert!(
            b.rows
                .iter()
                .all(|r| b.get(r, "ventilation") == Some("orientation"))
        );
        check_secrecy(&b, ext);
    }
    // The before / after breakdown only when asked, at the wave level.
    let r = read_csv(
        &data(
            &s,
            &format!("/exports/indicateurs.csv?indicateur=orientes_30j&ventilation={RELATIF}"),
        )
        .await
        .bytes,
    );
    assert!(!r.rows.is_empty());
    assert!(r.rows.iter().all(|x| r.get(x, "niveau") == Some("vague")));
    // The form of the page redirects to the file, empty fields left out.
    let d = fetch(
        &s,
        Role::National,
        "/exports/indicateurs?indicateur=entrants&mois=&vague=&ventilation=&territoire=&format=xlsx",
    )
    .await;
    assert_eq!(d.status, StatusCode::SEE_OTHER);
    assert_eq!(
        d.headers["location"],
        "/exports/indicateurs.xlsx?indicateur=entrants"
    );
    let d = fetch(
        &s,
        Role::National,
        &format!("/exports/microdonnees?table=personnes&projet=p1&territoire={ta}&vague="),
    )
    .await;
    assert_eq!(d.status, StatusCode::SEE_OTHER);
    assert_eq!(
        d.headers["location"].to_str().unwrap(),
        format!("/exports/personnes.parquet?projet=p1&territoire={ta}")
    );
}

/// Issue #6: the same export again gives the same bytes, also when rebuilt from scratch (the
/// exports folder emptied in between), in every format and for microdata.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_export_gives_the_same_bytes_even_rebuilt() {
    let s = serve().await;
    let ta = fixture::territories(&register())[4].clone();
    let paths = [
        "/exports/indicateurs.csv?indicateur=orientes_30j".to_string(),
        "/exports/indicateurs.xlsx?vague=ami1-2021".to_string(),
        "/api/v1/exports/indicateurs.parquet".to_string(),
        format!("/exports/evenements.parquet?projet=reproductible&territoire={ta}"),
        "/exports/personnes.parquet?projet=reproductible".to_string(),
    ];
    let mut first = Vec::new();
    for p in &paths {
        first.push(data(&s, p).await);
    }
    let dir = s.state.settings().exports_dir.clone();
    assert!(std::fs::read_dir(&dir).unwrap().count() >= 2 * paths.len());
    // Reused: the same file.
    for (p, f) in paths.iter().zip(&first) {
        assert_eq!(data(&s, p).await.bytes, f.bytes, "{p} réutilisé");
    }
    // Rebuilt: the same bytes.
    for e in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    for (p, f) in paths.iter().zip(&first) {
        let again = data(&s, p).await;
        assert_eq!(again.sha256(), f.sha256(), "{p} reconstruit");
        assert_eq!(again.bytes, f.bytes, "{p} reconstruit");
    }
    // Another server, another exports folder: the same bytes.
    let other = serve().await;
    assert_ne!(other.state.settings().exports_dir, dir);
    for (p, f) in paths.iter().zip(&first) {
        assert_eq!(data(&other, p).await.sha256(), f.sha256(), "{p} ailleurs");
    }
}

/// The warehouse's pseudonyms and row counts by territory, read directly.
async fn warehouse_table(table: &str) -> (BTreeMap<String, usize>, BTreeSet<String>) {
    let w = Warehouse::open(fixture::dir().join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let ctx = SessionContext::new();
    w.register(&ctx).await.unwrap();
    let batches = ctx
        .sql(&format!("SELECT territoire, personne FROM {table}"))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let (mut counts, mut people) = (BTreeMap::new(), BTreeSet::new());
    for b in &batches {
        for (t, p) in texts(b, "territoire").into_iter().zip(texts(b, "personne")) {
            *counts.entry(t.unwrap()).or_insert(0) += 1;
            people.insert(p.unwrap());
        }
    }
    (counts, people)
}

/// Issue #6: microdata pseudonyms are the project's (HMAC of the warehouse pseudonym under the
/// project key), disjoint between two projects and from the warehouse's; rows are ordered by
/// them within each territory, in register order; the row counts are the warehouse's; the
/// drop's line number is not exported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microdata_pseudonyms_are_per_project_and_counts_match_the_warehouse() {
    let s = serve().await;
    let reg = register();
    let order: Vec<String> = reg.iter().map(|t| t.id.clone()).collect();
    let mut by_project: BTreeMap<&str, BTreeMap<&str, BTreeSet<String>>> = BTreeMap::new();
    for table in ["personnes", "evenements"] {
        let (counts, warehouse_people) = warehouse_table(table).await;
        for projet in ["alpha", "beta"] {
            let d = data(&s, &format!("/exports/{table}.parquet?projet={projet}")).await;
            let batches = parquet_batches(&d.bytes);
            let schema = batches[0].schema();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(names[..2], ["territoire", "personne"]);
            assert!(!names.contains(&"ligne"), "{table}: {names:?}");
            let mut rows: Vec<(String, String)> = Vec::new();
            for b in &batches {
                for (t, p) in texts(b, "territoire").into_iter().zip(texts(b, "personne")) {
                    rows.push((t.unwrap(), p.unwrap()));
                }
            }
            // Counts by territory: the warehouse's.
            let mut got: BTreeMap<String, usize> = BTreeMap::new();
            for (t, _) in &rows {
                *got.entry(t.clone()).or_insert(0) += 1;
            }
            assert_eq!(got, counts, "{table} {projet}");
            // Territories in register order, pseudonyms sorted within each.
            let rank = |t: &str| order.iter().position(|x| x == t).unwrap();
            assert!(
                rows.windows(2)
                    .all(|w| (rank(&w[0].0), &w[0].1) <= (rank(&w[1].0), &w[1].1)),
                "{table} {projet}: ordre"
            );
            let people: BTreeSet<String> = rows.into_iter().map(|(_, p)| p).collect();
            assert!(
                people.is_disjoint(&warehouse_people),
                "{table}: pseudonymes de l'entrepôt"
            );
            // Exactly the project's pseudonyms of the warehouse's people.
            let key = project_key(&[7; 32], projet);
            let expected: BTreeSet<String> = warehouse_people
                .iter()
                .map(|p| export_pseudonym(&key, p))
                .collect();
            assert_eq!(people, expected, "{table} {projet}");
            // The manifest names the project and the table's version.
            let m = fetch(
                &s,
                Role::Evaluateur,
                &format!("/exports/{table}.parquet.manifeste.json?projet={projet}"),
            )
            .await
            .json();
            assert_eq!(m["projet"], projet);
            assert_eq!(m["sha256"], d.sha256());
            assert_eq!(m["lignes"], counts.values().sum::<usize>());
            assert!(
                m["versions"][format!("version_table_{table}")].is_u64(),
                "{m}"
            );
            by_project.entry(projet).or_default().insert(table, people);
        }
    }
    let (a, b) = (&by_project["alpha"], &by_project["beta"]);
    assert!(
        a["personnes"].is_disjoint(&b["personnes"]),
        "deux projets, aucun pseudonyme commun"
    );
    assert!(a["evenements"].is_disjoint(&b["evenements"]));
    // Within a project, events and people share pseudonyms.
    assert!(a["evenements"].is_subset(&a["personnes"]));
    // A territory filter keeps that territory's rows.
    let ta = fixture::territories(&reg)[2].clone();
    let (counts, _) = warehouse_table("evenements").await;
    let d = data(
        &s,
        &format!("/api/v1/exports/evenements.parquet?projet=alpha&territoire={ta}"),
    )
    .await;
    let n: usize = parquet_batches(&d.bytes)
        .iter()
        .map(RecordBatch::num_rows)
        .sum();
    assert_eq!(n, counts[&ta]);
}

/// Issue #6: an XLSX beyond the row limit is refused before anything is written, with a
/// French message giving the count, the limit and what to do; CSV and Parquet have no limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_xlsx_row_limit_answers_a_clear_4xx() {
    let s = serve_with(|settings| settings.xlsx_max_rows = 10).await;
    let d = fetch(&s, Role::Evaluateur, "/api/v1/exports/indicateurs.xlsx").await;
    assert_eq!(d.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", d.text());
    let message = d.json()["erreur"].as_str().unwrap().to_string();
    for word in ["10 lignes", "Filtrez", "CSV", "Parquet"] {
        assert!(message.contains(word), "{word} : {message}");
    }
    let page = fetch(
        &s,
        Role::National,
        "/exports/indicateurs.xlsx?vague=ami2-2021",
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text().contains("limite de 10 lignes"),
        "{}",
        page.text()
    );
    let built: Vec<_> = std::fs::read_dir(&s.state.settings().exports_dir)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(built.is_empty(), "rien d'écrit : {built:?}");
    // A small table passes; CSV and Parquet have no limit.
    let ta = fixture::territories(&register())[0].clone();
    let entrants = read_csv(
        &data(&s, "/exports/indicateurs.csv?indicateur=entrants")
            .await
            .bytes,
    );
    let mois = entrants.get(&entrants.rows[0], "mois").unwrap().to_string();
    let small = data(
        &s,
        &format!("/exports/indicateurs.xlsx?indicateur=entrants&territoire={ta}&mois={mois}"),
    )
    .await;
    assert!(read_xlsx(&small.bytes).rows.len() <= 10);
    data(&s, "/exports/indicateurs.csv").await;
    data(&s, "/exports/indicateurs.parquet").await;
}

/// Issue #6: the manifest's checksum is the downloaded file's, with the versions, filters,
/// rows, size and columns; the dictionaries describe every column; each data download writes
/// one `export` audit entry, each manifest (which builds the file, issue 13) one `manifeste`
/// entry, a dictionary none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_dictionaries_and_the_audit_log() {
    let s = serve().await;
    let ta = fixture::territories(&register())[0].clone();
    let audit = || {
        s.state
            .audit()
            .entries()
            .into_iter()
            .filter(|e| e["action"] == "export")
            .collect::<Vec<_>>()
    };
    let before = audit().len();
    let q = "?indicateur=taux_absenteisme&vague=experimentation-2020";
    let d = data(&s, &format!("/exports/indicateurs.csv{q}")).await;
    let m = fetch(
        &s,
        Role::Evaluateur,
        &format!("/exports/indicateurs.csv.manifeste.json{q}"),
    )
    .await;
    assert_eq!(m.status, StatusCode::OK);
    let m = m.json();
    let table = read_csv(&d.bytes);
    assert_eq!(m["sha256"], d.sha256());
    assert_eq!(m["octets"], d.bytes.len());
    assert_eq!(m["lignes"], table.rows.len());
    assert_eq!(m["fichier"], "indicateurs.csv");
    assert_eq!(m["filtres"]["indicateur"], "taux_absenteisme");
    assert_eq!(m["filtres"]["vague"], "experimentation-2020");
    assert_eq!(m["filtres"]["mois"], Value::Null);
    let results = s.state.results();
    assert_eq!(m["versions"]["version_indicateurs"], results.version);
    assert_eq!(
        m["versions"]["version_evenements"],
        results.version_evenements
    );
    assert_eq!(m["versions"]["version_depots"], results.version_depots);
    let columns: Vec<&str> = m["colonnes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["nom"].as_str().unwrap())
        .collect();
    assert_eq!(columns, table.header);
    let text = serde_json::to_string(&m).unwrap();
    assert!(
        !text.contains("horodatage")
            && !text.contains(&chrono::Utc::now().format("%Y-%m-%dT%H").to_string())
    );
    // The API serves the same manifest.
    let api = fetch(
        &s,
        Role::National,
        &format!("/api/v1/exports/indicateurs.csv.manifeste.json{q}"),
    )
    .await;
    assert_eq!(api.json(), m);

    // Dictionaries: one line per column, in French.
    for (name, header) in [
        ("indicateurs", table.header.clone()),
        (
            "evenements",
            read_parquet(
                &data(
                    &s,
                    &format!("/exports/evenements.parquet?projet=dico&territoire={ta}"),
                )
                .await
                .bytes,
            )
            .header,
        ),
        (
            "personnes",
            read_parquet(
                &data(&s, "/exports/personnes.parquet?projet=dico&vague=ami1-2021")
                    .await
                    .bytes,
            )
            .header,
        ),
    ] {
        let d = fetch(
            &s,
            Role::Evaluateur,
            &format!("/exports/{name}.dictionnaire.csv"),
        )
        .await;
        assert_eq!(d.status, StatusCode::OK);
        let dict = read_csv(&d.bytes);
        assert_eq!(dict.header, ["colonne", "type", "description"]);
        let listed: Vec<String> = dict.rows.iter().map(|r| r[0].clone().unwrap()).collect();
        assert_eq!(listed, header, "{name}");
        assert!(
            dict.rows
                .iter()
                .all(|r| r[2].as_ref().is_some_and(|d| d.len() > 10))
        );
        let text = d
            .text()
            .trim_start_matches('\u{feff}')
            .replace("\r\n", "\n");
        insta::assert_snapshot!(format!("dictionnaire_{name}"), text);
    }

    // One entry per data download: the CSV and the two microdata files.
    let entries = audit();
    assert_eq!(entries.len(), before + 3, "{entries:?}");
    let e = &entries[before];
    assert_eq!(e["compte"], fixture::login_of(Role::Evaluateur));
    assert_eq!(e["role"], "evaluateur");
    assert_eq!(e["details"]["export"], "indicateurs");
    assert_eq!(e["details"]["format"], "csv");
    assert_eq!(e["details"]["sha256"], d.sha256());
    assert_eq!(e["details"]["lignes"], table.rows.len());
    assert_eq!(e["details"]["filtres"]["indicateur"], "taux_absenteisme");
    assert_eq!(
        e["details"]["versions"]["version_indicateurs"],
        results.version
    );
    assert_eq!(entries[before + 1]["details"]["projet"], "dico");
    // The page explains secrecy, pseudonyms, dictionaries and manifests.
    let page = fetch(&s, Role::Evaluateur, "/exports").await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    for word in [
        "secret",
        "Pseudonymes propres à chaque projet",
        "manifeste",
        "dictionnaire",
        "mêmes octets",
    ] {
        assert!(html.contains(word), "{word}");
    }
    assert_eq!(
        audit().len(),
        before + 3,
        "ni la page, ni un manifeste, ni un dictionnaire"
    );
    // Issue 13: the two manifests asked are audited, with the file they describe.
    let manifests: Vec<Value> = s
        .state
        .audit()
        .entries()
        .into_iter()
        .filter(|e| e["action"] == "manifeste")
        .collect();
    assert_eq!(manifests.len(), 2, "{manifests:?}");
    assert_eq!(manifests[0]["compte"], fixture::login_of(Role::Evaluateur));
    assert_eq!(manifests[1]["compte"], fixture::login_of(Role::National));
    assert_eq!(manifests[0]["details"]["sha256"], d.sha256());
}

/// Issue #6: only `national` and `evaluateur` accounts export; bad parameters answer a French
/// 400 or 404 saying what to fix (JSON on the API), never a 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_bad_parameters() {
    let s = serve().await;
    for role in [Role::Territoire, Role::Admin] {
        for path in [
            "/exports",
            "/exports/indicateurs.csv",
            "/exports/indicateurs.csv.manifeste.json",
            "/exports/indicateurs.dictionnaire.csv",
            "/exports/evenements.parquet?projet=p",
            "/api/v1/exports/personnes.parquet?projet=p",
            "/api/v1/exports/indicateurs.parquet",
        ] {
            let d = fetch(&s, role, path).await;
            assert_eq!(d.status, StatusCode::FORBIDDEN, "{role:?} {path}");
        }
    }
    assert_eq!(
        fetch(&s, Role::Evaluateur, "/exports").await.status,
        StatusCode::OK
    );
    assert_eq!(
        fetch(&s, Role::National, "/exports").await.status,
        StatusCode::OK
    );
    let cases: [(&str, StatusCode, &str); 11] = [
        ("inconnu.csv", StatusCode::NOT_FOUND, "Export inconnu"),
        ("evenements.csv?projet=p", StatusCode::NOT_FOUND, "Parquet"),
        (
            "evenements.parquet",
            StatusCode::BAD_REQUEST,
            "« projet » requis",
        ),
        (
            "personnes.parquet?projet=Mon%20Projet",
            StatusCode::BAD_REQUEST,
            "Nom de projet invalide",
        ),
        (
            "personnes.parquet?projet=p&territoire=nulle-part",
            StatusCode::BAD_REQUEST,
            "Territoire inconnu",
        ),
        (
            "indicateurs.csv?mois=2024-13",
            StatusCode::BAD_REQUEST,
            "AAAA-MM",
        ),
        (
            "indicateurs.csv?mois=1990-01",
            StatusCode::BAD_REQUEST,
            "mois disponibles",
        ),
        (
            "indicateurs.csv?indicateur=inconnu",
            StatusCode::BAD_REQUEST,
            "Indicateur inconnu",
        ),
        (
            "indicateurs.csv?ventilation=orientation",
            StatusCode::BAD_REQUEST,
            "demande un indicateur",
        ),
        (
            "indicateurs.csv?indicateur=entrants&ventilation=orientation",
            StatusCode::BAD_REQUEST,
            "Ventilation inconnue",
        ),
        (
            "indicateurs.parquet?pays=fr",
            StatusCode::BAD_REQUEST,
            "Paramètre inconnu : « pays »",
        ),
    ];
    for (path, status, words) in cases {
        let api = fetch(&s, Role::Evaluateur, &format!("/api/v1/exports/{path}")).await;
        assert_eq!(api.status, status, "{path}: {}", api.text());
        let message = api.json()["erreur"].as_str().unwrap().to_string();
        assert!(message.contains(words), "{path}: {message}");
        let page = fetch(&s, Role::Evaluateur, &format!("/exports/{path}")).await;
        assert_eq!(page.status, status, "{path}");
        assert!(page.text().contains("<html"), "{path}: page HTML");
    }
    // A territory outside the wave asked for.
    let reg = register();
    let ta = fixture::territories(&reg)[0].clone();
    let other = Wave::ALL
        .into_iter()
        .find(|w| *w != reg.get(&ta).unwrap().vague)
        .unwrap();
    let d = fetch(
        &s,
        Role::Evaluateur,
        &format!(
            "/api/v1/exports/indicateurs.csv?territoire={ta}&vague={}",
            other.code()
        ),
    )
    .await;
    assert_eq!(d.status, StatusCode::BAD_REQUEST);
    assert!(
        d.json()["erreur"]
            .as_str()
            .unwrap()
            .contains("appartient à la vague")
    );
}
