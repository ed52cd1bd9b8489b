//! Copil's indicator layer: the catalogue of SPIE indicators as `.sql` files run by Apache
//! DataFusion over the warehouse, their pooling into waves and the nation, and statistical
//! secrecy.
//!
//! Main types: [`Catalogue`] (the indicators, each an [`Indicator`] parsed from the header of its
//! `.sql` file), [`compute`] (runs the catalogue into [`Cell`]s at every [`Niveau`]) and
//! [`secrecy`] (primary and secondary suppression).
//!
//! ```
//! let catalogue = copil_queries::Catalogue::builtin();
//! let o = catalogue.get("orientes_30j").unwrap();
//! assert_eq!(o.titre, "Entrants orientés en 30 jours");
//! assert_eq!(o.direction, copil_queries::Direction::Hausse);
//! ```

mod accumulators;
mod catalogue;
pub mod comparison;
mod compute;
mod error;
pub mod filters;
mod microdata;
mod model;
mod par;
mod pooling;
mod read;
mod refresh;
mod rejects;
mod results;
pub mod secrecy;
mod sql;
pub mod stats;

pub use catalogue::{Catalogue, Compte, Direction, Indicator, Lien, Relation, Sorte, Ventilation};
pub use compute::{Cell, Extent, Niveau, RELATIF, compute, create_views};
pub use error::{Error, Result};
pub use microdata::{
    ExportColumn, MicroTable, Microdata, export_pseudonym, key_fingerprint, project_key,
};
pub use read::{audit_published, format_spread, format_value, month_label, read};
pub use refresh::{Refreshed, Scope, refresh};
pub use rejects::{Reject, rejects};
pub use results::{
    Depot, IndicatorReport, OverviewRow, PEERS, QualityRow, Ranked, Results, SIZE_INDICATOR,
    Snapshot, TerritoryReport, TerritoryRow, available_months,
};
pub use secrecy::{Audit, Rules};
