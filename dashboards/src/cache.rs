//! Responses tied to the warehouse version: an ETag naming the versions of `indicateurs` and
//! `depots` (and the day, for ages), `Cache-Control` asking to revalidate, and 304 when the
//! client already holds this version.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use sha2::{Digest, Sha256};

use crate::error::HttpError;
use crate::session::User;
use crate::state::AppState;

/// What is answered.
#[derive(Debug, Clone)]
pub enum Kind {
    /// An HTML page.
    Html,
    /// JSON.
    Json,
    /// A CSV download with this file name.
    Csv(String),
}

/// The ETag of the current results as `user` sees them (pages differ by account: header,
/// scoped details).
pub fn etag(state: &AppState, user: &User) -> String {
    let r = state.results();
    let who = Sha256::digest(user.login.as_bytes());
    format!(
        "\"copil-i{}-d{}-{}-u{}\"",
        r.version,
        r.version_depots,
        state.clock().today().format("%Y%m%d"),
        hex::encode(&who[..6])
    )
}

/// Answers `body` with the version headers, or 304 when `If-None-Match` matches.
pub fn respond(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    kind: &Kind,
    body: String,
) -> Result<Response, HttpError> {
    let tag = etag(state, user);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut builder = Response::builder()
        .header(header::ETAG, &tag)
        .header(header::CACHE_CONTROL, "private, no-cache")
        .header(header::VARY, "Accept-Encoding, Cookie, Authorization");
    if matches {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(|e| HttpError::internal(&e));
    }
    let content_type = match kind {
        Kind::Html => "text/html; charset=utf-8".to_string(),
        Kind::Json => "application/json".to_string(),
        Kind::Csv(_) => "text/csv; charset=utf-8".to_string(),
    };
    builder = builder.header(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type).map_err(|e| HttpError::internal(&e))?,
    );
    if let Kind::Csv(name) = kind {
        builder = builder.header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        );
    }
    builder
        .status(StatusCode::OK)
        .body(Body::from(body))
        .map_err(|e| HttpError::internal(&e))
}
