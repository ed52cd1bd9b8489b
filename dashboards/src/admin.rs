//! Account administration for `admin` accounts: list, create (the password is drawn at random
//! and shown once), disable. The same operations as `copil users`.

use axum::Form;
use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::accounts::{Role, random_password};
use crate::audit::Entry;
use crate::error::HttpError;
use crate::layout;
use crate::session::User;
use crate::state::AppState;

fn render(state: &AppState, user: &User, message: Option<Markup>) -> Response {
    let accounts = state.accounts();
    let body = html! {
        @if let Some(m) = message { (m) }
        table {
            caption { "Comptes (" (accounts.len()) ")" }
            thead { tr {
                th scope="col" { "identifiant" } th scope="col" { "rôle" } th scope="col" { "territoire" }
                th scope="col" { "état" } th scope="col" { "créé le" } th scope="col" class="nombre" { "jetons" }
                th scope="col" { "action" }
            } }
            tbody {
                @for a in &accounts {
                    tr {
                        th scope="row" { (a.login) }
                        td { (a.role.code()) }
                        td { (a.territoire.as_deref().unwrap_or("—")) }
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
                        }
                    }
                }
            }
        }
        h2 { "Créer un compte" }
        form class="formulaire" method="post" action="/admin/comptes" {
            (layout::csrf_field(user))
            input type="hidden" name="action" value="ajouter";
            label { "Identifiant" input name="identifiant" required pattern="[A-Za-z0-9._-]{3,64}"; }
            label { "Rôle" select name="role" {
                @for r in Role::ALL { option value=(r.code()) { (r.code()) } }
            } }
            label { "Territoire (compte « territoire » seulement)" select name="territoire" {
                option value="" { "—" }
                @for t in state.register().iter() { option value=(t.id) { (t.nom) " (" (t.id) ")" } }
            } }
            button type="submit" { "Créer (mot de passe tiré au hasard)" }
        }
    };
    (
        [(header::CACHE_CONTROL, "no-store")],
        Html(layout::simple(
            "Comptes",
            "/admin/comptes",
            Some(user),
            &body,
        )),
    )
        .into_response()
}

/// `GET /admin/comptes`.
pub async fn page(State(state): State<AppState>, user: User) -> Result<Response, HttpError> {
    user.require_admin()?;
    Ok(render(&state, &user, None))
}

/// The administration form's fields.
#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    action: String,
    identifiant: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    territoire: Option<String>,
}

/// `POST /admin/comptes`: `ajouter` or `desactiver`.
pub async fn change(
    State(state): State<AppState>,
    user: User,
    Form(f): Form<ChangeForm>,
) -> Result<Response, HttpError> {
    user.require_admin()?;
    user.check_csrf(Some(&f.csrf))?;
    let now = state.clock().now();
    let bad = |e: crate::Error| HttpError::bad_request(e.to_string());
    let message = match f.action.as_str() {
        "ajouter" => {
            let role = Role::from_code(f.role.as_deref().unwrap_or("")).map_err(bad)?;
            let territoire = f.territoire.as_deref().filter(|t| !t.is_empty());
            let password = random_password().map_err(|e| HttpError::internal(&e))?;
            state
                .update_accounts(|a| {
                    a.add(
                        &f.identifiant,
                        role,
                        territoire,
                        &password,
                        state.register(),
                        now,
                    )
                    .map(|_| ())
                })
                .map_err(bad)?;
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
            state
                .update_accounts(|a| a.disable(&f.identifiant))
                .map_err(bad)?;
            html! { p class="succes" role="status" { "Compte « " (f.identifiant) " » désactivé." } }
        }
        other => {
            return Err(HttpError::bad_request(format!(
                "Action inconnue : « {other} » (ajouter ou desactiver)."
            )));
        }
    };
    state.audit().record(&Entry {
        horodatage: now.to_rfc3339(),
        compte: user.login.clone(),
        role: user.role.code().to_string(),
        action: "compte".to_string(),
        details: json!({ "action": f.action, "identifiant": f.identifiant, "role": f.role, "territoire": f.territoire }),
    })?;
    Ok(render(&state, &user, Some(message)))
}
