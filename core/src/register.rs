use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use crate::{Departments, Error, Result};

/// A SPIE deployment wave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Wave {
    /// The 14 experimental territories (March 2020).
    #[serde(rename = "experimentation-2020")]
    Experimentation2020,
    /// The first call for expressions of interest (selection April 2021).
    #[serde(rename = "ami1-2021")]
    Ami1_2021,
    /// The second call (selection by early 2022).
    #[serde(rename = "ami2-2021")]
    Ami2_2021,
}

impl Wave {
    /// Every wave, in order.
    pub const ALL: [Wave; 3] = [Wave::Experimentation2020, Wave::Ami1_2021, Wave::Ami2_2021];

    /// The code used in files and URLs.
    pub fn code(self) -> &'static str {
        match self {
            Wave::Experimentation2020 => "experimentation-2020",
            Wave::Ami1_2021 => "ami1-2021",
            Wave::Ami2_2021 => "ami2-2021",
        }
    }

    /// The French label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Wave::Experimentation2020 => "Expérimentation 2020",
            Wave::Ami1_2021 => "AMI 1 (2021)",
            Wave::Ami2_2021 => "AMI 2 (2021)",
        }
    }

    /// Parses a wave code.
    pub fn from_code(code: &str) -> Option<Wave> {
        Wave::ALL.into_iter().find(|w| w.code() == code)
    }
}

impl fmt::Display for Wave {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What kind of authority a territory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TerritoryKind {
    /// A conseil départemental.
    Departement,
    /// A métropole (e.g. Lyon), part of a département.
    Metropole,
    /// A group of départements and métropoles (e.g. Région Bretagne).
    Groupement,
    /// A collectivité (Martinique, Guyane, Alsace).
    Collectivite,
    /// An agglomeration (part of a département).
    Agglomeration,
}

impl TerritoryKind {
    const ALL: [TerritoryKind; 5] = [
        TerritoryKind::Departement,
        TerritoryKind::Metropole,
        TerritoryKind::Groupement,
        TerritoryKind::Collectivite,
        TerritoryKind::Agglomeration,
    ];

    /// The code used in the register file.
    pub fn code(self) -> &'static str {
        match self {
            TerritoryKind::Departement => "departement",
            TerritoryKind::Metropole => "metropole",
            TerritoryKind::Groupement => "groupement",
            TerritoryKind::Collectivite => "collectivite",
            TerritoryKind::Agglomeration => "agglomeration",
        }
    }

    /// Parses a kind code.
    pub fn from_code(code: &str) -> Option<TerritoryKind> {
        TerritoryKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// One SPIE territory. Data is keyed on [`Territory::id`], never on a département code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Territory {
    /// Stable identifier (`dep-44`, `met-lyon`, `bretagne`…): lowercase ASCII, digits and `-`.
    pub id: String,
    /// Name, in French.
    pub nom: String,
    /// Kind of authority.
    #[serde(rename = "type")]
    pub kind: TerritoryKind,
    /// Codes of the départements it covers (in whole or in part).
    pub departements: Vec<String>,
    /// Deployment wave.
    pub vague: Wave,
    /// First day of the month its SPIE started.
    pub debut_spie: NaiveDate,
    /// How sure the public sources are (`officielle`, `probable`, `presse`…), free text.
    pub source: String,
    /// First day of the last month it is in force, when it ended (optional column `fin`).
    pub fin: Option<NaiveDate>,
    /// The territory that takes over its départements from the month after `fin` (optional
    /// column `successeur`).
    pub successeur: Option<String>,
    /// First day of the first month it is in force, when it succeeds another territory
    /// (derived: the month after its predecessor's end).
    pub depuis: Option<NaiveDate>,
}

impl Territory {
    /// Whether the territory is in force in month `mois` (its data then count in the wave and
    /// national figures): after its predecessor's end, up to its own end.
    pub fn en_vigueur(&self, mois: NaiveDate) -> bool {
        self.depuis.is_none_or(|d| mois >= d) && self.fin.is_none_or(|f| mois <= f)
    }

    /// Whether it covers its départements whole (a métropole or an agglomeration covers part
    /// of one, beside others).
    pub fn couvre_en_entier(&self) -> bool {
        !matches!(
            self.kind,
            TerritoryKind::Metropole | TerritoryKind::Agglomeration
        )
    }
}

/// The territory register: which territories exist, their wave, start and départements.
#[derive(Debug, Clone)]
pub struct Register {
    territories: Vec<Territory>,
    origin: String,
}

const BUILTIN: &str = include_str!("../data/territoires.csv");
const BUILTIN_NAME: &str = "registre intégré";
const COLUMNS: [&str; 7] = [
    "id",
    "nom",
    "type",
    "departements",
    "vague",
    "debut_spie",
    "source",
];

impl Register {
    /// The built-in register: the 68 territories named by public sources.
    pub fn builtin(departments: &Departments) -> Self {
        Self::parse(BUILTIN, BUILTIN_NAME, departments).expect("the built-in register is valid")
    }

