//! The filters of a view, carried in the URL so a view can be shared: month, wave, breakdown,
//! territory.
//! Bad values answer 400 in French, saying what is expected.

use chrono::NaiveDate;
use copil_queries::Indicator;
use copil_warehouse::{Register, Wave};
use serde::Deserialize;

use crate::error::HttpError;

/// The query string of a view (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Query {
    /// `AAAA-MM`.
    pub mois: Option<String>,
    /// A wave code.
    pub vague: Option<String>,
    /// A breakdown column of the indicator.
    pub ventilation: Option<String>,
    /// A territory id, highlighted in the ranking.
    pub territoire: Option<String>,
}

/// The filters, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// First day of the month asked for.
    pub mois: Option<NaiveDate>,
    /// The wave asked for.
    pub vague: Option<Wave>,
    /// The breakdown asked for.
    pub ventilation: Option<String>,
    /// The territory highlighted.
    pub territoire: Option<String>,
}

impl Query {
    /// Checks the values against the indicator (its breakdowns) and the register.
    pub fn check(
        &self,
        ind: Option<&Indicator>,
        register: &Register,
    ) -> Result<Filters, HttpError> {
        let territoire = match self.territoire.as_deref().filter(|t| !t.is_empty()) {
            None => None,
            Some(t) if register.get(t).is_some() => Some(t.to_string()),
            Some(t) => {
                return Err(HttpError::bad_request(format!(
                    "Territoire inconnu : « {t} ». La liste des territoires est sur /territoires."
                )));
            }
        };
        let mois = match self.mois.as_deref().filter(|m| !m.is_empty()) {
            None => None,
            Some(m) => Some(
                NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| {
                    HttpError::bad_request(format!(
                        "Paramètre « mois » invalide : « {m} ». Attendu : AAAA-MM, par exemple 2024-06."
                    ))
                })?,
            ),
        };
        let vague = match self.vague.as_deref().filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => Some(Wave::from_code(v).ok_or_else(|| {
                HttpError::bad_request(format!(
                    "Vague inconnue : « {v} ». Vagues : {}.",
                    Wave::ALL.map(|w| w.code()).join(", ")
                ))
            })?),
        };
        let ventilation = match self.ventilation.as_deref().filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => {
                let known = ind.map(|i| i.ventilations.clone()).unwrap_or_default();
                if !known.iter().any(|k| k == v) {
                    return Err(HttpError::bad_request(if known.is_empty() {
                        format!(
                            "Ventilation inconnue : « {v} ». Cet indicateur n'a pas de ventilation."
                        )
                    } else {
                        format!(
                            "Ventilation inconnue : « {v} ». Ventilations de cet indicateur : {}.",
                            known.join(", ")
                        )
                    }));
                }
                Some(v.to_string())
            }
        };
        Ok(Filters {
            mois,
            vague,
            ventilation,
            territoire,
        })
    }
}

impl Filters {
    /// The query string for these filters (`?mois=…&vague=…`), empty when none is set.
    pub fn query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.mois {
            parts.push(format!("mois={}", m.format("%Y-%m")));
        }
        if let Some(w) = self.vague {
            parts.push(format!("vague={}", w.code()));
        }
        if let Some(v) = &self.ventilation {
            parts.push(format!("ventilation={v}"));
        }
        if let Some(t) = &self.territoire {
            parts.push(format!("territoire={t}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}
