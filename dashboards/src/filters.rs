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
        let v = copil_queries::filters::check_view(
            self.mois.as_deref(),
            self.vague.as_deref(),
            self.ventilation.as_deref(),
            self.territoire.as_deref(),
            ind,
            register,
        )
        .map_err(|e| HttpError::bad_request(e.message))?;
        Ok(Filters {
            mois: v.mois,
            vague: v.vague,
            ventilation: v.ventilation,
            territoire: v.territoire,
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
