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
    /// The warehouse location cannot be used.
    #[error("entrepôt {location} : {message}")]
    Location {
        /// The configured location.
        location: String,
        /// What is wrong, in French.
        message: String,
    },
    /// A Delta Lake operation failed.
    #[error("table {table} : {message}")]
    Delta {
        /// The table.
        table: String,
        /// The underlying error.
        message: String,
    },
    /// A Parquet data file could not be written.
    #[error("fichier de données {path} : {message}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        message: String,
    },
}

/// Result alias of the warehouse crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
