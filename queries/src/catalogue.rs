//! The indicator catalogue: one `.sql` file per indicator, its header documenting it in French.

use crate::{Error, Result};

/// How an indicator's cells are computed and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sorte {
    /// A count of people (numerator only).
    Volume,
    /// A share: numerator ÷ denominator, with a 95 % Wilson interval.
    Taux,
    /// A distribution of delays in days: median (headline), mean and quartiles.
    Delai,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher is better.
    Hausse,
    /// Lower is better.
    Baisse,
    /// Neither: no rank.
    Neutre,
}

/// How the modalities of a breakdown relate to its total (what secrecy treats as linked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The modalities' numerators add up to the total's numerator; each modality shares the
    /// total's denominator (`numerateurs`).
    Numerateurs,
    /// The modalities' numerators add up to the total's denominator, which they share
    /// (`denominateur`: a mix, such as the orientation categories).
    Denominateur,
    /// Numerators and denominators both add up to the total's (`partition`: each unit counted
    /// falls in exactly one modality, with its own denominator).
    Partition,
    /// A person can fall in several modalities (`chevauchement`): each modality's numerator is
    /// at most the total's, and together they are at least the total's; the denominator is shared.
    Chevauchement,
}

impl Relation {
    /// Whether each modality has a denominator of its own (else it is the total's).
    pub fn own_denominator(self) -> bool {
        self == Relation::Partition
    }
}

/// One breakdown of an indicator: its column, relation to the total and expected modalities
/// (each written, zeros included, for every territory and month).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ventilation {
    /// Column name.
    pub nom: String,
    /// How its modalities relate to the total.
    pub relation: Relation,
    /// The modalities always written.
    pub modalites: Vec<String>,
}

/// One indicator of the catalogue.
#[derive(Debug, Clone)]
pub struct Indicator {
    /// Identifier (also the file name).
    pub id: String,
    /// French title.
    pub titre: String,
    /// Kind of figure.
    pub sorte: Sorte,
    /// French definition.
    pub definition: String,
    /// What the numerator counts.
    pub numerateur: String,
    /// What the denominator counts.
    pub denominateur: String,
    /// Observation window.
    pub fenetre: String,
    /// When a month is mature.
    pub maturite: String,
    /// Which way is better.
    pub direction: Direction,
    /// Unit of the value.
    pub unite: String,
    /// Breakdowns (column names), besides the total.
    pub ventilations: Vec<String>,
    /// Each breakdown's relation to the total and modalities, in [`Indicator::ventilations`] order.
    pub details: Vec<Ventilation>,
    /// Days after the end of a month before it is mature (0: none).
    pub fenetre_jours: i64,
    /// The reading chosen where two readings of the definition differ (edge cases), in French.
    pub lecture: Option<String>,
    /// A break in the series: from that month the indicator counts what a reform put in place
    /// of what it counted before (optional header `rupture: AAAA-MM ; why`).
    pub rupture: Option<(chrono::NaiveDate, String)>,
    /// A count equal to counts of another indicator on the same territory, wave or nation
    /// (optional header `lien:`), which secrecy must treat as one (issue 12).
    pub lien: Option<Lien>,
    /// The query (header included).
    pub sql: &'static str,
}

/// A count of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compte {
    /// The numerator (a volume's count).
    Numerateur,
    /// The denominator (a delay's people).
    Denominateur,
}

impl Compte {
    fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "numerateur" => Some(Compte::Numerateur),
            "denominateur" => Some(Compte::Denominateur),
            _ => None,
        }
    }
}

/// `compte` of an indicator's total cell equals `Σ coef × count` of another indicator's total
/// cell on the same territory, wave or nation, `decalage` months apart (header
/// `lien: denominateur = autre.numerateur [- autre.denominateur…] [; mois -1]`). Published
/// twice, such a count would give a secret one away; secrecy hides both or neither.
#[derive(Debug, Clone, PartialEq)]
pub struct Lien {
    /// This indicator's count.
    pub compte: Compte,
    /// The other indicator.
    pub autre: String,
    /// Its counts, with their coefficient (+1 or −1).
    pub termes: Vec<(f64, Compte)>,
    /// The other indicator's month is this one's plus `decalage` months.
    pub decalage: i32,
}

