//! Accounts and roles: `national` (everything), `territoire` (bound to one territory),
//! `evaluateur` (exports), `admin` (accounts). Passwords are stored as argon2id hashes (PHC
//! strings) in one JSON file, written atomically with mode 0600; a password is never logged.
//!
//! Every change takes the file's exclusive lock, re-reads the file, applies itself and writes
//! the file back (see [`crate::store`]): the server and `copil comptes` never undo each other's
//! changes (issue 13).

use std::path::Path;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use copil_core::Register;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::Synced;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The national steering team: every page and export.
    National,
    /// A territory's team: comparison pages, and its own drops, rejects and quality details.
    Territoire,
    /// An evaluator: pages and exports.
    Evaluateur,
    /// Account administration.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [
        Role::National,
        Role::Territoire,
        Role::Evaluateur,
        Role::Admin,
    ];

    /// The code used in files and on the command line.
    pub fn code(self) -> &'static str {
        match self {
            Role::National => "national",
            Role::Territoire => "territoire",
            Role::Evaluateur => "evaluateur",
            Role::Admin => "admin",
        }
    }

    /// The role as a page names it (« équipe nationale », « évaluateur »…).
    pub fn label(self) -> &'static str {
        match self {
            Role::National => "équipe nationale",
            Role::Territoire => "équipe territoriale",
            Role::Evaluateur => "évaluateur",
            Role::Admin => "administrateur",
        }
    }

    /// Parses a role code.
    pub fn from_code(code: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == code)
            .ok_or_else(|| {
                Error::InvalidRole(format!(
                    "rôle inconnu : « {code} » (rôles : {})",
                    Role::ALL.map(Role::code).join(", ")
                ))
            })
    }
}

/// An API token of an account: only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// A name chosen by its owner (`script-mensuel`).
    pub nom: String,
    /// SHA-256 of the token, in hexadecimal.
    pub empreinte: String,
    /// When it was created.
    pub cree_le: DateTime<Utc>,
}

/// One account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Login.
    pub login: String,
    /// Role.
    pub role: Role,
    /// The territory of a `territoire` account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territoire: Option<String>,
    /// The argon2id hash (PHC string); never shown.
    pub hash: String,
    /// Disabled accounts cannot log in.
    pub actif: bool,
    /// When it was created.
    pub cree_le: DateTime<Utc>,
    /// API tokens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jetons: Vec<Token>,
    /// The e-mail address a ProConnect identity is matched by (issue 17), normalised with
    /// [`normalise_email`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl std::fmt::Debug for Account {
    // The hash and token digests are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("login", &self.login)
            .field("role", &self.role)
            .field("territoire", &self.territoire)
            .field("actif", &self.actif)
            .field("email", &self.email)
            .field("jetons", &self.jetons.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct File {
    comptes: Vec<Account>,
}

/// The accounts file.
#[derive(Debug, Clone)]
pub struct Accounts {
    file: Synced<File>,
}

/// Longest login: longer identifiers are refused without hashing, and truncated in logs.
pub const MAX_LOGIN: usize = 64;

/// `login` cut to [`MAX_LOGIN`] characters (with « … » when cut), for logs and the audit log:
/// a typed identifier can be megabytes long (issue 13).
pub fn shown_login(login: &str) -> String {
    match login.char_indices().nth(MAX_LOGIN) {
        Some((at, _)) => format!("{}…", &login[..at]),
        None => login.to_string(),
    }
}

/// An e-mail address as accounts keep it and ProConnect identities are matched (issue 17):
/// trimmed and in lower case; `None` unless it has one `@` with text on both sides, no space
/// and at most 254 characters.
pub fn normalise_email(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let valid = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then_some(e)
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::AccountsFile {
        file: path.display().to_string(),
        message: e.to_string(),
    }
}

fn hasher() -> Argon2<'static> {
    // argon2id, version 0x13, the crate's default cost (19 MiB, 2 passes, 1 lane: OWASP).
    Argon2::default()
}

/// SHA-256 of an API token, as stored.
pub fn token_digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Hash(e.to_string()))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// Whether `password` matches `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .ok()
        .is_some_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok())
}

/// Whether `account` is active and `password` is its password. `None` (an unknown login)
/// costs the same hashing time and is always false.
pub fn check_password(account: Option<&Account>, password: &str) -> bool {
    match account {
        Some(a) => verify_password(password, &a.hash) && a.actif,
        None => {
            // A fixed hash of a random-looking password: the same work, always false.
            const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2VsZmF1eHNlbGZhdXg$0sAvU0bX0iN1uWgkPz3d5ZzV4I7Xo5y3t0qJQmWc2aE";
            let _ = verify_password(password, DUMMY);
            false
        }
    }
}

