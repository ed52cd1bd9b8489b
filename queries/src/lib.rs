//! Copil's indicator layer (issue « Indicators with DataFusion »): the catalogue of the 16 SPIE
//! indicators as `.sql` files, the materialised `indicateurs` table, comparisons and statistical
//! secrecy. It reads the warehouse and never the drops.
//!
//! This crate is not written yet: it only fixes its place in the workspace, above
//! [`copil_warehouse`] and below the dashboards.
//!
//! ```
//! // Reference data the indicators will be computed over.
//! let departments = copil_warehouse::Departments::builtin();
//! assert_eq!(copil_warehouse::Register::builtin(&departments).len(), 68);
//! ```
