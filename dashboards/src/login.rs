//! Logging in and out, and the account page (API tokens). The login form carries a CSRF token
//! tied to a short-lived cookie (double submit); every later form carries the session's. When
//! ProConnect is configured, the page offers « S'identifier avec ProConnect » (issue 17, see
//! [`crate::proconnect`]), and `proconnect.passwords = false` leaves it alone.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use copil_accounts::{Entry, shown_login};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::error::HttpError;
use crate::layout;
use crate::session::{
    Ctx, LOGIN_CSRF_COOKIE, LoginOutcome, Posted, SESSION_COOKIE, SESSION_LIFETIME, User, Visit,
    cookie, identify, random_hex, set_cookie,
};
use crate::state::AppState;

/// Longest `suite` kept.
const MAX_NEXT: usize = 2048;

/// Percent-decodes `s` once (an invalid escape is kept as is).
fn percent_decoded(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).copied().and_then(hex),
                b.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Whether `path` is a path of this site: `/` alone, or `/` followed by a path character;
/// visible ASCII only (no control character, space or non-ASCII byte, which also keeps the
/// `Location` header valid), and once percent-decoded still no control character, no `//`
/// at the start and no `\` anywhere. Browsers strip tabs and newlines and read `\` as `/`,
/// so `/%09/evil.example` or `/\evil.example` would lead to another site (issue 13).
fn is_local_path(path: &str) -> bool {
    let raw_ok = path.len() <= MAX_NEXT
        && path.starts_with('/')
        && path.bytes().all(|b| b.is_ascii_graphic());
    if !raw_ok {
        return false;
    }
    let decoded = percent_decoded(path);
    !decoded.starts_with(b"//")
        && !decoded.iter().any(|&b| b == b'\\' || b.is_ascii_control())
        && !decoded.starts_with(b"/%")
}

/// Where to go after logging in: a local path only (never another site), else `/`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.to_string(),
        _ => "/".to_string(),
    }
}

/// The `?suite=` of the login page.
#[derive(Debug, Deserialize)]
pub struct Next {
    pub(crate) suite: Option<String>,
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

fn login_page(state: &AppState, csrf: &str, next: &str, message: Option<&str>) -> Markup {
    let proconnect = state.proconnect().is_some();
    let passwords = state.settings().passwords;
    html! {
        @if let Some(m) = message { p class="alerte" role="alert" { (m) } }
        @if proconnect {
            // A link, not a form: `form-action 'self'` would stop a form's redirection to the
            // provider (issue 17).
            div class="proconnect" {
                a class="bouton-proconnect" href={ "/connexion/proconnect?suite=" (crate::session::encode_component(next)) } {
                    "S'identifier avec ProConnect"
                }
                p { a href="https://www.proconnect.gouv.fr/" rel="noopener" { "Qu'est-ce que ProConnect ?" } }
            }
        }
        @if passwords {
            @if proconnect { p { "Ou, avec un compte local de Copil :" } }
            form class="formulaire" method="post" action="/connexion" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="suite" value=(next);
                label { "Identifiant" input name="identifiant" autocomplete="username" required autofocus; }
                label { "Mot de passe" input name="mot_de_passe" type="password" autocomplete="current-password" required; }
                button type="submit" { "Se connecter" }
            }
        }
        @if proconnect {
            p { "Pas encore de compte Copil ? Identifiez-vous avec ProConnect : vous pourrez demander l'accès." }
        } @else {
            p { "Pas de compte ? Demandez-le à l'administrateur de Copil de votre structure." }
        }
    }
}

