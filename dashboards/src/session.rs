//! Who is asking: sessions (a signed, HttpOnly, SameSite=Strict cookie naming a server-side
//! session), API tokens (`Authorization: Bearer …`), CSRF tokens for every form, and the
//! lockout after repeated failed logins.
//!
//! The lockout is checked and recorded in one critical section (issue 13): a login has at most
//! one password check in flight, and a request arriving while it is locked or while a check
//! for it is pending is answered without checking its password. Failure records of quiet
//! logins are purged, and their number is bounded.
//!
//! A session lives in memory only: a restart logs everybody out. The cookie carries a random
//! session id and its HMAC-SHA-256 under a key drawn at start-up, so a forged id is refused
//! before any lookup. Nothing here logs a password, a hash, a token or a cookie.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::accounts::{Account, MAX_LOGIN, Role};
use crate::error::HttpError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "copil_session";
/// Name of the cookie that carries the login form's CSRF token (before any session).
pub const LOGIN_CSRF_COOKIE: &str = "copil_csrf";
/// Header carrying the CSRF token on API writes made with a session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session ends this long after login.
pub const SESSION_LIFETIME: Duration = Duration::hours(10);
/// Failed logins allowed within [`LOCKOUT`] before the login is locked for [`LOCKOUT`].
pub const MAX_FAILURES: usize = 5;
/// The window counted, and the lock's length.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// Most logins whose failures are remembered at once: past it (after purging the quiet ones),
/// a login not yet tracked is answered [`LoginOutcome::Busy`] rather than checked untracked.
pub const MAX_TRACKED: usize = 100_000;

/// The person (or script) behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login.
    pub login: String,
    /// Role.
    pub role: Role,
    /// Territory of a `territoire` account.
    pub territoire: Option<String>,
    /// The session's CSRF token (empty for an API token, which needs none).
    pub csrf: String,
    /// Whether the request came with an API token rather than a session cookie.
    pub by_token: bool,
}

impl User {
    fn of(a: &Account, csrf: String, by_token: bool) -> User {
        User {
            login: a.login.clone(),
            role: a.role,
            territoire: a.territoire.clone(),
            csrf,
            by_token,
        }
    }

    /// Whether this user may read the drops, rejects and data-quality details of `territoire`.
    pub fn sees_details_of(&self, territoire: &str) -> bool {
        match self.role {
            Role::National => true,
            Role::Territoire => self.territoire.as_deref() == Some(territoire),
            Role::Evaluateur | Role::Admin => false,
        }
    }

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

    /// Whether this user sees the data-quality overview (every territory's for `national`,
    /// its own for `territoire`).
    pub fn sees_quality(&self) -> bool {
        matches!(self.role, Role::National | Role::Territoire)
    }

    /// Refuses unless this user sees the data-quality overview.
    pub fn require_quality(&self) -> Result<(), HttpError> {
        if self.sees_quality() {
            Ok(())
        } else {
            Err(HttpError::forbidden(
                "La qualité des données des territoires est réservée à l'équipe nationale et aux équipes des territoires.",
            ))
        }
    }

    /// Refuses unless this user may export (`national`, `evaluateur`).
    pub fn require_exports(&self) -> Result<(), HttpError> {
        if matches!(self.role, Role::National | Role::Evaluateur) {
            Ok(())
        } else {
            Err(HttpError::forbidden(
                "Les exports sont réservés aux comptes « national » et « evaluateur ».",
            ))
        }
    }

