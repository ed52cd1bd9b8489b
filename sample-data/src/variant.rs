//! The shapes real exports come in: encodings, separators, date spellings, header styles,
//! containers.

use chrono::NaiveDate;
use copil_warehouse::vocabulary;
use serde::Serialize;

/// One way territories' software writes its extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Variante {
    /// UTF-8, `,`, ISO dates, snake_case headers: the clean reference.
    #[serde(rename = "utf8-virgule")]
    Utf8Virgule,
    /// Windows-1252, `;`, `JJ/MM/AAAA`, French headers with accents, CRLF line ends.
    #[serde(rename = "windows1252-point-virgule")]
    Windows1252PointVirgule,
    /// UTF-8 with a BOM, `;`, `JJ/MM/AAAA`, upper-case headers, every field quoted.
    #[serde(rename = "utf8-bom-point-virgule")]
    Utf8BomPointVirgule,
    /// An Excel workbook: French headers, real date cells, numeric ids.
    #[serde(rename = "xlsx")]
    Xlsx,
    /// UTF-8, tab-separated, gzip-compressed, event columns first.
    #[serde(rename = "utf8-tabulation-gz")]
    Utf8TabulationGz,
}

/// How dates are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatDate {
    /// `AAAA-MM-JJ`
    Iso,
    /// `JJ/MM/AAAA`
    Francais,
    /// Excel date cells.
    Excel,
}

impl FormatDate {
    /// Writes a date.
    pub(crate) fn ecrire(self, d: NaiveDate, out: &mut String) {
        use chrono::Datelike;
        use std::fmt::Write;
        let _ = match self {
            FormatDate::Iso => write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
            FormatDate::Francais | FormatDate::Excel => {
                write!(out, "{:02}/{:02}/{:04}", d.day(), d.month(), d.year())
            }
        };
    }

    /// Writes a date that cannot exist (day + 31) in this spelling, unique for each real date.
    pub(crate) fn ecrire_impossible(self, d: NaiveDate, out: &mut String) {
        use chrono::Datelike;
        use std::fmt::Write;
        let _ = match self {
            FormatDate::Iso => write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day() + 31),
            FormatDate::Francais | FormatDate::Excel => {
                write!(out, "{:02}/{:02}/{:04}", d.day() + 31, d.month(), d.year())
            }
        };
    }

    /// The spelling, for manifests.
    pub fn code(self) -> &'static str {
        match self {
            FormatDate::Iso => "AAAA-MM-JJ",
            FormatDate::Francais => "JJ/MM/AAAA",
            FormatDate::Excel => "date Excel",
        }
    }
}

/// The person's columns, direct identifiers among them, in the reference order.
const PERSONNE: [&str; 13] = [
    "id_personne",
    "nir",
    "nom",
    "prenom",
    "nom_naissance",
    "date_naissance",
    "sexe",
    "adresse",
    "code_commune",
    "telephone",
    "courriel",
    "niveau_formation",
    "situation_familiale",
];

/// The columns every variant carries, in the reference order: the person's, then the event's
/// in the contract's order.
pub(crate) const ORDRE: [&str; 25] = {
    let mut out = [""; 25];
    let mut i = 0;
    while i < out.len() {
        out[i] = if i < PERSONNE.len() {
            PERSONNE[i]
        } else {
            vocabulary::EVENT_COLUMNS[i - PERSONNE.len()]
        };
        i += 1;
    }
    out
};

impl Variante {
    /// Every variant.
    pub const ALL: [Variante; 5] = [
        Variante::Utf8Virgule,
        Variante::Windows1252PointVirgule,
        Variante::Utf8BomPointVirgule,
        Variante::Xlsx,
        Variante::Utf8TabulationGz,
    ];

