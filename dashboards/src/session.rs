//! Who is asking, over HTTP: session cookies (signed, HttpOnly, SameSite=Strict, naming a
//! server-side session of [`Sessions`]), API tokens (`Authorization: Bearer …`), CSRF tokens
//! for every form, and the [`User`] extractor. The sessions themselves and the lockout after
//! repeated failed logins live in `copil_accounts::sessions`, without HTTP.
//!
//! Nothing here logs a password, a hash, a token or a cookie.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use copil_accounts::Role;
use copil_accounts::sessions::constant_eq;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::HttpError;
use crate::state::AppState;
pub use crate::user::User;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "copil_session";
/// Name of the cookie that carries the login form's CSRF token (before any session).
pub const LOGIN_CSRF_COOKIE: &str = "copil_csrf";
/// Header carrying the CSRF token on API writes made with a session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";

pub use copil_accounts::sessions::{
    LOCKOUT, LoginOutcome, MAX_FAILURES, MAX_TRACKED, SESSION_LIFETIME, Sessions, random_hex,
};
pub use copil_accounts::token_digest;

impl User {
    /// Refuses unless this user may read `territoire`'s details: a territory account asking
    /// for another territory gets 404 (as if it did not exist), other roles 403.
    pub fn require_details_of(&self, territoire: &str) -> Result<(), HttpError> {
        if self.sees_details_of(territoire) {
            Ok(())
        } else if self.role == Role::Territoire {
            Err(HttpError::not_found(format!(
                "Aucun dépôt visible pour le territoire « {territoire} »."
            )))
        } else {
            Err(HttpError::forbidden(
                "Les dépôts et rejets d'un territoire sont réservés à son équipe et à l'équipe nationale.",
            ))
        }
    }

    /// Refuses unless this user sees the data-quality overview.
    pub fn require_quality(&self) -> Result<(), HttpError> {
        allowed(
            self.sees_quality(),
            "La qualité des données des territoires est réservée à l'équipe nationale et aux équipes des territoires.",
        )
    }

    /// Refuses unless this user may export (`national`, `evaluateur`).
    pub fn require_exports(&self) -> Result<(), HttpError> {
        allowed(
            matches!(self.role, Role::National | Role::Evaluateur),
            "Les exports sont réservés aux comptes « national » et « evaluateur ».",
        )
    }

    /// Refuses unless this user may upload a drop for `territoire` (its own territory account).
    pub fn require_upload_for(&self, territoire: &str) -> Result<(), HttpError> {
        match self.role {
            Role::Territoire if self.territoire.as_deref() == Some(territoire) => Ok(()),
            Role::Territoire => Err(HttpError::not_found(format!(
                "Aucun dépôt possible pour le territoire « {territoire} »."
            ))),
            _ => Err(HttpError::forbidden(
                "Seul un compte « territoire » dépose les extractions de son territoire.",
            )),
        }
    }

    /// Refuses unless this user may release a drop held for review.
    pub fn require_release(&self) -> Result<(), HttpError> {
        allowed(
            self.may_release(),
            "L'intégration d'un dépôt mis en attente d'examen est réservée aux comptes « national » et « admin ».",
        )
    }

    /// Refuses unless this user administers accounts.
    pub fn require_admin(&self) -> Result<(), HttpError> {
        allowed(
            self.role == Role::Admin,
            "La gestion des comptes est réservée aux comptes « admin ».",
        )
    }

    /// Checks a form's (or header's) CSRF token against the session's. API-token requests
    /// carry no cookie, so they cannot be forged by another site and need none.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), HttpError> {
        allowed(
            self.by_token || token.is_some_and(|t| !t.is_empty() && constant_eq(t, &self.csrf)),
            "Jeton de formulaire (CSRF) absent ou périmé : rechargez la page puis recommencez.",
        )
    }
}

/// `Ok` if `allowed`, else a refusal (403) that says `why`.
fn allowed(allowed: bool, why: &str) -> Result<(), HttpError> {
    if allowed {
        Ok(())
    } else {
        Err(HttpError::forbidden(why))
    }
}

