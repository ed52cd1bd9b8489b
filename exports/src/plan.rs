//! What is exported: the file names (kind, format, manifest, dictionary, form) and the plan of
//! an export, whose canonical description names the file it is built into.

use std::path::{Path, PathBuf};

use copil_queries::{MicroTable, Results};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Bumped when the bytes of an export change for the same data (format of a file).
const EXPORT_FORMAT: u32 = 2;

/// Suffix of a manifest's file name (after the data file's name).
pub const MANIFEST_SUFFIX: &str = ".manifeste.json";

/// Suffix of a data dictionary's file name (after the kind's name).
pub const DICTIONARY_SUFFIX: &str = ".dictionnaire.csv";

/// What is exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The indicator table.
    Indicateurs,
    /// A microdata table.
    Micro(MicroTable),
}

impl Kind {
    /// The name of its files (`indicateurs`, `evenements`, `personnes`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Indicateurs => "indicateurs",
            Kind::Micro(t) => t.name(),
        }
    }

    /// The file name of its data dictionary.
    pub fn dictionary_name(self) -> String {
        format!("{}{DICTIONARY_SUFFIX}", self.name())
    }

    fn of(stem: &str) -> Option<Kind> {
        if stem == "indicateurs" {
            Some(Kind::Indicateurs)
        } else {
            MicroTable::from_name(stem).map(Kind::Micro)
        }
    }
}

/// The format of a data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV, `;`-separated, UTF-8 with BOM.
    Csv,
    /// An Excel workbook.
    Xlsx,
    /// Parquet.
    Parquet,
}

impl Format {
    /// Its file extension.
    pub fn ext(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Parquet => "parquet",
        }
    }

    /// The format of an extension.
    pub fn from_ext(ext: &str) -> Option<Format> {
        [Format::Csv, Format::Xlsx, Format::Parquet]
            .into_iter()
            .find(|f| f.ext() == ext)
    }

    /// Its content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// What a file name asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// The data file.
    Data(Kind, Format),
    /// Its manifest.
    Manifest(Kind, Format),
    /// The data dictionary of a kind.
    Dictionary(Kind),
    /// A form of the exports page: redirects to the file it describes.
    Form(FormKind),
}

/// The forms of the exports page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormKind {
    /// `indicateurs?format=…`.
    Indicateurs,
    /// `microdonnees?table=…`.
    Microdonnees,
}

/// What the file name `name` asks for.
pub fn parse_name(name: &str) -> Result<Asked> {
    let unknown = || Error::UnknownFile(name.to_string());
    match name {
        "indicateurs" => return Ok(Asked::Form(FormKind::Indicateurs)),
        "microdonnees" => return Ok(Asked::Form(FormKind::Microdonnees)),
        _ => {}
    }
    if let Some(stem) = name.strip_suffix(DICTIONARY_SUFFIX) {
        return Kind::of(stem).map(Asked::Dictionary).ok_or_else(unknown);
    }
    let (data, manifest) = match name.strip_suffix(MANIFEST_SUFFIX) {
        Some(d) => (d, true),
        None => (name, false),
    };
    let (stem, ext) = data.rsplit_once('.').ok_or_else(unknown)?;
    let kind = Kind::of(stem).ok_or_else(unknown)?;
    let format = Format::from_ext(ext).ok_or_else(unknown)?;
    if matches!(kind, Kind::Micro(_)) && format != Format::Parquet {
        return Err(Error::MicrodataNotParquet(stem.to_string()));
    }
    Ok(if manifest {
        Asked::Manifest(kind, format)
    } else {
        Asked::Data(kind, format)
    })
}

/// Everything that determines an export's bytes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What is exported.
    pub kind: Kind,
    /// In which format.
    pub format: Format,
    /// The versions of the warehouse read.
    pub versions: Value,
    /// The filters applied.
    pub filtres: Value,
    /// The project (microdata).
    pub projet: Option<String>,
    /// Canonical query string of the filters (for links).
    pub query: String,
    /// Hash of the canonical description: the file's name in the exports folder.
    pub key: String,
}

impl Plan {
    /// Sets the key: the hash of the canonical description (with the secrecy threshold and
    /// the fingerprint of the project key, so a new export key never reuses an old export).
    pub(crate) fn keyed(mut self, threshold: i64, key_print: Option<&str>) -> Plan {
        let description = json!({
            "format_export": EXPORT_FORMAT,
            "copil": env!("CARGO_PKG_VERSION"),
            "export": self.kind.name(),
            "format": self.format.ext(),
            "versions": self.versions,
            "filtres": self.filtres,
            "projet": self.projet,
            "cle": key_print,
            "seuil_secret": threshold,
        });
        self.key = hex::encode(Sha256::digest(description.to_string().as_bytes()));
        self
    }

    /// The name of the data file as downloaded (`indicateurs.csv`).
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.kind.name(), self.format.ext())
    }

    pub(crate) fn data_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("{}.{}", self.key, self.format.ext()))
    }

    pub(crate) fn manifest_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!(
            "{}.{}{MANIFEST_SUFFIX}",
            self.key,
            self.format.ext()
        ))
    }

    pub(crate) fn temp_path(&self, dir: &Path, what: &str) -> PathBuf {
        dir.join(format!(".{}.{what}.tmp-{}", self.key, random_hex(8)))
    }
}

/// `bytes` random bytes from the system, in hexadecimal.
fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    // The OS generator failing is not recoverable; a predictable name would be worse.
    getrandom::fill(&mut b).expect("générateur aléatoire du système indisponible");
    hex::encode(b)
}

/// The versions of the results an export reads.
pub(crate) fn versions_of(results: &Results) -> serde_json::Map<String, Value> {
    let mut v = serde_json::Map::new();
    v.insert("version_indicateurs".into(), json!(results.version));
    v.insert(
        "version_evenements".into(),
        json!(results.version_evenements),
    );
    v.insert("version_depots".into(), json!(results.version_depots));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_parsed_and_unknown_ones_refused() {
        assert_eq!(
            parse_name("indicateurs.csv").unwrap(),
            Asked::Data(Kind::Indicateurs, Format::Csv)
        );
        assert_eq!(
            parse_name("personnes.parquet.manifeste.json").unwrap(),
            Asked::Manifest(Kind::Micro(MicroTable::Personnes), Format::Parquet)
        );
        assert_eq!(
            parse_name("evenements.dictionnaire.csv").unwrap(),
            Asked::Dictionary(Kind::Micro(MicroTable::Evenements))
        );
        assert!(matches!(
            parse_name("evenements.csv"),
            Err(Error::MicrodataNotParquet(t)) if t == "evenements"
        ));
        assert!(matches!(
            parse_name("rejets.parquet"),
            Err(Error::UnknownFile(_))
        ));
        assert!(matches!(
            parse_name("indicateurs.json"),
            Err(Error::UnknownFile(_))
        ));
        assert_eq!(
            parse_name("indicateurs.json").unwrap_err().to_string(),
            format!(
                "Export inconnu : « indicateurs.json ». Fichiers disponibles : {}.",
                crate::error::KNOWN_FILES
            )
        );
    }
}
