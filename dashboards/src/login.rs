//! Logging in and out, and the account page (API tokens). The login form carries a CSRF token
//! tied to a short-lived cookie (double submit); every later form carries the session's.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::audit::Entry;
use crate::error::HttpError;
use crate::layout;
use crate::session::{
    LOGIN_CSRF_COOKIE, LoginOutcome, SESSION_COOKIE, SESSION_LIFETIME, User, cookie, identify,
    random_hex, set_cookie,
};
use crate::state::AppState;

/// Where to go after logging in: a local path only (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".to_string(),
    }
}

/// The `?suite=` of the login page.
#[derive(Debug, Deserialize)]
pub struct Next {
    suite: Option<String>,
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    identifiant: String,
    mot_de_passe: String,
    csrf: String,
    #[serde(default)]
    suite: Option<String>,
}

fn login_page(csrf: &str, next: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(m) = message { p class="alerte" role="alert" { (m) } }
        form class="formulaire" method="post" action="/connexion" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="suite" value=(next);
            label { "Identifiant" input name="identifiant" autocomplete="username" required autofocus; }
            label { "Mot de passe" input name="mot_de_passe" type="password" autocomplete="current-password" required; }
            button type="submit" { "Se connecter" }
        }
        p { "Pas de compte ? Demandez-le à l'administrateur de Copil de votre structure." }
    }
}

fn login_response(
    state: &AppState,
    status: StatusCode,
    next: &str,
    message: Option<&str>,
) -> Response {
    let csrf = random_hex(24);
    let body = layout::simple("Connexion", "", None, &login_page(&csrf, next, message));
    (
        status,
        [
            (
                header::SET_COOKIE,
                set_cookie(state, LOGIN_CSRF_COOKIE, &csrf, 3600),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Html(body),
    )
        .into_response()
}

fn audit(state: &AppState, login: &str, role: &str, action: &str) {
    let entry = Entry {
        horodatage: state.clock().now().to_rfc3339(),
        compte: login.to_string(),
        role: role.to_string(),
        action: action.to_string(),
        details: json!({}),
    };
    // A login is not refused because the log is unwritable; the failure is logged.
    let _ = state.audit().record(&entry);
}

/// `GET /connexion`.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(next): Query<Next>,
) -> Response {
    let next = safe_next(next.suite.as_deref());
    if identify(&state, &headers).is_some() {
        return Redirect::to(&next).into_response();
    }
    login_response(&state, StatusCode::OK, &next, None)
}

/// `POST /connexion`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.suite.as_deref());
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || expected != f.csrf {
        return login_response(
            &state,
            StatusCode::FORBIDDEN,
            &next,
            Some("Le formulaire a expiré ou ne vient pas de Copil : recommencez."),
        );
    }
    let login = f.identifiant.trim().to_string();
    let login = login.as_str();
    let now = state.clock().now();
    // Hashing takes tens of milliseconds: off the async workers.
    let outcome = {
        let (state, login, password) = (state.clone(), login.to_string(), f.mot_de_passe);
        tokio::task::spawn_blocking(move || state.sessions().login(&state, &login, &password, now))
            .await
    };
    let Ok(outcome) = outcome else {
        return HttpError::internal(&"tâche de connexion interrompue").into_response();
    };
    match outcome {
        LoginOutcome::Opened(value) => {
            let role = state
                .account(login)
                .map(|a| a.role.code())
                .unwrap_or_default();
            audit(&state, login, role, "connexion");
            tracing::info!(login, "connexion");
            let mut r = Redirect::to(&next).into_response();
            let h = r.headers_mut();
            for c in [
                set_cookie(
                    &state,
                    SESSION_COOKIE,
                    &value,
                    SESSION_LIFETIME.num_seconds(),
                ),
                set_cookie(&state, LOGIN_CSRF_COOKIE, "", 0),
            ] {
                if let Ok(v) = c.parse() {
                    h.append(header::SET_COOKIE, v);
                }
            }
            r
        }
        LoginOutcome::Refused => {
            audit(&state, login, "", "echec_connexion");
            login_response(
                &state,
                StatusCode::UNAUTHORIZED,
                &next,
                Some("Identifiant ou mot de passe incorrect."),
            )
        }
        LoginOutcome::Locked(until) => {
            audit(&state, login, "", "verrouillage");
            let minutes = (until - now).num_minutes().max(1);
            login_response(
                &state,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                Some(&format!(
                    "Trop d'échecs de connexion pour cet identifiant : réessayez dans {minutes} minute(s)."
                )),
            )
        }
    }
}

