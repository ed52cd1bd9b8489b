//! Sign-in with ProConnect over HTTP (issue 17): the button's target, the provider's return
//! and the request for access of a person whose e-mail matches no account. The OpenID
//! Connect work and the matching are `copil_accounts::proconnect`'s; here are cookies, pages
//! and the audit log.
//!
//! The sign-in cookie is `SameSite=Lax`: the provider's return is a navigation from another
//! site, which a `Strict` cookie would not follow. The session cookie set on return is
//! `Strict`, so the return page sends the browser on with a `Refresh` header (a navigation
//! from this site) rather than a redirection, which would still count as coming from the
//! provider.

use axum::Form;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use copil_accounts::proconnect::{Callback, FLOW_LIFETIME, IDENTITY_LIFETIME};
use copil_accounts::{
    AccessRequest, Admission, Error as AccountsError, Identity, Motif, ProConnect,
};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use crate::error::HttpError;
use crate::layout;
use crate::login::{Next, audit_with, safe_next};
use crate::session::{SESSION_COOKIE, SESSION_LIFETIME, Visit, cookie, set_cookie};
use crate::state::AppState;

/// The cookie binding a sign-in under way to the browser (`state`, `nonce`, signed).
pub const FLOW_COOKIE: &str = "copil_proconnect";
/// The cookie carrying a verified identity that matches no account, for its request.
pub const IDENTITY_COOKIE: &str = "copil_proconnect_identite";

/// `Set-Cookie` of the sign-in cookie: as [`set_cookie`], but `SameSite=Lax`.
fn flow_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    set_cookie(state, FLOW_COOKIE, value, max_age).replace("SameSite=Strict", "SameSite=Lax")
}

fn page(state: &AppState, status: StatusCode, title: &str, body: &Markup) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(layout::simple(state.brand(), title, "", None, body)),
    )
        .into_response()
}

