use std::path::PathBuf;

/// Errors of the warehouse crate. Each variant names the file and line it comes from.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("lecture impossible de {path} : {}", describe_io(.source))]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file or folder could not be written (disk full, rights…).
    #[error("écriture impossible de {path} : {}", describe_io(.source))]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Reference data (the register of territories) could not be read.
    #[error(transparent)]
    Core(#[from] copil_core::Error),
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
    /// A table's Delta log is damaged (issue 13): nothing is written until it is repaired.
    #[error(
        "table {table} : journal Delta endommagé à partir de la version {version} — {what}. Rien n'a été écrit. Pour réparer : restaurez le dossier {table}/_delta_log d'une sauvegarde, ou lancez « copil entrepot reparer » : les versions endommagées sont mises de côté (jamais effacées), la table revient à la dernière version saine, et les dépôts dont les données sont perdues sont remis dans la boîte de dépôt pour être intégrés de nouveau."
    )]
    DamagedLog {
        /// The table.
        table: String,
        /// The first version that cannot be trusted.
        version: u64,
        /// What is wrong, in French.
        what: String,
    },
    /// A damaged table cannot be repaired from its own files.
    #[error("table {table} : {message}")]
    Unrepairable {
        /// The table.
        table: String,
        /// What is wrong and what to do, in French.
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

pub use copil_core::describe_io;

/// Result alias of the warehouse crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
