//! One module per group of commands; each function is called by `main` once the
//! configuration is loaded.

pub mod accounts;
pub mod entrepot;
pub mod indicators;
pub mod serve;
pub mod setup;