    /// Whether this user may export.
    pub fn may_export(&self) -> bool {
        self.require_exports().is_ok()
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

    /// Whether this user may release a drop held for review (`national`, `admin`; issue 13).
    pub fn may_release(&self) -> bool {
        matches!(self.role, Role::National | Role::Admin)
    }

    /// Refuses unless this user may release a drop held for review.
    pub fn require_release(&self) -> Result<(), HttpError> {
        if self.may_release() {
            Ok(())
        } else {
            Err(HttpError::forbidden(
                "L'intégration d'un dépôt mis en attente d'examen est réservée aux comptes « national » et « admin ».",
            ))
        }
    }

    /// Refuses unless this user administers accounts.
    pub fn require_admin(&self) -> Result<(), HttpError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(HttpError::forbidden(
                "La gestion des comptes est réservée aux comptes « admin ».",
            ))
        }
    }

    /// Checks a form's (or header's) CSRF token against the session's. API-token requests
    /// carry no cookie, so they cannot be forged by another site and need none.
    pub fn check_csrf(&self, token: Option<&str>) -> Result<(), HttpError> {
        if self.by_token || token.is_some_and(|t| !t.is_empty() && constant_eq(t, &self.csrf)) {
            Ok(())
        } else {
            Err(HttpError::forbidden(
                "Jeton de formulaire (CSRF) absent ou périmé : rechargez la page puis recommencez.",
            ))
        }
    }
}

struct Session {
    login: String,
    csrf: String,
    expires: DateTime<Utc>,
}

#[derive(Default)]
struct Attempts {
    failures: Vec<DateTime<Utc>>,
    locked_until: Option<DateTime<Utc>>,
    /// A password check of this login is in flight.
    pending: bool,
}

impl Attempts {
    /// Nothing to remember any more: no check in flight, no lock, no recent failure.
    fn quiet(&self, now: DateTime<Utc>) -> bool {
        !self.pending
            && self.locked_until.is_none_or(|u| u <= now)
            && self.failures.iter().all(|t| *t <= now - LOCKOUT)
    }
}

/// The failure records, purged of quiet logins whenever they grow past `purge_at`.
struct Tracker {
    logins: HashMap<String, Attempts>,
    purge_at: usize,
}

impl Tracker {
    const FIRST_PURGE: usize = 1024;

    fn new() -> Tracker {
        Tracker {
            logins: HashMap::new(),
            purge_at: Self::FIRST_PURGE,
        }
    }

    /// Drops quiet logins when the map grew; amortised O(1) per login.
    fn purge(&mut self, now: DateTime<Utc>) {
        if self.logins.len() < self.purge_at {
            return;
        }
        self.logins.retain(|_, a| !a.quiet(now));
        self.purge_at = (self.logins.len() * 2).clamp(Self::FIRST_PURGE, MAX_TRACKED);
    }
}

/// The in-flight password check of one login: clears its `pending` mark however the check
/// ends (even by a panic).
struct Pending<'a> {
    sessions: &'a Sessions,
    login: &'a str,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        let mut tracker = self.sessions.tracker();
        if let Some(a) = tracker.logins.get_mut(self.login) {
            a.pending = false;
        }
    }
}

/// What a login attempt gave.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Logged in: the cookie value to set.
    Opened(String),
    /// Wrong login or password (the message never says which).
    Refused,
    /// Too many failures: locked until this instant.
    Locked(DateTime<Utc>),
    /// Another check of this login is in flight (or too many logins are tracked): nothing
    /// was checked.
    Busy,
}

/// The sessions and login attempts of this process.
pub struct Sessions {
    key: [u8; 32],
    sessions: Mutex<HashMap<String, Session>>,
    attempts: Mutex<Tracker>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sessions { .. }")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// Random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    // The OS generator failing is not recoverable; a predictable token would be worse.
    getrandom::fill(&mut b).expect("générateur aléatoire du système indisponible");
    hex::encode(b)
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// SHA-256 of an API token, as stored.
pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new()
    }
}

impl Sessions {
    /// An empty store with a fresh signing key.
    pub fn new() -> Sessions {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("générateur aléatoire du système indisponible");
        Sessions {
            key,
            sessions: Mutex::new(HashMap::new()),
            attempts: Mutex::new(Tracker::new()),
        }
    }

