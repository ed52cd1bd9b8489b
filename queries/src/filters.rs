//! The filters of a view (month, wave, breakdown, territory), checked once for the pages, the
//! API and the exports: a bad value gets a French message saying what is expected.

use chrono::NaiveDate;
use copil_warehouse::{Register, Wave};

use crate::catalogue::Indicator;

/// The filters of a view, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewFilters {
    /// First day of the month asked for.
    pub mois: Option<NaiveDate>,
    /// The wave asked for.
    pub vague: Option<Wave>,
    /// A breakdown column of the indicator.
    pub ventilation: Option<String>,
    /// A territory of the register.
    pub territoire: Option<String>,
}

impl ViewFilters {
    /// The query string for these filters (`?mois=…&vague=…`), empty when none is set.
    pub fn query_string(&self) -> String {
        let parts = self.query_pairs();
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    /// Each filter set, as `name=value`, in the order of the query string.
    pub fn query_pairs(&self) -> Vec<String> {
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
        parts
    }
}

/// A filter value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    /// The parameter at fault (`mois`, `vague`, `ventilation`, `territoire`).
    pub parametre: &'static str,
    /// What is wrong and what is expected, in French.
    pub message: String,
}

/// Checks the values (empty ones count as absent) against the indicator's breakdowns and the
/// register, territory first, then month, wave and breakdown.
pub fn check_view(
    mois: Option<&str>,
    vague: Option<&str>,
    ventilation: Option<&str>,
    territoire: Option<&str>,
    ind: Option<&Indicator>,
    register: &Register,
) -> Result<ViewFilters, FilterError> {
    let some = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_string);
    let err = |parametre, message| FilterError { parametre, message };
    let territoire = match some(territoire) {
        Some(t) if register.get(&t).is_none() => {
            return Err(err(
                "territoire",
                format!(
                    "Territoire inconnu : « {t} ». La liste des territoires est sur /territoires."
                ),
            ));
        }
        t => t,
    };
    let mois = match some(mois) {
        None => None,
        Some(m) => Some(
            NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| {
                err(
                    "mois",
                    format!(
                        "Paramètre « mois » invalide : « {m} ». Attendu : AAAA-MM, par exemple 2024-06."
                    ),
                )
            })?,
        ),
    };
    let vague = match some(vague) {
        None => None,
        Some(v) => Some(Wave::from_code(&v).ok_or_else(|| {
            err(
                "vague",
                format!(
                    "Vague inconnue : « {v} ». Vagues : {}.",
                    Wave::ALL.map(|w| w.code()).join(", ")
                ),
            )
        })?),
    };
    let ventilation = match some(ventilation) {
        None => None,
        Some(v) => {
            let known = ind.map(|i| i.ventilations.clone()).unwrap_or_default();
            if !known.contains(&v) {
                return Err(err(
                    "ventilation",
                    if known.is_empty() {
                        format!(
                            "Ventilation inconnue : « {v} ». Cet indicateur n'a pas de ventilation."
                        )
                    } else {
                        format!(
                            "Ventilation inconnue : « {v} ». Ventilations de cet indicateur : {}.",
                            known.join(", ")
                        )
                    },
                ));
            }
            Some(v)
        }
    };
    Ok(ViewFilters {
        mois,
        vague,
        ventilation,
        territoire,
    })
}
