//! `copil comptes` and `copil projets`.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use copil_warehouse::{Clock, Departments};

use crate::cli::*;
use crate::config::Config;
use crate::pipeline::*;

pub fn users(config: &Config, action: &UsersAction, clock: &dyn Clock) -> Result<()> {
    use copil_accounts::{Accounts, Role};
    let path = config.accounts_path();
    let mut accounts = Accounts::open(&path)?;
    match action {
        UsersAction::Add {
            login,
            role,
            territory,
            password_stdin,
            email,
        } => {
            let role = Role::from_code(role)?;
            let departments = Departments::builtin();
            let reg = register(config, &departments)?;
            let (password, generated) = if *password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("lecture du mot de passe sur l'entrée standard")?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (copil_accounts::random_password()?, true)
            };
            if let Some(e) = email
                && copil_accounts::normalise_email(e).is_none()
            {
                return Err(copil_accounts::Error::InvalidEmail(e.clone()).into());
            }
            accounts.add(
                login,
                role,
                territory.as_deref(),
                &password,
                &reg,
                clock.now(),
            )?;
            if email.is_some() {
                accounts.set_email(login, email.as_deref())?;
            }
            let a = accounts.get(login).context("compte créé introuvable")?;
            println!(
                "Compte créé : {} ({}{}) dans {}",
                a.login,
                a.role.code(),
                a.territoire
                    .as_deref()
                    .map(|t| format!(", {t}"))
                    .unwrap_or_default(),
                path.display()
            );
            if generated {
                println!("Mot de passe (affiché une seule fois) : {password}");
            }
        }
        UsersAction::List => {
            if accounts.list().is_empty() {
                println!("Aucun compte dans {}.", path.display());
            }
            for a in accounts.list() {
                println!(
                    "{:<24} {:<11} {:<14} {:<9} créé le {}",
                    a.login,
                    a.role.code(),
                    a.territoire.as_deref().unwrap_or("—"),
                    if a.actif { "actif" } else { "désactivé" },
                    a.cree_le.format("%d/%m/%Y")
                );
            }
        }
        UsersAction::Disable { login } => {
            accounts.disable(login)?;
            println!("Compte désactivé : {login}");
        }
        UsersAction::Token { login, name } => {
            let token = accounts.add_token(login, name, clock.now())?;
            println!("Jeton « {name} » créé pour {login} (affiché une seule fois) :\n{token}");
        }
    }
    Ok(())
}

pub fn projets(config: &Config, action: &ProjetsAction, clock: &dyn Clock) -> Result<()> {
    use copil_accounts::{Accounts, NewProject, Projects};
    let path = config.projects_path();
    let mut projects = Projects::open(&path)?;
    match action {
        ProjetsAction::Ajouter {
            nom,
            objet,
            evaluateurs,
            territoires,
            debut,
            fin,
        } => {
            let day = |s: &str, flag: &str| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| {
                    format!("{flag} « {s} » : date attendue sous la forme AAAA-MM-JJ")
                })
            };
            let accounts = Accounts::open(&config.accounts_path())?;
            let departments = Departments::builtin();
            let reg = register(config, &departments)?;
            let p = projects.add(
                NewProject {
                    nom,
                    objet,
                    evaluateurs: evaluateurs.clone(),
                    territoires: territoires.clone(),
                    debut: day(debut, "--debut")?,
                    fin: day(fin, "--fin")?,
                },
                &accounts,
                &reg,
                clock.now(),
            )?;
            println!(
                "Projet déclaré : {} ({} ; évaluateurs : {} ; territoires : {} ; du {} au {}) dans {}",
                p.nom,
                p.objet,
                p.evaluateurs.join(", "),
                p.territoires.join(", "),
                p.debut.format("%d/%m/%Y"),
                p.fin.format("%d/%m/%Y"),
                path.display()
            );
        }
        ProjetsAction::Liste => {
            if projects.list().is_empty() {
                println!("Aucun projet dans {}.", path.display());
            }
            for p in projects.list() {
                println!(
                    "{:<24} {:<6} du {} au {}  évaluateurs : {}  territoires : {}\n{:<24} {}",
                    p.nom,
                    if p.actif { "ouvert" } else { "clos" },
                    p.debut.format("%d/%m/%Y"),
                    p.fin.format("%d/%m/%Y"),
                    p.evaluateurs.join(", "),
                    p.territoires.join(", "),
                    "",
                    p.objet
                );
            }
        }
        ProjetsAction::Clore { nom } => {
            projects.close(nom)?;
            println!("Projet clos : {nom}");
        }
    }
    Ok(())
}
