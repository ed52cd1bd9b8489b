//! Copil's web dashboard (issue « The dashboard »): axum pages in French, server-drawn SVG
//! charts, a JSON API and exports, reading the materialised indicators of `copil_queries`.
//!
//! This crate is not written yet: it only fixes its place in the workspace, at the top of the
//! data flow (drop → ingest → warehouse → queries → dashboards).
//!
//! ```
//! let departments = copil_warehouse::Departments::builtin();
//! assert_eq!(departments.len(), 101);
//! ```