fn login_response(
    state: &AppState,
    status: StatusCode,
    next: &str,
    message: Option<&str>,
) -> Response {
    let csrf = random_hex(24);
    let body = layout::simple(
        state.brand(),
        "Connexion",
        "",
        None,
        &login_page(state, &csrf, next, message),
    );
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

/// Largest login form accepted (identifier, password, tokens): far above any real one.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

fn audit(state: &AppState, login: &str, role: &str, action: &str) {
    audit_with(state, login, role, action, json!({}));
}

/// Writes an entry of a login step (before any session, so no [`User`]) to the audit log; a
/// failure to write it is logged, and does not refuse the step.
pub(crate) fn audit_with(
    state: &AppState,
    login: &str,
    role: &str,
    action: &str,
    details: serde_json::Value,
) {
    let entry = Entry {
        horodatage: state.clock().now().to_rfc3339(),
        // A typed identifier can be long: never more than 64 characters in the log (issue 13).
        compte: shown_login(login),
        role: role.to_string(),
        action: action.to_string(),
        details,
    };
    // A login is not refused because the log is unwritable; the failure is logged (as every
    // internal error, by `HttpError::internal`).
    if let Err(e) = state.audit().record(&entry) {
        let _ = HttpError::internal(&e);
    }
}

/// `GET /connexion`.
pub async fn form(Visit { state, headers }: Visit, Query(next): Query<Next>) -> Response {
    let next = safe_next(next.suite.as_deref());
    if identify(&state, &headers).is_some() {
        return Redirect::to(&next).into_response();
    }
    login_response(&state, StatusCode::OK, &next, None)
}

/// `POST /connexion`.
pub async fn submit(Visit { state, headers }: Visit, Form(f): Form<LoginForm>) -> Response {
    let next = safe_next(f.suite.as_deref());
    if !state.settings().passwords {
        return login_response(
            &state,
            StatusCode::FORBIDDEN,
            &next,
            Some(
                "La connexion par mot de passe est désactivée sur ce Copil : identifiez-vous avec ProConnect.",
            ),
        );
    }
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
    // At most `max_password_checks` argon2 checks at once (19 MiB each): the others wait a
    // little, then are told to come back (issue 13).
    let wait = state.settings().password_check_wait;
    let permit = match tokio::time::timeout(wait, state.password_checks().acquire_owned()).await {
        Ok(Ok(permit)) => permit,
        _ => {
            tracing::warn!("vérifications de mot de passe saturées : connexion refusée (503)");
            let mut r = login_response(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                &next,
                Some("Trop de connexions en cours : réessayez dans quelques secondes."),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            return r;
        }
    };
    // Hashing takes tens of milliseconds: off the async workers.
    let outcome = {
        let (state, login, password) = (state.clone(), login.to_string(), f.mot_de_passe);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            state.sessions().login(
                |l, p| state.accounts_authenticate(l, p),
                &login,
                &password,
                now,
            )
        })
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
            tracing::info!(login = %shown_login(login), "connexion");
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
        LoginOutcome::Busy => login_response(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            Some(
                "Une autre tentative de connexion est en cours pour cet identifiant : réessayez dans quelques secondes.",
            ),
        ),
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

/// The logout form: its CSRF token only.
#[derive(Deserialize)]
pub struct LogoutForm {}

/// `POST /deconnexion`.
pub async fn logout(Posted(c, LogoutForm {}): Posted<LogoutForm>) -> Result<Response, HttpError> {
    let id_token = cookie(&c.headers, SESSION_COOKIE).and_then(|k| c.state.sessions().logout(k));
    audit(&c.state, &c.user.login, c.user.role.code(), "deconnexion");
    // A session opened through ProConnect ends there too, once Copil's is over (issue 17): a
    // page sending the browser on with `Refresh`, as `form-action 'self'` stops a form's
    // redirection to another site.
    let end_session = match (id_token, c.state.proconnect()) {
        (Some(id_token), Some(pc)) => pc
            .logout_url(&id_token, c.state.clock().now())
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "ProConnect : déconnexion du fournisseur impossible");
                None
            }),
        _ => None,
    };
    let mut r = match end_session {
        Some(url) => {
            let body = html! {
                p class="succes" role="status" { "Vous êtes déconnecté de Copil." }
                p { a href=(url) { "Terminer aussi la session ProConnect" } }
            };
            let mut r = (
                [(header::CACHE_CONTROL, "no-store")],
                Html(layout::simple(
                    c.state.brand(),
                    "Déconnexion",
                    "",
                    None,
                    &body,
                )),
            )
                .into_response();
            if let Ok(v) = header::HeaderValue::from_str(&format!("0; url={url}")) {
                r.headers_mut().insert(header::REFRESH, v);
            }
            r
        }
        None => Redirect::to("/connexion").into_response(),
    };
    if let Ok(v) = set_cookie(&c.state, SESSION_COOKIE, "", 0).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

