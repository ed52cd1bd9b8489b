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

/// An I/O error in French, for the people who read reports and logs (the system's own text,
/// often English, stays in the error's source).
pub fn describe_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    let what = match e.kind() {
        NotFound => "fichier ou dossier introuvable",
        PermissionDenied => "accès refusé",
        AlreadyExists => "existe déjà",
        StorageFull => "disque plein",
        QuotaExceeded => "quota disque dépassé",
        ReadOnlyFilesystem => "système de fichiers en lecture seule",
        UnexpectedEof => "fin de fichier inattendue (fichier tronqué)",
        InvalidData | InvalidInput => "données illisibles (fichier corrompu)",
        TimedOut => "délai dépassé",
        Interrupted => "opération interrompue",
        OutOfMemory => "mémoire insuffisante",
        IsADirectory => "c'est un dossier",
        NotADirectory => "ce n'est pas un dossier",
        WouldBlock => "ressource occupée",
        _ => "erreur d'entrée-sortie",
    };
    match e.raw_os_error() {
        Some(code) => format!("{what} (erreur système {code})"),
        None => what.to_string(),
    }
}

/// Result alias of the warehouse crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