/// The value of cookie `name` in `headers`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with Copil's attributes (HttpOnly, SameSite=Strict, Secure when
/// configured); `max_age` 0 deletes the cookie.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.settings().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// The user of a request: an API token first, then the session cookie.
pub fn identify(state: &AppState, headers: &HeaderMap) -> Option<User> {
    let now = state.clock().now();
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        let digest = token_digest(token.trim());
        return state
            .account_by_token(&digest)
            .map(|a| User::of(&a, String::new(), true));
    }
    let (login, csrf) = state
        .sessions()
        .lookup(cookie(headers, SESSION_COOKIE)?, now)?;
    // A disabled (or removed) account loses its open sessions at once.
    let account = state.account(&login).filter(|a| a.actif)?;
    Some(User::of(&account, csrf, false))
}

/// Middleware of the protected routes: inserts the [`User`], or answers 401 (API) or a
/// redirection to the login page (pages).
pub async fn require_login(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    match identify(&state, req.headers()) {
        Some(user) => {
            req.extensions_mut().insert(user.clone());
            let mut response = next.run(req).await;
            if let Some(page) = response
                .extensions_mut()
                .remove::<crate::error::ErrorPage>()
            {
                let body =
                    crate::layout::bare(state.brand(), Some(&user), page.title, &page.message);
                *response.body_mut() = axum::body::Body::from(body);
                response
                    .headers_mut()
                    .remove(axum::http::header::CONTENT_LENGTH);
            }
            response
        }
        None => {
            let path = req.uri().path();
            if path.starts_with("/api/") {
                HttpError::unauthorized(
                    "Authentification requise : jeton d'API (Authorization: Bearer …) ou session.",
                )
                .json()
                .into_response()
            } else {
                let next_path = req
                    .uri()
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_string();
                Redirect::to(&format!(
                    "/connexion?suite={}",
                    encode_component(&next_path)
                ))
                .into_response()
            }
        }
    }
}

/// Percent-encodes a URL component.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<AppState> for User {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<User, HttpError> {
        parts.extensions.get::<User>().cloned().ok_or_else(|| {
            HttpError::internal(&"route protégée sans l'intergiciel d'authentification")
        })
    }
}

/// What a page open to anyone (signing in) reads from every request: the application state
/// and the request's headers (its cookies).
pub struct Visit {
    /// The application state.
    pub state: AppState,
    /// The request's headers.
    pub headers: HeaderMap,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Visit, Self::Rejection> {
        Ok(Visit {
            state: state.clone(),
            headers: parts.headers.clone(),
        })
    }
}

/// What a page or API handler reads from every request: the application state, the
/// signed-in [`User`] and the headers (for conditional requests and the response's caching).
pub struct Ctx {
    /// The application state.
    pub state: AppState,
    /// Who is asking.
    pub user: User,
    /// The request's headers.
    pub headers: HeaderMap,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, HttpError> {
        Ok(Ctx {
            state: state.clone(),
            user: User::from_request_parts(parts, state).await?,
            headers: parts.headers.clone(),
        })
    }
}

/// A form posted by the signed-in user, with the request's [`Ctx`]: its CSRF token (the form's
/// `csrf` field) is checked before the handler runs; a bearer token needs none. Every form
/// that changes something is extracted this way, so none forgets the check.
pub struct Posted<T>(pub Ctx, pub T);

/// A form's fields and its CSRF token.
#[derive(Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let c = Ctx::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Form(f) = Form::<WithCsrf<T>>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        c.user
            .check_csrf(Some(&f.csrf))
            .map_err(IntoResponse::into_response)?;
        Ok(Posted(c, f.form))
    }
}

/// A form posted by an `admin` account: [`Posted`], then the role checked.
pub struct AdminPosted<T>(pub Ctx, pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for AdminPosted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let Posted(c, f) = Posted::from_request(req, state).await?;
        c.user
            .require_admin()
            .map_err(IntoResponse::into_response)?;
        Ok(AdminPosted(c, f))
    }
}

impl User {
    /// Writes what this user did to the audit log (time from the app's clock).
    pub fn audit(
        &self,
        state: &AppState,
        action: &str,
        details: serde_json::Value,
    ) -> Result<(), HttpError> {
        state.audit().record(&copil_accounts::Entry {
            horodatage: state.clock().now().to_rfc3339(),
            compte: self.login.clone(),
            role: self.role.code().to_string(),
            action: action.to_string(),
            details,
        })?;
        Ok(())
    }
}
