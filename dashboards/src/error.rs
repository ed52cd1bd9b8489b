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

impl From<copil_exports::Error> for HttpError {
    /// A request an export cannot serve says what to fix (404 for a file name, 400 for a
    /// parameter, 403 outside the evaluator's project, 422 for too long a workbook); a
    /// failure to build or read an export is a 500, logged with its cause and never shown.
    fn from(e: copil_exports::Error) -> Self {
        use copil_exports::Error as E;
        match e {
            E::UnknownFile(_) | E::MicrodataNotParquet(_) => HttpError::not_found(e.to_string()),
            E::Parameter(message) => HttpError::bad_request(message),
            E::OutsideProject { .. } => HttpError::forbidden(e.to_string()),
            E::TooManyRows { .. } => {
                HttpError::client(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            E::Folder { .. } | E::Open { .. } | E::Write { .. } | E::Microdata(_) | E::Task(_) => {
                HttpError::internal(&e)
            }
        }
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
                let body =
                    crate::layout::bare(crate::layout::Brand::Neutral, None, title, &self.message);
                let mut response = (self.status, Html(body)).into_response();
                // Drawn again with the user's menu by the login layer (issue 15).
                response.extensions_mut().insert(ErrorPage {
                    title,
                    message: self.message,
                });
                response
            }
        }
    }
}

/// An HTML error page's content, kept on the response so that the login layer, which knows
/// the user, draws it again inside the site's header and menu.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// The page title (« Page introuvable »).
    pub title: &'static str,
    /// The French message.
    pub message: String,
}

/// Ends a path-like token.
fn ends_token(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';' | ')' | '(' | '»' | '«' | '"' | '\'' | '[' | ']'
        )
}

/// `message` with every file path cut to its file name: messages of ingestion (refused drops)
/// name the files they are about, and a page or the API must not show where the server keeps
/// them (issue 13). A path is a token starting with `/`, a drive (`C:\`), or a relative token
/// with a `/` whose last part has an extension (`copil-data/inbox/dep-44/x.csv`); dates such
/// as `JJ/MM/AAAA` are kept.
pub(crate) fn without_paths(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while !rest.is_empty() {
        let start = rest.find(|c: char| !ends_token(c)).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(ends_token).unwrap_or(rest.len());
        let token = &rest[..end];
        // A trailing « : » or « . » belongs to the sentence, not to the path.
        let core = token.trim_end_matches([':', '.']);
        let separators = |c: char| c == '/' || c == '\\';
        let last = core.rsplit(separators).next().unwrap_or(core);
        let bytes = core.as_bytes();
        let absolute = (core.starts_with('/') && core.len() > 1)
            || (bytes.len() > 3
                && bytes[0].is_ascii_alphabetic()
                && bytes[1] == b':'
                && bytes[2] == b'\\');
        let relative_file = core.contains(separators)
            && !core.starts_with(separators)
            && last.contains('.')
            && !last.starts_with('.');
        if (absolute || relative_file) && !last.is_empty() {
            out.push_str(last);
            out.push_str(&token[core.len()..]);
        } else {
            out.push_str(token);
        }
        rest = &rest[end..];
    }
    out
}

/// The crate's errors outside HTTP answers: the accounts' (`copil_accounts`), and reading the
/// results at start-up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The accounts, projects or audit log.
    #[error(transparent)]
    Accounts(#[from] copil_accounts::Error),
    /// The results could not be read from the warehouse.
    #[error("lecture des résultats : {0}")]
    Results(String),
}

impl From<copil_accounts::Error> for HttpError {
    /// A mistake of the request (unknown account, invalid login…) is a 400 saying it; a file,
    /// audit log or hashing failure is a 500, logged with its path and never shown (issue 13).
    fn from(e: copil_accounts::Error) -> Self {
        if e.is_internal() {
            HttpError::internal(&e)
        } else {
            HttpError::bad_request(e.to_string())
        }
    }
}

impl From<Error> for HttpError {
    /// As [`copil_accounts::Error`]; the results unreadable is a 500.
    fn from(e: Error) -> Self {
        match e {
            Error::Accounts(e) => e.into(),
            Error::Results(_) => HttpError::internal(&e),
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: messages shown to users never carry a server path.
    #[test]
    fn issue_13_paths_are_cut_to_file_names() {
        let cases = [
            (
                "/srv/copil/inbox/dep-44/dep-44_2025-06-30.csv, ligne 12 : fichier CSV illisible (fin de fichier)",
                "dep-44_2025-06-30.csv, ligne 12 : fichier CSV illisible (fin de fichier)",
            ),
            (
                "copil-data/inbox/dep-44/extraction_20250630.xlsx : classeur illisible (zip)",
                "extraction_20250630.xlsx : classeur illisible (zip)",
            ),
            (
                "lecture de « /var/lib/copil/archive/x.csv » impossible",
                "lecture de « x.csv » impossible",
            ),
            (
                "C:\\Copil\\inbox\\a.csv : fichier vide (pas même un en-tête)",
                "a.csv : fichier vide (pas même un en-tête)",
            ),
            ("fichier /tmp/x.csv.", "fichier x.csv."),
            (
                "date invalide (attendu JJ/MM/AAAA ou AAAA-MM-JJ) : 1/2 des lignes",
                "date invalide (attendu JJ/MM/AAAA ou AAAA-MM-JJ) : 1/2 des lignes",
            ),
            (
                "colonnes obligatoires absentes de l'en-tête : date_evenement, type",
                "colonnes obligatoires absentes de l'en-tête : date_evenement, type",
            ),
        ];
        for (message, shown) in cases {
            assert_eq!(without_paths(message), shown, "{message}");
        }
    }
}
