use std::path::PathBuf;

/// Errors of the core crate: reading the reference data of a deployment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("lecture impossible de {path} : {}", describe_io(.source))]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
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

/// Result alias of the core crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
