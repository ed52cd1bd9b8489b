//! The person (or script) behind a request, and what its role lets it see; the HTTP side
//! (extractor, refusals with their status) is in [`crate::session`].

use copil_accounts::{Account, Role};

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
    pub(crate) fn of(a: &Account, csrf: String, by_token: bool) -> User {
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

    /// Whether this user sees the data-quality overview (every territory's for `national`,
    /// its own for `territoire`).
    pub fn sees_quality(&self) -> bool {
        matches!(self.role, Role::National | Role::Territoire)
    }

    /// Whether this user may export.
    pub fn may_export(&self) -> bool {
        matches!(self.role, Role::National | Role::Evaluateur)
    }

    /// Whether this user may release a drop held for review (`national`, `admin`; issue 13).
    pub fn may_release(&self) -> bool {
        matches!(self.role, Role::National | Role::Admin)
    }
}
