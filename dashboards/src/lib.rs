//! Copil's web dashboard: French pages, server-drawn SVG charts and a JSON API, all read from
//! the materialised indicators (`copil_queries::Results`), never from events.
//!
//! Main types: [`AppState`] (reference data, settings and the results of the current warehouse
//! version), [`app`] (the [`axum::Router`], apart from serving so tests can drive it),
//! [`serve`] (binds and serves until shutdown), [`HttpError`] (the one error type) and the
//! [`chart`] module (deterministic SVG).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use copil_dashboards::{AppState, Settings, app};
//! let departments = copil_warehouse::Departments::builtin();
//! let register = copil_warehouse::Register::builtin(&departments);
//! let warehouse = copil_warehouse::Warehouse::open("donnees/entrepot").await?;
//! let state = AppState::new(warehouse, register, departments, Settings { threshold: 11 },
//!     Arc::new(copil_warehouse::SystemClock)).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app(state)).await?;
//! # Ok(()) }
//! ```

pub mod accounts;
mod api;
mod cache;
pub mod chart;
mod error;
mod figures;
mod filters;
mod layout;
mod pages;
mod state;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

pub use accounts::{Account, Accounts, Role};
pub use error::{Error, HttpError, Result};
pub use figures::Table;
pub use state::{AppState, Settings};

/// The OpenAPI document served at `/api/openapi.json`.
pub use api::OPENAPI;

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/copil.css"),
    )
}

async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("static/favicon.svg"),
    )
}

async fn api_page() -> impl IntoResponse {
    axum::response::Html(layout::bare(
        "API",
        "L'API JSON publie les mêmes données que les pages, secret statistique appliqué. Sa description OpenAPI est à /api/openapi.json ; routes : /api/v1/national, /api/v1/indicateurs, /api/v1/indicateurs/{id}, /api/v1/territoires, /api/v1/territoires/{id}, /api/v1/qualite.",
    ))
}

async fn not_found() -> HttpError {
    HttpError::not_found("Cette page n'existe pas.")
}

async fn health() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

/// The application's routes.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/national", get(api::national))
        .route("/indicateurs", get(api::indicators))
        .route("/indicateurs/{id}", get(api::indicator))
        .route("/territoires", get(api::territories))
        .route("/territoires/{id}", get(api::territory))
        .route("/qualite", get(api::quality))
        .fallback(api::not_found);
    Router::new()
        .route("/", get(pages::national))
        .route("/indicateurs", get(pages::indicators))
        .route("/indicateurs/{id}", get(pages::indicator))
        .route("/indicateurs/{id}/{file}", get(pages::figure_csv))
        .route("/territoires", get(pages::territories))
        .route("/territoires/{id}", get(pages::territory))
        .route("/qualite", get(pages::quality))
        .route("/methodologie", get(pages::methodology))
        .route("/api", get(api_page))
        .route("/api/openapi.json", get(api::openapi))
        .route("/static/copil.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .route("/sante", get(health))
        .nest("/api/v1", api)
        .fallback(not_found)
        .with_state(state)
}

/// Serves `app(state)` on `listener` until `shutdown` resolves, reloading the results every
/// `reload_every` so a refresh made by another process shows up.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    reload_every: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let watcher = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(reload_every);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = state.reload().await {
                    tracing::warn!(error = %e, "rechargement des résultats impossible");
                }
            }
        })
    };
    let r = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await;
    watcher.abort();
    r
}