fn with_cookies(mut r: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = c.parse() {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// The page of a refused sign-in: the motif's French sentence, a way back.
fn refusal(state: &AppState, status: StatusCode, message: &str) -> Response {
    let body = html! {
        p class="alerte" role="alert" { (message) }
        p { a href="/connexion" { "Revenir à la page de connexion" } }
    };
    page(state, status, "Connexion avec ProConnect", &body)
}

/// A request to ProConnect's pages on a Copil where ProConnect is configured (404 otherwise):
/// the request's [`Visit`].
pub struct Configured(Visit);

impl FromRequestParts<AppState> for Configured {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, HttpError> {
        if state.proconnect().is_none() {
            return Err(HttpError::not_found(
                "La connexion avec ProConnect n'est pas configurée sur ce Copil.",
            ));
        }
        let Ok(visit) = Visit::from_request_parts(parts, state).await;
        Ok(Configured(visit))
    }
}

impl Configured {
    /// The state, the headers and the ProConnect client.
    fn parts(&self) -> (&AppState, &HeaderMap, &ProConnect) {
        let Visit { state, headers } = &self.0;
        let pc = state.proconnect().expect("checked when extracted");
        (state, headers, pc)
    }
}

/// `GET /connexion/proconnect`: sends the browser to ProConnect.
pub async fn start(c: Configured, Query(next): Query<Next>) -> Response {
    let (state, _, pc) = c.parts();
    let next = safe_next(next.suite.as_deref());
    match pc.start(&next, state.clock().now()).await {
        Ok(start) => with_cookies(
            Redirect::to(&start.url).into_response(),
            &[flow_cookie(
                state,
                &start.cookie,
                FLOW_LIFETIME.num_seconds(),
            )],
        ),
        Err(e) => {
            tracing::warn!(error = %e, "ProConnect : début de connexion impossible");
            refusal(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                Motif::Unavailable.message(),
            )
        }
    }
}

/// `GET /connexion/proconnect/retour`: the provider's return.
pub async fn callback(c: Configured, Query(callback): Query<Callback>) -> Response {
    let (state, headers, pc) = c.parts();
    let now = state.clock().now();
    let finished = pc
        .finish(cookie(headers, FLOW_COOKIE), &callback, now)
        .await;
    // The sign-in is over whatever happened: its cookie goes.
    let clear = flow_cookie(state, "", 0);
    let signed = match finished {
        Ok(signed) => signed,
        Err(AccountsError::ProConnect { motif, detail }) => {
            tracing::warn!(motif = motif.code(), %detail, "ProConnect : connexion refusée");
            audit_with(
                state,
                "",
                "",
                "echec_proconnect",
                json!({ "motif": motif.code(), "detail": detail }),
            );
            let status = match motif {
                Motif::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::FORBIDDEN,
            };
            return with_cookies(refusal(state, status, motif.message()), &[clear]);
        }
        Err(e) => return with_cookies(HttpError::internal(&e).into_response(), &[clear]),
    };
    let identity = &signed.identity;
    match state.admit(identity) {
        Admission::Admitted(account) => {
            let session = state
                .sessions()
                .open(&account.login, Some(signed.id_token), now);
            audit_with(
                state,
                &account.login,
                account.role.code(),
                "connexion",
                json!({ "methode": "proconnect", "email": identity.email, "idp_id": identity.idp_id }),
            );
            tracing::info!(login = %account.login, "connexion avec ProConnect");
            let body = html! {
                p class="succes" role="status" { "Vous êtes connecté à Copil." }
                p { a href=(signed.next) { "Continuer" } }
            };
            let mut r = page(state, StatusCode::OK, "Connexion avec ProConnect", &body);
            if let Ok(v) = HeaderValue::from_str(&format!("0; url={}", signed.next)) {
                r.headers_mut().insert(header::REFRESH, v);
            }
            with_cookies(
                r,
                &[
                    clear,
                    set_cookie(
                        state,
                        SESSION_COOKIE,
                        &session,
                        SESSION_LIFETIME.num_seconds(),
                    ),
                ],
            )
        }
        Admission::Disabled(account) => {
            audit_with(
                state,
                &account.login,
                account.role.code(),
                "echec_proconnect",
                json!({ "motif": "compte_desactive", "email": identity.email }),
            );
            let message = format!(
                "Votre compte Copil « {} » est désactivé : la connexion avec ProConnect est refusée. Adressez-vous à l'administrateur de Copil.",
                account.login
            );
            with_cookies(refusal(state, StatusCode::FORBIDDEN, &message), &[clear])
        }
        Admission::Unknown => {
            audit_with(
                state,
                &identity.email,
                "",
                "echec_proconnect",
                json!({ "motif": "adresse_inconnue", "email": identity.email, "siret": identity.siret }),
            );
            let sealed = match pc.seal_identity(identity, now) {
                Ok(s) => s,
                Err(e) => return with_cookies(HttpError::internal(&e).into_response(), &[clear]),
            };
            let pending = state.requests().get(&identity.email).ok().flatten();
            let r = page(
                state,
                StatusCode::FORBIDDEN,
                "Demander l'accès à Copil",
                &request_form(identity, pending.as_ref()),
            );
            with_cookies(
                r,
                &[
                    clear,
                    set_cookie(
                        state,
                        IDENTITY_COOKIE,
                        &sealed,
                        IDENTITY_LIFETIME.num_seconds(),
                    ),
                ],
            )
        }
    }
}

fn request_form(identity: &Identity, pending: Option<&AccessRequest>) -> Markup {
    html! {
        p class="alerte" role="alert" {
            "Vous êtes bien identifié par ProConnect, mais aucun compte Copil n'est associé à l'adresse « "
            strong { (identity.email) } " »."
        }
        @if let Some(p) = pending {
            p { "Votre demande d'accès du " (p.cree_le.format("%d/%m/%Y")) " est en attente de l'administrateur de Copil. Vous pouvez la compléter :" }
        } @else {
            p { "Vous pouvez demander l'accès : l'administrateur de Copil choisira votre rôle et, s'il y a lieu, votre territoire. Vous pourrez ensuite vous connecter avec ProConnect." }
        }
        form class="formulaire" method="post" action="/connexion/proconnect/demande" {
            dl class="definition" {
                dt { "Prénom" } dd { (identity.given_name) }
                dt { "Nom" } dd { (identity.usual_name) }
                dt { "Adresse électronique" } dd { (identity.email) }
                @if !identity.siret.is_empty() { dt { "SIRET de votre structure" } dd { (identity.siret) } }
            }
            label { "Votre fonction et ce que vous attendez de Copil (territoire suivi, par exemple)"
                textarea name="motif" rows="4" maxlength=(copil_accounts::requests::MAX_REASON) {} }
            button type="submit" { "Demander l'accès" }
        }
    }
}

/// The request for access form.
#[derive(Deserialize)]
pub struct RequestForm {
    #[serde(default)]
    motif: String,
}

/// `POST /connexion/proconnect/demande`: records the request of the identity verified just
/// before (its signed cookie).
pub async fn request_access(c: Configured, Form(f): Form<RequestForm>) -> Response {
    let (state, headers, pc) = c.parts();
    let now = state.clock().now();
    let Some(identity) = cookie(headers, IDENTITY_COOKIE).and_then(|c| pc.unseal_identity(c, now))
    else {
        return refusal(
            state,
            StatusCode::FORBIDDEN,
            "Votre identification ProConnect a expiré : reconnectez-vous avec ProConnect pour demander l'accès.",
        );
    };
    let details = json!({ "action": "demander", "email": identity.email, "siret": identity.siret, "idp_id": identity.idp_id });
    let email = identity.email.clone();
    let request = AccessRequest {
        email: identity.email,
        prenom: identity.given_name,
        nom: identity.usual_name,
        siret: identity.siret,
        motif: f.motif,
        cree_le: now,
    };
    if let Err(e) = state.requests().add(request) {
        return HttpError::from(e).into_response();
    }
    audit_with(state, &email, "", "demande_acces", details);
    let body = html! {
        p class="succes" role="status" {
            "Votre demande d'accès est transmise à l'administrateur de Copil. Une fois acceptée, connectez-vous avec ProConnect."
        }
        p { a href="/connexion" { "Revenir à la page de connexion" } }
    };
    with_cookies(
        page(state, StatusCode::OK, "Demande d'accès envoyée", &body),
        &[set_cookie(state, IDENTITY_COOKIE, "", 0)],
    )
}
