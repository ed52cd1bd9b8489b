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
    /// A file could not be read or moved.
    #[error("{path} : {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CSV file is malformed at a line.
    #[error("{path}, ligne {line} : fichier CSV illisible ({message})")]
    Csv {
        /// The file.
        path: std::path::PathBuf,
        /// The line.
        line: u64,
        /// The parser's message.
        message: String,
    },
    /// A workbook cannot be read.
    #[error("{path} : classeur illisible ({message})")]
    Xlsx {
        /// The file.
        path: std::path::PathBuf,
        /// The reader's message.
        message: String,
    },
    /// A drop has no header.
    #[error("{path} : fichier vide (pas même un en-tête)")]
    Empty {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The warehouse failed.
    #[error(transparent)]
    Warehouse(#[from] copil_warehouse::Error),
    /// Reading the warehouse's tables failed.
    #[error("lecture de l'entrepôt : {message}")]
    Query {
        /// The engine's message.
        message: String,
    },
    /// The schedule could not be set up.
    #[error("planification « {expression} » : {message}")]
    Schedule {
        /// The cron expression.
        expression: String,
        /// What went wrong.
        message: String,
    },
}

/// Result alias of the ingestion crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
