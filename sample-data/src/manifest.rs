//! The manifest written beside each drop: what the drop holds, so that ingestion tests can
//! assert exact numbers. It never holds an identifier.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The NIRs of a drop's people.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComptesNir {
    /// People with a NIR whose key is valid.
    pub valides: u64,
    /// People with a NIR whose key is wrong.
    pub invalides: u64,
    /// People without a NIR.
    pub absents: u64,
}

/// How the drop was generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Generator version.
    pub version: String,
    /// Seed.
    pub graine: u64,
    /// Scale.
    pub echelle: f64,
    /// First month of entries (`AAAA-MM`).
    pub debut: String,
    /// Last month of entries (`AAAA-MM`).
    pub fin: String,
    /// Share of broken rows asked for.
    pub taux_defauts: f64,
    /// Whether the drop was written without defects (a clean twin).
    pub propre: bool,
}

/// What one drop holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifeste {
    /// Territory id.
    pub territoire: String,
    /// File name, in `<inbox>/<territoire>/`.
    pub fichier: String,
    /// Variant code (see [`crate::Variante`]).
    pub variante: String,
    /// `csv`, `csv.gz` or `xlsx`.
    pub format: String,
    /// `UTF-8` or `Windows-1252`.
    pub encodage: String,
    /// Whether the file starts with a BOM.
    pub bom: bool,
    /// Field separator (`,`, `;`, tab), none for a workbook.
    pub separateur: Option<String>,
    /// `AAAA-MM-JJ`, `JJ/MM/AAAA` or `date Excel`.
    pub format_date: String,
    /// `canonique`, `libelles` or `majuscules`.
    pub entetes: String,
    /// The header cells, in file order.
    pub colonnes: Vec<String>,
    /// The extraction date (`AAAA-MM-JJ`), also in the file name.
    pub date_extraction: String,
    /// Data rows (header excluded).
    pub lignes: u64,
    /// Distinct people among the valid rows.
    pub personnes: u64,
    /// Rows that follow the contract and are not repeats: they should land.
    pub lignes_valides: u64,
    /// Exact repeats of an earlier row.
    pub doublons: u64,
    /// Rows holding a line break inside a quoted field.
    pub lignes_multilignes: u64,
    /// Broken rows by reason code (`identifiant_manquant`, `code_inconnu`, `date_impossible`,
    /// `date_future`, `evenement_avant_naissance`).
    pub rejets: BTreeMap<String, u64>,
    /// Valid rows by event type.
    pub evenements: BTreeMap<String, u64>,
    /// NIRs of the people.
    pub nir: ComptesNir,
    /// How it was generated.
    pub generateur: Provenance,
}

impl Manifeste {
    /// Rows that should be rejected, duplicates included.
    pub fn lignes_rejetees(&self) -> u64 {
        self.doublons + self.rejets.values().sum::<u64>()
    }
}