/// A random password of 20 characters (letters and digits), for new accounts.
pub fn random_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(|e| Error::Hash(e.to_string()))?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

impl Accounts {
    /// Opens the accounts file (an absent file holds no account).
    pub fn open(path: &Path) -> Result<Accounts> {
        Ok(Accounts {
            file: Synced::open(path).map_err(|e| file_error(path, e))?,
        })
    }

    /// Whether the file is still the version read (a cheap `stat`).
    pub fn is_current(&self) -> bool {
        self.file.is_current()
    }

    /// Re-reads the file if another process (or another copy) changed it; returns whether it
    /// did.
    pub fn refresh(&mut self) -> Result<bool> {
        self.file.refresh(file_error)
    }

    /// Applies `change` to the accounts as they are on disk, under the file's exclusive lock,
    /// and writes the file (atomically, readable by its owner only) when it succeeds: never a
    /// stale copy.
    fn change<T>(&mut self, change: impl FnOnce(&mut Vec<Account>) -> Result<T>) -> Result<T> {
        self.file.change(file_error, |f| change(&mut f.comptes))
    }

    /// Every account, in creation order.
    pub fn list(&self) -> &[Account] {
        &self.file.doc().comptes
    }

    /// The account with this login.
    pub fn get(&self, login: &str) -> Option<&Account> {
        self.list().iter().find(|a| a.login == login)
    }

    /// Adds an account and saves the file.
    pub fn add(
        &mut self,
        login: &str,
        role: Role,
        territoire: Option<&str>,
        password: &str,
        register: &Register,
        now: DateTime<Utc>,
    ) -> Result<&Account> {
        let valid = (3..=MAX_LOGIN).contains(&login.len())
            && login
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !valid {
            return Err(Error::InvalidLogin(shown_login(login)));
        }
        match (role, territoire) {
            (Role::Territoire, None) => {
                return Err(Error::InvalidRole(
                    "un compte « territoire » doit nommer son territoire (--territory)".into(),
                ));
            }
            (Role::Territoire, Some(t)) if register.get(t).is_none() => {
                return Err(Error::InvalidRole(format!(
                    "territoire inconnu du registre : « {t} »"
                )));
            }
            (r, Some(_)) if r != Role::Territoire => {
                return Err(Error::InvalidRole(format!(
                    "seul un compte « territoire » est lié à un territoire, pas un compte « {} »",
                    r.code()
                )));
            }
            _ => {}
        }
        if password.chars().count() < MIN_PASSWORD {
            return Err(Error::WeakPassword(MIN_PASSWORD));
        }
        // Hashed before taking the lock: the lock is held for a read and a write only.
        let hash = hash_password(password)?;
        self.change(|accounts| {
            if accounts.iter().any(|a| a.login == login) {
                return Err(Error::DuplicateAccount(login.to_string()));
            }
            accounts.push(Account {
                login: login.to_string(),
                role,
                territoire: territoire.map(str::to_string),
                hash,
                actif: true,
                cree_le: now,
                jetons: Vec::new(),
                email: None,
            });
            Ok(())
        })?;
        Ok(self.get(login).expect("just added"))
    }

    /// Sets a new password (and re-enables the account), then saves the file.
    pub fn set_password(&mut self, login: &str, password: &str) -> Result<()> {
        if password.chars().count() < MIN_PASSWORD {
            return Err(Error::WeakPassword(MIN_PASSWORD));
        }
        let hash = hash_password(password)?;
        self.change(|accounts| {
            let a = find(accounts, login)?;
            a.hash = hash;
            a.actif = true;
            Ok(())
        })
    }

    /// The account whose e-mail is `email` once normalised (issue 17), active or not.
    pub fn by_email(&self, email: &str) -> Option<&Account> {
        let email = normalise_email(email)?;
        self.list()
            .iter()
            .find(|a| a.email.as_deref() == Some(email.as_str()))
    }

    /// Sets (or with `None`, removes) the e-mail of `login`, then saves the file; an address
    /// is one account's only (issue 17).
    pub fn set_email(&mut self, login: &str, email: Option<&str>) -> Result<()> {
        let email = match email {
            Some(e) => Some(normalise_email(e).ok_or_else(|| Error::InvalidEmail(shown_login(e)))?),
            None => None,
        };
        self.change(|accounts| {
            if let Some(e) = &email
                && let Some(other) = accounts
                    .iter()
                    .find(|a| a.login != login && a.email.as_ref() == Some(e))
            {
                return Err(Error::DuplicateEmail {
                    login: other.login.clone(),
                    email: e.clone(),
                });
            }
            find(accounts, login)?.email = email;
            Ok(())
        })
    }

