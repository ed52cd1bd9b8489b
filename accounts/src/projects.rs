//! Evaluation projects (issue 13): declared by an administrator (admin page or
//! `copil projets`), each with its purpose, its evaluator accounts, its territories and its
//! period. An evaluator exports microdata only under a project naming it, during its period
//! and within its territories; the project's name keys the export pseudonyms.
//!
//! Stored like the accounts: one JSON file, mode 0600, every change made under the file's
//! exclusive lock on the file as it is on disk (see [`crate::store`]).

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use copil_core::Register;
use serde::{Deserialize, Serialize};

use crate::accounts::{Accounts, Role};
use crate::error::{Error, Result};
use crate::store::Synced;

/// Longest purpose.
pub const MAX_PURPOSE: usize = 500;

/// One evaluation project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    /// Its name (a-z, 0-9, `-`, `_`; 1 to 64): the key of its pseudonyms.
    pub nom: String,
    /// What it is for (shown to the administrators and in the audit log).
    pub objet: String,
    /// Logins of the `evaluateur` accounts working on it.
    pub evaluateurs: Vec<String>,
    /// The territories it covers (register identifiers).
    pub territoires: Vec<String>,
    /// First day exports are allowed.
    pub debut: NaiveDate,
    /// Last day exports are allowed.
    pub fin: NaiveDate,
    /// A closed project exports nothing more.
    pub actif: bool,
    /// When it was declared.
    pub cree_le: DateTime<Utc>,
}

impl Project {
    /// Whether `login` may export microdata under this project on `today`.
    pub fn open_to(&self, login: &str, today: NaiveDate) -> bool {
        self.actif
            && self.debut <= today
            && today <= self.fin
            && self.evaluateurs.iter().any(|e| e == login)
    }
}

/// Whether `name` can name a project (and key its pseudonyms).
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct File {
    projets: Vec<Project>,
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::ProjectsFile {
        file: path.display().to_string(),
        message: e.to_string(),
    }
}

/// What a new project declares.
#[derive(Debug, Clone)]
pub struct NewProject<'a> {
    /// Name.
    pub nom: &'a str,
    /// Purpose.
    pub objet: &'a str,
    /// Evaluator logins.
    pub evaluateurs: Vec<String>,
    /// Territory identifiers (empty: refused).
    pub territoires: Vec<String>,
    /// First day.
    pub debut: NaiveDate,
    /// Last day.
    pub fin: NaiveDate,
}

/// The projects file.
#[derive(Debug, Clone)]
pub struct Projects {
    file: Synced<File>,
}

impl Projects {
    /// Opens the projects file (an absent file holds no project).
    pub fn open(path: &Path) -> Result<Projects> {
        Ok(Projects {
            file: Synced::open(path).map_err(|e| file_error(path, e))?,
        })
    }

    /// Every project, in declaration order.
    pub fn list(&self) -> &[Project] {
        &self.file.doc().projets
    }

    /// The project named `nom`.
    pub fn get(&self, nom: &str) -> Option<&Project> {
        self.list().iter().find(|p| p.nom == nom)
    }

    /// Re-reads the file if it changed; returns whether it did.
    pub fn refresh(&mut self) -> Result<bool> {
        self.file.refresh(file_error)
    }

    fn change<T>(&mut self, change: impl FnOnce(&mut Vec<Project>) -> Result<T>) -> Result<T> {
        self.file.change(file_error, |f| change(&mut f.projets))
    }

    /// Declares a project: its name is new and valid, its purpose said, its evaluators are
    /// `evaluateur` accounts, its territories in the register, its period in order.
    pub fn add(
        &mut self,
        new: NewProject<'_>,
        accounts: &Accounts,
        register: &Register,
        now: DateTime<Utc>,
    ) -> Result<&Project> {
        let NewProject {
            nom,
            objet,
            mut evaluateurs,
            mut territoires,
            debut,
            fin,
        } = new;
        let invalid = |m: String| Err(Error::InvalidProject(m));
        if !valid_name(nom) {
            return invalid(format!(
                "nom de projet invalide : « {} » (1 à 64 caractères parmi a-z, 0-9, « - » et « _ »)",
                crate::accounts::shown_login(nom)
            ));
        }
        let objet = objet.trim();
        if objet.is_empty() || objet.chars().count() > MAX_PURPOSE {
            return invalid(format!(
                "l'objet du projet est obligatoire ({MAX_PURPOSE} caractères au plus)"
            ));
        }
        if evaluateurs.is_empty() {
            return invalid("un projet nomme au moins un compte « evaluateur »".into());
        }
        for login in &evaluateurs {
            match accounts.get(login) {
                Some(a) if a.role == Role::Evaluateur => {}
                Some(a) => {
                    return invalid(format!(
                        "le compte « {login} » est un compte « {} », pas « evaluateur »",
                        a.role.code()
                    ));
                }
                None => {
                    return invalid(format!(
                        "compte inconnu : « {} »",
                        crate::accounts::shown_login(login)
                    ));
                }
            }
        }
        if territoires.is_empty() {
            return invalid("un projet couvre au moins un territoire".into());
        }
        for t in &territoires {
            if register.get(t).is_none() {
                return invalid(format!(
                    "territoire inconnu du registre : « {} »",
                    crate::accounts::shown_login(t)
                ));
            }
        }
        if fin < debut {
            return invalid(format!(
                "période invalide : la fin ({fin}) précède le début ({debut})"
            ));
        }
        evaluateurs.sort();
        evaluateurs.dedup();
        territoires.sort();
        territoires.dedup();
        let project = Project {
            nom: nom.to_string(),
            objet: objet.to_string(),
            evaluateurs,
            territoires,
            debut,
            fin,
            actif: true,
            cree_le: now,
        };
        self.change(|projects| {
            if projects.iter().any(|p| p.nom == project.nom) {
                return Err(Error::InvalidProject(format!(
                    "le projet « {} » existe déjà (un nom sert une fois : il est la clé des pseudonymes)",
                    project.nom
                )));
            }
            projects.push(project);
            Ok(())
        })?;
        Ok(self.get(nom).expect("just added"))
    }

