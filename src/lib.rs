//! The application layer of Copil, shared by the `copil` binary and its tests: the
//! configuration declared once ([`config`]), the command line ([`cli`]), the pipeline (ingest
//! then refresh, [`pipeline`]) and the commands ([`commands`]).

pub mod cli;
pub mod commands;
pub mod config;
pub mod pipeline;
