//! Checking each row against the input contract (brief, section 2).

use chrono::NaiveDate;
use copil_warehouse::Departments;
use copil_warehouse::vocabulary::{self, COLUMNS, ColumnRole, RejectReason};

use crate::nir;

/// Where each contract column is in a drop's header.
#[derive(Debug, Clone)]
pub struct Layout {
    index: Vec<Option<usize>>,
    /// Header cells outside the contract (their names only, never their values).
    pub ignored: Vec<String>,
    /// Direct identifiers present in the file (never read further).
    pub identifiers: Vec<String>,
}

/// The place of a contract column in [`COLUMNS`]; evaluated at compile time where
/// [`validate`] reads a row, so that no row pays for a search by name.
const fn pos(name: &str) -> usize {
    const fn same(a: &[u8], b: &[u8]) -> bool {
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    let mut i = 0;
    while i < COLUMNS.len() {
        if same(COLUMNS[i].name.as_bytes(), name.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("contract column")
}

impl Layout {
    /// Maps a header; `Err` lists the required columns it lacks.
    pub fn from_header(header: &[String]) -> Result<Self, Vec<&'static str>> {
        let mut index = vec![None; COLUMNS.len()];
        let mut ignored = Vec::new();
        let mut identifiers = Vec::new();
        for (i, cell) in header.iter().enumerate() {
            match vocabulary::resolve_header(cell) {
                Some(c) if c.role == ColumnRole::DirectIdentifier => {
                    identifiers.push(c.name.to_string())
                }
                Some(c) => {
                    let slot = &mut index[pos(c.name)];
                    if slot.is_none() {
                        *slot = Some(i);
                    } else {
                        ignored.push(format!("{} (doublon de colonne)", cell.trim()));
                    }
                }
                None if cell.trim().is_empty() => {
                    ignored.push(format!("(colonne {} sans nom)", i + 1))
                }
                None => ignored.push(cell.trim().to_string()),
            }
        }
        // The required columns, from the one list of the contract.
        let missing: Vec<&str> = COLUMNS
            .iter()
            .zip(&index)
            .filter(|(c, found)| c.required && found.is_none())
            .map(|(c, _)| c.name)
            .collect();
        if missing.is_empty() {
            Ok(Self {
                index,
                ignored,
                identifiers,
            })
        } else {
            Err(missing)
        }
    }

    /// The trimmed cell of the contract column at `column` (a [`pos`]), or "".
    fn get<'a, S: AsRef<str>>(&self, row: &'a [S], column: usize) -> &'a str {
        self.index[column]
            .and_then(|i| row.get(i))
            .map_or("", |s| s.as_ref().trim())
    }
}

/// A row that follows the contract, generalised: what may land.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRow {
    /// The territory's own id (never stored: it only feeds the pseudonym).
    pub id: String,
    /// The normalised NIR if valid (never stored: it only feeds the pseudonym).
    pub nir: Option<String>,
    /// Year of birth.
    pub annee_naissance: i32,
    /// Sex.
    pub sexe: Option<&'static str>,
    /// Département of residence, from the commune.
    pub departement: Option<String>,
    /// Level of education.
    pub niveau_formation: Option<&'static str>,
    /// Family situation.
    pub situation_familiale: Option<&'static str>,
    /// Date of the event.
    pub date: NaiveDate,
    /// Event type.
    pub evenement: &'static str,
    /// The event's attributes, in [`ATTRIBUTS`] order (others are null).
    pub attrs: [Option<&'static str>; 9],
    /// The `motif` code (from [`vocabulary::MOTIFS`]: never free text).
    pub motif: Option<&'static str>,
}

/// The coded event attributes, in the order of [`ValidRow::attrs`]: the contract's, all but
/// `motif`, which [`ValidRow::motif`] holds apart.
pub const ATTRIBUTS: [&str; 9] = {
    let [attributes @ .., _motif] = vocabulary::EVENT_ATTRIBUTES;
    attributes
};

/// The places in [`COLUMNS`] of [`ATTRIBUTS`].
const ATTRIBUT_COLUMNS: [usize; 9] = {
    let mut out = [0; 9];
    let mut i = 0;
    while i < ATTRIBUTS.len() {
        out[i] = pos(ATTRIBUTS[i]);
        i += 1;
    }
    out
};

/// Why a row is refused, and which column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// The reason.
    pub reason: RejectReason,
    /// The contract column at fault.
    pub column: Option<&'static str>,
}

fn reject(reason: RejectReason, column: &'static str) -> Rejection {
    Rejection {
        reason,
        column: Some(column),
    }
}

