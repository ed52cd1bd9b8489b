//! An independent reader of generated drops, for tests: it decodes the files as a territory's
//! recipient would (encoding, separator, workbook), maps headers through the contract's
//! vocabulary, and classifies every row by reading it, never by asking the generator.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use chrono::{Days, NaiveDate};
use copil_sample::{Destination, Manifeste, Options, Variante};
use copil_warehouse::vocabulary;
use copil_warehouse::{Departments, Register};

/// A drop read back: canonical column names and string cells (dates as written, or ISO for
/// workbook date cells).
pub struct Drop {
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    pub raw_bytes: Vec<u8>,
}

impl Drop {
    pub fn col(&self, name: &str) -> usize {
        self.columns
            .iter()
            .position(|c| *c == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

pub fn read_manifests(dir: &Path) -> Vec<Manifeste> {
    let mut out = Vec::new();
    for territory in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(territory.unwrap().path()).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
            out.push(serde_json::from_str(&text).unwrap());
        }
    }
    out.sort_by(|a: &Manifeste, b| a.territoire.cmp(&b.territoire));
    out
}

fn excel_serial_to_iso(serial: f64) -> String {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap();
    base.checked_add_days(Days::new(serial as u64))
        .unwrap()
        .to_string()
}

pub fn read_drop(path: &Path, m: &Manifeste) -> Drop {
    let raw_bytes = std::fs::read(path).unwrap();
    let cells: Vec<Vec<String>> = if m.format == "xlsx" {
        assert_eq!(&raw_bytes[..2], b"PK", "a workbook is a zip");
        let mut wb = calamine::open_workbook_auto(path).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Empty => String::new(),
                        Data::String(s) => s.clone(),
                        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                        Data::Float(f) => f.to_string(),
                        Data::Int(i) => i.to_string(),
                        Data::DateTime(d) => excel_serial_to_iso(d.as_f64()),
                        other => panic!("unexpected cell {other:?}"),
                    })
                    .collect()
            })
            .collect()
    } else {
        let mut decompressed = Vec::new();
        let bytes: &[u8] = if m.format == "csv.gz" {
            assert_eq!(&raw_bytes[..2], b"\x1f\x8b", "gzip magic");
            flate2_decode(&raw_bytes, &mut decompressed);
            &decompressed
        } else {
            &raw_bytes
        };
        let has_bom = bytes.starts_with(b"\xEF\xBB\xBF");
        assert_eq!(has_bom, m.bom, "{}: BOM as the manifest says", m.fichier);
        let text = match m.encodage.as_str() {
            "Windows-1252" => {
                assert!(
                    std::str::from_utf8(bytes).is_err(),
                    "a Windows-1252 file with accents is not UTF-8"
                );
                encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned()
            }
            "UTF-8" => String::from_utf8(bytes[if has_bom { 3 } else { 0 }..].to_vec())
                .expect("valid UTF-8"),
            other => panic!("encoding {other}"),
        };
        let sep = m.separateur.as_deref().unwrap().as_bytes()[0];
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(sep)
            .has_headers(false)
            .from_reader(text.as_bytes());
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    };
    let header = &cells[0];
    assert_eq!(
        header, &m.colonnes,
        "{}: header as the manifest says",
        m.fichier
    );
    let columns = header
        .iter()
        .map(|h| {
            vocabulary::resolve_header(h)
                .unwrap_or_else(|| panic!("unknown header {h}"))
                .name
        })
        .collect();
    Drop {
        columns,
        rows: cells[1..].to_vec(),
        raw_bytes,
    }
}

fn flate2_decode(bytes: &[u8], out: &mut Vec<u8>) {
    // A minimal use of the gzip format through the generator's own dependency would hide bugs;
    // the test uses flate2's decoder, which is independent of how the file was written.
    let mut d = flate2::read::GzDecoder::new(bytes);
    d.read_to_end(out).unwrap();
}

pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .ok()
}

