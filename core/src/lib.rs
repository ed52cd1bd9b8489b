//! Copil's base layer: what every other crate shares and that needs neither DataFusion nor
//! axum (issue 14).
//!
//! Main items:
//! - [`Register`]: the SPIE territories ([`Territory`], [`Wave`]); [`Departments`]: the 101
//!   départements; [`vocabulary`]: the input contract's columns and code lists; [`Clock`]:
//!   where "today" comes from.
//! - [`nombres`]: French number formatting, written once: [`nombres::decimal`] (decimal comma,
//!   thousands grouped by a narrow no-break space, minus sign U+2212) and [`nombres::entier`].
//! - [`inbox`]: the inbox rule (what is still being written).
//! - [`empreinte`]: keyed hashing (HMAC-SHA-256), written once: [`empreinte::Empreinte`] for
//!   person pseudonyms, export pseudonyms, derived keys and signed cookies.
//!
//! ```
//! use copil_core::nombres;
//! assert_eq!(nombres::decimal(-1234.5, 1).unwrap(), "\u{2212}1\u{202F}234,5");
//! assert_eq!(nombres::entier(16_367), "16\u{202F}367");
//! ```

mod clock;
mod department;
pub mod empreinte;
mod error;
pub mod inbox;
pub mod libelles;
pub mod nombres;
mod register;
pub mod vocabulary;

pub use clock::{Clock, FixedClock, SystemClock};
pub use department::{Department, Departments};
pub use error::{Error, Result, describe_io};
pub use register::{Register, Territory, TerritoryKind, Wave};
