//! Copil's accounts, without HTTP: who may use the dashboard and the command line, and what
//! they did. Shared by the web crate (`copil-dashboards`) and `copil comptes` / `copil projets`.
//!
//! Main types: [`Accounts`] (the accounts file: [`Account`]s with their [`Role`], argon2id
//! password hashes and API [`Token`]s, every change made under the file's lock), [`Projects`]
//! (evaluation [`Project`]s, declared with a [`NewProject`]), [`Audit`] (the append-only audit
//! log of [`Entry`]s), [`Sessions`] (the sessions and failed-login lockout of one process, see
//! [`LoginOutcome`]), [`store::Synced`] (a JSON file kept in step with its disk copy, which the
//! accounts and the projects share) and [`store::FileLock`] (the exclusive lock of a data file),
//! [`ProConnect`] (sign-in with ProConnect, OpenID Connect: issue 17) with its [`Requests`] for
//! access, and [`Error`] (the one error type).
//!
//! ```no_run
//! # fn run() -> copil_accounts::Result<()> {
//! use std::path::Path;
//! use copil_accounts::{Accounts, Role};
//! let departments = copil_core::Departments::builtin();
//! let register = copil_core::Register::builtin(&departments);
//! let mut accounts = Accounts::open(Path::new("donnees/secrets/comptes.json"))?;
//! let password = copil_accounts::random_password()?;
//! accounts.add("pilotage", Role::National, None, &password, &register, chrono::Utc::now())?;
//! assert!(accounts.authenticate("pilotage", &password).is_some());
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod audit;
mod error;
pub mod proconnect;
pub mod projects;
pub mod requests;
pub mod sessions;
pub mod store;

pub use accounts::{
    Account, Accounts, MAX_LOGIN, MIN_PASSWORD, Role, Token, check_password, hash_password,
    normalise_email, random_password, shown_login, token_digest, verify_password,
};
pub use audit::{Audit, Entry};
pub use error::{Error, Motif, Result};
pub use proconnect::{Admission, Identity, ProConnect};
pub use projects::{NewProject, Project, Projects};
pub use requests::{AccessRequest, Requests};
pub use sessions::{LoginOutcome, Sessions};
