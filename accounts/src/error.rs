//! The crate's one error type: accounts, projects and the audit log.

/// What went wrong with the accounts, the projects, the audit log or a ProConnect sign-in. The messages are French:
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
    /// An e-mail address that cannot be used (issue 17).
    #[error("adresse électronique invalide : « {0} »")]
    InvalidEmail(String),
    /// Another account already has this e-mail address (issue 17).
    #[error("le compte « {login} » a déjà l'adresse « {email} »")]
    DuplicateEmail {
        /// The account that has it.
        login: String,
        /// The address.
        email: String,
    },
    /// A request for access that cannot be made or decided (issue 17).
    #[error("demande d'accès : {0}")]
    AccessRequest(String),
    /// A ProConnect sign-in refused or failed (issue 17): [`Motif::message`] is what the
    /// person is told; `detail` is for the log and the audit log (never a token nor a secret).
    #[error("{} ({detail})", motif.message())]
    ProConnect {
        /// Why, as the audit log and the page name it.
        motif: Motif,
        /// What the library or the provider said.
        detail: String,
    },
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

/// Why a ProConnect sign-in did not open a session (issue 17): each has its code in the
/// audit log and a French sentence for the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motif {
    /// The `state` returned differs from the browser's, or the browser has no sign-in under
    /// way (cookie absent, forged or expired).
    State,
    /// The id_token's nonce is not the one sent.
    Nonce,
    /// The provider refused the code: expired (30 s) or already used.
    Code,
    /// A signature that the provider's keys do not verify (or an algorithm other than RS256
    /// or ES256).
    Signature,
    /// A token issued for another client.
    Audience,
    /// A token issued by another provider.
    Issuer,
    /// An expired token.
    Expired,
    /// Any other token or user information that cannot be accepted.
    Token,
    /// The user information did not come as a signed JWT.
    UserInfo,
    /// The identity carries no usable e-mail address.
    NoEmail,
    /// The provider answered the sign-in with an error (`error=access_denied`…).
    Provider,
    /// The provider cannot be reached or answers nonsense (discovery, network).
    Unavailable,
}

impl Motif {
    /// The code written to the audit log.
    pub fn code(self) -> &'static str {
        match self {
            Motif::State => "state",
            Motif::Nonce => "nonce",
            Motif::Code => "code_expire",
            Motif::Signature => "signature",
            Motif::Audience => "audience",
            Motif::Issuer => "emetteur",
            Motif::Expired => "jeton_expire",
            Motif::Token => "jeton_invalide",
            Motif::UserInfo => "infos_utilisateur",
            Motif::NoEmail => "sans_adresse",
            Motif::Provider => "refus_fournisseur",
            Motif::Unavailable => "indisponible",
        }
    }

    /// What the person is told, in French.
    pub fn message(self) -> &'static str {
        match self {
            Motif::State => {
                "La réponse de ProConnect ne correspond à aucune connexion commencée dans ce navigateur (paramètre state) : recommencez la connexion."
            }
            Motif::Nonce => {
                "L'identité renvoyée par ProConnect ne correspond pas à votre demande de connexion (nonce) : recommencez la connexion."
            }
            Motif::Code => {
                "Le code de connexion de ProConnect a expiré ou a déjà servi : recommencez la connexion."
            }
            Motif::Signature => {
                "La signature de l'identité renvoyée par ProConnect n'a pas pu être vérifiée : connexion refusée."
            }
            Motif::Audience => {
                "L'identité renvoyée par ProConnect est destinée à un autre service que Copil : connexion refusée."
            }
            Motif::Issuer => {
                "L'identité renvoyée ne vient pas du fournisseur ProConnect configuré : connexion refusée."
            }
            Motif::Expired => {
                "L'identité renvoyée par ProConnect a expiré : recommencez la connexion."
            }
            Motif::Token => "L'identité renvoyée par ProConnect est invalide : connexion refusée.",
            Motif::UserInfo => {
                "Les informations de votre compte ProConnect ne sont pas arrivées signées : connexion refusée."
            }
            Motif::NoEmail => {
                "ProConnect n'a pas transmis d'adresse électronique valide : connexion impossible."
            }
            Motif::Provider => "ProConnect a interrompu la connexion.",
            Motif::Unavailable => {
                "ProConnect ne répond pas pour le moment : réessayez dans quelques minutes, ou prévenez l'administrateur de Copil."
            }
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
