//! Copil's synthetic territory generator: for each territory of the register, one drop file that
//! follows the input contract, calibrated on the brief's national figures and as messy as real
//! exports, with a manifest beside it that says exactly what it holds.
//!
//! Main types: [`Options`] (what to generate), [`Destination`] (where), [`generer`] (the
//! streaming generator, territories in parallel), [`Manifeste`] (what a drop holds) and
//! [`Variante`] (the shapes exports come in: Windows-1252 with `;`, UTF-8 with a BOM, XLSX,
//! gzip…).
//!
//! ```no_run
//! use chrono::NaiveDate;
//! use copil_sample::{Destination, Options, generer};
//! use copil_warehouse::{Departments, Register};
//!
//! let departments = Departments::builtin();
//! let register = Register::builtin(&departments);
//! let mut options = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 11, 30).unwrap());
//! options.territoires = Some(vec!["dep-44".into(), "cea".into()]);
//! let dest = Destination { inbox: "inbox".into(), manifestes: "manifests".into() };
//! let manifests = generer(&register, &departments, &options, &dest, &|m| {
//!     println!("{} : {} lignes", m.fichier, m.lignes);
//! })?;
//! assert_eq!(manifests.len(), 2);
//! # Ok::<(), copil_sample::Error>(())
//! ```

#[cfg(feature = "bombs")]
pub mod bombs;
mod calibration;
mod error;
mod generator;
mod identity;
mod manifest;
pub mod memoire;
mod pathway;
mod rng;
mod sink;
mod variant;

pub use calibration::{FOYERS_NATIONAUX, personnes_par_territoire};
pub use error::{Error, Result};
pub use generator::{Destination, MAX_PERSONNES_XLSX, Options, chemin_manifeste, generer};
pub use manifest::{ComptesNir, Manifeste, Provenance};
pub use variant::{FormatDate, Variante};
