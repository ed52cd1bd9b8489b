//! The parameters of an export, checked: the filters of an indicator table, the project and
//! filters of a microdata table, and the forms of the exports page. A bad value is an
//! [`Error::Parameter`] saying in French what is expected (the same checks and messages as the
//! dashboard's view filters, plus the export's own).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use copil_queries::filters::{ViewFilters, check_view};
use copil_queries::{Catalogue, MicroTable, RELATIF, Results};
use copil_warehouse::{Register, Wave};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::plan::Format;

/// Parameters of an indicator table.
pub const INDICATOR_PARAMS: &[&str] = &["indicateur", "mois", "vague", "ventilation", "territoire"];

/// Parameters of a microdata table.
pub const MICRO_PARAMS: &[&str] = &["projet", "territoire", "vague"];

/// The value of a query parameter, empty values (from forms) being absent.
fn param<'a>(q: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    q.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

/// Refuses any parameter of `q` not in `allowed` (`file` names what is asked, for the message).
pub fn refuse_unknown(q: &HashMap<String, String>, allowed: &[&str], file: &str) -> Result<()> {
    let unknown: BTreeSet<&str> = q
        .keys()
        .map(String::as_str)
        .filter(|k| !allowed.contains(k))
        .collect();
    match unknown.first() {
        None => Ok(()),
        Some(k) => Err(Error::Parameter(format!(
            "Paramètre inconnu : « {k} ». Paramètres acceptés pour {file} : {}.",
            if allowed.is_empty() {
                "aucun".to_string()
            } else {
                allowed.join(", ")
            }
        ))),
    }
}

/// Whether `p` can name a project: the rule of declared evaluation projects
/// ([`copil_accounts::projects::valid_name`]).
pub use copil_accounts::projects::valid_name as valid_project_name;

/// Checks the territory and wave filters together: a territory outside the wave is refused.
fn territory_and_wave(
    register: &Register,
    territoire: Option<&str>,
    vague: Option<Wave>,
) -> Result<()> {
    if let (Some(t), Some(w)) = (territoire, vague)
        && let Some(territory) = register.get(t)
        && territory.vague != w
    {
        return Err(Error::Parameter(format!(
            "Le territoire « {t} » appartient à la vague « {} », pas à « {} » : retirez l'un des deux filtres.",
            territory.vague.code(),
            w.code()
        )));
    }
    Ok(())
}

/// The checked filters of an indicator table.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorFilters {
    /// One indicator, or all.
    pub indicateur: Option<String>,
    /// One month, wave and territory, or all; a breakdown (or [`RELATIF`]), or the totals.
    pub view: ViewFilters,
}

