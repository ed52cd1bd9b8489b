//! The Copil warehouse: the Delta Lake tables, the reference data every layer shares, the
//! vocabularies of the input contract, and the clock.
//!
//! Main types:
//! - [`Warehouse`]: the Delta tables on disk ([`tables`]: `evenements`, `personnes`, `rejets`,
//!   `depots`); data files are streamed by a [`PartWriter`], then replace a territory's rows in
//!   ONE commit ([`Warehouse::commit`], under a [`CommitGuard`]); [`Warehouse::register`] puts
//!   the latest versions in a DataFusion `SessionContext` through fresh versioned providers;
//!   [`Warehouse::verify`] finds a damaged Delta log ([`LogDamage`]) and [`Warehouse::repair`]
//!   brings the tables back to their last sound state ([`Repair`], [`LostDrop`]).
//! - [`Departments`]: the 101 French départements (INSEE code, name, region, population,
//!   centroid), built in.
//! - [`Register`]: the SPIE territories ([`Territory`], [`Wave`]); the built-in register holds
//!   the 68 territories named by public sources, and a deployment can load its own file.
//! - [`vocabulary`]: the columns of a drop ([`vocabulary::Column`]) with their known header
//!   labels, and the code lists of every coded column.
//! - [`Clock`]: where "today" comes from ([`SystemClock`] in production, [`FixedClock`] in tests).
//!
//! ```
//! use copil_warehouse::{Departments, Register, Wave};
//!
//! let departments = Departments::builtin();
//! let register = Register::builtin(&departments);
//! let cea = register.get("cea").expect("Collectivité européenne d'Alsace");
//! assert_eq!(cea.departements, vec!["67".to_string(), "68".to_string()]);
//! assert_eq!(cea.vague, Wave::Ami1_2021);
//! assert_eq!(register.len(), 68);
//! ```

mod clock;
mod department;
mod error;
mod journal;
mod register;
mod store;
pub mod tables;
pub mod vocabulary;

pub use clock::{Clock, FixedClock, SystemClock};
pub use department::{Department, Departments};
pub use error::{Error, Result, describe_io};
pub use journal::{LogDamage, LostDrop, Repair, TableRepair};
pub use register::{Register, Territory, TerritoryKind, Wave};
pub use store::{CommitGuard, PartWriter, RunGuard, StagedFile, Warehouse};
pub use tables::{DEPOTS, EVENEMENTS, INDICATEURS, PERSONNES, REJETS, TableDef};
