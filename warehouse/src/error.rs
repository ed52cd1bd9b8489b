use std::path::PathBuf;

/// Errors of the warehouse crate. Each variant names the file and line it comes from.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A register (or département) file could not be read.
    #[error("lecture impossible de {path} : {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A line of a register file breaks its format.
    #[error("{file}, ligne {line} : {message}")]
    Register {
        /// The file (or `registre intégré`).
        file: String,
        /// The 1-based line number in the file (the header is line 1).
        line: u64,
        /// What is wrong, in French.
        message: String,
    },
}

/// Result alias of the warehouse crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
