//! The crate's one error type: accounts, projects and the audit log.

/// What went wrong with the accounts, the projects or the audit log. The messages are French:
/// a request's mistake (unknown account, invalid login…) is shown as it is; a file or hashing
/// failure is logged with its path and never shown to a client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The accounts file cannot be read or written.
    #[error("fichier des comptes {file} : {message}")]
    AccountsFile {
        /// Its path.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// No account has this login.
    #[error("compte inconnu : « {0} »")]
    UnknownAccount(String),
    /// An account already has this login.
    #[error("le compte « {0} » existe déjà")]
    DuplicateAccount(String),
    /// A login that cannot be used.
    #[error(
        "identifiant invalide : « {0} » (lettres, chiffres, « . », « - », « _ », 3 à 64 caractères)"
    )]
    InvalidLogin(String),
    /// An unknown role, or a role without (or with a needless) territory.
    #[error("{0}")]
    InvalidRole(String),
    /// A password too short.
    #[error("mot de passe trop court : {0} caractères au moins")]
    WeakPassword(usize),
    /// A token name that cannot be used, or an unknown token.
    #[error("jeton d'API : {0}")]
    InvalidToken(String),
    /// The projects file cannot be read or written.
    #[error("fichier des projets {file} : {message}")]
    ProjectsFile {
        /// Its path.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A project that cannot be declared, or an unknown project.
    #[error("projet d'évaluation : {0}")]
    InvalidProject(String),
    /// The audit log cannot be written.
    #[error("{0}")]
    AuditLog(String),
    /// Hashing failed.
    #[error("hachage du mot de passe : {0}")]
    Hash(String),
}

impl Error {
    /// Whether the error is the server's (a file, the audit log, hashing) rather than a
    /// mistake of the request: the former is logged and never shown (issue 13).
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Error::AccountsFile { .. }
                | Error::ProjectsFile { .. }
                | Error::AuditLog(_)
                | Error::Hash(_)
        )
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