    /// Disables an account and saves the file.
    pub fn disable(&mut self, login: &str) -> Result<()> {
        self.change(|accounts| {
            find(accounts, login)?.actif = false;
            Ok(())
        })
    }

    /// Creates an API token named `nom` for `login`, saves its SHA-256 and returns the token
    /// itself (shown once).
    pub fn add_token(&mut self, login: &str, nom: &str, now: DateTime<Utc>) -> Result<String> {
        let nom = nom.trim();
        if nom.is_empty() || nom.len() > 64 {
            return Err(Error::InvalidToken(
                "le nom d'un jeton compte de 1 à 64 caractères".into(),
            ));
        }
        let mut bytes = [0u8; 24];
        getrandom::fill(&mut bytes).map_err(|e| Error::Hash(e.to_string()))?;
        let token = format!("copil_{}", hex::encode(bytes));
        self.change(|accounts| {
            let a = find(accounts, login)?;
            if a.jetons.iter().any(|t| t.nom == nom) {
                return Err(Error::InvalidToken(format!(
                    "le compte « {login} » a déjà un jeton nommé « {nom} »"
                )));
            }
            a.jetons.push(Token {
                nom: nom.to_string(),
                empreinte: token_digest(&token),
                cree_le: now,
            });
            Ok(())
        })?;
        Ok(token)
    }

    /// Revokes the token named `nom` of `login`.
    pub fn revoke_token(&mut self, login: &str, nom: &str) -> Result<()> {
        self.change(|accounts| {
            let a = find(accounts, login)?;
            let before = a.jetons.len();
            a.jetons.retain(|t| t.nom != nom);
            if a.jetons.len() == before {
                return Err(Error::InvalidToken(format!(
                    "le compte « {login} » n'a pas de jeton nommé « {nom} »"
                )));
            }
            Ok(())
        })
    }

    /// The active account owning the token whose SHA-256 is `digest`.
    pub fn by_token(&self, digest: &str) -> Option<&Account> {
        self.list()
            .iter()
            .filter(|a| a.actif)
            .find(|a| a.jetons.iter().any(|t| t.empreinte == digest))
    }

    /// The active account matching `login` and `password`. An unknown login costs the same
    /// hashing time as a known one, so timing does not reveal which logins exist.
    pub fn authenticate(&self, login: &str, password: &str) -> Option<&Account> {
        let a = self.get(login);
        check_password(a, password).then_some(a).flatten()
    }
}

