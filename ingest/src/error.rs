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
    /// A file could not be read, written or moved: a fault of the machine, not of the drop,
    /// which is never refused for it (it stays in the inbox for the next run).
    #[error("{path} : {}", copil_warehouse::describe_io(.source))]
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
    /// A drop crosses one of the [`crate::Limits`]: refused, read no further.
    #[error("{path}{} : limite dépassée, {} : {value} au plus (clé {})", at_line(.line), .limit.label(), .limit.key())]
    Limit {
        /// The file.
        path: std::path::PathBuf,
        /// The limit crossed.
        limit: crate::Limit,
        /// Its value.
        value: u64,
        /// The line where it was crossed, when known.
        line: Option<u64>,
    },
    /// A drop's text is in an encoding Copil does not read (UTF-16, UTF-32).
    #[error("{path} : {message}")]
    Encoding {
        /// The file.
        path: std::path::PathBuf,
        /// What was detected and what to do, in French.
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

fn at_line(line: &Option<u64>) -> String {
    line.map(|l| format!(", ligne {l}")).unwrap_or_default()
}

impl Error {
    /// Whether the error comes from the machine (disk, warehouse) rather than from the drop's
    /// content: such a drop is never refused, it is retried at the next run.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::Warehouse(_) | Error::Query { .. }
        )
    }
}

/// Result alias of the ingestion crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
