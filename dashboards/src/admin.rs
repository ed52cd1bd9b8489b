//! Account administration for `admin` accounts: list, create (the password is drawn at random
//! and shown once), disable. The same operations as `copil comptes`. And the evaluation projects
//! (issue 13): declare, close; the same as `copil projets`. And the requests for access of
//! people signed in with ProConnect (issue 17): approve with a role and territory, or refuse.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use copil_accounts::{Role, random_password};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::error::HttpError;
use crate::layout;
use crate::session::{AdminPosted, Ctx, User};
use crate::state::AppState;

fn render(state: &AppState, user: &User, message: Option<Markup>) -> Response {
    let accounts = state.accounts();
    let projects = state.projects();
    let evaluators: Vec<&str> = accounts
        .iter()
        .filter(|a| a.role == Role::Evaluateur && a.actif)
        .map(|a| a.login.as_str())
        .collect();
    let body = html! {
        @if let Some(m) = message { (m) }
        @if state.proconnect().is_some() { (access_requests(state, user)) }
        div class="defilement" tabindex="0" { table {
            caption { "Comptes (" (accounts.len()) ")" }
            thead { tr {
                th scope="col" { "identifiant" } th scope="col" { "rôle" } th scope="col" { "territoire" }
                th scope="col" { "adresse (ProConnect)" }
                th scope="col" { "état" } th scope="col" { "créé le" } th scope="col" class="nombre" { "jetons" }
                th scope="col" { "action" }
            } }
            tbody {
                @for a in &accounts {
                    tr {
                        th scope="row" { (a.login) }
                        td { (a.role.label()) }
                        td { (a.territoire.as_deref().unwrap_or("—")) }
                        td { (a.email.as_deref().unwrap_or("—")) }
                        td { @if a.actif { "actif" } @else { "désactivé" } }
                        td { (a.cree_le.format("%d/%m/%Y")) }
                        td class="nombre" { (a.jetons.len()) }
                        td {
                            @if a.actif && a.login != user.login {
                                form method="post" action="/admin/comptes" {
                                    (layout::csrf_field(user))
                                    input type="hidden" name="action" value="desactiver";
                                    input type="hidden" name="identifiant" value=(a.login);
                                    button type="submit" { "Désactiver" }
                                }
                            }
                            @if a.login != user.login {
                                form method="post" action="/admin/comptes" {
                                    (layout::csrf_field(user))
                                    input type="hidden" name="action" value="reinitialiser";
                                    input type="hidden" name="identifiant" value=(a.login);
                                    button type="submit" class="discret" {
                                        @if a.actif { "Nouveau mot de passe" } @else { "Réactiver avec un nouveau mot de passe" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } }
        h2 { "Créer un compte" }
        form class="formulaire" method="post" action="/admin/comptes" {
            (layout::csrf_field(user))
            input type="hidden" name="action" value="ajouter";
            label { "Identifiant" input name="identifiant" required pattern="[A-Za-z0-9._-]{3,64}"; }
            label { "Rôle" select name="role" { (role_options()) } }
            label { "Territoire (compte « territoire » seulement)" select name="territoire" { (territory_options(state)) } }
            label { "Adresse électronique (connexion avec ProConnect ; facultative)" input name="email" type="email" maxlength="254"; }
            button type="submit" { "Créer (mot de passe tiré au hasard)" }
        }
        h2 { "Dépôts en attente d'examen" }
        p { "Un dépôt mis en attente (sans ligne valide, trop de rejets, trop de personnes perdues, ou daté dans le futur) n'est pas intégré. L'intégrer après examen lève ces garde-fous : il remplace les données de son territoire ; le contrat du fichier, les limites et l'ordre des extractions s'appliquent toujours, et l'opération est journalisée." }
        (crate::held::held_drops(state, user))
        h2 { "Projets d'évaluation" }
        p { "Un compte « evaluateur » n'exporte des microdonnées que pour un projet déclaré ici qui le nomme, sur ses territoires et pendant sa période. Le nom du projet est la clé de ses pseudonymes : il ne sert qu'une fois. Les pseudonymes empêchent de rapprocher deux projets par l'identifiant, pas par la suite des événements d'une personne : ne déclarez pour un même évaluateur que les projets nécessaires." }
        @if projects.is_empty() {
            p { "Aucun projet déclaré." }
        } @else {
            div class="defilement" tabindex="0" { table {
                caption { "Projets (" (projects.len()) ")" }
                thead { tr {
                    th scope="col" { "nom" } th scope="col" { "objet" } th scope="col" { "évaluateurs" }
                    th scope="col" { "territoires" } th scope="col" { "période" } th scope="col" { "état" }
                    th scope="col" { "action" }
                } }
                tbody {
                    @for p in &projects {
                        tr {
                            th scope="row" { (p.nom) }
                            td { (p.objet) }
                            td { (p.evaluateurs.join(", ")) }
                            td { (p.territoires.join(", ")) }
                            td { "du " (p.debut.format("%d/%m/%Y")) " au " (p.fin.format("%d/%m/%Y")) }
                            td { @if p.actif { "ouvert" } @else { "clos" } }
                            td {
                                @if p.actif {
                                    form method="post" action="/admin/projets" {
                                        (layout::csrf_field(user))
                                        input type="hidden" name="action" value="clore";
                                        input type="hidden" name="nom" value=(p.nom);
                                        button type="submit" { "Clore" }
                                    }
                                }
                            }
                        }
                    }
                }
            } }
        }
        h3 { "Déclarer un projet" }
        form class="formulaire" method="post" action="/admin/projets" {
            (layout::csrf_field(user))
            input type="hidden" name="action" value="ajouter";
            label { "Nom (a-z, 0-9, « - », « _ »)" input name="nom" required pattern="[a-z0-9_\\-]{1,64}" maxlength="64"; }
            label { "Objet" input name="objet" required maxlength=(copil_accounts::projects::MAX_PURPOSE); }
            label { "Évaluateurs (identifiants séparés par des virgules ; comptes « evaluateur » : " (evaluators.join(", ")) ")" input name="evaluateurs" required; }
            label { "Territoires (identifiants du registre séparés par des virgules, par exemple dep-44)" input name="territoires" required; }
            label { "Début" input name="debut" type="date" required; }
            label { "Fin" input name="fin" type="date" required; }
            button type="submit" { "Déclarer le projet" }
        }
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(layout::simple(
            state.brand(),
            "Comptes",
            "/admin/comptes",
            Some(user),
            &body,
        )),
    )
        .into_response()
}

/// Refuses a form posted to the administration unless it comes from an administrator's page
/// (its CSRF token).
/// The options of a role's choice: every role, by its code.
fn role_options() -> Markup {
    html! { @for r in Role::ALL { option value=(r.code()) { (r.code()) } } }
}

/// The options of a territory's choice: none, then every territory of the register.
fn territory_options(state: &AppState) -> Markup {
    html! {
        option value="" { "—" }
        @for t in state.register().iter() { option value=(t.id) { (t.nom) " (" (t.id) ")" } }
    }
}

/// The role chosen in a form (an unknown or missing code is refused).
fn chosen_role(code: Option<&str>) -> Result<Role, HttpError> {
    Ok(Role::from_code(code.unwrap_or(""))?)
}

/// The territory chosen in a form, if any (the empty choice is none).
fn chosen_territory(id: Option<&str>) -> Option<&str> {
    id.filter(|t| !t.is_empty())
}

/// `GET /admin/comptes`.
pub async fn page(
    State(state): State<AppState>,
    user: User,
    Query(released): Query<crate::held::Released>,
) -> Result<Response, HttpError> {
    user.require_admin()?;
    let outcome = crate::held::release_outcome(&state, &user, &released);
    Ok(render(&state, &user, outcome))
}

/// The administration form's fields.
#[derive(Deserialize)]
pub struct ChangeForm {
    action: String,
    identifiant: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    territoire: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// `POST /admin/comptes`: `ajouter`, `desactiver` or `reinitialiser` (a new password, which
/// also re-enables the account).
pub async fn change(
    AdminPosted(Ctx { state, user, .. }, f): AdminPosted<ChangeForm>,
) -> Result<Response, HttpError> {
    let now = state.clock().now();
    let message = match f.action.as_str() {
        "ajouter" => {
            let role = chosen_role(f.role.as_deref())?;
            let territoire = chosen_territory(f.territoire.as_deref());
            let email = f.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
            if let Some(e) = email
                && copil_accounts::normalise_email(e).is_none()
            {
                return Err(
                    copil_accounts::Error::InvalidEmail(copil_accounts::shown_login(e)).into(),
                );
            }
            let password = random_password().map_err(|e| HttpError::internal(&e))?;
            state.update_accounts(|a| {
                a.add(
                    &f.identifiant,
                    role,
                    territoire,
                    &password,
                    state.register(),
                    now,
                )?;
                match email {
                    Some(e) => a.set_email(&f.identifiant, Some(e)),
                    None => Ok(()),
                }
            })?;
            html! {
                div class="succes" role="status" {
                    p { "Compte « " (f.identifiant) " » créé. Mot de passe, affiché une seule fois : " }
                    p { code class="jeton" { (password) } }
                }
            }
        }
        "desactiver" => {
            if f.identifiant == user.login {
                return Err(HttpError::bad_request(
                    "Un administrateur ne désactive pas son propre compte.",
                ));
            }
            state.update_accounts(|a| a.disable(&f.identifiant))?;
            html! { p class="succes" role="status" { "Compte « " (f.identifiant) " » désactivé." } }
        }
        "reinitialiser" => {
            // A new password, shown once; it re-enables a disabled account (issue 15).
            if f.identifiant == user.login {
                return Err(HttpError::bad_request(
                    "Changez votre propre mot de passe sur la page « Mon compte ».",
                ));
            }
            let password = random_password().map_err(|e| HttpError::internal(&e))?;
            state.update_accounts(|a| a.set_password(&f.identifiant, &password))?;
            html! {
                div class="succes" role="status" {
                    p { "Compte « " (f.identifiant) " » actif, avec un nouveau mot de passe, affiché une seule fois : " }
                    p { code class="jeton" { (password) } }
                }
            }
        }
        other => {
            return Err(HttpError::bad_request(format!(
                "Action inconnue : « {other} » (ajouter, desactiver ou reinitialiser)."
            )));
        }
    };
    user.audit(&state, "compte", json!({ "action": f.action, "identifiant": f.identifiant, "role": f.role, "territoire": f.territoire, "email": f.email }))?;
    Ok(render(&state, &user, Some(message)))
}

/// The projects form's fields.
#[derive(Deserialize)]
pub struct ProjectForm {
    action: String,
    nom: String,
    #[serde(default)]
    objet: String,
    #[serde(default)]
    evaluateurs: String,
    #[serde(default)]
    territoires: String,
    #[serde(default)]
    debut: String,
    #[serde(default)]
    fin: String,
}

/// A comma-separated list, trimmed, without empty items.
fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn date(s: &str, what: &str) -> Result<chrono::NaiveDate, HttpError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        HttpError::bad_request(format!(
            "Date de {what} invalide : « {} ». Attendu : AAAA-MM-JJ.",
            copil_accounts::shown_login(s)
        ))
    })
}

/// `POST /admin/projets`: `ajouter` or `clore` an evaluation project (issue 13).
pub async fn projects(
    AdminPosted(Ctx { state, user, .. }, f): AdminPosted<ProjectForm>,
) -> Result<Response, HttpError> {
    let now = state.clock().now();
    let message = match f.action.as_str() {
        "ajouter" => {
            let new = copil_accounts::NewProject {
                nom: f.nom.trim(),
                objet: &f.objet,
                evaluateurs: list(&f.evaluateurs),
                territoires: list(&f.territoires),
                debut: date(&f.debut, "début")?,
                fin: date(&f.fin, "fin")?,
            };
            state.update_projects(|p, accounts| {
                p.add(new, accounts, state.register(), now).map(|_| ())
            })?;
            html! { p class="succes" role="status" { "Projet « " (f.nom.trim()) " » déclaré." } }
        }
        "clore" => {
            state.update_projects(|p, _| p.close(&f.nom))?;
            html! { p class="succes" role="status" { "Projet « " (f.nom) " » clos : plus aucun export sous ce nom." } }
        }
        other => {
            return Err(HttpError::bad_request(format!(
                "Action inconnue : « {} » (ajouter ou clore).",
                copil_accounts::shown_login(other)
            )));
        }
    };
    user.audit(
        &state,
        "projet",
        json!({
            "action": f.action,
            "nom": f.nom.trim(),
            "objet": f.objet.trim(),
            "evaluateurs": list(&f.evaluateurs),
            "territoires": list(&f.territoires),
            "debut": f.debut,
            "fin": f.fin,
        }),
    )?;
    Ok(render(&state, &user, Some(message)))
}

/// The pending requests for access (issue 17), each with its approval form.
fn access_requests(state: &AppState, user: &User) -> Markup {
    let requests = state.pending_requests();
    html! {
        h2 { "Demandes d'accès (ProConnect)" }
        @if requests.is_empty() {
            p { "Aucune demande en attente." }
        } @else {
            div class="defilement" tabindex="0" { table {
                caption { "Demandes d'accès en attente (" (requests.len()) ")" }
                thead { tr {
                    th scope="col" { "adresse" } th scope="col" { "nom" } th scope="col" { "SIRET" }
                    th scope="col" { "motif" } th scope="col" { "le" } th scope="col" { "décision" }
                } }
                tbody {
                    @for r in &requests {
                        tr {
                            th scope="row" { (r.email) }
                            td { (r.prenom) " " (r.nom) }
                            td { (r.siret) }
                            td { (r.motif) }
                            td { (r.cree_le.format("%d/%m/%Y")) }
                            td {
                                form method="post" action="/admin/demandes" {
                                    (layout::csrf_field(user))
                                    input type="hidden" name="email" value=(r.email);
                                    label { "Rôle " select name="role" { (role_options()) } }
                                    label { " Territoire " select name="territoire" { (territory_options(state)) } }
                                    button type="submit" name="action" value="approuver" { "Accepter" }
                                    " "
                                    button type="submit" name="action" value="refuser" class="discret" { "Refuser" }
                                }
                            }
                        }
                    }
                }
            } }
        }
    }
}

/// The decision form on a request for access.
#[derive(Deserialize)]
pub struct RequestDecision {
    email: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    territoire: Option<String>,
    action: String,
}

/// `POST /admin/demandes`: `approuver` (an account with the role and territory chosen,
/// matched by the request's e-mail) or `refuser` a request for access (issue 17).
pub async fn requests(
    AdminPosted(Ctx { state, user, .. }, f): AdminPosted<RequestDecision>,
) -> Result<Response, HttpError> {
    let now = state.clock().now();
    let territoire = chosen_territory(f.territoire.as_deref());
    let (message, login) = match f.action.as_str() {
        "approuver" => {
            let role = chosen_role(f.role.as_deref())?;
            let login = state.update_accounts(|a| {
                copil_accounts::requests::approve(
                    state.requests(),
                    a,
                    &f.email,
                    role,
                    territoire,
                    state.register(),
                    now,
                )
            })?;
            let message = html! { p class="succes" role="status" {
                "Demande de « " (f.email) " » acceptée : compte « " (login) " » (" (role.label()) "). La personne se connecte avec ProConnect."
            } };
            (message, Some(login))
        }
        "refuser" => {
            state.requests().remove(&f.email)?;
            let message = html! { p class="succes" role="status" { "Demande de « " (f.email) " » refusée." } };
            (message, None)
        }
        other => {
            return Err(HttpError::bad_request(format!(
                "Action inconnue : « {} » (approuver ou refuser).",
                copil_accounts::shown_login(other)
            )));
        }
    };
    user.audit(
        &state,
        "demande_acces",
        json!({ "action": f.action, "email": f.email, "identifiant": login, "role": f.role, "territoire": territoire }),
    )?;
    Ok(render(&state, &user, Some(message)))
}
