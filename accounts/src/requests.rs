//! Requests for access (issue 17): a person whose ProConnect identity matches no account asks
//! for one; an admin approves it (an account with a role and a territory, matched by the
//! e-mail from then on) or refuses it. One JSON file beside the accounts file
//! (`demandes_acces.json`), changed under its lock and written atomically with mode 0600, as
//! the accounts are (see [`crate::store`]).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use copil_core::Register;

use crate::accounts::{Accounts, MAX_LOGIN, Role, normalise_email, random_password, shown_login};
use crate::error::{Error, Result};
use crate::store::{self, FileLock};

/// Longest reason kept, in characters.
pub const MAX_REASON: usize = 1000;
/// Most pending requests: past it, a new one is refused (the admin page lists them all).
pub const MAX_PENDING: usize = 1000;

/// One pending request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRequest {
    /// The ProConnect e-mail, normalised: the key of the request and, once approved, of the
    /// account.
    pub email: String,
    /// Given name, as ProConnect gave it.
    #[serde(default)]
    pub prenom: String,
    /// Usual name, as ProConnect gave it.
    #[serde(default)]
    pub nom: String,
    /// The SIRET of the person's organisation, as ProConnect gave it.
    #[serde(default)]
    pub siret: String,
    /// Why the person asks (free text, cut to [`MAX_REASON`] characters).
    #[serde(default)]
    pub motif: String,
    /// When it was made (or last renewed).
    pub cree_le: DateTime<Utc>,
}

#[derive(Default, Serialize, Deserialize)]
struct File {
    demandes: Vec<AccessRequest>,
}

/// The requests file.
#[derive(Debug, Clone)]
pub struct Requests {
    path: PathBuf,
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::AccountsFile {
        file: path.display().to_string(),
        message: e.to_string(),
    }
}

impl Requests {
    /// The requests file beside the accounts file `accounts_file`.
    pub fn beside(accounts_file: &Path) -> Requests {
        Requests {
            path: accounts_file.with_file_name("demandes_acces.json"),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Vec<AccessRequest>> {
        let file: File = store::read_json(&self.path).map_err(|e| file_error(&self.path, e))?;
        Ok(file.demandes)
    }

    fn change<T>(&self, change: impl FnOnce(&mut Vec<AccessRequest>) -> Result<T>) -> Result<T> {
        let _lock = FileLock::acquire(&self.path).map_err(|e| file_error(&self.path, e))?;
        let mut requests = self.read()?;
        let value = change(&mut requests)?;
        store::write_json(&self.path, &File { demandes: requests })
            .map_err(|e| file_error(&self.path, e))?;
        Ok(value)
    }

    /// The pending requests, oldest first.
    pub fn list(&self) -> Result<Vec<AccessRequest>> {
        self.read()
    }

    /// The pending request of `email`.
    pub fn get(&self, email: &str) -> Result<Option<AccessRequest>> {
        let email = normalise_email(email).unwrap_or_default();
        Ok(self.read()?.into_iter().find(|r| r.email == email))
    }

    /// Records a request (a second one for the same address replaces the first).
    pub fn add(&self, mut request: AccessRequest) -> Result<()> {
        request.email = normalise_email(&request.email)
            .ok_or_else(|| Error::InvalidEmail(shown_login(&request.email)))?;
        request.motif = request.motif.trim().chars().take(MAX_REASON).collect();
        self.change(|requests| {
            requests.retain(|r| r.email != request.email);
            if requests.len() >= MAX_PENDING {
                return Err(Error::AccessRequest(
                    "trop de demandes en attente : réessayez plus tard".into(),
                ));
            }
            requests.push(request);
            Ok(())
        })
    }

    /// Removes the request of `email` (approved or refused) and returns it.
    pub fn remove(&self, email: &str) -> Result<AccessRequest> {
        let email = normalise_email(email).unwrap_or_default();
        self.change(|requests| {
            let at = requests
                .iter()
                .position(|r| r.email == email)
                .ok_or_else(|| {
                    Error::AccessRequest(format!(
                        "aucune demande en attente pour « {} »",
                        shown_login(&email)
                    ))
                })?;
            Ok(requests.remove(at))
        })
    }
}

/// A free login for the address `email`: its local part, with any character a login cannot
/// hold replaced by `-`, and `-2`, `-3`… when taken.
pub fn login_for_email(accounts: &Accounts, email: &str) -> String {
    let local = email.split('@').next().unwrap_or_default();
    let mut base: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '-'
            }
        })
        .take(MAX_LOGIN - 4)
        .collect();
    while base.len() < 3 {
        base.push('_');
    }
    let mut login = base.clone();
    let mut n = 2;
    while accounts.get(&login).is_some() {
        login = format!("{base}-{n}");
        n += 1;
    }
    login
}