    /// The variant's code (as on the command line and in manifests).
    pub fn code(self) -> &'static str {
        match self {
            Variante::Utf8Virgule => "utf8-virgule",
            Variante::Windows1252PointVirgule => "windows1252-point-virgule",
            Variante::Utf8BomPointVirgule => "utf8-bom-point-virgule",
            Variante::Xlsx => "xlsx",
            Variante::Utf8TabulationGz => "utf8-tabulation-gz",
        }
    }

    /// Parses a variant code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The text encoding (`UTF-8` or `Windows-1252`); an XLSX is UTF-8 inside.
    pub fn encodage(self) -> &'static str {
        match self {
            Variante::Windows1252PointVirgule => "Windows-1252",
            _ => "UTF-8",
        }
    }

    /// Whether the file starts with a UTF-8 byte-order mark.
    pub fn bom(self) -> bool {
        self == Variante::Utf8BomPointVirgule
    }

    /// The field separator of a CSV variant.
    pub fn separateur(self) -> Option<u8> {
        match self {
            Variante::Utf8Virgule => Some(b','),
            Variante::Windows1252PointVirgule | Variante::Utf8BomPointVirgule => Some(b';'),
            Variante::Utf8TabulationGz => Some(b'\t'),
            Variante::Xlsx => None,
        }
    }

    /// The line end of a CSV variant.
    pub fn fin_de_ligne(self) -> &'static str {
        match self {
            Variante::Windows1252PointVirgule => "\r\n",
            _ => "\n",
        }
    }

    /// Whether every field is quoted.
    pub fn tout_entre_guillemets(self) -> bool {
        self == Variante::Utf8BomPointVirgule
    }

    /// How dates are written.
    pub fn format_date(self) -> FormatDate {
        match self {
            Variante::Utf8Virgule | Variante::Utf8TabulationGz => FormatDate::Iso,
            Variante::Windows1252PointVirgule | Variante::Utf8BomPointVirgule => {
                FormatDate::Francais
            }
            Variante::Xlsx => FormatDate::Excel,
        }
    }

    /// The container: `csv`, `csv.gz` or `xlsx`.
    pub fn extension(self) -> &'static str {
        match self {
            Variante::Xlsx => "xlsx",
            Variante::Utf8TabulationGz => "csv.gz",
            _ => "csv",
        }
    }

    /// The header style: `canonique`, `libelles` or `majuscules`.
    pub fn style_entetes(self) -> &'static str {
        match self {
            Variante::Utf8Virgule | Variante::Utf8TabulationGz => "canonique",
            Variante::Windows1252PointVirgule | Variante::Xlsx => "libelles",
            Variante::Utf8BomPointVirgule => "majuscules",
        }
    }

    /// The columns, in the order this variant writes them (canonical names).
    pub fn colonnes(self) -> Vec<&'static str> {
        match self {
            Variante::Utf8TabulationGz => {
                let mut v: Vec<&str> = vocabulary::EVENT_COLUMNS.to_vec();
                v.extend_from_slice(&PERSONNE);
                v
            }
            Variante::Utf8Virgule | Variante::Utf8BomPointVirgule => ORDRE
                .iter()
                .copied()
                .filter(|c| *c != "nom_naissance")
                .collect(),
            _ => ORDRE.to_vec(),
        }
    }

    /// The header cell of a column in this variant.
    pub fn entete(self, colonne: &'static str) -> String {
        match self.style_entetes() {
            "libelles" => vocabulary::column(colonne)
                .map_or(colonne, |c| c.label())
                .to_string(),
            "majuscules" => colonne.to_ascii_uppercase(),
            _ => colonne.to_string(),
        }
    }

    /// The drop's file name for a territory and an extraction date.
    pub fn nom_fichier(self, territoire: &str, extraction: NaiveDate) -> String {
        let compact = extraction.format("%Y%m%d");
        let tirets = extraction.format("%Y-%m-%d");
        match self {
            Variante::Utf8Virgule => format!("{territoire}_parcours_{compact}.csv"),
            Variante::Windows1252PointVirgule => format!("EXPORT_IODAS_{territoire}_{compact}.csv"),
            Variante::Utf8BomPointVirgule => format!("extraction_solis_{territoire}_{tirets}.csv"),
            Variante::Xlsx => format!("Parcours RSA {territoire}_{tirets}.xlsx"),
            Variante::Utf8TabulationGz => format!("ft_{territoire}_parcours_{compact}.csv.gz"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_resolves_to_its_column() {
        for v in Variante::ALL {
            for c in v.colonnes() {
                let h = v.entete(c);
                assert_eq!(
                    vocabulary::resolve_header(&h).map(|col| col.name),
                    Some(c),
                    "{v:?} {h}"
                );
            }
        }
    }

    #[test]
    fn file_names_carry_the_extraction_date() {
        let d = NaiveDate::from_ymd_opt(2025, 10, 31).unwrap();
        for v in Variante::ALL {
            let name = v.nom_fichier("dep-44", d);
            let parsed = copil_ingest::DropName::parse(&name).unwrap();
            assert_eq!(parsed.extraction, d, "{name}");
            assert_eq!(parsed.format.extension(), v.extension());
        }
    }
}