/// A form carrying only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /deconnexion`.
pub async fn logout(
    State(state): State<AppState>,
    user: User,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Result<Response, HttpError> {
    user.check_csrf(Some(&f.csrf))?;
    if let Some(c) = cookie(&headers, SESSION_COOKIE) {
        state.sessions().logout(c);
    }
    audit(&state, &user.login, user.role.code(), "deconnexion");
    let mut r = Redirect::to("/connexion").into_response();
    if let Ok(v) = set_cookie(&state, SESSION_COOKIE, "", 0).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

fn account_page(
    state: &AppState,
    user: &User,
    message: Option<Markup>,
) -> Result<Response, HttpError> {
    let account = state
        .account(&user.login)
        .ok_or_else(|| HttpError::not_found("Compte introuvable."))?;
    let body = html! {
        @if let Some(m) = message { (m) }
        dl class="definition" {
            dt { "Identifiant" } dd { (account.login) }
            dt { "Rôle" } dd { (account.role.code()) }
            @if let Some(t) = &account.territoire { dt { "Territoire" } dd { (t) } }
            dt { "Créé le" } dd { (account.cree_le.format("%d/%m/%Y")) }
        }
        h2 { "Jetons d'API" }
        p { "Un jeton donne à un script les droits de votre compte sur l'API (en-tête " code { "Authorization: Bearer <jeton>" } "). Il n'est affiché qu'à sa création ; Copil n'en garde que l'empreinte." }
        @if account.jetons.is_empty() {
            p { "Aucun jeton." }
        } @else {
            table {
                caption { "Vos jetons" }
                thead { tr { th scope="col" { "nom" } th scope="col" { "créé le" } th scope="col" { "action" } } }
                tbody {
                    @for t in &account.jetons {
                        tr {
                            th scope="row" { (t.nom) }
                            td { (t.cree_le.format("%d/%m/%Y %H:%M")) }
                            td {
                                form method="post" action="/compte/jetons" {
                                    (layout::csrf_field(user))
                                    input type="hidden" name="action" value="revoquer";
                                    input type="hidden" name="nom" value=(t.nom);
                                    button type="submit" { "Révoquer" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form class="formulaire" method="post" action="/compte/jetons" {
            (layout::csrf_field(user))
            input type="hidden" name="action" value="creer";
            label { "Nom du nouveau jeton" input name="nom" required maxlength="64"; }
            button type="submit" { "Créer un jeton" }
        }
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Html(layout::simple("Mon compte", "/compte", Some(user), &body)),
    )
        .into_response())
}

/// `GET /compte`.
pub async fn account(State(state): State<AppState>, user: User) -> Result<Response, HttpError> {
    account_page(&state, &user, None)
}

/// The token form's fields.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    action: String,
    nom: String,
}

/// `POST /compte/jetons`: creates (shown once) or revokes a token of the user's own account.
pub async fn tokens(
    State(state): State<AppState>,
    user: User,
    Form(f): Form<TokenForm>,
) -> Result<Response, HttpError> {
    user.check_csrf(Some(&f.csrf))?;
    let now = state.clock().now();
    let message = match f.action.as_str() {
        "creer" => {
            let token = state
                .update_accounts(|a| a.add_token(&user.login, &f.nom, now))
                .map_err(|e| HttpError::bad_request(e.to_string()))?;
            html! {
                div class="succes" role="status" {
                    p { "Jeton « " (f.nom.trim()) " » créé. Copiez-le maintenant : il ne sera plus affiché." }
                    p { code class="jeton" { (token) } }
                }
            }
        }
        "revoquer" => {
            state
                .update_accounts(|a| a.revoke_token(&user.login, &f.nom))
                .map_err(|e| HttpError::bad_request(e.to_string()))?;
            html! { p class="succes" role="status" { "Jeton « " (f.nom) " » révoqué." } }
        }
        other => {
            return Err(HttpError::bad_request(format!(
                "Action inconnue : « {other} » (creer ou revoquer)."
            )));
        }
    };
    let entry = Entry {
        horodatage: now.to_rfc3339(),
        compte: user.login.clone(),
        role: user.role.code().to_string(),
        action: "jeton".to_string(),
        details: json!({ "action": f.action, "nom": f.nom }),
    };
    state.audit().record(&entry)?;
    account_page(&state, &user, Some(message))
}
