//! Copil's web dashboard: French pages, server-drawn SVG charts, a JSON API and exports, all
//! read from the materialised indicators (`copil_queries::Results`), never from events; behind
//! accounts with roles.
//!
//! Main types: [`AppState`] (reference data, [`Settings`], the results of the current warehouse
//! version, the accounts, sessions and audit log), [`app`] (the [`axum::Router`], apart from
//! serving so tests can drive it), [`serve`] (binds and serves until shutdown), [`HttpError`]
//! (the one HTTP error type), [`Accounts`] and [`Role`] (argon2id-hashed accounts and API
//! tokens, re-exported from `copil_accounts`),
//! [`User`] (who is asking, and what it may see), and the [`chart`] module (deterministic SVG).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::path::Path;
//! use std::sync::Arc;
//! use copil_dashboards::{AppState, ExportKey, Settings, app};
//! let departments = copil_warehouse::Departments::builtin();
//! let register = copil_warehouse::Register::builtin(&departments);
//! let warehouse = copil_warehouse::Warehouse::open("donnees/entrepot").await?;
//! // Accounts in donnees/secrets/comptes.json, uploads to donnees/inbox, exports and audit log
//! // under donnees/.
//! let settings = Settings::under(Path::new("donnees"), 11, ExportKey([0; 32]));
//! let state = AppState::new(warehouse, register, departments, settings,
//!     Arc::new(copil_warehouse::SystemClock)).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app(state)).await?;
//! # Ok(()) }
//! ```

mod admin;
mod api;
mod cache;
pub mod chart;
mod drops;
mod error;
mod exports;
mod figures;
mod filters;
mod held;
mod layout;
mod login;
mod packed;
mod pages;
mod password;
mod proconnect;
pub mod session;
mod state;
mod user;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

// Accounts, projects and the audit log live in `copil-accounts`; re-exported so that paths
// such as `copil_dashboards::Accounts` keep working.
pub use copil_accounts::{Account, Accounts, NewProject, Project, Projects, Role};
pub use copil_accounts::{accounts, audit, projects};
pub use error::{Error, HttpError, Result};
pub use figures::Table;
pub use session::User;
pub use state::{AppState, ExportKey, IngestNow, MAX_PASSWORD_CHECKS, Settings, XLSX_MAX_ROWS};

/// The OpenAPI document served at `/api/openapi.json`, built from the API's route table.
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

/// The page's content security policy: everything from this site only, no inline script nor
/// style, no framing, forms posted here only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the security headers to every response (issue 13), keeping any a handler set; behind
/// HTTPS (`Secure` cookies), `Strict-Transport-Security` too.
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::HeaderValue;
    let h = response.headers_mut();
    if state.settings().secure_cookies {
        h.entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
    ] {
        h.entry(name).or_insert(value);
    }
    response
}

async fn not_found() -> HttpError {
    HttpError::not_found("Cette page n'existe pas.")
}

async fn health() -> impl IntoResponse {
    (StatusCode::OK, "ok")
}

/// The application's routes. Everything but the login pages (ProConnect's included), the
/// static files, the health check and the OpenAPI document needs a session or an API token; each handler then checks
/// the role and the territory itself. Every response carries the security headers
/// ([`CONTENT_SECURITY_POLICY`], `nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy`, and
/// `Strict-Transport-Security` with `Secure` cookies).
pub fn app(state: AppState) -> Router {
    let upload_limit = usize::try_from(state.settings().upload_max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 * 1024);
    let protected = Router::new()
        .route("/", get(pages::national))
        .route("/indicateurs", get(pages::indicators))
        .route("/indicateurs/{id}", get(pages::indicator))
        .route("/indicateurs/{id}/{file}", get(pages::figure_csv))
        .route("/territoires", get(pages::territories))
        .route("/territoires/{id}", get(pages::territory))
        .route(
            "/territoires/{id}/depots",
            get(drops::page)
                .post(drops::upload)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/territoires/{id}/rejets.csv", get(drops::rejects_csv))
        .route("/qualite", get(pages::quality))
        .route(
            "/qualite/depots-en-attente/liberer",
            post(drops::release_from_form),
        )
        .route("/methodologie", get(pages::methodology))
        .route("/exports", get(exports::page))
        .route("/exports/{file}", get(exports::file))
        .route("/compte", get(login::account))
        .route("/compte/jetons", post(login::tokens))
        .route(
            "/compte/mot-de-passe",
            post(password::change).layer(DefaultBodyLimit::max(login::MAX_FORM_BYTES)),
        )
        .route("/admin/comptes", get(admin::page).post(admin::change))
        .route("/admin/projets", post(admin::projects))
        .route("/admin/demandes", post(admin::requests))
        .route("/deconnexion", post(login::logout))
        .route("/api", get(api::page))
        .nest(api::routes::V1, api::routes::v1(upload_limit))
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            session::require_login,
        ));
    Router::new()
        .route(
            "/connexion",
            get(login::form)
                .post(login::submit)
                .layer(DefaultBodyLimit::max(login::MAX_FORM_BYTES)),
        )
        .route("/connexion/proconnect", get(proconnect::start))
        .route("/connexion/proconnect/retour", get(proconnect::callback))
        .route(
            "/connexion/proconnect/demande",
            post(proconnect::request_access).layer(DefaultBodyLimit::max(login::MAX_FORM_BYTES)),
        )
        .route("/static/copil.css", get(stylesheet))
        .route("/static/favicon.svg", get(favicon))
        .route("/sante", get(health))
        .merge(api::routes::public())
        .merge(protected)
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            security_headers,
        ))
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
                if let Err(e) = state.reload_accounts() {
                    tracing::warn!(error = %e, "relecture des comptes impossible");
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