/// Why a row breaks the contract, read from the row alone.
pub fn classify(drop: &Drop, row: &[String], extraction: NaiveDate) -> Option<&'static str> {
    let get = |name: &str| row[drop.col(name)].as_str();
    if get("id_personne").trim().is_empty() {
        return Some("identifiant_manquant");
    }
    for (i, c) in drop.columns.iter().enumerate() {
        let v = row[i].as_str();
        if !v.is_empty() && !vocabulary::is_code(c, v) {
            return Some("code_inconnu");
        }
    }
    let (Some(date), Some(naissance)) =
        (parse_date(get("date")), parse_date(get("date_naissance")))
    else {
        return Some("date_impossible");
    };
    if date > extraction {
        return Some("date_future");
    }
    if date < naissance {
        return Some("evenement_avant_naissance");
    }
    None
}

/// What a drop holds, counted by reading it.
#[derive(Debug, Default, PartialEq)]
pub struct Counts {
    pub lignes: u64,
    pub valides: u64,
    pub doublons: u64,
    pub multilignes: u64,
    pub personnes: u64,
    pub rejets: BTreeMap<String, u64>,
    pub evenements: BTreeMap<String, u64>,
    pub nir: (u64, u64, u64),
}

pub fn count(drop: &Drop, extraction: NaiveDate) -> Counts {
    let mut c = Counts::default();
    let mut seen = HashSet::new();
    let mut people: HashMap<String, String> = HashMap::new();
    for row in &drop.rows {
        c.lignes += 1;
        if row.iter().any(|f| f.contains('\n')) {
            c.multilignes += 1;
        }
        if !seen.insert(row.clone()) {
            c.doublons += 1;
            continue;
        }
        match classify(drop, row, extraction) {
            Some(kind) => *c.rejets.entry(kind.to_string()).or_default() += 1,
            None => {
                c.valides += 1;
                *c.evenements
                    .entry(row[drop.col("evenement")].clone())
                    .or_default() += 1;
                people
                    .entry(row[drop.col("id_personne")].clone())
                    .or_insert_with(|| row[drop.col("nir")].clone());
            }
        }
    }
    c.personnes = people.len() as u64;
    for nir in people.values() {
        if nir.is_empty() {
            c.nir.2 += 1;
        } else if copil_ingest::nir::is_valid(nir) {
            c.nir.0 += 1;
        } else {
            c.nir.1 += 1;
        }
    }
    c
}

pub fn generate(dir: &Path, options: &Options) -> Vec<Manifeste> {
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let dest = Destination {
        inbox: dir.join("inbox"),
        manifestes: dir.join("manifests"),
    };
    copil_sample::generer(&register, &departments, options, &dest, &|_| {}).unwrap()
}

pub fn drop_path(dir: &Path, m: &Manifeste) -> PathBuf {
    dir.join("inbox").join(&m.territoire).join(&m.fichier)
}

pub fn options(territories: &[&str]) -> Options {
    let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    o.territoires = Some(territories.iter().map(|s| s.to_string()).collect());
    o.echelle = 0.01;
    o.fils = 2;
    o
}

/// Five middle-sized territories: with the default seed they take the five variants.
pub const FIVE: [&str; 5] = ["dep-11", "dep-30", "dep-45", "dep-51", "dep-72"];

pub fn all_variants() -> Vec<Variante> {
    Variante::ALL.to_vec()
}

/// Asserts that what the file holds, counted by reading it, is what its manifest says.
pub fn assert_counts(drop: &Drop, m: &Manifeste) {
    let extraction = NaiveDate::parse_from_str(&m.date_extraction, "%Y-%m-%d").unwrap();
    let c = count(drop, extraction);
    let ctx = &m.fichier;
    assert_eq!(c.lignes, m.lignes, "{ctx}: rows");
    assert_eq!(c.valides, m.lignes_valides, "{ctx}: valid rows");
    assert_eq!(c.doublons, m.doublons, "{ctx}: duplicates");
    assert_eq!(
        c.multilignes, m.lignes_multilignes,
        "{ctx}: rows with a line break"
    );
    assert_eq!(c.personnes, m.personnes, "{ctx}: people");
    let manifest_rejects: BTreeMap<String, u64> = m
        .rejets
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    assert_eq!(c.rejets, manifest_rejects, "{ctx}: broken rows by kind");
    assert_eq!(c.evenements, m.evenements, "{ctx}: events by type");
    assert_eq!(
        c.nir,
        (m.nir.valides, m.nir.invalides, m.nir.absents),
        "{ctx}: NIRs"
    );
    assert_eq!(
        m.lignes,
        m.lignes_valides + m.lignes_rejetees(),
        "{ctx}: every row is valid or rejected"
    );
}
