//! Copil's exports for evaluators and the national team (issue #6), without HTTP: indicator
//! tables (CSV, XLSX, Parquet) read from the materialised cells with statistical secrecy as on
//! the pages, pseudonymised microdata (Parquet) whose person pseudonyms are specific to a
//! project, their French data dictionaries and their manifests.
//!
//! The main types:
//!
//! - [`Asked`] (from [`parse_name`]): what a file name asks for, a [`Kind`] of export
//!   (indicator table or [`copil_queries::MicroTable`]) in a [`Format`], its manifest
//!   ([`MANIFEST_SUFFIX`]), its dictionary ([`dictionary`]) or a form of the exports page;
//! - [`IndicatorFilters`] and [`MicroFilters`]: the checked parameters of an export; a
//!   microdata export of an evaluator is kept [`MicroFilters::within`] the [`ProjectScope`]
//!   of the declared project the caller resolved;
//! - [`Plan`]: everything that determines an export's bytes, keyed by the hash of its
//!   canonical description (versions, kind, format, filters, project);
//! - [`Built`] (from [`build_indicators`] and [`build_micro`]): the data file, built once
//!   into the exports folder (temporary file, renamed, manifest beside it; the folder keeps
//!   the most recently used exports) and opened, with its manifest;
//! - [`Context`]: what an export reads (catalogue, register, results, warehouse) and where
//!   it is kept, implemented by the dashboard's state;
//! - [`Error`]: the crate's one error type.
//!
//! The same versions and filters give the same bytes (fixed XLSX properties, fixed Parquet
//! writer properties, no timestamp anywhere).

use std::path::Path;
use std::sync::Arc;

use copil_queries::{Catalogue, Results};
use copil_warehouse::{Register, Warehouse};

mod build;
mod cache;
mod dictionary;
mod error;
mod filters;
mod manifest;
mod plan;
mod quoting;
mod rows;
mod writers;

pub use build::{build_indicators, build_micro, micro_filters};
pub use cache::Built;
pub use dictionary::dictionary;
pub use error::{Cause, Error, Result};
pub use filters::{
    INDICATOR_PARAMS, IndicatorFilters, MICRO_PARAMS, MicroFilters, ProjectScope, indicator_form,
    micro_form, refuse_unknown, valid_project_name,
};
pub use plan::{
    Asked, DICTIONARY_SUFFIX, FormKind, Format, Kind, MANIFEST_SUFFIX, Plan, parse_name,
};

/// What an export reads and where it is kept: implemented by the dashboard's state, cheap to
/// clone (a build runs on a blocking thread with its own clone).
pub trait Context: Clone + Send + Sync + 'static {
    /// The indicator catalogue.
    fn catalogue(&self) -> &Catalogue;
    /// The territory register.
    fn register(&self) -> &Register;
    /// The materialised results of the current warehouse version.
    fn results(&self) -> Arc<Results>;
    /// The warehouse (microdata are read from it).
    fn warehouse(&self) -> &Warehouse;
    /// Where exports are built and kept.
    fn exports_dir(&self) -> &Path;
    /// The statistical secrecy threshold.
    fn threshold(&self) -> i64;
    /// Most data rows of an XLSX export.
    fn xlsx_max_rows(&self) -> usize;
    /// The key of export pseudonyms, from which each project's key is derived.
    fn export_key(&self) -> &[u8; 32];
}
