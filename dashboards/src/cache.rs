//! Responses tied to the warehouse version: an ETag naming the versions of `indicateurs` and
//! `depots` (and the day, for ages), `Cache-Control` asking to revalidate, and 304 when the
//! client already holds this version.
//! Bodies go out gzipped when the client asks ([`crate::packed`]: cached bodies are compressed
//! once per version).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use sha2::{Digest, Sha256};

use crate::error::HttpError;
use crate::packed::Payload;
use crate::session::{Ctx, User};
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
pub fn respond(c: &Ctx, kind: &Kind, body: impl Into<Payload>) -> Result<Response, HttpError> {
    let body = body.into();
    let tag = etag(&c.state, &c.user);
    let matches = c
        .headers
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
    let body = if accepts_gzip(&c.headers) && body.len() >= GZIP_FROM {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
        body.gzip().map_err(|e| HttpError::internal(&e))?
    } else {
        body.plain()
    };
    builder
        .status(StatusCode::OK)
        .body(Body::from(body))
        .map_err(|e| HttpError::internal(&e))
}

/// Bodies shorter than this are sent as they are (issue 15: indicator pages weigh 370 KB,
/// mostly SVG, and shrink about tenfold).
const GZIP_FROM: usize = 1024;

/// Whether the client takes gzip (`Accept-Encoding`, with a q-value other than 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}
