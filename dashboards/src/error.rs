//! The one HTTP error type: 4xx say in French what to fix, 5xx are logged and never leaked.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// How the error is shown: an HTML page or a JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A French HTML page.
    Html,
    /// `{"erreur": "..."}`.
    Json,
}

/// An error answered to a client.
#[derive(Debug)]
pub struct HttpError {
    /// The status.
    pub status: StatusCode,
    /// The French message shown (for a 5xx, a generic one).
    pub message: String,
    /// How it is shown.
    pub format: Format,
}

impl HttpError {
    /// 404 with a message saying what was not found.
    pub fn not_found(message: impl Into<String>) -> Self {
        HttpError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            format: Format::Html,
        }
    }

    /// 400 with a message saying what to fix.
    pub fn bad_request(message: impl Into<String>) -> Self {
        HttpError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            format: Format::Html,
        }
    }

    /// 403: the account may not do this; the message says who may.
    pub fn forbidden(message: impl Into<String>) -> Self {
        HttpError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
            format: Format::Html,
        }
    }

    /// 401: no (valid) session or token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        HttpError {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
            format: Format::Html,
        }
    }

    /// Any 4xx status with its message.
    pub fn client(status: StatusCode, message: impl Into<String>) -> Self {
        HttpError {
            status,
            message: message.into(),
            format: Format::Html,
        }
    }

    /// 500: the cause is logged here, the client sees a generic message.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "erreur interne");
        HttpError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "Erreur interne du serveur ; elle a été journalisée.".into(),
            format: Format::Html,
        }
    }

    /// The same error, shown as JSON.
    pub fn json(mut self) -> Self {
        self.format = Format::Json;
        self
    }
}

impl From<copil_queries::Error> for HttpError {
    fn from(e: copil_queries::Error) -> Self {
        HttpError::internal(&e)
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        match self.format {
            Format::Json => (
                self.status,
                Json(serde_json::json!({ "erreur": self.message, "statut": self.status.as_u16() })),
            )
                .into_response(),
            Format::Html => {
                let title = match self.status {
                    StatusCode::NOT_FOUND => "Page introuvable",
                    StatusCode::BAD_REQUEST => "Requête invalide",
                    StatusCode::FORBIDDEN => "Accès refusé",
                    StatusCode::UNAUTHORIZED => "Connexion requise",
                    StatusCode::PAYLOAD_TOO_LARGE => "Fichier trop volumineux",
                    StatusCode::TOO_MANY_REQUESTS => "Trop de tentatives",
                    StatusCode::UNPROCESSABLE_ENTITY => "Export impossible dans ce format",
                    StatusCode::CONFLICT => "Conflit",
                    _ => "Erreur",
                };
                let body = crate::layout::bare(title, &self.message);
                (self.status, Html(body)).into_response()
            }
        }
    }
}

/// The crate's errors outside HTTP answers (accounts).
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
    /// The results could not be read from the warehouse.
    #[error("lecture des résultats : {0}")]
    Results(String),
    /// Hashing failed.
    #[error("hachage du mot de passe : {0}")]
    Hash(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
