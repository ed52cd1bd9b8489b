//! Exports for evaluators and the national team (stub: being written).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use std::collections::HashMap;

use crate::error::HttpError;
use crate::session::User;
use crate::state::AppState;

/// `GET /exports`: the export forms.
pub async fn page(
    State(_state): State<AppState>,
    user: User,
    _headers: HeaderMap,
) -> Result<Response, HttpError> {
    user.require_exports()?;
    Err(HttpError::not_found("à venir"))
}

/// `GET /exports/{file}`: one export file, its manifest or its dictionary.
pub async fn file(
    State(_state): State<AppState>,
    user: User,
    Path(_file): Path<String>,
    Query(_q): Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    user.require_exports()?;
    Err(HttpError::not_found("à venir"))
}

/// `GET /api/v1/exports/{file}`: the same, errors in JSON.
pub async fn api_file(
    state: State<AppState>,
    user: User,
    file: Path<String>,
    q: Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    file_inner(state, user, file, q)
        .await
        .map_err(HttpError::json)
}

async fn file_inner(
    state: State<AppState>,
    user: User,
    file_name: Path<String>,
    q: Query<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    file(state, user, file_name, q).await
}
