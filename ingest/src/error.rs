/// Errors of the ingestion crate, each naming the file (and row, column) it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A drop's file name does not follow the contract.
    #[error("{file} : {message}")]
    DropName {
        /// The file name.
        file: String,
        /// What is wrong, in French.
        message: String,
    },
    /// The pseudonymisation key file is missing, unreadable or malformed.
    #[error("clé de pseudonymisation {path} : {message}")]
    Key {
        /// The key file.
        path: std::path::PathBuf,
        /// What is wrong, in French (never the key itself).
        message: String,
    },
}

/// Result alias of the ingestion crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
