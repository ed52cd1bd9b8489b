//! The Copil warehouse: the Delta Lake tables, their schemas and the commit protocol.
//!
//! Main types:
//! - [`Warehouse`]: the Delta tables on disk ([`tables`]: `evenements`, `personnes`, `rejets`,
//!   `depots`, `indicateurs`); data files are streamed by a [`PartWriter`], then replace a
//!   territory's rows in ONE commit ([`Warehouse::commit`], under a [`CommitGuard`]);
//!   [`Warehouse::register`] puts the latest versions in a DataFusion `SessionContext` through
//!   fresh versioned providers; [`Warehouse::run_lock`] gives one run at a time
//!   ([`RunGuard`]); [`Warehouse::verify`] finds a damaged Delta log ([`LogDamage`]) and
//!   [`Warehouse::repair`] brings the tables back to their last sound state ([`Repair`],
//!   [`LostDrop`]).
//! - [`TableDef`]: a table's columns, partition and French documentation.
//!
//! The reference data (register of territories, départements, vocabulary of the input
//! contract, clock) live in `copil-core` and are re-exported here.
//!
//! ```
//! use copil_warehouse::{Departments, Register, Wave};
//!
//! let departments = Departments::builtin();
//! let register = Register::builtin(&departments);
//! let cea = register.get("cea").expect("Collectivité européenne d'Alsace");
//! assert_eq!(cea.vague, Wave::Ami1_2021);
//! ```

mod error;
mod journal;
mod store;
pub mod tables;

// The reference data live in `copil-core` (issue 14); re-exported for the crates above.
pub use copil_core::{
    Clock, Department, Departments, FixedClock, Register, SystemClock, Territory, TerritoryKind,
    Wave, vocabulary,
};
pub use error::{Error, Result, describe_io};
pub use journal::{LogDamage, LostDrop, Repair, TableRepair};
pub use store::{CommitGuard, PartWriter, RunGuard, StagedFile, Warehouse};
pub use tables::{ACCUMULATEURS, DEPOTS, EVENEMENTS, INDICATEURS, PERSONNES, REJETS, TableDef};