impl Lien {
    fn parse(text: &str) -> std::result::Result<Self, String> {
        let syntax = || {
            format!(
                "« lien » : « {text} » ; attendu « numerateur|denominateur = indicateur.compte [+|- indicateur.compte…] [; mois N] »"
            )
        };
        let (formula, shift) = match text.split_once(';') {
            Some((f, s)) => (f, Some(s.trim())),
            None => (text, None),
        };
        let decalage = match shift {
            None => 0,
            Some(s) => s
                .strip_prefix("mois")
                .and_then(|n| n.trim().parse().ok())
                .ok_or_else(syntax)?,
        };
        let (own, rest) = formula.split_once('=').ok_or_else(syntax)?;
        let compte = Compte::parse(own).ok_or_else(syntax)?;
        let mut autre: Option<String> = None;
        let mut termes = Vec::new();
        let spaced = rest.replace('-', " - ").replace('+', " + ");
        let mut sign = 1.0;
        for token in spaced.split_whitespace() {
            match token {
                "-" => sign = -1.0,
                "+" => sign = 1.0,
                term => {
                    let (ind, count) = term.split_once('.').ok_or_else(syntax)?;
                    if autre.as_deref().is_some_and(|a| a != ind) {
                        return Err(format!("« lien » : un seul autre indicateur ({text})"));
                    }
                    autre = Some(ind.to_string());
                    termes.push((sign, Compte::parse(count).ok_or_else(syntax)?));
                    sign = 1.0;
                }
            }
        }
        Ok(Lien {
            compte,
            autre: autre.ok_or_else(syntax)?,
            termes,
            decalage,
        })
    }
}

/// The catalogue files, in the brief's order.
const FILES: &[(&str, &str)] = &[
    ("entrants", include_str!("../catalogue/entrants.sql")),
    (
        "beneficiaires_dd",
        include_str!("../catalogue/beneficiaires_dd.sql"),
    ),
    (
        "delai_orientation",
        include_str!("../catalogue/delai_orientation.sql"),
    ),
    (
        "orientes_30j",
        include_str!("../catalogue/orientes_30j.sql"),
    ),
    (
        "orientes_45j",
        include_str!("../catalogue/orientes_45j.sql"),
    ),
    (
        "taux_orientation_stock",
        include_str!("../catalogue/taux_orientation_stock.sql"),
    ),
    (
        "part_france_travail",
        include_str!("../catalogue/part_france_travail.sql"),
    ),
    (
        "premier_rdv_30j",
        include_str!("../catalogue/premier_rdv_30j.sql"),
    ),
    ("contrat_28j", include_str!("../catalogue/contrat_28j.sql")),
    (
        "couverture_cer",
        include_str!("../catalogue/couverture_cer.sql"),
    ),
    (
        "taux_diagnostic",
        include_str!("../catalogue/taux_diagnostic.sql"),
    ),
    (
        "prevalence_freins",
        include_str!("../catalogue/prevalence_freins.sql"),
    ),
    (
        "taux_levee_freins",
        include_str!("../catalogue/taux_levee_freins.sql"),
    ),
    (
        "taux_absenteisme",
        include_str!("../catalogue/taux_absenteisme.sql"),
    ),
    (
        "sorties_emploi",
        include_str!("../catalogue/sorties_emploi.sql"),
    ),
    (
        "taux_reorientation",
        include_str!("../catalogue/taux_reorientation.sql"),
    ),
];

/// The catalogue of indicators.
#[derive(Debug, Clone)]
pub struct Catalogue {
    indicators: Vec<Indicator>,
}