impl IndicatorFilters {
    /// Checks the query `q` (whose parameters are already known to be
    /// [`INDICATOR_PARAMS`]): the indicator, the breakdown (with an indicator), the view
    /// filters, the territory within the wave, and the month among those computed.
    pub fn check(
        q: &HashMap<String, String>,
        catalogue: &Catalogue,
        register: &Register,
        results: &Results,
    ) -> Result<IndicatorFilters> {
        let ind = match param(q, "indicateur") {
            None => None,
            Some(id) => Some(catalogue.get(id).ok_or_else(|| {
                Error::Parameter(format!(
                    "Indicateur inconnu : « {id} ». Indicateurs : {}.",
                    catalogue
                        .iter()
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?),
        };
        let asked_ventilation = param(q, "ventilation");
        if asked_ventilation.is_some() && ind.is_none() {
            return Err(Error::Parameter(
                "Le paramètre « ventilation » demande un indicateur : ajoutez « indicateur=… » (les ventilations de chaque indicateur sont sur /methodologie).".to_string(),
            ));
        }
        let relatif = asked_ventilation == Some(RELATIF);
        let mut view = check_view(
            param(q, "mois"),
            param(q, "vague"),
            asked_ventilation.filter(|_| !relatif),
            param(q, "territoire"),
            ind,
            register,
        )?;
        territory_and_wave(register, view.territoire.as_deref(), view.vague)?;
        if let Some(m) = view.mois {
            let months: BTreeSet<NaiveDate> = match ind {
                Some(i) => results.months(&i.id).into_iter().collect(),
                None => catalogue
                    .iter()
                    .flat_map(|i| results.months(&i.id))
                    .collect(),
            };
            if !months.contains(&m) {
                let range = copil_queries::available_months(months)
                    .unwrap_or_else(|| "aucun mois n'est encore calculé".to_string());
                return Err(Error::Parameter(format!(
                    "Aucune donnée pour le mois « {} » ; {range}.",
                    m.format("%Y-%m")
                )));
            }
        }
        if relatif {
            view.ventilation = Some(RELATIF.to_string());
        }
        Ok(IndicatorFilters {
            indicateur: ind.map(|i| i.id.clone()),
            view,
        })
    }

    /// The filters as the manifest and the audit log give them.
    pub fn json(&self) -> Value {
        json!({
            "indicateur": self.indicateur,
            "mois": self.view.mois.map(|m| m.format("%Y-%m").to_string()),
            "vague": self.view.vague.map(Wave::code),
            "ventilation": self.view.ventilation,
            "territoire": self.view.territoire,
        })
    }

    /// The canonical query string (without `?`; empty without filters).
    pub fn query_string(&self) -> String {
        let mut parts: Vec<String> = (self.indicateur.iter())
            .map(|i| format!("indicateur={i}"))
            .collect();
        parts.extend(self.view.query_pairs());
        parts.join("&")
    }
}

/// The declared evaluation project an evaluator exports under, as the caller resolved it
/// (declared, naming the account, open today).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectScope {
    /// The project's name.
    pub nom: String,
    /// Its territories.
    pub territoires: Vec<String>,
}

/// The checked parameters of a microdata export.
#[derive(Debug, Clone, PartialEq)]
pub struct MicroFilters {
    /// The project the pseudonyms are made for.
    pub projet: String,
    /// One territory, or all.
    pub territoire: Option<String>,
    /// One wave, or all.
    pub vague: Option<Wave>,
    /// The territories of the declared project an evaluator exports under (`None`: a
    /// national account, every territory).
    pub perimetre: Option<Vec<String>>,
}

impl MicroFilters {
    /// Checks the query `q` (whose parameters are already known to be [`MICRO_PARAMS`]): the
    /// project's name (required), the territory and the wave.
    pub fn check(q: &HashMap<String, String>, register: &Register) -> Result<MicroFilters> {
        let projet = match param(q, "projet") {
            Some(p) if valid_project_name(p) => p.to_string(),
            Some(p) => {
                return Err(Error::Parameter(format!(
                    "Nom de projet invalide : « {p} ». Attendu : 1 à 64 caractères parmi a-z, 0-9, « - » et « _ », par exemple projet=evaluation-2025."
                )));
            }
            None => {
                return Err(Error::Parameter(
                    "Paramètre « projet » requis : le nom du projet d'étude (1 à 64 caractères parmi a-z, 0-9, « - » et « _ »), par exemple projet=evaluation-2025. Les pseudonymes des personnes sont propres à chaque projet.".to_string(),
                ));
            }
        };
        let checked = check_view(
            None,
            param(q, "vague"),
            None,
            param(q, "territoire"),
            None,
            register,
        )?;
        territory_and_wave(register, checked.territoire.as_deref(), checked.vague)?;
        Ok(MicroFilters {
            projet,
            territoire: checked.territoire,
            vague: checked.vague,
            perimetre: None,
        })
    }

    /// The same filters within the declared project `scope` (issue 13): a territory outside
    /// it is refused, and the export keeps to its territories.
    pub fn within(mut self, scope: ProjectScope) -> Result<MicroFilters> {
        if let Some(t) = &self.territoire
            && !scope.territoires.contains(t)
        {
            return Err(Error::OutsideProject {
                territoire: t.clone(),
                projet: scope.nom,
                territoires: scope.territoires,
            });
        }
        self.perimetre = Some(scope.territoires);
        Ok(self)
    }

    /// The filters as the manifest and the audit log give them.
    pub fn json(&self) -> Value {
        let mut v = json!({ "territoire": self.territoire, "vague": self.vague.map(Wave::code) });
        if let Some(p) = &self.perimetre {
            v["perimetre_projet"] = json!(p);
        }
        v
    }

    /// The canonical query string (without `?`).
    pub fn query_string(&self) -> String {
        let mut parts = vec![format!("projet={}", self.projet)];
        if let Some(t) = &self.territoire {
            parts.push(format!("territoire={t}"));
        }
        if let Some(w) = self.vague {
            parts.push(format!("vague={}", w.code()));
        }
        parts.join("&")
    }

    /// The territories exported, in register order.
    pub fn territories(&self, register: &Register) -> Vec<String> {
        register
            .iter()
            .filter(|t| self.territoire.as_deref().is_none_or(|id| id == t.id))
            .filter(|t| self.vague.is_none_or(|w| w == t.vague))
            .filter(|t| self.perimetre.as_ref().is_none_or(|p| p.contains(&t.id)))
            .map(|t| t.id.clone())
            .collect()
    }
}

/// The indicator form of the exports page (`format` and the table's filters), checked: the
/// format and filters of the file it describes.
pub fn indicator_form(
    q: &HashMap<String, String>,
    catalogue: &Catalogue,
    register: &Register,
    results: &Results,
) -> Result<(Format, IndicatorFilters)> {
    let format = match param(q, "format") {
        None => Format::Csv,
        Some(x) => Format::from_ext(x).ok_or_else(|| {
            Error::Parameter(format!(
                "Format inconnu : « {x} ». Formats : csv, xlsx, parquet."
            ))
        })?,
    };
    let rest = rest_of_form(q, "format", INDICATOR_PARAMS, "indicateurs")?;
    let f = IndicatorFilters::check(&rest, catalogue, register, results)?;
    Ok((format, f))
}

/// The microdata form of the exports page (`table` and the table's parameters), checked: the
/// table and filters of the file it describes (not yet scoped to a project).
pub fn micro_form(
    q: &HashMap<String, String>,
    register: &Register,
) -> Result<(MicroTable, MicroFilters)> {
    let table = match param(q, "table") {
        None => {
            return Err(Error::Parameter(
                "Paramètre « table » requis : evenements ou personnes.".to_string(),
            ));
        }
        Some(t) => MicroTable::from_name(t).ok_or_else(|| {
            Error::Parameter(format!(
                "Table inconnue : « {t} ». Tables : evenements, personnes."
            ))
        })?,
    };
    let rest = rest_of_form(q, "table", MICRO_PARAMS, "microdonnees")?;
    Ok((table, MicroFilters::check(&rest, register)?))
}

/// The form `q` without its `key` (the file's format or table), its other parameters checked
/// against `allowed` ([`refuse_unknown`]).
fn rest_of_form(
    q: &HashMap<String, String>,
    key: &str,
    allowed: &[&str],
    file: &str,
) -> Result<HashMap<String, String>> {
    let mut rest = q.clone();
    rest.remove(key);
    refuse_unknown(&rest, allowed, file)?;
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_checked() {
        assert!(valid_project_name("evaluation-2025_a"));
        assert!(!valid_project_name(""));
        assert!(!valid_project_name("Evaluation"));
        assert!(!valid_project_name("a/b"));
        assert!(!valid_project_name(&"a".repeat(65)));
    }

    #[test]
    fn unknown_parameters_are_refused_by_name() {
        let q: HashMap<String, String> = [("annee".to_string(), "2025".to_string())].into();
        assert_eq!(
            refuse_unknown(&q, MICRO_PARAMS, "personnes.parquet")
                .unwrap_err()
                .to_string(),
            "Paramètre inconnu : « annee ». Paramètres acceptés pour personnes.parquet : projet, territoire, vague."
        );
        assert!(refuse_unknown(&HashMap::new(), &[], "x").is_ok());
    }
}