/// Approves the request of `email`: an account for it (a login drawn from the address, `role`
/// and `territoire`, the e-mail ProConnect matches; an unusable random password), then the
/// request removed. Returns the new account's login.
pub fn approve(
    requests: &Requests,
    accounts: &mut Accounts,
    email: &str,
    role: Role,
    territoire: Option<&str>,
    register: &Register,
    now: DateTime<Utc>,
) -> Result<String> {
    let request = requests.get(email)?.ok_or_else(|| {
        Error::AccessRequest(format!(
            "aucune demande en attente pour « {} »",
            shown_login(email)
        ))
    })?;
    if let Some(a) = accounts.by_email(&request.email) {
        return Err(Error::DuplicateEmail {
            login: a.login.clone(),
            email: request.email,
        });
    }
    let login = login_for_email(accounts, &request.email);
    let password = random_password()?;
    accounts.add(&login, role, territoire, &password, register, now)?;
    if let Err(e) = accounts.set_email(&login, Some(&request.email)) {
        // The account cannot be matched: it is not left behind, active and unknown.
        let _ = accounts.disable(&login);
        return Err(e);
    }
    requests.remove(&request.email)?;
    Ok(login)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: a request is kept once per address, normalised, and removed when decided.
    #[test]
    fn issue_17_requests_are_kept_once_per_address() {
        let dir = tempfile::tempdir().unwrap();
        let requests = Requests::beside(&dir.path().join("secrets").join("comptes.json"));
        assert!(requests.path().ends_with("secrets/demandes_acces.json"));
        let request = |email: &str, motif: &str| AccessRequest {
            email: email.into(),
            prenom: "Camille".into(),
            nom: "Martin".into(),
            siret: "13002526500013".into(),
            motif: motif.into(),
            cree_le: Utc::now(),
        };
        requests
            .add(request(" Camille.Martin@Exemple.GOUV.fr ", "premier"))
            .unwrap();
        requests
            .add(request("camille.martin@exemple.gouv.fr", "second"))
            .unwrap();
        let list = requests.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].email, "camille.martin@exemple.gouv.fr");
        assert_eq!(list[0].motif, "second");
        assert!(requests.add(request("pas une adresse", "")).is_err());
        let removed = requests.remove("CAMILLE.MARTIN@exemple.gouv.fr").unwrap();
        assert_eq!(removed.prenom, "Camille");
        assert!(requests.list().unwrap().is_empty());
        assert!(matches!(
            requests.remove("camille.martin@exemple.gouv.fr"),
            Err(Error::AccessRequest(_))
        ));
    }

    /// Issue 17: an approved request becomes an account with the role, territory and e-mail
    /// chosen; a second approval finds nothing.
    #[test]
    fn issue_17_an_approved_request_becomes_a_matched_account() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("comptes.json");
        let mut accounts = Accounts::open(&path).unwrap();
        let requests = Requests::beside(&path);
        let register = Register::builtin(&copil_core::Departments::builtin());
        let now = Utc::now();
        requests
            .add(AccessRequest {
                email: "Dominique.Durand+copil@Exemple.gouv.fr".into(),
                prenom: "Dominique".into(),
                nom: "Durand".into(),
                siret: String::new(),
                motif: String::new(),
                cree_le: now,
            })
            .unwrap();
        let email = "dominique.durand+copil@exemple.gouv.fr";
        let login = approve(
            &requests,
            &mut accounts,
            email,
            Role::Territoire,
            Some("dep-44"),
            &register,
            now,
        )
        .unwrap();
        assert_eq!(login, "dominique.durand-copil");
        let account = accounts
            .by_email(" DOMINIQUE.durand+copil@exemple.gouv.fr")
            .unwrap();
        assert_eq!(account.login, login);
        assert_eq!(account.territoire.as_deref(), Some("dep-44"));
        assert!(requests.list().unwrap().is_empty());
        let again = approve(
            &requests,
            &mut accounts,
            email,
            Role::National,
            None,
            &register,
            now,
        );
        assert!(matches!(again, Err(Error::AccessRequest(_))));
        assert_eq!(
            login_for_email(&accounts, email),
            "dominique.durand-copil-2"
        );
    }
}
