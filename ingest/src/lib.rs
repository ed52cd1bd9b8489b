//! Copil's ingestion layer: reading the drops territories deposit, validating them against the
//! input contract, pseudonymising and landing them in the warehouse (issue « Ingestion »).
//!
//! What is here so far, the parts of the input contract other crates already rely on:
//! - [`DropName`]: what a drop's file name says (format and extraction date);
//! - [`nir`]: checking and normalising a NIR with its key;
//! - [`SecretKey`]: the pseudonymisation key, kept in a file outside the warehouse.
//!
//! ```
//! use copil_ingest::{DropFormat, DropName};
//!
//! let name = DropName::parse("export_iodas_20251031.csv.gz").unwrap();
//! assert_eq!(name.format, DropFormat::CsvGz);
//! assert_eq!(name.extraction.to_string(), "2025-10-31");
//! assert!(copil_ingest::nir::is_valid("2 69 05 49 588 157 80"));
//! ```

mod drop_name;
mod error;
mod ingestor;
pub mod nir;
mod pseudonym;
mod report;
pub mod schedule;
mod secret_key;
mod source;
pub mod validation;

pub use drop_name::{DropFormat, DropName};
pub use error::{Error, Result};
pub use ingestor::{Checkpoint, IngestConfig, Ingestor, Progress, RunReport, Silent};
pub use pseudonym::Pseudonymiser;
pub use report::{DropReport, Status};
pub use secret_key::{KeyFileStatus, SecretKey};
pub use source::{Detected, Records};
