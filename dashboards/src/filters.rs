//! The filters of a view, carried in the URL so a view can be shared: month, wave, breakdown,
//! territory.
//! Bad values answer 400 in French, saying what is expected.

use copil_queries::Indicator;
use copil_warehouse::Register;
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

/// The filters, checked (the view filters of the indicator layer).
pub type Filters = copil_queries::filters::ViewFilters;

impl Query {
    /// Checks the values against the indicator (its breakdowns) and the register.
    pub fn check(
        &self,
        ind: Option<&Indicator>,
        register: &Register,
    ) -> Result<Filters, HttpError> {
        copil_queries::filters::check_view(
            self.mois.as_deref(),
            self.vague.as_deref(),
            self.ventilation.as_deref(),
            self.territoire.as_deref(),
            ind,
            register,
        )
        .map_err(|e| HttpError::bad_request(e.message))
    }
}