/// Reads a date written `AAAA-MM-JJ` or `JJ/MM/AAAA` (a time after it is ignored).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.trim().as_bytes();
    if b.len() < 10 || (b.len() > 10 && !matches!(b[10], b' ' | b'T')) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut n = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + u32::from(c - b'0');
        }
        Some(n)
    };
    let (y, m, d) = if b[4] == b'-' && b[7] == b'-' {
        (num(0..4)?, num(5..7)?, num(8..10)?)
    } else if b[2] == b'/' && b[5] == b'/' {
        (num(6..10)?, num(3..5)?, num(0..2)?)
    } else {
        return None;
    };
    if y < 1900 {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// Checks one row. `extraction` is the drop's extraction date: nothing may happen after it.
pub fn validate<S: AsRef<str>>(
    layout: &Layout,
    row: &[S],
    extraction: NaiveDate,
    departments: &Departments,
) -> Result<ValidRow, Rejection> {
    use RejectReason::*;
    macro_rules! get {
        ($name:literal) => {
            layout.get(row, const { pos($name) })
        };
    }
    let id = get!("id_personne");
    if id.is_empty() {
        return Err(reject(IdentifiantManquant, "id_personne"));
    }
    for (name, value) in [
        ("evenement", get!("evenement")),
        ("date", get!("date")),
        ("date_naissance", get!("date_naissance")),
    ] {
        if value.is_empty() {
            return Err(reject(ValeurManquante, name));
        }
    }
    let evenement = vocabulary::code_in(&COLUMNS[const { pos("evenement") }], get!("evenement"))
        .ok_or(reject(CodeInconnu, "evenement"))?;
    let coded = |name: &'static str, column: usize| -> Result<Option<&'static str>, Rejection> {
        let raw = layout.get(row, column);
        if raw.is_empty() {
            return Ok(None);
        }
        vocabulary::code_in(&COLUMNS[column], raw)
            .map(Some)
            .ok_or(reject(CodeInconnu, name))
    };
    macro_rules! coded {
        ($name:literal) => {
            coded($name, const { pos($name) })
        };
    }
    let sexe = coded!("sexe")?;
    let niveau_formation = coded!("niveau_formation")?;
    let situation_familiale = coded!("situation_familiale")?;
    let carried = vocabulary::attributes_of(evenement);
    let mut attrs = [None; 9];
    for (i, name) in ATTRIBUTS.iter().enumerate() {
        if carried.contains(name) {
            attrs[i] = coded(name, ATTRIBUT_COLUMNS[i])?;
        }
    }
    let motif = if carried.contains(&"motif") {
        coded!("motif")?
    } else {
        None
    };
    let naissance =
        parse_date(get!("date_naissance")).ok_or(reject(DateImpossible, "date_naissance"))?;
    let date = parse_date(get!("date")).ok_or(reject(DateImpossible, "date"))?;
    if naissance > extraction {
        return Err(reject(DateFuture, "date_naissance"));
    }
    if date > extraction {
        return Err(reject(DateFuture, "date"));
    }
    if date < naissance {
        return Err(reject(EvenementAvantNaissance, "date"));
    }
    let nir = Some(get!("nir"))
        .filter(|n| !n.is_empty())
        .and_then(nir::normalise)
        .filter(|n| nir::is_valid(n));
    let departement = departments
        .of_commune(get!("code_commune"))
        .map(|d| d.code.clone());
    use chrono::Datelike;
    Ok(ValidRow {
        id: id.to_string(),
        nir,
        annee_naissance: naissance.year(),
        sexe,
        departement,
        niveau_formation,
        situation_familiale,
        date,
        evenement,
        attrs,
        motif,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        let header = row(
            "Identifiant personne|NIR|Nom|Date de naissance|Sexe|Code commune|Date|Événement|Statut RDV|Type de RDV|Motif|Commentaire",
        );
        Layout::from_header(&header).unwrap()
    }

    /// The twelve cells of a row of [`layout`] (or its header), written on one line, separated
    /// by `|`.
    fn row(line: &str) -> Vec<String> {
        let cells: Vec<String> = line.split('|').map(str::to_string).collect();
        assert_eq!(cells.len(), 12, "{line}");
        cells
    }

    fn check(line: &str) -> Result<ValidRow, Rejection> {
        validate(
            &layout(),
            &row(line),
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
            &Departments::builtin(),
        )
    }

    #[test]
    fn the_header_is_mapped_and_others_reported_by_name() {
        let l = layout();
        assert_eq!(l.ignored, ["Commentaire"]);
        assert_eq!(l.identifiers, ["nom"]);
        let missing = Layout::from_header(&["id".to_string(), "Nom".to_string()]).unwrap_err();
        assert_eq!(missing, ["date_naissance", "date", "evenement"]);
    }

    #[test]
    fn a_good_row_is_generalised() {
        let v = check("12|1 84 12 76 451 089 46|Martin|03/07/1984|m|76451|2024-02-01|RDV|Honoré|accompagnement|x|bla")
        .unwrap();
        assert_eq!(v.annee_naissance, 1984);
        assert_eq!(v.sexe, Some("M"));
        assert_eq!(v.departement.as_deref(), Some("76"));
        assert_eq!(v.nir.as_deref(), Some("184127645108946"));
        assert_eq!(v.evenement, "rdv");
        assert_eq!(v.attrs[3], Some("honore"));
        assert_eq!(v.attrs[2], Some("accompagnement"));
        assert_eq!(v.motif, None, "motif is not an attribute of rdv");
        let invalid_nir = check("12|184127645108947||03/07/1984|||2024-02-01|rdv||||").unwrap();
        assert_eq!(invalid_nir.nir, None);
    }

    #[test]
    fn each_broken_row_gets_its_reason_and_column() {
        use RejectReason::*;
        let cases: [(&str, RejectReason, &str); 8] = [
            (
                "|||03/07/1984|||2024-02-01|rdv||||",
                IdentifiantManquant,
                "id_personne",
            ),
            ("1|||03/07/1984||||rdv||||", ValeurManquante, "date"),
            (
                "1|||03/07/1984|||2024-02-01|orientaton||||",
                CodeInconnu,
                "evenement",
            ),
            ("1|||03/07/1984|H||2024-02-01|rdv||||", CodeInconnu, "sexe"),
            (
                "1|||03/07/1984|||2024-02-01|rdv|present|||",
                CodeInconnu,
                "statut_rdv",
            ),
            (
                "1|||31/02/1984|||2024-02-01|rdv||||",
                DateImpossible,
                "date_naissance",
            ),
            (
                "1|||03/07/1984|||2024-02-36|rdv||||",
                DateImpossible,
                "date",
            ),
            ("1|||03/07/1984|||2025-07-01|rdv||||", DateFuture, "date"),
        ];
        for (cells, reason, column) in &cases {
            let r = check(cells).unwrap_err();
            assert_eq!((r.reason, r.column), (*reason, Some(*column)), "{cells:?}");
        }
        let before = check("1|||03/07/1984|||1984-07-02|rdv||||").unwrap_err();
        assert_eq!(
            (before.reason, before.column),
            (EvenementAvantNaissance, Some("date"))
        );
        let closed = check("1|||03/07/1984|||2024-02-01|droit_clos|||fin de droit; voir courrier|")
            .unwrap_err();
        assert_eq!(
            (closed.reason, closed.column),
            (CodeInconnu, Some("motif")),
            "free text never lands as a motif"
        );
    }

    /// Issue 13: a NIR or « NOM-Prénom-téléphone » typed in the motif reached exports.
    #[test]
    fn issue_13_a_motif_outside_its_vocabulary_rejects_the_row() {
        use RejectReason::CodeInconnu;
        let motif_row = |evenement: &str, motif: &str| {
            check(&format!(
                "1|||03/07/1984|||2024-02-01|{evenement}|||{motif}|"
            ))
        };
        for hostile in [
            "DUPONT-Jean-0612345678",
            "184127645108946",
            "sanction-du-12-03",
            "ressources_x",
        ] {
            for evenement in ["droit_suspendu", "droit_clos"] {
                let r = motif_row(evenement, hostile).unwrap_err();
                assert_eq!(
                    (r.reason, r.column),
                    (CodeInconnu, Some("motif")),
                    "{evenement} {hostile}"
                );
                assert_eq!(r.reason.label(), "code inconnu");
            }
        }
        let ok = motif_row("droit_suspendu", "Non respect devoirs").unwrap();
        assert_eq!(ok.motif, Some("non_respect_devoirs"));
        assert_eq!(motif_row("droit_clos", "").unwrap().motif, None);
        assert_eq!(
            motif_row("rdv", "DUPONT-Jean-0612345678").unwrap().motif,
            None,
            "an event without a motif never carries one"
        );
    }

    #[test]
    fn dates_in_both_spellings() {
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(
            parse_date("29/02/2024"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(
            parse_date("29/02/2024 00:00:00"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(parse_date("29/02/2023"), None);
        assert_eq!(parse_date("2024-2-9"), None);
        assert_eq!(parse_date("00/00/0000"), None);
        assert_eq!(parse_date("2024-02-290"), None);
    }
}