    /// Closes a project: no export under it any more (its name stays taken).
    pub fn close(&mut self, nom: &str) -> Result<()> {
        self.change(|projects| {
            let p = projects.iter_mut().find(|p| p.nom == nom).ok_or_else(|| {
                Error::InvalidProject(format!(
                    "projet inconnu : « {} »",
                    crate::accounts::shown_login(nom)
                ))
            })?;
            p.actif = false;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use copil_core::Departments;

    fn setup() -> (tempfile::TempDir, Accounts, Register) {
        let dir = tempfile::tempdir().unwrap();
        let mut accounts = Accounts::open(&dir.path().join("comptes.json")).unwrap();
        let register = Register::builtin(&Departments::builtin());
        let now = Utc::now();
        let pw = "un mot de passe long";
        accounts
            .add("eval", Role::Evaluateur, None, pw, &register, now)
            .unwrap();
        accounts
            .add("chef", Role::National, None, pw, &register, now)
            .unwrap();
        (dir, accounts, register)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn new<'a>(nom: &'a str, evaluateurs: &[&str], territoires: &[&str]) -> NewProject<'a> {
        NewProject {
            nom,
            objet: "Évaluation des orientations",
            evaluateurs: evaluateurs.iter().map(|s| s.to_string()).collect(),
            territoires: territoires.iter().map(|s| s.to_string()).collect(),
            debut: day("2025-01-01"),
            fin: day("2025-12-31"),
        }
    }

    /// Issue 13: projects are declared with checked fields, stored 0600, never renamed, and
    /// open only to their evaluators during their period.
    #[test]
    fn issue_13_projects_are_checked_stored_and_scoped() {
        let (dir, accounts, register) = setup();
        let path = dir.path().join("projets.json");
        let mut projects = Projects::open(&path).unwrap();
        let now = Utc::now();
        let p = projects
            .add(
                new("eval-2025", &["eval"], &["dep-44"]),
                &accounts,
                &register,
                now,
            )
            .unwrap();
        assert!(p.open_to("eval", day("2025-06-01")));
        assert!(!p.open_to("eval", day("2026-01-01")), "after its period");
        assert!(!p.open_to("chef", day("2025-06-01")), "not named");
        for (bad, says) in [
            (
                new("Eval 2025", &["eval"], &["dep-44"]),
                "nom de projet invalide",
            ),
            (new("eval-2025", &["eval"], &["dep-44"]), "existe déjà"),
            (new("b", &["chef"], &["dep-44"]), "pas « evaluateur »"),
            (new("b", &["personne"], &["dep-44"]), "compte inconnu"),
            (new("b", &[], &["dep-44"]), "au moins un compte"),
            (new("b", &["eval"], &["dep-999"]), "territoire inconnu"),
            (new("b", &["eval"], &[]), "au moins un territoire"),
        ] {
            let e = projects.add(bad, &accounts, &register, now).unwrap_err();
            assert!(e.to_string().contains(says), "{e}");
        }
        let mut reversed = new("b", &["eval"], &["dep-44"]);
        reversed.fin = day("2024-01-01");
        let e = projects
            .add(reversed, &accounts, &register, now)
            .unwrap_err();
        assert!(e.to_string().contains("période invalide"), "{e}");
        // Another copy (the command line) closes it; the first sees it.
        Projects::open(&path).unwrap().close("eval-2025").unwrap();
        assert!(projects.refresh().unwrap());
        assert!(
            !projects
                .get("eval-2025")
                .unwrap()
                .open_to("eval", day("2025-06-01"))
        );
        crate::store::assert_private(&path);
    }
}