    fn sign(&self, id: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length");
        mac.update(id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The session id of a cookie value whose signature is right.
    fn verify(&self, cookie: &str) -> Option<String> {
        let (id, sig) = cookie.split_once('.')?;
        constant_eq(sig, &self.sign(id)).then(|| id.to_string())
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tries `login` / `password`; opens a session when they match an active account and the
    /// login is not locked.
    ///
    /// The lock is checked and the check marked pending in one critical section, and the
    /// outcome recorded in another before the mark is cleared: while a login is locked, or
    /// while one of its checks is in flight, no other request for it checks a password.
    pub fn login(
        &self,
        state: &AppState,
        login: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> LoginOutcome {
        if login.is_empty() || login.len() > MAX_LOGIN {
            // No account can have this login: refused without hashing, and not tracked.
            return LoginOutcome::Refused;
        }
        {
            let mut tracker = self.tracker();
            tracker.purge(now);
            if tracker.logins.len() >= MAX_TRACKED && !tracker.logins.contains_key(login) {
                tracing::warn!(
                    suivis = tracker.logins.len(),
                    "trop d'identifiants en échec suivis : connexion différée"
                );
                return LoginOutcome::Busy;
            }
            let a = tracker.logins.entry(login.to_string()).or_default();
            if let Some(until) = a.locked_until {
                if until > now {
                    return LoginOutcome::Locked(until);
                }
                a.locked_until = None;
                a.failures.clear();
            }
            if a.pending {
                return LoginOutcome::Busy;
            }
            a.pending = true;
        }
        let pending = Pending {
            sessions: self,
            login,
        };
        let ok = state.accounts_authenticate(login, password);
        let mut tracker = self.tracker();
        if ok {
            tracker.logins.remove(login);
        } else {
            let a = tracker.logins.entry(login.to_string()).or_default();
            a.pending = false;
            a.failures.retain(|t| *t > now - LOCKOUT);
            a.failures.push(now);
            if a.failures.len() >= MAX_FAILURES {
                let until = now + LOCKOUT;
                a.locked_until = Some(until);
                tracing::warn!(
                    login,
                    echecs = a.failures.len(),
                    "connexion verrouillée après des échecs répétés"
                );
                return LoginOutcome::Locked(until);
            }
        }
        drop(tracker);
        // Recorded: the mark is already cleared (or the entry removed).
        drop(pending);
        if !ok {
            return LoginOutcome::Refused;
        }
        let id = random_hex(32);
        let cookie = format!("{id}.{}", self.sign(&id));
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            id,
            Session {
                login: login.to_string(),
                csrf: random_hex(24),
                expires: now + SESSION_LIFETIME,
            },
        );
        LoginOutcome::Opened(cookie)
    }

    /// Number of logins whose failures are remembered (for tests).
    pub fn tracked_logins(&self) -> usize {
        self.tracker().logins.len()
    }

    /// Ends the session of this cookie value.
    pub fn logout(&self, cookie: &str) {
        if let Some(id) = self.verify(cookie) {
            self.sessions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
        }
    }

    /// The login and CSRF token of a live session.
    fn lookup(&self, cookie: &str, now: DateTime<Utc>) -> Option<(String, String)> {
        let id = self.verify(cookie)?;
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let s = sessions.get(&id).filter(|s| s.expires > now)?;
        Some((s.login.clone(), s.csrf.clone()))
    }

    /// Number of live sessions (for tests and logs).
    pub fn len(&self) -> usize {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
            req.extensions_mut().insert(user);
            next.run(req).await
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: the failure map of a login storm is purged once its entries are quiet.
    #[test]
    fn issue_13_quiet_failure_records_are_purged() {
        let now = Utc::now();
        let mut t = Tracker::new();
        for i in 0..5000 {
            t.logins.insert(
                format!("inconnu-{i}"),
                Attempts {
                    failures: vec![now - Duration::minutes(20)],
                    ..Attempts::default()
                },
            );
        }
        t.logins.insert(
            "verrouille".into(),
            Attempts {
                failures: vec![now],
                locked_until: Some(now + LOCKOUT),
                pending: false,
            },
        );
        t.logins.insert(
            "en-cours".into(),
            Attempts {
                pending: true,
                ..Attempts::default()
            },
        );
        t.purge(now);
        let mut left: Vec<&str> = t.logins.keys().map(String::as_str).collect();
        left.sort_unstable();
        assert_eq!(left, ["en-cours", "verrouille"]);
        assert_eq!(t.purge_at, Tracker::FIRST_PURGE);
    }
}