pub(crate) fn account_page(
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
            dt { "Rôle" } dd { (account.role.label()) }
            @if let Some(t) = &account.territoire { dt { "Territoire" } dd { (t) } }
            dt { "Créé le" } dd { (account.cree_le.format("%d/%m/%Y")) }
        }
        h2 { "Jetons d'API" }
        p { "Un jeton donne à un script les droits de votre compte sur l'API (en-tête " code { "Authorization: Bearer <jeton>" } "). Il n'est affiché qu'à sa création ; Copil n'en garde que l'empreinte." }
        @if account.jetons.is_empty() {
            p { "Aucun jeton." }
        } @else {
            div class="defilement" tabindex="0" { table {
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
            } }
        }
        form class="formulaire" method="post" action="/compte/jetons" {
            (layout::csrf_field(user))
            input type="hidden" name="action" value="creer";
            label { "Nom du nouveau jeton" input name="nom" required maxlength="64"; }
            button type="submit" { "Créer un jeton" }
        }
        @if state.settings().passwords { (password_form(user)) }
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Html(layout::simple(
            state.brand(),
            "Mon compte",
            "/compte",
            Some(user),
            &body,
        )),
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
    action: String,
    nom: String,
}

/// `POST /compte/jetons`: creates (shown once) or revokes a token of the user's own account.
pub async fn tokens(
    Posted(Ctx { state, user, .. }, f): Posted<TokenForm>,
) -> Result<Response, HttpError> {
    let now = state.clock().now();
    let message = match f.action.as_str() {
        "creer" => {
            let token = state
                .update_accounts(|a| a.add_token(&user.login, &f.nom, now))
                .map_err(<HttpError as From<copil_accounts::Error>>::from)?;
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
                .map_err(<HttpError as From<copil_accounts::Error>>::from)?;
            html! { p class="succes" role="status" { "Jeton « " (f.nom) " » révoqué." } }
        }
        other => {
            return Err(HttpError::bad_request(format!(
                "Action inconnue : « {other} » (creer ou revoquer)."
            )));
        }
    };
    user.audit(&state, "jeton", json!({ "action": f.action, "nom": f.nom }))?;
    account_page(&state, &user, Some(message))
}

/// The password change form of the account page (handled by [`crate::password`]).
fn password_form(user: &User) -> Markup {
    html! {
        h2 { "Changer de mot de passe" }
        form class="formulaire" method="post" action="/compte/mot-de-passe" {
            (layout::csrf_field(user))
            label { "Mot de passe actuel" input name="actuel" type="password" autocomplete="current-password" required; }
            label { "Nouveau mot de passe (" (copil_accounts::MIN_PASSWORD) " caractères au moins)"
                input name="nouveau" type="password" autocomplete="new-password" required minlength=(copil_accounts::MIN_PASSWORD); }
            label { "Nouveau mot de passe, encore" input name="confirmation" type="password" autocomplete="new-password" required; }
            button type="submit" { "Changer de mot de passe" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: `suite` leads only to a path of this site.
    #[test]
    fn issue_13_only_local_paths_are_followed_after_login() {
        for ok in [
            "/",
            "/compte",
            "/indicateurs/orientes_30j?mois=2025-01&vague=ami1-2021",
            "/exports/indicateurs.csv?territoire=dep-44",
            "/territoires/dep-44/depots?fichier=a%20b.csv",
        ] {
            assert_eq!(safe_next(Some(ok)), ok, "{ok}");
        }
        for hostile in [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/compte\nSet-Cookie: x=1",
            "/compte\r\n",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%5c%5cevil.example",
            "/%00",
            "/%7F",
            "/ /evil.example",
            "/é",
            "https://evil.example/",
            "evil.example",
            "",
            "/%2509/evil.example",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_next(Some(&format!("/{}", "a".repeat(MAX_NEXT)))), "/");
        assert_eq!(safe_next(None), "/");
    }
}
