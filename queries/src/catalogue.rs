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
    /// The query (header included).
    pub sql: &'static str,
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
        let sorte = match take("sorte")?.as_str() {
            "volume" => Sorte::Volume,
            "taux" => Sorte::Taux,
            "delai" => Sorte::Delai,
            other => {
                return Err(err(format!(
                    "sorte « {other} » inconnue (volume, taux, delai)"
                )));
            }
        };
        let direction = match take("direction")?.as_str() {
            "hausse" => Direction::Hausse,
            "baisse" => Direction::Baisse,
            "neutre" => Direction::Neutre,
            other => {
                return Err(err(format!(
                    "direction « {other} » inconnue (hausse, baisse, neutre)"
                )));
            }
        };
        let ventilations = match take("ventilations")?.as_str() {
            "aucune" => Vec::new(),
            list => list.split(',').map(|s| s.trim().to_string()).collect(),
        };
        Ok(Self {
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

impl Catalogue {
    /// The built-in catalogue.
    pub fn builtin() -> Self {
        let indicators = FILES
            .iter()
            .map(|(file, sql)| {
                Indicator::parse(file, sql).expect("the built-in catalogue is valid")
            })
            .collect();
        Self { indicators }
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
             Secret statistique : aucune case publiée ne concerne moins de personnes que le seuil \
             (11 par défaut, clé `secrecy.threshold`) ; une part dont le dénominateur est sous le seuil \
             n'est pas publiée ; dans une ventilation dont le total est publié, une case masquée \
             entraîne le masquage de la plus petite autre case, pour qu'on ne puisse pas la retrouver \
             par différence. Une case masquée s'affiche « secret », jamais 0 ni vide. Les parts ont un \
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
            let ventilations = if i.ventilations.is_empty() {
                "aucune".to_string()
            } else {
                i.ventilations.join(", ")
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
