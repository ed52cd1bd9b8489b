//! Copil's ingestion layer: reading the drops territories deposit, validating them against the
//! input contract, pseudonymising and landing them in the warehouse.
//!
//! Main types:
//! - [`Ingestor`]: one run over the inbox ([`Ingestor::run_once`]): each drop is read
//!   ([`Records`]: encoding, separator, workbook), checked row by row ([`validation`]),
//!   pseudonymised ([`Pseudonymiser`], keyed by the [`SecretKey`]) and lands in ONE commit per
//!   table, replacing its territory; a [`DropReport`] tells what happened, in French.
//! - [`Limits`]: the bounds every input is read within (decompressed size, compression ratio,
//!   line, field and cell sizes, rows, columns, shared strings, time); a drop past one is
//!   refused naming the limit ([`Limit::key`]).
//! - [`Safeguards`]: when a valid drop is held for review ([`Status::EnAttente`]) instead of
//!   replacing its territory; [`Ingestor::release`] integrates it on request.
//! - [`DropName`]: what a drop's file name says (format and extraction date).
//! - [`nir`]: checking and normalising a NIR with its key.
//! - [`schedule`]: running the job on a cron expression.
//!
//! ```no_run
//! use std::sync::Arc;
//! use copil_ingest::{IngestConfig, Ingestor, Silent};
//! use copil_warehouse::{Departments, Register, SystemClock, Warehouse};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let departments = Departments::builtin();
//! let register = Register::builtin(&departments);
//! let config = IngestConfig {
//!     inbox: "copil-data/inbox".into(),
//!     archive: "copil-data/archive".into(),
//!     refused: "copil-data/refuses".into(),
//!     key_file: "copil-data/secrets/pseudonymisation.key".into(),
//!     parallelism: 2,
//!     pause_at: None,
//! };
//! let warehouse = Warehouse::open("copil-data/warehouse").await?;
//! let ingestor = Arc::new(Ingestor::new(config, warehouse, register, departments, Arc::new(SystemClock)).await?);
//! for drop in ingestor.run_once(Arc::new(Silent)).await?.drops {
//!     println!("{}", drop.render());
//! }
//! # Ok(()) }
//! ```
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
mod limits;
pub mod nir;
mod pseudonym;
mod report;
pub mod schedule;
mod secret_key;
mod source;
pub mod validation;

pub use drop_name::{DropFormat, DropName};
pub use error::{Error, Result};
pub use ingestor::{Checkpoint, IngestConfig, Ingestor, Progress, RunReport, Safeguards, Silent};
pub use limits::{Limit, Limits};
pub use pseudonym::Pseudonymiser;
pub use report::{DropReport, Status};
pub use secret_key::{KeyFileStatus, SecretKey};
pub use source::{Detected, Records};