    /// Loads a deployment's register file (same columns as the built-in one).
    pub fn from_path(path: &Path, departments: &Departments) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), departments)
    }

    /// Parses and validates a register in CSV form; `file` names it in error messages.
    pub fn parse(text: &str, file: &str, departments: &Departments) -> Result<Self> {
        let err = |line: u64, message: String| Error::Register {
            file: file.to_string(),
            line,
            message,
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| err(1, format!("en-tête illisible : {e}")))?
            .clone();
        let position = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (fin_col, successeur_col) = (position("fin"), position("successeur"));
        let mut index = [0usize; 7];
        let missing: Vec<&str> = COLUMNS
            .iter()
            .enumerate()
            .filter_map(|(i, name)| match position(name) {
                Some(p) => {
                    index[i] = p;
                    None
                }
                None => Some(*name),
            })
            .collect();
        if !missing.is_empty() {
            return Err(err(
                1,
                format!("colonnes manquantes : {}", missing.join(", ")),
            ));
        }

        let mut territories: Vec<(u64, Territory)> = Vec::new();
        let mut seen = BTreeSet::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                err(line, format!("ligne illisible : {e}"))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let field = |i: usize| record.get(index[i]).unwrap_or("").trim();
            let id = field(0);
            if id.is_empty() {
                return Err(err(line, "identifiant vide".into()));
            }
            if !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(err(
                    line,
                    format!(
                        "identifiant « {id} » invalide : minuscules, chiffres et « - » seulement"
                    ),
                ));
            }
            if !seen.insert(id.to_string()) {
                return Err(err(line, format!("identifiant « {id} » en double")));
            }
            let nom = field(1);
            if nom.is_empty() {
                return Err(err(line, format!("nom vide pour « {id} »")));
            }
            let kind = TerritoryKind::from_code(field(2)).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "type « {} » inconnu (attendu : departement, metropole, groupement, collectivite, agglomeration)",
                        field(2)
                    ),
                )
            })?;
            let mut codes = Vec::new();
            for code in field(3).split('|').map(str::trim) {
                if !departments.contains(code) {
                    return Err(err(
                        line,
                        format!("département « {code} » inconnu pour « {id} »"),
                    ));
                }
                if !codes.iter().any(|c| c == code) {
                    codes.push(code.to_string());
                }
            }
            let vague = Wave::from_code(field(4)).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "vague « {} » inconnue (attendu : experimentation-2020, ami1-2021, ami2-2021)",
                        field(4)
                    ),
                )
            })?;
            let debut_spie = NaiveDate::parse_from_str(&format!("{}-01", field(5)), "%Y-%m-%d")
                .map_err(|_| {
                    err(
                        line,
                        format!("début SPIE « {} » invalide (attendu : AAAA-MM)", field(5)),
                    )
                })?;
            let optional = |c: Option<usize>| {
                c.and_then(|i| record.get(i))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
            };
            let fin = optional(fin_col)
                .map(|v| {
                    NaiveDate::parse_from_str(&format!("{v}-01"), "%Y-%m-%d")
                        .map_err(|_| err(line, format!("fin « {v} » invalide (attendu : AAAA-MM)")))
                })
                .transpose()?;
            let successeur = optional(successeur_col).map(str::to_string);
            if successeur.is_some() && fin.is_none() {
                return Err(err(
                    line,
                    format!("« {id} » a un successeur mais pas de mois de fin"),
                ));
            }
            territories.push((
                line,
                Territory {
                    id: id.to_string(),
                    nom: nom.to_string(),
                    kind,
                    departements: codes,
                    vague,
                    debut_spie,
                    source: field(6).to_string(),
                    fin,
                    successeur,
                    depuis: None,
                },
            ));
        }
        if territories.is_empty() {
            return Err(err(1, "le registre ne contient aucun territoire".into()));
        }
        // A successor is in force from the month after its predecessor's end.
        let handovers: Vec<(String, NaiveDate, u64, String)> = territories
            .iter()
            .filter_map(|(line, t)| {
                let next = t.fin?.checked_add_months(chrono::Months::new(1))?;
                Some((t.successeur.clone()?, next, *line, t.id.clone()))
            })
            .collect();
        for (successor, from, line, id) in handovers {
            let Some((_, s)) = territories.iter_mut().find(|(_, t)| t.id == successor) else {
                return Err(err(
                    line,
                    format!("successeur « {successor} » de « {id} » absent du registre"),
                ));
            };
            s.depuis = Some(s.depuis.map_or(from, |d| d.max(from)));
        }
        // No two territories cover one whole département in the same month (their people
        // would be counted twice nationally).
        for (i, (line, a)) in territories.iter().enumerate() {
            for (_, b) in &territories[..i] {
                if !(a.couvre_en_entier() && b.couvre_en_entier()) {
                    continue;
                }
                let Some(shared) = a.departements.iter().find(|d| b.departements.contains(d))
                else {
                    continue;
                };
                let start = a.depuis.max(b.depuis);
                let end = match (a.fin, b.fin) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
                if start.is_none_or(|s| end.is_none_or(|e| s <= e)) {
                    return Err(err(
                        *line,
                        format!(
                            "« {} » et « {} » couvrent tous deux le département {shared} au même moment : \
                             donnez à l'un une fin (colonne fin, AAAA-MM) et son successeur (colonne successeur)",
                            b.id, a.id
                        ),
                    ));
                }
            }
        }
        let territories: Vec<Territory> = territories.into_iter().map(|(_, t)| t).collect();
        Ok(Self {
            territories,
            origin: file.to_string(),
        })
    }

    /// The same register with only the territories of `ids` (a deployment of a few
    /// territories; fixtures).
    pub fn only(&self, ids: &[&str]) -> Register {
        Register {
            territories: self
                .territories
                .iter()
                .filter(|t| ids.contains(&t.id.as_str()))
                .cloned()
                .collect(),
            origin: self.origin.clone(),
        }
    }

    /// Where this register came from (`registre intégré` or a path).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The territory of that id.
    pub fn get(&self, id: &str) -> Option<&Territory> {
        self.territories.iter().find(|t| t.id == id)
    }

    /// All territories, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Territory> {
        self.territories.iter()
    }

    /// How many territories.
    pub fn len(&self) -> usize {
        self.territories.len()
    }

    /// Whether the register is empty (never: loading refuses an empty one).
    pub fn is_empty(&self) -> bool {
        self.territories.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps() -> Departments {
        Departments::builtin()
    }

    const HEADER: &str = "id,nom,type,departements,vague,debut_spie,source\n";

    fn parse(body: &str) -> Result<Register> {
        Register::parse(&format!("{HEADER}{body}"), "test.csv", &deps())
    }

    fn message(r: Result<Register>) -> String {
        r.expect_err("must be refused").to_string()
    }

    /// Issue 12: Bas-Rhin hands its département to the Collectivité européenne d'Alsace from
    /// January 2021, so the nation counts it once.
    #[test]
    fn issue_12_the_register_knows_time() {
        let r = Register::builtin(&deps());
        let m = |s: &str| NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").unwrap();
        let bas_rhin = r.get("dep-67").unwrap();
        let cea = r.get("cea").unwrap();
        assert!(bas_rhin.en_vigueur(m("2020-12")) && !bas_rhin.en_vigueur(m("2021-01")));
        assert!(!cea.en_vigueur(m("2020-12")) && cea.en_vigueur(m("2021-01")));
        // No whole département is covered twice in any month.
        for month in ["2019-06", "2020-12", "2021-01", "2026-11"] {
            let mut seen = BTreeSet::new();
            for t in r
                .iter()
                .filter(|t| t.en_vigueur(m(month)) && t.couvre_en_entier())
            {
                for d in &t.departements {
                    assert!(seen.insert(d.clone()), "{d} twice in {month}");
                }
            }
        }
        // Two territories over one département at once are refused, with the way out.
        let header = "id,nom,type,departements,vague,debut_spie,source,fin,successeur\n";
        let both = format!(
            "{header}dep-67,Bas-Rhin,departement,67,experimentation-2020,2020-03,x,,\n\
             cea,CEA,collectivite,67|68,ami1-2021,2021-04,x,,\n"
        );
        let e = message(Register::parse(&both, "t.csv", &deps()));
        assert!(e.contains("couvrent tous deux le département 67"), "{e}");
        assert!(e.contains("ligne 3"), "{e}");
        let unknown = format!(
            "{header}dep-67,Bas-Rhin,departement,67,experimentation-2020,2020-03,x,2020-12,alsace\n"
        );
        assert!(
            message(Register::parse(&unknown, "t.csv", &deps())).contains("successeur « alsace »")
        );
        // Parts of one département (agglomérations, métropoles) sit side by side.
        let parts = format!(
            "{header}bastia,Bastia,agglomeration,2B,ami2-2021,2022-01,x,,\n\
             ile-rousse,Île-Rousse,agglomeration,2B,ami2-2021,2022-01,x,,\n"
        );
        assert!(Register::parse(&parts, "t.csv", &deps()).is_ok());
    }

    #[test]
    fn builtin_register_has_the_68_territories_of_the_brief() {
        let r = Register::builtin(&deps());
        assert_eq!(r.len(), 68);
        let count = |w: Wave| r.iter().filter(|t| t.vague == w).count();
        assert_eq!(count(Wave::Experimentation2020), 14);
        assert_eq!(count(Wave::Ami1_2021), 31);
        assert_eq!(count(Wave::Ami2_2021), 23);
        let bretagne = r.get("bretagne").unwrap();
        assert_eq!(bretagne.kind, TerritoryKind::Groupement);
        assert_eq!(bretagne.departements, ["22", "29", "35", "56"]);
        assert!(
            bretagne.nom.contains("Brest"),
            "quoted name with commas: {}",
            bretagne.nom
        );
        let ajaccio = r.get("pays-ajaccien").unwrap();
        assert_eq!(ajaccio.departements, ["2A"]);
        assert_eq!(
            ajaccio.debut_spie,
            NaiveDate::from_ymd_opt(2022, 1, 1).unwrap()
        );
        assert_eq!(r.get("dep-37").unwrap().source, "probable");
        assert_eq!(r.origin(), "registre intégré");
    }

    #[test]
    fn a_deployment_can_add_rename_and_merge() {
        let r = parse(
            "dep-44,Loire-Atlantique (renommé),departement,44,experimentation-2020,2020-03,officielle\n\
             corse,Corse (fusion),groupement,2A|2B,ami2-2021,2022-01,deploiement\n",
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.get("corse").unwrap().departements, ["2A", "2B"]);
        assert_eq!(r.origin(), "test.csv");
    }

    #[test]
    fn duplicate_ids_are_refused_with_their_line() {
        let m = message(parse(
            "dep-01,Ain,departement,01,ami2-2021,2022-01,officielle\n\
             dep-01,Ain bis,departement,01,ami2-2021,2022-01,officielle\n",
        ));
        assert_eq!(m, "test.csv, ligne 3 : identifiant « dep-01 » en double");
    }

    #[test]
    fn unknown_departements_are_refused_with_their_line() {
        let m = message(parse(
            "dep-20,Corse,departement,20,ami2-2021,2022-01,presse\n",
        ));
        assert_eq!(
            m,
            "test.csv, ligne 2 : département « 20 » inconnu pour « dep-20 »"
        );
    }

    #[test]
    fn unknown_waves_are_refused_with_their_line() {
        let m = message(parse(
            "dep-01,Ain,departement,01,ami2-2021,2022-01,officielle\n\
             dep-02,Aisne,departement,02,ami3-2023,2023-01,officielle\n",
        ));
        assert!(
            m.starts_with("test.csv, ligne 3 : vague « ami3-2023 » inconnue"),
            "{m}"
        );
    }

    #[test]
    fn other_format_errors_name_the_line() {
        let bad_month = message(parse("dep-01,Ain,departement,01,ami2-2021,2022-13,x\n"));
        assert!(
            bad_month.starts_with("test.csv, ligne 2 : début SPIE « 2022-13 »"),
            "{bad_month}"
        );
        let bad_kind = message(parse("dep-01,Ain,region,01,ami2-2021,2022-01,x\n"));
        assert!(
            bad_kind.starts_with("test.csv, ligne 2 : type « region » inconnu"),
            "{bad_kind}"
        );
        let bad_id = message(parse("Dep 01,Ain,departement,01,ami2-2021,2022-01,x\n"));
        assert!(
            bad_id.contains("ligne 2 : identifiant « Dep 01 » invalide"),
            "{bad_id}"
        );
        let missing = message(Register::parse("id,nom\nx,y\n", "r.csv", &deps()));
        assert_eq!(
            missing,
            "r.csv, ligne 1 : colonnes manquantes : type, departements, vague, debut_spie, source"
        );
        let empty = message(parse(""));
        assert!(empty.contains("aucun territoire"), "{empty}");
    }

    #[test]
    fn loading_from_a_missing_file_names_it() {
        let m = Register::from_path(Path::new("/nonexistent/registre.csv"), &deps())
            .unwrap_err()
            .to_string();
        assert!(
            m.starts_with("lecture impossible de /nonexistent/registre.csv"),
            "{m}"
        );
    }
}
