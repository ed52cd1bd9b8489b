use chrono::NaiveDate;

use crate::{Error, Result};

/// The container of a drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropFormat {
    /// `.csv`
    Csv,
    /// `.csv.gz`
    CsvGz,
    /// `.xlsx` (first sheet)
    Xlsx,
}

impl DropFormat {
    /// The file extension, without the leading dot.
    pub fn extension(self) -> &'static str {
        match self {
            DropFormat::Csv => "csv",
            DropFormat::CsvGz => "csv.gz",
            DropFormat::Xlsx => "xlsx",
        }
    }
}

/// What a drop's file name tells: `<anything>_AAAAMMJJ.<ext>` or `<anything>_AAAA-MM-JJ.<ext>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropName {
    /// The part before the date.
    pub stem: String,
    /// The extraction date: the data is complete up to this day.
    pub extraction: NaiveDate,
    /// The container.
    pub format: DropFormat,
}

impl DropName {
    /// Parses a file name (not a path). Refuses names without an extraction date or of an
    /// unknown kind, with a French message saying what is expected.
    pub fn parse(file: &str) -> Result<Self> {
        let err = |message: String| Error::DropName {
            file: file.to_string(),
            message,
        };
        let lower = file.to_ascii_lowercase();
        let (base, format) = if let Some(b) = lower.strip_suffix(".csv.gz") {
            (&file[..b.len()], DropFormat::CsvGz)
        } else if let Some(b) = lower.strip_suffix(".csv") {
            (&file[..b.len()], DropFormat::Csv)
        } else if let Some(b) = lower.strip_suffix(".xlsx") {
            (&file[..b.len()], DropFormat::Xlsx)
        } else {
            return Err(err(
                "type de fichier refusé : seuls .csv, .csv.gz et .xlsx sont acceptés".into(),
            ));
        };
        let (stem, date) = base.rsplit_once('_').ok_or_else(|| {
            err(
                "date d'extraction absente du nom : attendu <nom>_AAAAMMJJ ou <nom>_AAAA-MM-JJ"
                    .into(),
            )
        })?;
        let parsed = match date.len() {
            8 if date.bytes().all(|b| b.is_ascii_digit()) => {
                NaiveDate::parse_from_str(date, "%Y%m%d").ok()
            }
            10 => NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            _ => None,
        };
        let extraction = parsed.ok_or_else(|| {
            err(format!(
                "date d'extraction « {date} » invalide : attendu AAAAMMJJ ou AAAA-MM-JJ à la fin du nom"
            ))
        })?;
        Ok(Self {
            stem: stem.to_string(),
            extraction,
            format,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn both_date_spellings_and_every_container_parse() {
        let a = DropName::parse("dep-44_parcours_20251130.csv").unwrap();
        assert_eq!(
            (a.stem.as_str(), a.extraction, a.format),
            ("dep-44_parcours", date(2025, 11, 30), DropFormat::Csv)
        );
        let b = DropName::parse("Export SOLIS_2024-02-29.XLSX").unwrap();
        assert_eq!(
            (b.extraction, b.format),
            (date(2024, 2, 29), DropFormat::Xlsx)
        );
        let c = DropName::parse("x_20230101.csv.gz").unwrap();
        assert_eq!(c.format, DropFormat::CsvGz);
    }

    #[test]
    fn names_without_a_valid_date_or_of_another_kind_are_refused() {
        for (name, expected) in [
            ("parcours.csv", "date d'extraction absente"),
            ("parcours_2023.csv", "« 2023 » invalide"),
            ("parcours_20230230.csv", "« 20230230 » invalide"),
            ("parcours_2023-13-01.csv", "« 2023-13-01 » invalide"),
            ("parcours_20230101.xls", "type de fichier refusé"),
            ("parcours_20230101.ods", "type de fichier refusé"),
        ] {
            let m = DropName::parse(name).unwrap_err().to_string();
            assert!(m.starts_with(name) && m.contains(expected), "{name}: {m}");
        }
    }
}