/// The account `login` of `accounts`, to change it.
fn find<'a>(accounts: &'a mut [Account], login: &str) -> Result<&'a mut Account> {
    accounts
        .iter_mut()
        .find(|a| a.login == login)
        .ok_or_else(|| Error::UnknownAccount(shown_login(login)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use copil_core::Departments;

    fn setup() -> (tempfile::TempDir, Accounts, Register) {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(&dir.path().join("comptes.json")).unwrap();
        (dir, accounts, Register::builtin(&Departments::builtin()))
    }

    /// Adds the account `eval` (evaluateur, password `evaluation-2026!`).
    fn add_eval(accounts: &mut Accounts, register: &Register, now: DateTime<Utc>) {
        accounts
            .add(
                "eval",
                Role::Evaluateur,
                None,
                "evaluation-2026!",
                register,
                now,
            )
            .unwrap();
    }

    #[test]
    fn passwords_are_stored_as_argon2id_hashes_and_verified() {
        let (dir, mut accounts, register) = setup();
        let now = Utc::now();
        accounts
            .add(
                "pilotage",
                Role::National,
                None,
                "un mot de passe long",
                &register,
                now,
            )
            .unwrap();
        let text = std::fs::read_to_string(dir.path().join("comptes.json")).unwrap();
        assert!(!text.contains("un mot de passe long"));
        assert!(text.contains("$argon2id$v=19$"));
        let reopened = Accounts::open(&dir.path().join("comptes.json")).unwrap();
        assert!(
            reopened
                .authenticate("pilotage", "un mot de passe long")
                .is_some()
        );
        assert!(
            reopened
                .authenticate("pilotage", "un mot de passe faux")
                .is_none()
        );
        assert!(
            reopened
                .authenticate("personne", "un mot de passe long")
                .is_none()
        );
        crate::store::assert_private(&dir.path().join("comptes.json"));
    }

    #[test]
    fn a_disabled_account_cannot_log_in() {
        let (_dir, mut accounts, register) = setup();
        add_eval(&mut accounts, &register, Utc::now());
        accounts.disable("eval").unwrap();
        assert!(accounts.authenticate("eval", "evaluation-2026!").is_none());
        assert!(matches!(
            accounts.disable("inconnu"),
            Err(Error::UnknownAccount(_))
        ));
    }

    #[test]
    fn roles_and_territories_are_checked() {
        let (_dir, mut accounts, register) = setup();
        let now = Utc::now();
        let pw = "assez-long-pour-passer";
        let e = accounts.add("t01", Role::Territoire, None, pw, &register, now);
        assert!(matches!(e, Err(Error::InvalidRole(_))));
        let e = accounts.add("t01", Role::Territoire, Some("dep-999"), pw, &register, now);
        assert!(e.unwrap_err().to_string().contains("dep-999"));
        let e = accounts.add("n01", Role::National, Some("dep-44"), pw, &register, now);
        assert!(matches!(e, Err(Error::InvalidRole(_))));
        let e = accounts.add("a b", Role::Admin, None, pw, &register, now);
        assert!(matches!(e, Err(Error::InvalidLogin(_))));
        let e = accounts.add("court", Role::Admin, None, "court", &register, now);
        assert!(matches!(e, Err(Error::WeakPassword(12))));
        accounts
            .add("t01", Role::Territoire, Some("dep-44"), pw, &register, now)
            .unwrap();
        let e = accounts.add("t01", Role::Admin, None, pw, &register, now);
        assert!(matches!(e, Err(Error::DuplicateAccount(_))));
        assert_eq!(
            accounts.get("t01").unwrap().territoire.as_deref(),
            Some("dep-44")
        );
        assert!(Role::from_code("chef").is_err());
        assert_eq!(Role::from_code("evaluateur").unwrap(), Role::Evaluateur);
    }

    /// Issue 13: `copil comptes desactiver` while the server holds its copy of the accounts; the
    /// server's next write (a token) must not put the account back.
    #[test]
    fn issue_13_a_change_by_another_copy_is_never_undone() {
        let (dir, mut server, register) = setup();
        let path = dir.path().join("comptes.json");
        let now = Utc::now();
        add_eval(&mut server, &register, now);
        assert!(server.is_current());
        let mut cli = Accounts::open(&path).unwrap();
        cli.disable("eval").unwrap();
        assert!(!server.is_current(), "the server sees the file changed");
        // The server's copy is stale, yet its write keeps the CLI's change.
        server.add_token("eval", "script", now).unwrap();
        let on_disk = Accounts::open(&path).unwrap();
        let eval = on_disk.get("eval").unwrap();
        assert!(!eval.actif, "disabled by the CLI, still disabled");
        assert_eq!(eval.jetons.len(), 1, "and the server's token is there");
        assert!(!server.get("eval").unwrap().actif, "the server's copy too");
        // A copy refreshes when the file changed, and only then.
        cli.add_token("eval", "autre", now).unwrap();
        assert!(server.refresh().unwrap());
        assert!(!server.refresh().unwrap());
        assert_eq!(server.get("eval").unwrap().jetons.len(), 2);
    }

    /// Issue 13: many writers at once (threads standing for processes) lose no change.
    #[test]
    fn issue_13_concurrent_writers_lose_no_change() {
        let (dir, mut first, register) = setup();
        let path = dir.path().join("comptes.json");
        add_eval(&mut first, &register, Utc::now());
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut copy = Accounts::open(&path).unwrap();
                    copy.add_token("eval", &format!("jeton-{i}"), Utc::now())
                        .unwrap();
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let on_disk = Accounts::open(&path).unwrap();
        assert_eq!(on_disk.get("eval").unwrap().jetons.len(), 8);
    }

    #[test]
    fn long_logins_are_shown_truncated() {
        let long = "x".repeat(2_000_000);
        let shown = shown_login(&long);
        assert_eq!(shown.chars().count(), MAX_LOGIN + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(shown_login("pilotage"), "pilotage");
        let (_dir, mut accounts, _) = setup();
        let e = accounts.disable(&long).unwrap_err();
        assert!(e.to_string().len() < 200, "{e}");
    }

    #[test]
    fn random_passwords_are_long_and_differ() {
        let (a, b) = (random_password().unwrap(), random_password().unwrap());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
    }
}