impl Indicator {
    /// Parses a catalogue file: `-- key: value` header lines, then the query.
    pub fn parse(file: &str, sql: &'static str) -> Result<Self> {
        let err = |message: String| Error::Catalogue {
            file: file.to_string(),
            message,
        };
        let mut fields = std::collections::BTreeMap::new();
        for line in sql.lines() {
            let Some(rest) = line.strip_prefix("-- ") else {
                break;
            };
            if let Some((k, v)) = rest.split_once(':') {
                fields.insert(k.trim().to_string(), v.trim().to_string());
            }
        }
        let mut take = |k: &str| {
            fields
                .remove(k)
                .ok_or_else(|| err(format!("en-tête « {k} » manquant")))
        };
        let id = take("id")?;
        if id != file {
            return Err(err(format!(
                "l'identifiant « {id} » ne correspond pas au nom du fichier"
            )));
        }
        // A header naming none of the values it may take.
        let unknown = |what: &str, other: &str, known: &str| {
            err(format!("{what} « {other} » inconnue ({known})"))
        };
        let sorte = match take("sorte")?.as_str() {
            "volume" => Sorte::Volume,
            "taux" => Sorte::Taux,
            "delai" => Sorte::Delai,
            other => return Err(unknown("sorte", other, "volume, taux, delai")),
        };
        let direction = match take("direction")?.as_str() {
            "hausse" => Direction::Hausse,
            "baisse" => Direction::Baisse,
            "neutre" => Direction::Neutre,
            other => return Err(unknown("direction", other, "hausse, baisse, neutre")),
        };
        let ventilations: Vec<String> = match take("ventilations")?.as_str() {
            "aucune" => Vec::new(),
            list => list.split(',').map(|s| s.trim().to_string()).collect(),
        };
        let fenetre_jours: i64 = take("fenetre_jours")?
            .parse()
            .ok()
            .filter(|d: &i64| *d >= 0)
            .ok_or_else(|| err("« fenetre_jours » doit être un nombre de jours".into()))?;
        let lecture = take("lecture").ok();
        let rupture = match take("rupture").ok() {
            None => None,
            Some(text) => {
                let (m, why) = text
                    .split_once(';')
                    .ok_or_else(|| err("« rupture » : AAAA-MM puis « ; » puis la raison".into()))?;
                let m = chrono::NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d")
                    .map_err(|_| err(format!("« rupture » : mois « {} » invalide", m.trim())))?;
                Some((m, why.trim().to_string()))
            }
        };
        let mut details = Vec::new();
        for v in &ventilations {
            let text = take(&format!("ventilation {v}"))?;
            let (relation, modalites) = text.split_once(';').ok_or_else(|| {
                err(format!(
                    "« ventilation {v} » : relation puis « ; » puis les modalités"
                ))
            })?;
            let relation = match relation.trim() {
                "numerateurs" => Relation::Numerateurs,
                "denominateur" => Relation::Denominateur,
                "partition" => Relation::Partition,
                "chevauchement" => Relation::Chevauchement,
                other => {
                    let known = "numerateurs, denominateur, partition, chevauchement";
                    return Err(unknown("relation", other, known));
                }
            };
            details.push(Ventilation {
                nom: v.clone(),
                relation,
                modalites: modalites
                    .split(',')
                    .map(|m| m.trim().to_string())
                    .filter(|m| !m.is_empty())
                    .collect(),
            });
        }
        let lien = match take("lien").ok() {
            None => None,
            Some(text) => Some(Lien::parse(&text).map_err(err)?),
        };
        Ok(Self {
            lien,
            details,
            fenetre_jours,
            lecture,
            rupture,
            titre: take("titre")?,
            definition: take("definition")?,
            numerateur: take("numerateur")?,
            denominateur: take("denominateur")?,
            fenetre: take("fenetre")?,
            maturite: take("maturite")?,
            unite: take("unite")?,
            id,
            sorte,
            direction,
            ventilations,
            sql,
        })
    }
}

impl Indicator {
    /// The breakdown of that column.
    pub fn ventilation(&self, nom: &str) -> Option<&Ventilation> {
        self.details.iter().find(|v| v.nom == nom)
    }

