/// Errors of the indicator layer, naming the indicator or catalogue file at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A catalogue file is malformed.
    #[error("catalogue {file}.sql : {message}")]
    Catalogue {
        /// The file (without `.sql`).
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An indicator's query failed.
    #[error("indicateur {indicator} : {message}")]
    Query {
        /// The indicator id (or `vues`).
        indicator: String,
        /// The engine's message.
        message: String,
    },
    /// Statistical secrecy cannot protect the table: it is not published (fail closed).
    #[error("secret statistique, indicateur {indicator} : {message}")]
    Secrecy {
        /// The indicator id.
        indicator: String,
        /// What failed.
        message: String,
    },
    /// The warehouse failed.
    #[error(transparent)]
    Warehouse(#[from] copil_warehouse::Error),
}

/// Result alias of the indicator layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
