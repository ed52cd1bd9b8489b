//! The sessions and failed-login records of one process, without HTTP: a session is a random
//! id signed with HMAC-SHA-256 under a key drawn at start-up (the cookie value), so a forged id
//! is refused before any lookup; the lockout after repeated failed logins is kept here too.
//! The web crate turns these into cookies and requests.
//!
//! The lockout is checked and recorded in one critical section (issue 13): a login has at most
//! one password check in flight, and a request arriving while it is locked or while a check
//! for it is pending is answered without checking its password. Failure records of quiet
//! logins are purged, and their number is bounded.
//!
//! A session lives in memory only: a restart logs everybody out. Nothing here logs a password,
//! a hash, a token or a cookie.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use copil_core::empreinte::Empreinte;

use crate::accounts::MAX_LOGIN;

/// A session ends this long after login; ProConnect asks for at most 12 h (issue 17).
pub const SESSION_LIFETIME: Duration = Duration::hours(10);
/// Failed logins allowed within [`LOCKOUT`] before the login is locked for [`LOCKOUT`].
pub const MAX_FAILURES: usize = 5;
/// The window counted, and the lock's length.
pub const LOCKOUT: Duration = Duration::minutes(15);
/// Most logins whose failures are remembered at once: past it (after purging the quiet ones),
/// a login not yet tracked is answered [`LoginOutcome::Busy`] rather than checked untracked.
pub const MAX_TRACKED: usize = 100_000;

struct Session {
    login: String,
    csrf: String,
    expires: DateTime<Utc>,
    /// The ProConnect id_token of a session opened through ProConnect: the hint of its
    /// logout (issue 17). Never logged.
    id_token: Option<String>,
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

/// Random bytes as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    // The OS generator failing is not recoverable; a predictable token would be worse.
    getrandom::fill(&mut b).expect("générateur aléatoire du système indisponible");
    hex::encode(b)
}

/// Whether `a` and `b` are equal, in a time that depends on their length only.
pub fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
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
        copil_core::empreinte::hex(&Empreinte::new(&self.key).digest(&[id.as_bytes()]))
    }

    /// The session id of a cookie value whose signature is right.
    fn verify(&self, cookie: &str) -> Option<String> {
        let (id, sig) = cookie.split_once('.')?;
        constant_eq(sig, &self.sign(id)).then(|| id.to_string())
    }

    fn tracker(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.attempts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tries `login` / `password`; opens a session when `authenticate` says they match an
    /// active account and the login is not locked.
    ///
    /// The lock is checked and the check marked pending in one critical section, and the
    /// outcome recorded in another before the mark is cleared: while a login is locked, or
    /// while one of its checks is in flight, no other request for it checks a password.
    pub fn login(
        &self,
        authenticate: impl FnOnce(&str, &str) -> bool,
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
        let ok = authenticate(login, password);
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
        LoginOutcome::Opened(self.open(login, None, now))
    }

    /// Opens a session of `login` without a password (its identity was checked elsewhere: a
    /// ProConnect sign-in, whose `id_token` is kept for the logout); returns the cookie value.
    pub fn open(&self, login: &str, id_token: Option<String>, now: DateTime<Utc>) -> String {
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
                id_token,
            },
        );
        cookie
    }

    /// Number of logins whose failures are remembered (for tests).
    pub fn tracked_logins(&self) -> usize {
        self.tracker().logins.len()
    }

    /// Ends the session of this cookie value; returns its ProConnect id_token, if it was
    /// opened through ProConnect.
    pub fn logout(&self, cookie: &str) -> Option<String> {
        let id = self.verify(cookie)?;
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
            .and_then(|s| s.id_token)
    }

    /// The login and CSRF token of the live session of this cookie value.
    pub fn lookup(&self, cookie: &str, now: DateTime<Utc>) -> Option<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: a session lasts at most 12 h (ProConnect's rule), and one opened through
    /// ProConnect gives back its id_token at logout, once.
    #[test]
    fn issue_17_sessions_last_at_most_12_hours_and_keep_the_id_token() {
        assert!(SESSION_LIFETIME <= Duration::hours(12));
        let sessions = Sessions::new();
        let now = Utc::now();
        let cookie = sessions.open("agent", Some("jeton.id.signe".into()), now);
        assert_eq!(sessions.lookup(&cookie, now).unwrap().0, "agent");
        assert!(
            sessions
                .lookup(&cookie, now + Duration::hours(12))
                .is_none()
        );
        assert_eq!(sessions.logout(&cookie).as_deref(), Some("jeton.id.signe"));
        assert_eq!(sessions.logout(&cookie), None);
        assert!(sessions.lookup(&cookie, now).is_none());
    }

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