    /// The last mature month of a territory extracted on `extraction`: the latest month whose
    /// last day plus the window is on or before it.
    pub fn last_mature_month(&self, extraction: chrono::NaiveDate) -> chrono::NaiveDate {
        use chrono::Datelike;
        let limit = extraction - chrono::Days::new(self.fenetre_jours as u64);
        // The month of `limit` is mature only if `limit` is its last day.
        let next = limit + chrono::Days::new(1);
        let first_of_next = next.with_day(1).expect("day 1");
        first_of_next
            .checked_sub_months(chrono::Months::new(1))
            .expect("a month before")
    }
}

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Self {
        let indicators: Vec<Indicator> = FILES
            .iter()
            .map(|(file, sql)| {
                Indicator::parse(file, sql).expect("the built-in catalogue is valid")
            })
            .collect();
        for i in &indicators {
            if let Some(l) = &i.lien {
                assert!(
                    indicators.iter().any(|o| o.id == l.autre),
                    "{}: lien vers un indicateur inconnu {}",
                    i.id,
                    l.autre
                );
            }
        }
        Self { indicators }
    }

    /// The same catalogue with only the indicators of `ids` (an audit or a test of a few).
    pub fn only(&self, ids: &[&str]) -> Catalogue {
        Catalogue {
            indicators: self
                .indicators
                .iter()
                .filter(|i| ids.contains(&i.id.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// The indicator of that id.
    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// Every indicator, in catalogue order.
    pub fn iter(&self) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter()
    }

    /// How many indicators.
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// The catalogue's French documentation (Markdown), kept as `docs/indicateurs.md`.
    pub fn documentation(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::from(
            "# Les indicateurs du SPIE\n\n\
             Ce document est produit à partir des en-têtes des fichiers `queries/catalogue/*.sql` \
             (un test vérifie qu'il est à jour). Chaque indicateur est calculé par Apache DataFusion \
             sur l'entrepôt, par territoire et par mois, puis agrégé par vague et pour la France en \
             additionnant numérateurs et dénominateurs (valeur « poolée ») ; les délais agrègent les \
             distributions elles-mêmes (médiane de toutes les personnes, pas médiane des médianes).\n\n\
             Un indicateur de cohorte compte les personnes selon le mois M de l'événement déclencheur \
             et ne publie un mois que lorsqu'il est mûr : son dernier jour plus la fenêtre d'observation \
             est au plus tard la date d'extraction du territoire.\n\n\
             Couverture : une case de vague ou de la France ne compte que les territoires dont le \
             mois est complet (mûr) ; elle dit combien de territoires elle compte sur combien sont en \
             vigueur et quelle part des personnes du niveau ils représentent. Elle n'est publiée qu'à \
             partir de 90 % de ces personnes (clé `publication.coverage`) et reste « provisoire » tant \
             qu'un territoire manque. Le mois de référence des pages est le dernier mois complet pour \
             tous les territoires, le même pour tous les indicateurs sans fenêtre.\n\n\
             Secret statistique : aucune case publiée ne compte entre 1 et 10 personnes (seuil 11 par \
             défaut, clé `secrecy.threshold`) ; une part dont le dénominateur est sous le seuil, un délai \
             calculé sur moins de personnes, et un numérateur entre 1 et 10 (clé `secrecy.numerators`) \
             ne sont pas publiés ; un zéro est publié comme zéro et chaque modalité est écrite, même \
             vide. Les chiffres publiés forment des tableaux liés (territoires → vagues → France, \
             modalités → total, avant / après) : d'autres cases sont masquées jusqu'à ce qu'aucune case \
             secrète ne puisse être retrouvée à moins du seuil près à partir de tout ce qui est publié, \
             ce que vérifie un audit à chaque calcul (`copil indicateurs audit`) ; un effectif que deux \
             indicateurs publient (« effectif jumeau ») est masqué dans les deux ou publié dans les \
             deux. Une case masquée \
             s'affiche « secret », jamais 0 ni vide. Les parts ont un \
             intervalle de confiance à 95 % (Wilson) ; les délais, leur médiane, leur moyenne et leurs \
             quartiles.\n\n\
             Avant / après : pour chaque vague, les valeurs sont aussi données par mois relatif au \
             début du SPIE de chaque territoire, de 12 mois avant à 24 mois après (ventilation \
             `mois_depuis_debut_spie`, modalités `-12` à `+24` ; le mois de ces cases est celui du \
             début).\n\n\
             Sources des définitions : DREES (orientation, droits et devoirs, CER), rdv-insertion \
             (absentéisme), décret 2024-1244 (contrat sous quatre semaines, orientation sous six semaines).\n",
        );
        for i in &self.indicators {
            let sorte = match i.sorte {
                Sorte::Volume => "effectif",
                Sorte::Taux => "part",
                Sorte::Delai => "délai",
            };
            let direction = match i.direction {
                Direction::Hausse => "plus c'est haut, mieux c'est",
                Direction::Baisse => "plus c'est bas, mieux c'est",
                Direction::Neutre => "neutre (pas de classement)",
            };
            let ventilations = if i.details.is_empty() {
                "aucune".to_string()
            } else {
                i.details
                    .iter()
                    .map(|v| {
                        let relation = match v.relation {
                            Relation::Numerateurs => "les modalités s'additionnent au numérateur",
                            Relation::Denominateur => {
                                "les modalités s'additionnent au dénominateur (répartition)"
                            }
                            Relation::Partition => {
                                "numérateurs et dénominateurs des modalités s'additionnent au total"
                            }
                            Relation::Chevauchement => {
                                "une personne peut relever de plusieurs modalités"
                            }
                        };
                        format!("{} ({relation} ; {})", v.nom, v.modalites.join(", "))
                    })
                    .collect::<Vec<_>>()
                    .join(" ; ")
            };
            let _ = write!(
                out,
                "\n## {} (`{}`)\n\n{}\n\n| | |\n|---|---|\n| sorte | {sorte} ({}) |\n| numérateur | {} |\n| dénominateur | {} |\n| fenêtre | {} |\n| maturité | {} |\n| sens | {direction} |\n| ventilations | {ventilations} |\n",
                i.titre,
                i.id,
                i.definition,
                i.unite,
                i.numerateur,
                i.denominateur,
                i.fenetre,
                i.maturite
            );
            if let Some(l) = &i.lecture {
                let _ = writeln!(out, "| lecture retenue | {l} |");
            }
            if let Some(lien) = &i.lien {
                let compte = |c: Compte| match c {
                    Compte::Numerateur => "numérateur",
                    Compte::Denominateur => "dénominateur",
                };
                let termes = lien
                    .termes
                    .iter()
                    .enumerate()
                    .map(|(k, (coef, c))| {
                        let sign = match (k, *coef < 0.0) {
                            (_, true) => "moins le ",
                            (0, false) => "le ",
                            (_, false) => "plus le ",
                        };
                        format!("{sign}{}", compte(*c))
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                let mois = match lien.decalage {
                    0 => String::new(),
                    -1 => " du mois précédent".into(),
                    d => format!(" à {d} mois"),
                };
                let _ = writeln!(
                    out,
                    "| effectif jumeau | son {} est {termes} de `{}`{mois} : masqué ou publié avec lui (secret statistique) |",
                    compte(lien.compte),
                    lien.autre
                );
            }
            if let Some((m, why)) = &i.rupture {
                let _ = writeln!(
                    out,
                    "| rupture de série | {} : {why} |",
                    copil_core::nombres::month_label(*m)
                );
            }
        }
        out
    }

    /// Whether the catalogue is empty (never).
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_complete_header() {
        let c = Catalogue::builtin();
        assert_eq!(c.len(), 16, "the sixteen indicators of the brief");
        let o = c.get("orientes_30j").unwrap();
        assert_eq!(o.sorte, Sorte::Taux);
        assert_eq!(o.direction, Direction::Hausse);
        assert_eq!(o.fenetre, "30 jours");
        assert!(c.get("taux_absenteisme").unwrap().ventilations == ["type_rdv"]);
        for i in c.iter() {
            assert!(!i.titre.is_empty() && !i.definition.is_empty() && i.sql.contains("SELECT"));
        }
    }

    #[test]
    fn the_french_documentation_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/indicateurs.md");
        let expected = Catalogue::builtin().documentation();
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == expected,
            "docs/indicateurs.md is stale: regenerate it with `cargo run -- indicators --markdown > docs/indicateurs.md`"
        );
    }

    #[test]
    fn a_broken_header_is_named() {
        let e = Indicator::parse("x", "-- id: y\nSELECT 1")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "catalogue x.sql : l'identifiant « y » ne correspond pas au nom du fichier"
        );
        let e = Indicator::parse("x", "-- id: x\n-- sorte: ratio\nSELECT 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("sorte « ratio » inconnue"), "{e}");
    }
}
